// dcn_cross_f32__neon and sigmoid_f32__neon: the element-wise f32 kernels.
#include <arm_neon.h>

#include <cmath>

#include "kernels/arm/neon/neon_blocking.h"
#include "kernels/arm/neon/neon_kernels.h"

namespace dlrm::kernels::neon {
namespace {

// dst = x0·y + xl as one FMA (a single rounding: within the bound of kernels/README.md); the scalar
// tail uses std::fma so every element is computed alike. dst may alias xl.
void dcn_cross(int64_t n, const float* x0, const float* y, const float* xl, float* dst) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, vfmaq_f32(vld1q_f32(xl + i), vld1q_f32(x0 + i), vld1q_f32(y + i)));
    for (; i < n; ++i) dst[i] = std::fma(x0[i], y[i], xl[i]);
}

// 1/(1+exp(−x)) as sigmoid_f32__avx512: with t = exp(−|x|) ∈ (0, 1], sigmoid is 1/(1+t) for x ≥ 0
// and t/(1+t) for x < 0, so exp never overflows and tiny results keep their relative accuracy.
// exp: n = round(−|x|·log2 e), r = −|x| − n·ln2 (Cody–Waite with FMAs), e^r by Cephes' degree-6
// polynomial, then ·2^n. NEON has no scalef: 2^n (n ≥ −150) is applied as ·2^(n+64), exact because
// that factor is a normal power of two, then ·2^−64, the only rounding, subnormal results included.
// NaN propagates through every step (FMIN returns a NaN operand).
inline float32x4_t sigmoid4(float32x4_t x) {
    const float32x4_t a = vminq_f32(vdupq_n_f32(104.0f), vabsq_f32(x));  // e^−104 < 2^−150: t is 0 anyway
    const float32x4_t neg_a = vnegq_f32(a);
    const float32x4_t n = vrndnq_f32(vmulq_f32(neg_a, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(neg_a, n, vdupq_n_f32(0.693359375f));   // ln2 high part: n·hi exact
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));                // ln2 low part
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(r, p, vmulq_f32(r, r));
    p = vaddq_f32(p, vdupq_n_f32(1.0f));
    // 2^(n+64) from its exponent field; n + 64 ∈ [−86, 64] (a NaN lane converts to 0: its p is NaN)
    const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127 + 64)), 23);
    const float32x4_t t = vmulq_f32(vmulq_f32(p, vreinterpretq_f32_s32(e)), vdupq_n_f32(0x1p-64f));
    const float32x4_t den = vaddq_f32(vdupq_n_f32(1.0f), t);
    const uint32x4_t negative = vcltq_f32(x, vdupq_n_f32(0.0f));
    return vdivq_f32(vbslq_f32(negative, t, vdupq_n_f32(1.0f)), den);
}

void sigmoid(int64_t n, const float* src, float* dst) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(dst + i, sigmoid4(vld1q_f32(src + i)));
    if (i < n) store_partial(dst + i, sigmoid4(load_partial(src + i, n - i)), n - i);
}

}  // namespace
}  // namespace dlrm::kernels::neon

namespace dlrm::kernels {
const dcn_cross_kernel dcn_cross_f32__neon = {"dcn_cross_f32__neon", neon::dcn_cross};
const sigmoid_kernel sigmoid_f32__neon = {"sigmoid_f32__neon", neon::sigmoid};
}  // namespace dlrm::kernels

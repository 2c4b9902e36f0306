// sigmoid_f32__avx512: 1/(1+exp(−x)) within 2 ulp of the value computed in double (api.h).
//
// With t = exp(−|x|) ∈ (0, 1]:  sigmoid(x) = 1/(1+t) for x ≥ 0 and t/(1+t) for x < 0. Using −|x|
// means exp never overflows, and for x < −87 the result (≈ t, down into the subnormals near −103)
// keeps full relative accuracy where 1/(1+exp(−x)) in float would give 0.
// exp: n = round(−|x|·log2 e), r = −|x| − n·ln2 (ln 2 split in two, Cody–Waite, with FMAs so
// r is exact to ~2^−32), e^r by a degree-6 polynomial (Cephes expf, relative error < 2^−24 on
// |r| ≤ ln2/2), then vscalefps multiplies by 2^n with a single rounding, subnormal results included.
// NaN: every step propagates it (the clamp is written so min() keeps a NaN operand).
// GCC 12 warns about the intrinsics' own self-initialised "undefined" vectors once they are inlined
// (GCC bug 105593, fixed in 12.3); the pragma must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/x86/avx512/avx512_misc.h"

namespace dlrm::kernels::avx512 {
namespace {

inline __m512 sigmoid16(__m512 x) {
    const __m512 abs_x = _mm512_abs_ps(x);
    // |x| > 104: t underflows to 0 anyway (e^−104 < 2^−150); the clamp keeps n in scalef's range.
    // minps returns its second operand when either is NaN, so NaN passes through.
    const __m512 a = _mm512_min_ps(_mm512_set1_ps(104.0f), abs_x);
    const __m512 neg_a = _mm512_sub_ps(_mm512_setzero_ps(), a);
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(neg_a, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), neg_a);       // ln2 high part (exact n·hi)
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);              // ln2 low part
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
    p = _mm512_add_ps(p, _mm512_set1_ps(1.0f));
    const __m512 t = _mm512_scalef_ps(p, n);
    const __m512 den = _mm512_add_ps(_mm512_set1_ps(1.0f), t);
    const __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    const __m512 num = _mm512_mask_blend_ps(negative, _mm512_set1_ps(1.0f), t);
    return _mm512_div_ps(num, den);
}

void run(int64_t n, const float* src, float* dst) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, sigmoid16(_mm512_loadu_ps(src + i)));
    if (i < n) {
        const __mmask16 m = __mmask16((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(dst + i, m, sigmoid16(_mm512_maskz_loadu_ps(m, src + i)));
    }
}

}  // namespace
}  // namespace dlrm::kernels::avx512

namespace dlrm::kernels {
const sigmoid_kernel sigmoid_f32__avx512 = {"sigmoid_f32__avx512", avx512::run};
}  // namespace dlrm::kernels

// interact_dot_f32__neon: x_0 copied, then the lower triangle of X·Xᵀ per sample (api.h).
// Four dot products at a time (row i against rows j..j+3) give four independent FMA chains; lane l
// of a chain sums d ≡ l (mod 4), reduced at the end, so results agree with the ref to rounding
// (exactly on small integers).
#include <arm_neon.h>

#include <cstring>

#include "kernels/arm/neon/neon_blocking.h"
#include "kernels/arm/neon/neon_kernels.h"

namespace dlrm::kernels::neon {
namespace {

// out[u] = x_i · x_{j+u} for u < n (n ≤ 4); rows past n are not read.
inline void dots(const float* xi, const float* xj, int64_t D, int n, float* out) {
    float32x4_t acc[4] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
    const int64_t d4 = D & ~int64_t(3);
    for (int64_t d = 0; d < d4; d += 4) {
        const float32x4_t a = vld1q_f32(xi + d);
        for (int u = 0; u < n; ++u) acc[u] = vfmaq_f32(acc[u], a, vld1q_f32(xj + u * D + d));
    }
    if (d4 < D) {
        const float32x4_t a = load_partial(xi + d4, D - d4);
        for (int u = 0; u < n; ++u) acc[u] = vfmaq_f32(acc[u], a, load_partial(xj + u * D + d4, D - d4));
    }
    for (int u = 0; u < n; ++u) out[u] = vaddvq_f32(acc[u]);
}

void run(const interact_dot_args& a) {
    const int64_t F = a.num_features, D = a.dim;
    for (int64_t b = 0; b < a.batch; ++b) {
        const float* x = a.src + b * a.src_ld;
        float* out = a.dst + b * a.dst_ld;
        if (D > 0) std::memcpy(out, x, size_t(D) * sizeof(float));
        out += D;
        // with diag the triangle starts at x_0·x_0 (torch's li/lj, width dim + F(F+1)/2)
        for (int64_t i = a.diag ? 0 : 1; i < F; ++i) {
            const int64_t count = a.diag ? i + 1 : i;
            for (int64_t j = 0; j < count; j += 4) {
                const int n = int(count - j < 4 ? count - j : 4);
                dots(x + i * D, x + j * D, D, n, out + j);
            }
            out += count;
        }
    }
}

}  // namespace
}  // namespace dlrm::kernels::neon

namespace dlrm::kernels {
const interact_dot_kernel interact_dot_f32__neon = {"interact_dot_f32__neon", neon::run};
}  // namespace dlrm::kernels

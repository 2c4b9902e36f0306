// dcn_cross_f32__avx512: dst[i] = x0[i]·y[i] + xl[i] as one FMA (a single rounding, so it may differ
// from the reference's product-then-sum by 1 ulp of the larger term); dst may alias xl.
// GCC 12 warns about the intrinsics' own self-initialised "undefined" vectors once they are inlined
// (GCC bug 105593, fixed in 12.3); the pragma must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/x86/avx512/avx512_misc.h"

namespace dlrm::kernels::avx512 {
namespace {

void run(int64_t n, const float* x0, const float* y, const float* xl, float* dst) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_fmadd_ps(_mm512_loadu_ps(x0 + i), _mm512_loadu_ps(y + i), _mm512_loadu_ps(xl + i)));
    if (i < n) {
        const __mmask16 m = __mmask16((1u << (n - i)) - 1);
        const __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x0 + i), _mm512_maskz_loadu_ps(m, y + i),
                                         _mm512_maskz_loadu_ps(m, xl + i));
        _mm512_mask_storeu_ps(dst + i, m, v);
    }
}

}  // namespace
}  // namespace dlrm::kernels::avx512

namespace dlrm::kernels {
const dcn_cross_kernel dcn_cross_f32__avx512 = {"dcn_cross_f32__avx512", avx512::run};
}  // namespace dlrm::kernels

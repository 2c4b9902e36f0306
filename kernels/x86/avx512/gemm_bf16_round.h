// fp32 → bf16 rounding shared by the AVX-512 bf16 GEMMs, matching kernels/ref/scalar_convert.h:
// round to nearest even by adding 0x7FFF plus the lowest kept bit; a NaN is truncated and forced
// quiet instead (the carry would otherwise turn it into an infinity or lose its payload).
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "kernels/ref/scalar_convert.h"
#include "kernels/x86/avx512/gemm_blocking.h"

namespace dlrm::kernels::avx512 {

// 16 floats → their bf16 values, as 32-bit lanes with the bf16 in the top half.
inline __m512i round_bf16_high(__m512 x) {
    const __m512i u = _mm512_castps_si512(x);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF)));
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF)),
                                                  _mm512_set1_epi32(0x7F800000));
    const __m512i r = _mm512_mask_or_epi32(rounded, nan, u, _mm512_set1_epi32(0x00400000));
    return _mm512_and_si512(r, _mm512_set1_epi32(int32_t(0xFFFF0000u)));
}

// dst[k] = bf16(src[k]) widened back to fp32, for k < n; reads and writes exactly n floats.
inline void round_row_bf16(const float* src, int64_t n, float* dst) {
    int64_t k = 0;
    for (; k + 16 <= n; k += 16)
        _mm512_storeu_si512(dst + k, round_bf16_high(_mm512_loadu_ps(src + k)));
    if (k < n) {
        const __mmask16 m = lane_mask(n - k);
        _mm512_mask_storeu_epi32(dst + k, m, round_bf16_high(_mm512_maskz_loadu_ps(m, src + k)));
    }
}

}  // namespace dlrm::kernels::avx512

// convert__avx512: f32 ↔ bf16 / f16 and u8 activation quantization, bit for bit as convert__ref.
// GCC 12 warns about the intrinsics' own self-initialised "undefined" vectors once they are inlined
// (GCC bug 105593, fixed in 12.3); the pragma must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/x86/avx512/avx512_misc.h"

namespace dlrm::kernels::avx512 {
namespace {

inline __mmask16 tail_mask(int64_t left) { return __mmask16(left >= 16 ? 0xFFFF : (1u << left) - 1); }

// Round to nearest even by adding 0x7FFF plus the lowest kept bit (no avx512_bf16 on Ice Lake);
// a NaN would carry into the exponent, so it is truncated and forced quiet instead (as the ref).
inline __m256i to_bf16(__m512 f) {
    const __m512i u = _mm512_castps_si512(f);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF))), 16);
    const __m512i abs_u = _mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF));
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(abs_u, _mm512_set1_epi32(0x7F800000));
    const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
    return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(nan, rounded, quiet));
}

void f32_to_bf16(int64_t n, const float* src, uint16_t* dst) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        _mm256_mask_storeu_epi16(dst + i, m, to_bf16(_mm512_maskz_loadu_ps(m, src + i)));
    }
}

void bf16_to_f32(int64_t n, const uint16_t* src, float* dst) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        const __m512i w = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, src + i));
        _mm512_mask_storeu_ps(dst + i, m, _mm512_castsi512_ps(_mm512_slli_epi32(w, 16)));
    }
}

// vcvtps2ph with an explicit round-to-nearest-even (not MXCSR's mode); NaNs keep their top payload
// bits and become quiet, as the ref does.
void f32_to_f16(int64_t n, const float* src, uint16_t* dst) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(dst + i, m, h);
    }
}

// vcvtph2ps is exact. It quiets a signalling NaN, which the ref keeps signalling: put the ref's bits
// (sign, all-ones exponent, payload << 13) back for those lanes.
void f16_to_f32(int64_t n, const uint16_t* src, float* dst) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        const __m256i h = _mm256_maskz_loadu_epi16(m, src + i);
        const __m512i w = _mm512_cvtepu16_epi32(h);
        const __m512i abs_w = _mm512_and_si512(w, _mm512_set1_epi32(0x7FFF));
        const __mmask16 nan = _mm512_cmpgt_epu32_mask(abs_w, _mm512_set1_epi32(0x7C00));
        const __m512i sign = _mm512_slli_epi32(_mm512_and_si512(w, _mm512_set1_epi32(0x8000)), 16);
        const __m512i nan_bits = _mm512_or_si512(
            _mm512_or_si512(sign, _mm512_set1_epi32(0x7F800000)),
            _mm512_slli_epi32(_mm512_and_si512(w, _mm512_set1_epi32(0x3FF)), 13));
        const __m512 f = _mm512_mask_blend_ps(nan, _mm512_cvtph_ps(h), _mm512_castsi512_ps(nan_bits));
        _mm512_mask_storeu_ps(dst + i, m, f);
    }
}

// clamp(nearbyint(x · inv) + zp, 0, 255) in float like the ref: roundscale in the current rounding
// mode is nearbyint, maxps(q, 0) returns 0 for a NaN q (second operand), so no integer overflow.
// 64 values per step, packed to bytes with packs/packus (exact: every value is already in [0, 255])
// and stored whole; only the tail uses masked loads and stores. The former masked 16-value steps
// were 1.2–1.6× slower on L2-resident rows and 2.4–3.8× on rows streamed from memory (bench_convert),
// where the masked loads were the cost (bench/README, "Activation quantization").
inline __m512i quantize16(__m512 x, __m512 vinv, __m512 vzp) {
    __m512 q = _mm512_roundscale_ps(_mm512_mul_ps(x, vinv), _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
    q = _mm512_add_ps(q, vzp);
    q = _mm512_min_ps(_mm512_max_ps(q, _mm512_setzero_ps()), _mm512_set1_ps(255.0f));
    return _mm512_cvttps_epi32(q);
}

void quantize_u8(int64_t n, const float* src, float scale, int32_t zp, uint8_t* dst) {
    const __m512 vinv = _mm512_set1_ps(1.0f / scale), vzp = _mm512_set1_ps(float(zp));
    // packs/packus work per 128-bit lane: dword d of lane l of the packed result holds the four
    // bytes of vector d's lane l; this permutation puts vector d's 16 bytes in lane d.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512i a = quantize16(_mm512_loadu_ps(src + i), vinv, vzp);
        const __m512i b = quantize16(_mm512_loadu_ps(src + i + 16), vinv, vzp);
        const __m512i c = quantize16(_mm512_loadu_ps(src + i + 32), vinv, vzp);
        const __m512i d = quantize16(_mm512_loadu_ps(src + i + 48), vinv, vzp);
        const __m512i bytes = _mm512_packus_epi16(_mm512_packs_epi32(a, b), _mm512_packs_epi32(c, d));
        _mm512_storeu_si512(dst + i, _mm512_permutexvar_epi32(order, bytes));
    }
    for (; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        _mm_mask_storeu_epi8(dst + i, m, _mm512_cvtepi32_epi8(quantize16(_mm512_maskz_loadu_ps(m, src + i), vinv, vzp)));
    }
}

}  // namespace
}  // namespace dlrm::kernels::avx512

namespace dlrm::kernels {
const convert_kernel convert__avx512 = {"convert__avx512", avx512::f32_to_bf16, avx512::bf16_to_f32,
                                         avx512::f32_to_f16, avx512::f16_to_f32, avx512::quantize_u8};
}  // namespace dlrm::kernels

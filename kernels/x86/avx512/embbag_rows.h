// Row decoders for embbag_sum__avx512: turn 16 columns of one embedding row into 16 floats, for each
// row type, exactly as api.h defines the value (f16/bf16 exact, i8rw/u4rw one fmaf rounding).
//
// Interface of decoder<T>:
//   consts prepare(row, dim)           per-row constants (scale/bias, or u4's 16-entry lookup table)
//   __m512 full(row, col, k)           columns col..col+15 (all inside the row)
//   __m512 tail(row, col, n, k)        columns col..col+n−1, n < 16; reads nothing past them
//   __m512 to_order(acc)               the accumulator layout back to column order
// Lanes past a tail hold garbage; the caller stores with a mask. Included only by the embbag_sum
// files, each built with its own flags: everything here has internal linkage (unnamed namespace), so
// the linker can never hand the plain AVX-512 kernel a copy compiled with -mavx512vbmi.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/api.h"

namespace dlrm::kernels::avx512 {
namespace {

template <row_type T>
struct decoder;

template <>
struct decoder<row_type::f32> {
    struct consts {};
    static consts prepare(const uint8_t*, int64_t) { return {}; }
    static __m512 full(const uint8_t* r, int64_t col, consts) { return _mm512_loadu_ps(r + 4 * col); }
    static __m512 tail(const uint8_t* r, int64_t col, int n, consts) {
        return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), r + 4 * col);
    }
    static __m512 to_order(__m512 acc) { return acc; }
};

template <>
struct decoder<row_type::f16> {
    struct consts {};
    static consts prepare(const uint8_t*, int64_t) { return {}; }
    static __m512 full(const uint8_t* r, int64_t col, consts) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + 2 * col)));
    }
    static __m512 tail(const uint8_t* r, int64_t col, int n, consts) {
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(__mmask16((1u << n) - 1), r + 2 * col));
    }
    static __m512 to_order(__m512 acc) { return acc; }
};

template <>
struct decoder<row_type::bf16> {
    struct consts {};
    static consts prepare(const uint8_t*, int64_t) { return {}; }
    // bf16 is the top half of a float: widen to 32 bits and shift into place (exact).
    static __m512 widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
    static __m512 full(const uint8_t* r, int64_t col, consts) {
        return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(r + 2 * col)));
    }
    static __m512 tail(const uint8_t* r, int64_t col, int n, consts) {
        return widen(_mm256_maskz_loadu_epi16(__mmask16((1u << n) - 1), r + 2 * col));
    }
    static __m512 to_order(__m512 acc) { return acc; }
};

template <>
struct decoder<row_type::i8rw> {
    struct consts { __m512 scale, bias; };
    static consts prepare(const uint8_t* r, int64_t dim) {
        float s, b;
        std::memcpy(&s, r + dim, 4);
        std::memcpy(&b, r + dim + 4, 4);
        return {_mm512_set1_ps(s), _mm512_set1_ps(b)};
    }
    static __m512 value(__m128i q8, const consts& k) {
        return _mm512_fmadd_ps(k.scale, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(q8)), k.bias);
    }
    static __m512 full(const uint8_t* r, int64_t col, const consts& k) {
        return value(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + col)), k);
    }
    static __m512 tail(const uint8_t* r, int64_t col, int n, const consts& k) {
        return value(_mm_maskz_loadu_epi8(__mmask16((1u << n) - 1), r + col), k);
    }
    static __m512 to_order(__m512 acc) { return acc; }
};

// u4rw: a nibble q has only 16 values, so the row's values fmaf(scale, q, bias) form a 16-float
// table computed with one FMA per row, and vpermps (which reads only bits 3:0 of each index lane)
// looks the nibbles up: no masking, no int→float conversion, bit-exact with the scalar fmaf.
// Getting each nibble to bits 3:0 of its own dword: the chunk's 8 payload bytes are broadcast to all
// qwords (a pure load), and qword q is shifted right by 4q (vpsrlvq). Then dword 2q holds nibble q
// (element q) and dword 2q+1 nibble 8+q (element 8+q): the accumulator is kept in that interleaved
// order [0,8,1,9,…,7,15] and put back in column order once per bag (to_order).
template <>
struct decoder<row_type::u4rw> {
    struct consts { __m512 lut; };
    static consts prepare(const uint8_t* r, int64_t dim) {
        uint32_t sb;
        std::memcpy(&sb, r + (dim + 1) / 2, 4);
        const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(int(sb)));  // [scale, bias, 0, 0], exact
        const __m512 scale = _mm512_broadcastss_ps(f);
        const __m512 bias = _mm512_broadcastss_ps(_mm_movehdup_ps(f));
        const __m512 q = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        return {_mm512_fmadd_ps(scale, q, bias)};
    }
    static __m512 lookup(__m128i bytes8, const consts& k) {
        const __m512i shifts = _mm512_setr_epi64(0, 4, 8, 12, 16, 20, 24, 28);
        const __m512i idx = _mm512_srlv_epi64(_mm512_broadcastq_epi64(bytes8), shifts);
        return _mm512_permutexvar_ps(idx, k.lut);
    }
    static __m512 full(const uint8_t* r, int64_t col, const consts& k) {
        return lookup(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r + size_t(col) / 2)), k);
    }
    static __m512 tail(const uint8_t* r, int64_t col, int n, const consts& k) {
        const int bytes = (n + 1) / 2;  // col is even: the chunk starts on a byte boundary
        return lookup(_mm_maskz_loadu_epi8(__mmask16((1u << bytes) - 1), r + size_t(col) / 2), k);
    }
    static __m512 to_order(__m512 acc) {
        const __m512i from = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
        return _mm512_permutexvar_ps(from, acc);
    }
};

#if defined(__AVX512VBMI__)
// u4rw with VBMI: vpmultishiftqb puts nibble l into bits 3:0 of dword l in one instruction (byte 4l
// of the result = the 8 bits of the broadcast chunk starting at bit 4l), so the accumulators stay in
// column order and a bag needs no reordering at the end — what dominates small bags.
struct u4rw_vbmi_decoder {
    using consts = decoder<row_type::u4rw>::consts;
    static consts prepare(const uint8_t* r, int64_t dim) { return decoder<row_type::u4rw>::prepare(r, dim); }
    static __m512 lookup(__m128i bytes8, const consts& k) {
        const __m512i bit = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60);
        const __m512i idx = _mm512_multishift_epi64_epi8(bit, _mm512_broadcastq_epi64(bytes8));
        return _mm512_permutexvar_ps(idx, k.lut);
    }
    static __m512 full(const uint8_t* r, int64_t col, const consts& k) {
        return lookup(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r + size_t(col) / 2)), k);
    }
    static __m512 tail(const uint8_t* r, int64_t col, int n, const consts& k) {
        const int bytes = (n + 1) / 2;  // col is even: the chunk starts on a byte boundary
        return lookup(_mm_maskz_loadu_epi8(__mmask16((1u << bytes) - 1), r + size_t(col) / 2), k);
    }
    static __m512 to_order(__m512 acc) { return acc; }
};
#endif

}  // namespace
}  // namespace dlrm::kernels::avx512

// The xsimd kernel templates, one functor per family, templated on the xsimd architecture A.
// Only generic.cpp and avx2.cpp include this file, each instantiating the functors for its own A
// with its own compiler flags; the `extern template` lines below make sure no other file (or the
// other architecture's file) ever instantiates them, so each instance is compiled exactly once,
// with the flags of its architecture. Instances for different A are distinct symbols, so the
// linker can never substitute an AVX2 build for the baseline one. Every helper is a member of a
// template on A for the same reason.
//
// Float arithmetic is xsimd's. xsimd 8 has no portable integer widening / narrowing (its 256-bit
// zips work per 128-bit lane), no 16-bit multiply-add and no half conversion, so simd<A> below
// holds that glue with one branch per architecture this file is built for: SSE2 (x86-64 generic),
// AVX2+FMA+F16C (avx2) and NEON64 (aarch64 generic). The libraries are built with
// -ffp-contract=off (kernels/meson.build): a product and a sum written apart stay two roundings,
// as in the ref; the kernels ask for FMAs with xsimd::fma where they want one.
#pragma once
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>  // declares every intrinsic whatever the flags; each is only used by its A
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

#include "kernels/api.h"
#include "kernels/embbag_prefetch.h"
#include "kernels/ref/scalar_convert.h"

namespace dlrm::kernels::xs {

#if defined(__x86_64__)
template <class A> inline constexpr bool is_sse2 = std::is_same_v<A, xsimd::sse2>;
template <class A> inline constexpr bool is_avx2 = std::is_same_v<A, xsimd::fma3<xsimd::avx2>>;
template <class A> inline constexpr bool is_neon64 = false;
#elif defined(__aarch64__)
template <class A> inline constexpr bool is_sse2 = false;
template <class A> inline constexpr bool is_avx2 = false;
template <class A> inline constexpr bool is_neon64 = std::is_same_v<A, xsimd::neon64>;
#else
template <class A> inline constexpr bool is_sse2 = false;
template <class A> inline constexpr bool is_avx2 = false;
template <class A> inline constexpr bool is_neon64 = false;
#endif

template <class A>
struct simd {
    using f32 = xsimd::batch<float, A>;
    using i32 = xsimd::batch<int32_t, A>;
    using u32 = xsimd::batch<uint32_t, A>;
    using i16 = xsimd::batch<int16_t, A>;
    using u8 = xsimd::batch<uint8_t, A>;
    static constexpr int64_t width = int64_t(f32::size);
    static_assert(is_sse2<A> || is_avx2<A> || is_neon64<A>, "xsimd_kernels.h: no integer glue for this architecture");
    // Does xsimd::fma round once? SSE2 has no FMA: there xsimd computes x·y + z with two roundings.
    static constexpr bool native_fma = !is_sse2<A>;

    // The first n lanes of p (n < width), the rest zero; reads nothing past p[n−1].
    template <class T>
    static xsimd::batch<T, A> load_partial_t(const T* p, int64_t n) {
        alignas(64) T t[xsimd::batch<T, A>::size] = {};
        std::memcpy(t, p, size_t(n) * sizeof(T));
        return xsimd::batch<T, A>::load_aligned(t);
    }
    static f32 load_partial(const float* p, int64_t n) { return load_partial_t<float>(p, n); }
    static f32 load(const float* p, int64_t n) { return n >= width ? f32::load_unaligned(p) : load_partial(p, n); }
    static i32 load_i32(const int32_t* p, int64_t n) { return n >= width ? i32::load_unaligned(p) : load_partial_t<int32_t>(p, n); }
    // Stores the first min(n, width) lanes.
    static void store(float* p, f32 v, int64_t n) {
        if (n >= width) { v.store_unaligned(p); return; }
        alignas(64) float t[f32::size];
        v.store_aligned(t);
        std::memcpy(p, t, size_t(n) * sizeof(float));
    }
    // ReLU as the ref, v > 0 ? v : 0 (NaN and −0 become +0).
    static f32 relu(f32 v) { return xsimd::select(v > f32(0.0f), v, f32(0.0f)); }

    // a / b correctly rounded. (xsimd 8 divides floats on NEON64 with a reciprocal estimate and
    // Newton steps, which is not IEEE division.)
    static f32 div(f32 a, f32 b) {
#if defined(__aarch64__)
        return vdivq_f32(a, b);
#else
        return a / b;
#endif
    }

    // ---- integer glue (one branch per architecture) ----

    // The low `width` bytes of q, zero-extended to 32-bit lanes.
#if defined(__x86_64__)
    static i32 u8_lanes(__m128i q) {
        if constexpr (is_avx2<A>) {
            return _mm256_cvtepu8_epi32(q);
        } else {
            const __m128i z = _mm_setzero_si128();
            return _mm_unpacklo_epi16(_mm_unpacklo_epi8(q, z), z);
        }
    }
#else
    static i32 u8_lanes(uint8x8_t q) { return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(q)))); }
#endif
    // `width` bytes at p (any alignment), zero-extended to 32-bit lanes.
    static i32 widen_u8(const uint8_t* p) {
        uint64_t v = 0;
        std::memcpy(&v, p, size_t(width));
#if defined(__x86_64__)
        return u8_lanes(_mm_cvtsi64_si128(int64_t(v)));
#else
        return u8_lanes(vcreate_u8(v));
#endif
    }
    // `width` 4-bit values from width/2 bytes at p: element 2k is byte k's low nibble, 2k+1 its high.
    static i32 widen_u4(const uint8_t* p) {
        uint32_t v = 0;
        std::memcpy(&v, p, size_t(width / 2));
#if defined(__x86_64__)
        const __m128i b = _mm_cvtsi32_si128(int32_t(v)), m = _mm_set1_epi8(0x0F);
        // bytes of `lo` are the low nibbles, of `hi` the high ones; interleaved they are in element order
        return u8_lanes(_mm_unpacklo_epi8(_mm_and_si128(b, m), _mm_and_si128(_mm_srli_epi16(b, 4), m)));
#else
        const uint8x8_t b = vcreate_u8(v);
        return u8_lanes(vzip1_u8(vand_u8(b, vdup_n_u8(0x0F)), vshr_n_u8(b, 4)));
#endif
    }
    // `width` little-endian u16 at p (any alignment), zero-extended to 32-bit lanes.
    static u32 widen_u16(const uint8_t* p) {
#if defined(__x86_64__)
        if constexpr (is_avx2<A>) {
            return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        } else {
            return _mm_unpacklo_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), _mm_setzero_si128());
        }
#else
        return vmovl_u16(vreinterpret_u16_u8(vld1_u8(p)));
#endif
    }
    // The low 16 bits of each lane (every lane ≤ 0xFFFF) to d[0..width).
    static void narrow_u16(u32 v, uint16_t* d) {
#if defined(__x86_64__)
        if constexpr (is_avx2<A>) {
            // packus per 128-bit half: v0..3 v0..3 | v4..7 v4..7; quads 0 and 2 are v0..7
            const __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(v, v), 0x08);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm256_castsi256_si128(p));
        } else {
            // SSE2 packs signed: sign-extend the low halves first so packs keeps their bits
            const __m128i s = _mm_srai_epi32(_mm_slli_epi32(v, 16), 16);
            _mm_storel_epi64(reinterpret_cast<__m128i*>(d), _mm_packs_epi32(s, s));
        }
#else
        vst1_u16(d, vmovn_u32(v));
#endif
    }
    // Lanes in [0, 255] to d[0..width) (any alignment).
    static void narrow_u8(i32 v, uint8_t* d) {
#if defined(__x86_64__)
        if constexpr (is_avx2<A>) {
            const __m256i w = _mm256_packus_epi32(v, v);  // per half: v0..3 v0..3 | v4..7 v4..7
            const __m256i b = _mm256_packus_epi16(w, w);  // bytes: v0..3 (×4) | v4..7 (×4)
            const uint64_t lo = uint32_t(_mm_cvtsi128_si32(_mm256_castsi256_si128(b)));
            const uint64_t hi = uint32_t(_mm_cvtsi128_si32(_mm256_extracti128_si256(b, 1)));
            const uint64_t q = lo | hi << 32;
            std::memcpy(d, &q, 8);
        } else {
            const __m128i w = _mm_packs_epi32(v, v);
            const int32_t q = _mm_cvtsi128_si32(_mm_packus_epi16(w, w));
            std::memcpy(d, &q, 4);
        }
#else
        const uint16x4_t h = vmovn_u32(vreinterpretq_u32_s32(v));
        const uint32_t q = vget_lane_u32(vreinterpret_u32_u8(vmovn_u16(vcombine_u16(h, h))), 0);
        std::memcpy(d, &q, 4);
#endif
    }
    // Four registers of lanes in [0, 255] to d[0..4·width) (any alignment), in order: one pack tree
    // and one store instead of four narrow_u8 (bench_convert: 2× on AVX2).
    static void narrow4_u8(i32 a, i32 b, i32 c, i32 e, uint8_t* d) {
#if defined(__x86_64__)
        if constexpr (is_avx2<A>) {
            // packs/packus work per 128-bit half: the bytes come out as a0-3 b0-3 c0-3 e0-3 | a4-7 …
            const __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(a, b), _mm256_packs_epi32(c, e));
            const __m256i ordered = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), ordered);
        } else {
            _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm_packus_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(c, e)));
        }
#else
        narrow_u8(a, d);
        narrow_u8(b, d + width);
        narrow_u8(c, d + 2 * width);
        narrow_u8(e, d + 3 * width);
#endif
    }
    // One register of s8 at p (aligned to the register size) → two registers of s16, in order.
    static void widen_s8(const int8_t* p, i16& lo, i16& hi) {
#if defined(__x86_64__)
        if constexpr (is_avx2<A>) {
            lo = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
            hi = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(p + 16)));
        } else {
            const __m128i v = _mm_load_si128(reinterpret_cast<const __m128i*>(p));
            lo = _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);  // byte b in both halves, then >> 8 arithmetic
            hi = _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8);
        }
#else
        const int8x16_t v = vld1q_s8(p);
        lo = vmovl_s8(vget_low_s8(v));
        hi = vmovl_high_s8(v);
#endif
    }
    // Lane j = a[2j]·b[2j] + a[2j+1]·b[2j+1] in s32 (pmaddwd; exact for our |a| ≤ 255, |b| ≤ 128).
    static i32 madd(i16 a, i16 b) {
#if defined(__x86_64__)
        if constexpr (is_avx2<A>) return _mm256_madd_epi16(a, b);
        else return _mm_madd_epi16(a, b);
#else
        const int16x8_t av = a, bv = b;
        return vpaddq_s32(vmull_s16(vget_low_s16(av), vget_low_s16(bv)), vmull_high_s16(av, bv));
#endif
    }

    // ---- conversions ----

    // f16 → f32, exact for every pattern, NaN payloads kept as the ref does: the exponent is rebiased
    // in the integer domain and subnormals are renormalised by one exact subtraction (Giesen).
    static f32 half_to_float(u32 h) {
        const u32 shifted_exp(0x7C00u << 13);
        const u32 o = ((h & u32(0x7FFFu)) << 13) + u32(uint32_t(127 - 15) << 23);
        const u32 e = (h << 13) & shifted_exp;
        const u32 inf_nan = o + u32(uint32_t(128 - 16) << 23);
        const f32 sub = xsimd::bitwise_cast<f32>(o + u32(1u << 23)) - f32(0x1p-14f);
        u32 r = xsimd::select(e == shifted_exp, inf_nan, o);
        r = xsimd::select(e == u32(0u), xsimd::bitwise_cast<u32>(sub), r);
        return xsimd::bitwise_cast<f32>(r | ((h & u32(0x8000u)) << 16));
    }
    // One half as a float, exact (the scale and bias of a u4rw row).
    static float half_scalar(uint16_t h) {
        const uint32_t sign = uint32_t(h & 0x8000u) << 16, e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
        uint32_t bits;
        if (e == 0x1F) {
            bits = 0x7F800000u | (m << 13);
        } else if (e != 0) {
            bits = ((e + 112u) << 23) | (m << 13);
        } else {  // zero or subnormal: m·2^−24, exactly (2^−14·(1 + m/1024) − 2^−14)
            float f;
            const uint32_t o = (113u << 23) | (m << 13);
            std::memcpy(&f, &o, 4);
            f -= 0x1p-14f;
            std::memcpy(&bits, &f, 4);
        }
        bits |= sign;
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }
    // `width` halves at p (any alignment) as floats, exact for every finite value (embedding rows):
    // F16C on AVX2, FCVTL on NEON, the integer method elsewhere.
    static f32 load_f16(const uint8_t* p) {
#if defined(__x86_64__)
        if constexpr (is_avx2<A>) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        else return half_to_float(widen_u16(p));
#else
        return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p)));
#endif
    }
    // f32 → f16 bits (in the low half of each lane), exactly as scalar::f32_to_f16: round to nearest
    // even with subnormals (|x| < 2^−14 is rounded by adding 0.5, whose ulp is the half subnormal
    // step 2^−24), overflow to inf, NaN quiet with the top payload bits.
    static u32 float_to_half(f32 f) {
        const u32 u = xsimd::bitwise_cast<u32>(f);
        const u32 sign = (u >> 16) & u32(0x8000u);
        const u32 a = u & u32(0x7FFFFFFFu);
        const i32 ai = xsimd::bitwise_cast<i32>(a);  // ≥ 0: signed compares are unsigned ones
        const u32 nan = u32(0x7E00u) | ((a >> 13) & u32(0x3FFu));
        const u32 big = xsimd::bitwise_cast<u32>(
            xsimd::select(ai > i32(0x7F800000), xsimd::bitwise_cast<i32>(nan), i32(0x7C00)));
        const u32 small = xsimd::bitwise_cast<u32>(xsimd::bitwise_cast<f32>(a) + f32(0.5f)) - u32(0x3F000000u);
        const u32 normal = (a + u32(uint32_t(15 - 127) << 23) + u32(0xFFFu) + ((a >> 13) & u32(1u))) >> 13;
        i32 r = xsimd::select(ai < i32(113 << 23), xsimd::bitwise_cast<i32>(small), xsimd::bitwise_cast<i32>(normal));
        r = xsimd::select(ai >= i32(0x47800000), xsimd::bitwise_cast<i32>(big), r);  // |x| ≥ 2^16, inf, NaN
        return xsimd::bitwise_cast<u32>(r) | sign;
    }
    // f32 → bf16 bits (low half of each lane) as scalar::f32_to_bf16: add 0x7FFF plus the lowest kept
    // bit (ties to even); a NaN is truncated and forced quiet instead.
    static u32 float_to_bf16(f32 f) {
        const u32 u = xsimd::bitwise_cast<u32>(f);
        const u32 rounded = (u + u32(0x7FFFu) + ((u >> 16) & u32(1u))) >> 16;
        const u32 quiet = (u >> 16) | u32(0x40u);
        const i32 a = xsimd::bitwise_cast<i32>(u & u32(0x7FFFFFFFu));
        return xsimd::bitwise_cast<u32>(
            xsimd::select(a > i32(0x7F800000), xsimd::bitwise_cast<i32>(quiet), xsimd::bitwise_cast<i32>(rounded)));
    }
    // The bf16 value nearest f (as scalar::f32_to_bf16), as a float.
    static f32 round_bf16(f32 f) { return xsimd::bitwise_cast<f32>(float_to_bf16(f) << 16); }

    // fmaf(s, q, b) with a single rounding, for q integers below 2^29 (s·q is then exact in double).
    // With an FMA unit that is xsimd::fma. SSE2 has none: the sum is formed in double, rounded to
    // odd (TwoSum gives the exact error; an inexact result with an even last bit steps one ulp
    // towards the exact value), and round-to-odd at 53 ≥ 24 + 2 bits followed by the rounding to
    // float is the correctly rounded result (Boldo & Melquiond), so it equals fmaf bit for bit.
    static f32 fma_exact(f32 s, f32 q, f32 b) {
#if defined(__x86_64__)
        if constexpr (!native_fma) {
            const __m128d zero = _mm_setzero_pd();
            const __m128i one = _mm_set1_epi64x(1);
            auto odd_sum = [&](__m128d p, __m128d c) {
                const __m128d sum = _mm_add_pd(p, c);
                const __m128d bb = _mm_sub_pd(sum, p);
                const __m128d err = _mm_add_pd(_mm_sub_pd(p, _mm_sub_pd(sum, bb)), _mm_sub_pd(c, bb));
                const __m128i bits = _mm_castpd_si128(sum);
                // inexact: err ≠ 0 and finite (err − err is 0 only for finite err)
                const __m128i inexact = _mm_castpd_si128(
                    _mm_and_pd(_mm_cmpneq_pd(err, zero), _mm_cmpeq_pd(_mm_sub_pd(err, err), zero)));
                // even last bit: the low dword's compare, copied to both dwords of the lane
                const __m128i even = _mm_shuffle_epi32(_mm_cmpeq_epi32(_mm_and_si128(bits, one), _mm_setzero_si128()),
                                                       _MM_SHUFFLE(2, 2, 0, 0));
                // +1 ulp (in magnitude) when err has the sign of sum, else −1
                const __m128i opposite = _mm_srli_epi64(_mm_xor_si128(bits, _mm_castpd_si128(err)), 63);
                const __m128i step = _mm_sub_epi64(one, _mm_add_epi64(opposite, opposite));
                return _mm_castsi128_pd(_mm_add_epi64(bits, _mm_and_si128(step, _mm_and_si128(inexact, even))));
            };
            const __m128 sv = s, qv = q, bv = b;
            const __m128 sh = _mm_movehl_ps(sv, sv), qh = _mm_movehl_ps(qv, qv), bh = _mm_movehl_ps(bv, bv);
            const __m128d lo = odd_sum(_mm_mul_pd(_mm_cvtps_pd(sv), _mm_cvtps_pd(qv)), _mm_cvtps_pd(bv));
            const __m128d hi = odd_sum(_mm_mul_pd(_mm_cvtps_pd(sh), _mm_cvtps_pd(qh)), _mm_cvtps_pd(bh));
            return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
        } else {
            return xsimd::fma(s, q, b);
        }
#else
        return xsimd::fma(s, q, b);
#endif
    }
};

// ---- gemm_f32: 6 rows × 2 vectors register tile over K-major panels (see generic_kernels.h) ----
template <class A>
struct gemm_f32_xs {
    using S = simd<A>;
    using f32 = typename S::f32;
    static constexpr int max_rows = 6;                 // 12 accumulators + 2 weights + 1 broadcast
    static constexpr int64_t panel = 2 * S::width;
    static constexpr int64_t dot_max_n = 4;

    static size_t packed_bytes(int64_t N, int64_t K) {
        if (N <= dot_max_n) return size_t(N) * size_t(K) * sizeof(float);
        return size_t((N + panel - 1) / panel) * size_t(panel) * size_t(K) * sizeof(float);
    }
    static void pack(const float* w, int64_t N, int64_t K, void* packed) {
        float* p = static_cast<float*>(packed);
        if (N <= dot_max_n) {
            if (const size_t n = packed_bytes(N, K)) std::memcpy(p, w, n);  // K = 0: w may be null
            return;
        }
        for (int64_t n0 = 0; n0 < N; n0 += panel)
            for (int64_t k = 0; k < K; ++k)
                for (int64_t j = 0; j < panel; ++j, ++p) *p = n0 + j < N ? w[(n0 + j) * K + k] : 0.0f;
    }

    // Rows m0..m0+MR−1 against one panel; each output is one FMA chain over k in order.
    template <int MR>
    static void tile(const gemm_f32_args& a, int64_t m0, const float* b, int64_t n0) {
        const int64_t cols = std::min(panel, a.N - n0);
        f32 acc[MR][2];
        for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = f32(0.0f);
        const float* x = a.src + m0 * a.lda;
        for (int64_t k = 0; k < a.K; ++k, b += panel) {
            const f32 w0 = f32::load_aligned(b), w1 = f32::load_aligned(b + S::width);
            for (int i = 0; i < MR; ++i) {
                const f32 xv(x[i * a.lda + k]);
                acc[i][0] = xsimd::fma(xv, w0, acc[i][0]);
                acc[i][1] = xsimd::fma(xv, w1, acc[i][1]);
            }
        }
        f32 bias[2] = {f32(0.0f), f32(0.0f)};
        if (a.bias)
            for (int v = 0; v < 2; ++v)
                if (cols > v * S::width) bias[v] = S::load(a.bias + n0 + v * S::width, cols - v * S::width);
        for (int i = 0; i < MR; ++i)
            for (int v = 0; v < 2; ++v) {
                if (cols <= v * S::width) continue;
                f32 r = acc[i][v] + bias[v];
                if (a.epi == epilogue::relu) r = S::relu(r);
                S::store(a.dst + (m0 + i) * a.ldd + n0 + v * S::width, r, cols - v * S::width);
            }
    }

    static void run_dot(const gemm_f32_args& a) {
        const float* w = static_cast<const float*>(a.packed_w);
        for (int64_t m = 0; m < a.M; ++m)
            for (int64_t n = 0; n < a.N; ++n) {
                const float* x = a.src + m * a.lda;
                const float* wn = w + n * a.K;
                f32 acc(0.0f);
                for (int64_t k = 0; k < a.K; k += S::width)
                    acc = xsimd::fma(S::load(x + k, a.K - k), S::load(wn + k, a.K - k), acc);
                float v = xsimd::hadd(acc) + (a.bias ? a.bias[n] : 0.0f);
                if (a.epi == epilogue::relu) v = v > 0.0f ? v : 0.0f;
                a.dst[m * a.ldd + n] = v;
            }
    }

    static void run(const gemm_f32_args& a) {
        if (a.M <= 0 || a.N <= 0) return;
        if (a.N <= dot_max_n) return run_dot(a);
        const float* packed = static_cast<const float*>(a.packed_w);
        // Panels outer, rows inner: a panel (≤ 64·K bytes) stays in L2 while all rows sweep it.
        for (int64_t n0 = 0, p = 0; n0 < a.N; n0 += panel, ++p) {
            const float* b = packed + p * panel * a.K;
            int64_t m = 0;
            for (; m + max_rows <= a.M; m += max_rows) tile<max_rows>(a, m, b, n0);
            switch (a.M - m) {
                case 5: tile<5>(a, m, b, n0); break;
                case 4: tile<4>(a, m, b, n0); break;
                case 3: tile<3>(a, m, b, n0); break;
                case 2: tile<2>(a, m, b, n0); break;
                case 1: tile<1>(a, m, b, n0); break;
                default: break;
            }
        }
    }
};

// ---- interact_dot: four dot products at a time (independent FMA chains), lanes reduced at the end
template <class A>
struct interact_dot_xs {
    using S = simd<A>;
    using f32 = typename S::f32;
    static void run(const interact_dot_args& a) {
        const int64_t F = a.num_features, D = a.dim;
        for (int64_t b = 0; b < a.batch; ++b) {
            const float* x = a.src + b * a.src_ld;
            float* out = a.dst + b * a.dst_ld;
            if (D > 0) std::memcpy(out, x, size_t(D) * sizeof(float));
            out += D;
            for (int64_t i = a.diag ? 0 : 1; i < F; ++i) {  // with diag from x_0·x_0 (torch's li/lj)
                const int64_t count = a.diag ? i + 1 : i;
                for (int64_t j = 0; j < count; j += 4) {
                    const int n = int(std::min<int64_t>(4, count - j));
                    f32 acc[4] = {f32(0.0f), f32(0.0f), f32(0.0f), f32(0.0f)};
                    for (int64_t d = 0; d < D; d += S::width) {
                        const f32 xi = S::load(x + i * D + d, D - d);
                        for (int u = 0; u < n; ++u)
                            acc[u] = xsimd::fma(xi, S::load(x + (j + u) * D + d, D - d), acc[u]);
                    }
                    for (int u = 0; u < n; ++u) out[j + u] = xsimd::hadd(acc[u]);
                }
                out += count;
            }
        }
    }
};

// ---- dcn_cross: dst = x0·y + xl (one FMA where the architecture has one; dst may alias xl) ----
template <class A>
struct dcn_cross_xs {
    using S = simd<A>;
    using f32 = typename S::f32;
    static void run(int64_t n, const float* x0, const float* y, const float* xl, float* dst) {
        for (int64_t i = 0; i < n; i += S::width) {
            const int64_t left = n - i;
            S::store(dst + i, xsimd::fma(S::load(x0 + i, left), S::load(y + i, left), S::load(xl + i, left)), left);
        }
    }
};

// ---- embbag: fused sum-pooled bags, bit-exact with embbag_sum__ref ----
// Columns are pooled in blocks of at most 8 vectors whose accumulators stay in registers for the
// whole bag; a wider dim is several passes over the bag's ids (the rows then come from L1/L2). Per
// element the sum runs in bag order from +0, each row value formed as api.h says: f32 as is,
// f16/bf16 widened exactly, i8rw/u4rw as fmaf(scale, q, bias) with one rounding (fma_exact). A
// row's last partial vector is decoded from a zeroed copy, so nothing past the row is read.
// An i8rw/u4rw row's dequantisation. Without an FMA unit (SSE2) also the double scale and bias and
// whether their exponents make the double sum scale·q + bias exact for every q ≤ 255.
template <class A>
struct embbag_row_consts {
    xsimd::batch<float, A> scale, bias;
    xsimd::batch<double, A> scale_d, bias_d;
    bool exact_in_double;
};

template <class A>
struct embbag_xs {
    using S = simd<A>;
    using f32 = typename S::f32;
    static constexpr int64_t W = S::width;
    static constexpr int max_vec = 8;
    static constexpr int64_t block_cols = max_vec * W;
    static constexpr int64_t prefetch_distance = 16;  // ids ahead (random rows come from DRAM)

    // (A namespace-level template: a member class holding batches would be instantiated by the
    // `extern template` lines in the other architecture's file, whose flags cannot hold them.)
    using row_consts = embbag_row_consts<A>;

    template <row_type T>
    static row_consts prepare(const uint8_t* row, int64_t dim) {
        float s = 0.0f, b = 0.0f;
        if constexpr (T == row_type::i8rw) {
            std::memcpy(&s, row + dim, 4);
            std::memcpy(&b, row + dim + 4, 4);
        } else if constexpr (T == row_type::u4rw) {
            uint16_t sb[2];  // half scale, half bias after the payload
            std::memcpy(sb, row + (dim + 1) / 2, 4);
            s = S::half_scalar(sb[0]);
            b = S::half_scalar(sb[1]);
        }
        row_consts k;
        k.scale = f32(s);
        k.bias = f32(b);
        if constexpr (!S::native_fma) {
            // With e the exponent fields (subnormals and zero counted as 1), s·q < 2^(es+9) and
            // b < 2^(eb+1) have their lowest bits at ≥ 2^(es−23) and ≥ 2^(eb−23): the exact sum fits
            // the 53 bits of a double when max(es + 9, eb + 1) + 1 − min(es, eb) + 23 ≤ 53.
            uint32_t us, ub;
            std::memcpy(&us, &s, 4);
            std::memcpy(&ub, &b, 4);
            const int es = std::max(1, int((us >> 23) & 0xFF)), eb = std::max(1, int((ub >> 23) & 0xFF));
            k.exact_in_double = es < 255 && eb < 255 && std::max(es + 9, eb + 1) - std::min(es, eb) <= 29;
            k.scale_d = xsimd::batch<double, A>(double(s));
            k.bias_d = xsimd::batch<double, A>(double(b));
        }
        return k;
    }
    // fmaf(scale, q, bias) for W integers q ∈ [0, 255], one rounding. SSE2, exact double sum: one
    // double multiply-add (both exact) rounded once to float; otherwise the round-to-odd sum.
    static f32 dequant(const row_consts& k, typename S::i32 q) {
#if defined(__x86_64__)
        if constexpr (!S::native_fma) {
            if (k.exact_in_double) {
                const __m128i qi = q;
                const __m128d lo = _mm_add_pd(_mm_mul_pd(_mm_cvtepi32_pd(qi), k.scale_d), k.bias_d);
                const __m128d hi = _mm_add_pd(_mm_mul_pd(_mm_cvtepi32_pd(_mm_unpackhi_epi64(qi, qi)), k.scale_d), k.bias_d);
                return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
            }
        }
#endif
        return S::fma_exact(k.scale, xsimd::to_float(q), k.bias);
    }
    // Bytes of n elements, and the address of column col (a multiple of W, so even for u4rw).
    template <row_type T>
    static constexpr size_t elem_bytes() { return T == row_type::f32 ? 4 : (T == row_type::f16 || T == row_type::bf16) ? 2 : 1; }
    template <row_type T>
    static size_t bytes(int64_t n) { return T == row_type::u4rw ? size_t(n + 1) / 2 : size_t(n) * elem_bytes<T>(); }
    template <row_type T>
    static const uint8_t* at(const uint8_t* row, int64_t col) {
        return T == row_type::u4rw ? row + col / 2 : row + size_t(col) * elem_bytes<T>();
    }
    // W values at p.
    template <row_type T>
    static f32 decode(const uint8_t* p, const row_consts& k) {
        if constexpr (T == row_type::f32) return xsimd::bitwise_cast<f32>(S::u8::load_unaligned(p));
        else if constexpr (T == row_type::f16) return S::load_f16(p);
        else if constexpr (T == row_type::bf16) return xsimd::bitwise_cast<f32>(S::widen_u16(p) << 16);
        else if constexpr (T == row_type::i8rw) return dequant(k, S::widen_u8(p));
        else return dequant(k, S::widen_u4(p));
    }

    // NV vectors in the block; FULL: the last one has all W columns.
    template <row_type T, int NV, bool FULL>
    static void pool_block(const embbag_args& a, const embbag_table_args& tab, int64_t t, int64_t col0, int ncols) {
        const size_t stride = row_bytes(T, a.dim);
        const int64_t tail_n = ncols - W * (NV - 1);
        const bool prefetch = col0 == 0;  // only the first block of a row prefetches it
        const int64_t ids_end = tab.offsets ? tab.offsets[a.batch] : a.batch * int64_t(tab.bag_size);
        if (prefetch) prefetch_first_ids(tab, stride, ids_end, prefetch_distance);
        for (int64_t b = 0; b < a.batch; ++b) {
            const int64_t begin = tab.offsets ? tab.offsets[b] : b * int64_t(tab.bag_size);
            const int64_t end = tab.offsets ? tab.offsets[b + 1] : begin + tab.bag_size;
            f32 acc[NV];
            for (int v = 0; v < NV; ++v) acc[v] = f32(0.0f);
            for (int64_t j = begin; j < end; ++j) {
                if (prefetch && j + prefetch_distance < ids_end) prefetch_id(tab, stride, j + prefetch_distance);
                const uint8_t* row = tab.rows + size_t(tab.ids[j]) * stride;
                const row_consts k = prepare<T>(row, a.dim);
#pragma GCC unroll 8
                for (int v = 0; v < NV; ++v) {
                    const uint8_t* p = at<T>(row, col0 + W * v);
                    if (v < NV - 1 || FULL) {
                        acc[v] = acc[v] + decode<T>(p, k);
                    } else {
                        alignas(64) uint8_t buf[4 * f32::size] = {};
                        std::memcpy(buf, p, bytes<T>(tail_n));
                        acc[v] = acc[v] + decode<T>(buf, k);
                    }
                }
            }
            float* out = a.dst + b * a.dst_ld + t * a.dim + col0;
            for (int v = 0; v < NV; ++v) S::store(out + W * v, acc[v], (v < NV - 1 || FULL) ? W : tail_n);
        }
    }

    using block_fn = void (*)(const embbag_args&, const embbag_table_args&, int64_t, int64_t, int);
    template <row_type T, size_t... I>
    static constexpr std::array<std::array<block_fn, 2>, max_vec> fns(std::index_sequence<I...>) {
        return {{{pool_block<T, int(I) + 1, false>, pool_block<T, int(I) + 1, true>}...}};
    }
    static block_fn pick(row_type type, int ncols) {
        using seq = std::make_index_sequence<max_vec>;
        static constexpr auto f32_fns = fns<row_type::f32>(seq());
        static constexpr auto f16_fns = fns<row_type::f16>(seq());
        static constexpr auto bf16_fns = fns<row_type::bf16>(seq());
        static constexpr auto i8_fns = fns<row_type::i8rw>(seq());
        static constexpr auto u4_fns = fns<row_type::u4rw>(seq());
        const int nv = int((ncols + W - 1) / W);
        const int full = ncols % W == 0;
        switch (type) {
            case row_type::f32: return f32_fns[nv - 1][full];
            case row_type::f16: return f16_fns[nv - 1][full];
            case row_type::bf16: return bf16_fns[nv - 1][full];
            case row_type::i8rw: return i8_fns[nv - 1][full];
            case row_type::u4rw: return u4_fns[nv - 1][full];
        }
        return nullptr;
    }

    static void run(const embbag_args& a) {
        if (a.dim <= 0) return;
        for (int64_t t = 0; t < a.num_tables; ++t)
            for (int64_t col0 = 0; col0 < a.dim; col0 += block_cols) {
                const int ncols = int(std::min(block_cols, a.dim - col0));
                pick(a.tables[t].type, ncols)(a, a.tables[t], t, col0, ncols);
            }
    }
};

// ---- sigmoid: 1/(1+e^−x) within 2 ulp, as sigmoid_f32__avx512 / __neon ----
// t = e^−|x| ∈ (0, 1]: sigmoid is 1/(1+t) for x ≥ 0 and t/(1+t) for x < 0 (exp never overflows,
// tiny results keep their relative accuracy). e^−|x|: n = round(−|x|·log2 e), r = −|x| − n·ln2
// (Cody–Waite, ln2 in two parts), Cephes' degree-6 polynomial, then ·2^n as ·2^(n+64) (exact: a
// normal power of two) and ·2^−64 (the only rounding, subnormal results included). A NaN passes
// every step (the clamp is a select that keeps its operand when the compare fails).
template <class A>
struct sigmoid_xs {
    using S = simd<A>;
    using f32 = typename S::f32;
    using i32 = typename S::i32;
    static f32 sigmoid(f32 x) {
        const f32 ax = xsimd::abs(x);
        const f32 a = xsimd::select(ax > f32(104.0f), f32(104.0f), ax);  // e^−104 < 2^−150: t is 0 anyway
        const f32 neg_a = -a;
        const f32 n = xsimd::nearbyint(neg_a * f32(1.44269504088896341f));
        f32 r = xsimd::fnma(n, f32(0.693359375f), neg_a);  // ln2 high part: n·hi is exact
        r = xsimd::fnma(n, f32(-2.12194440e-4f), r);       // ln2 low part
        f32 p(1.9875691500e-4f);
        p = xsimd::fma(p, r, f32(1.3981999507e-3f));
        p = xsimd::fma(p, r, f32(8.3334519073e-3f));
        p = xsimd::fma(p, r, f32(4.1665795894e-2f));
        p = xsimd::fma(p, r, f32(1.6666665459e-1f));
        p = xsimd::fma(p, r, f32(5.0000001201e-1f));
        p = xsimd::fma(p, r * r, r);
        p = p + f32(1.0f);
        // 2^(n+64) from its exponent field, n + 64 ∈ [−86, 64] (a NaN lane's p is NaN anyway)
        const i32 e = (xsimd::to_int(n) + i32(127 + 64)) << 23;
        const f32 t = (p * xsimd::bitwise_cast<f32>(e)) * f32(0x1p-64f);
        const f32 num = xsimd::select(x < f32(0.0f), t, f32(1.0f));
        return S::div(num, f32(1.0f) + t);
    }
    static void run(int64_t n, const float* src, float* dst) {
        int64_t i = 0;
        for (; i + S::width <= n; i += S::width) sigmoid(f32::load_unaligned(src + i)).store_unaligned(dst + i);
        if (i < n) S::store(dst + i, sigmoid(S::load_partial(src + i, n - i)), n - i);
    }
};

// ---- convert: f32 ↔ bf16 / f16 and u8 quantization, bit for bit as convert__ref ----
// Whole vectors, then the tail through zeroed buffers (nothing past the arrays is touched).
template <class A>
struct convert_xs {
    using S = simd<A>;
    using f32 = typename S::f32;
    using i32 = typename S::i32;
    using u32 = typename S::u32;
    static constexpr int64_t W = S::width;

    static void f32_to_bf16(int64_t n, const float* src, uint16_t* dst) {
        int64_t i = 0;
        for (; i + W <= n; i += W) S::narrow_u16(S::float_to_bf16(f32::load_unaligned(src + i)), dst + i);
        if (i < n) {
            alignas(64) uint16_t t[f32::size];
            S::narrow_u16(S::float_to_bf16(S::load_partial(src + i, n - i)), t);
            std::memcpy(dst + i, t, size_t(n - i) * 2);
        }
    }
    static f32 from_bf16(const uint16_t* p) {
        return xsimd::bitwise_cast<f32>(S::widen_u16(reinterpret_cast<const uint8_t*>(p)) << 16);
    }
    static void bf16_to_f32(int64_t n, const uint16_t* src, float* dst) {
        int64_t i = 0;
        for (; i + W <= n; i += W) from_bf16(src + i).store_unaligned(dst + i);
        if (i < n) {
            alignas(64) uint16_t t[f32::size] = {};
            std::memcpy(t, src + i, size_t(n - i) * 2);
            S::store(dst + i, from_bf16(t), n - i);
        }
    }
    static void f32_to_f16(int64_t n, const float* src, uint16_t* dst) {
        int64_t i = 0;
        for (; i + W <= n; i += W) S::narrow_u16(S::float_to_half(f32::load_unaligned(src + i)), dst + i);
        if (i < n) {
            alignas(64) uint16_t t[f32::size];
            S::narrow_u16(S::float_to_half(S::load_partial(src + i, n - i)), t);
            std::memcpy(dst + i, t, size_t(n - i) * 2);
        }
    }
    // The integer method (not F16C / FCVTL, which quiet a signalling NaN): every pattern as the ref.
    static f32 from_f16(const uint16_t* p) { return S::half_to_float(S::widen_u16(reinterpret_cast<const uint8_t*>(p))); }
    static void f16_to_f32(int64_t n, const uint16_t* src, float* dst) {
        int64_t i = 0;
        for (; i + W <= n; i += W) from_f16(src + i).store_unaligned(dst + i);
        if (i < n) {
            alignas(64) uint16_t t[f32::size] = {};
            std::memcpy(t, src + i, size_t(n - i) * 2);
            S::store(dst + i, from_f16(t), n - i);
        }
    }
    // clamp(nearbyint(x · inv) + zp, 0, 255) in float, as the ref: the clamps are selects whose
    // compares fail for a NaN, which therefore becomes 0; the conversion then sees only [0, 255].
    static i32 quantize(f32 x, f32 inv, f32 zp) {
        f32 q = xsimd::nearbyint(x * inv) + zp;
        q = xsimd::select(q >= f32(0.0f), q, f32(0.0f));
        q = xsimd::select(q > f32(255.0f), f32(255.0f), q);
        return xsimd::to_int(q);
    }
    static void quantize_u8(int64_t n, const float* src, float scale, int32_t zp, uint8_t* dst) {
        const f32 inv = f32(1.0f / scale), vzp = f32(float(zp));
        int64_t i = 0;
        for (; i + 4 * W <= n; i += 4 * W)
            S::narrow4_u8(quantize(f32::load_unaligned(src + i), inv, vzp), quantize(f32::load_unaligned(src + i + W), inv, vzp),
                          quantize(f32::load_unaligned(src + i + 2 * W), inv, vzp),
                          quantize(f32::load_unaligned(src + i + 3 * W), inv, vzp), dst + i);
        for (; i + W <= n; i += W) S::narrow_u8(quantize(f32::load_unaligned(src + i), inv, vzp), dst + i);
        if (i < n) {
            alignas(64) uint8_t t[f32::size];
            S::narrow_u8(quantize(S::load_partial(src + i, n - i), inv, vzp), t);
            std::memcpy(dst + i, t, size_t(n - i));
        }
    }
};

// ---- gemm_bf16: 6 rows × 2 vectors of fp32 FMAs over bf16 weight panels ----
// Weights are packed as bf16 (half of fp32's bytes), K-major panels of 2W columns with the columns
// of each k interleaved (16-bit slot 2j = column j, slot 2j+1 = column W+j): one register of 32-bit
// lanes gives both vectors with one integer op each (`<< 16` and `& 0xFFFF0000`), exactly. src is
// rounded to bf16 once per row tile and K block. Every product of two bf16 values is exact in fp32,
// so each output's FMA chain over k in order (its partial sum kept in dst between K blocks, exact)
// gives the sums of gemm_bf16__ref bit for bit, whatever M or the tiling.
template <class A>
struct gemm_bf16_xs {
    using S = simd<A>;
    using f32 = typename S::f32;
    using u32 = typename S::u32;
    static constexpr int64_t W = S::width;
    static constexpr int max_rows = 6;                  // 12 accumulators + 2 weights + 1 broadcast
    static constexpr int64_t panel = 2 * W;
    static constexpr int64_t max_kc = 512;              // 6 rounded rows × 512 floats = 12 KiB of L1
    static constexpr int64_t l2_block_bytes = 192 * 1024;

    static int64_t panels(int64_t N) { return (N + panel - 1) / panel; }
    static size_t packed_bytes(int64_t N, int64_t K) { return size_t(panels(N) * panel) * size_t(K) * sizeof(uint16_t); }
    static void pack(const float* w, int64_t N, int64_t K, void* packed) {
        uint16_t* p = static_cast<uint16_t*>(packed);
        for (int64_t n0 = 0; n0 < N; n0 += panel)
            for (int64_t k = 0; k < K; ++k, p += panel)
                for (int64_t j = 0; j < panel; ++j) {
                    const int64_t col = n0 + j, slot = j < W ? 2 * j : 2 * (j - W) + 1;
                    p[slot] = col < N ? scalar::f32_to_bf16(w[col * K + k]) : uint16_t(0);
                }
    }

    struct tile_job {
        int64_t kc;
        const float* a;      // the rounded rows, max_kc apart
        const uint16_t* b;   // the panel at the K block's first k
        float* c; int64_t ldc;
        int64_t cols;        // real columns of the panel (1..2W)
        bool accumulate, final, relu;
        const float* bias;   // at the panel's first column, or null
    };

    template <int MR>
    static void tile(const tile_job& j) {
        f32 acc[MR][2];
        for (int i = 0; i < MR; ++i)
            for (int v = 0; v < 2; ++v)
                acc[i][v] = j.accumulate && j.cols > v * W ? S::load(j.c + i * j.ldc + v * W, j.cols - v * W) : f32(0.0f);
        const float* x = j.a;
        const uint8_t* b = reinterpret_cast<const uint8_t*>(j.b);
        const u32 high(0xFFFF0000u);
        for (int64_t k = 0; k < j.kc; ++k, ++x, b += 4 * W) {
            const u32 packed = xsimd::bitwise_cast<u32>(S::u8::load_aligned(b));
            const f32 w0 = xsimd::bitwise_cast<f32>(packed << 16), w1 = xsimd::bitwise_cast<f32>(packed & high);
#pragma GCC unroll 6
            for (int i = 0; i < MR; ++i) {
                const f32 xv(x[i * max_kc]);
                acc[i][0] = xsimd::fma(xv, w0, acc[i][0]);
                acc[i][1] = xsimd::fma(xv, w1, acc[i][1]);
            }
        }
        if (j.final) {
            f32 bias[2] = {f32(0.0f), f32(0.0f)};
            if (j.bias)
                for (int v = 0; v < 2; ++v)
                    if (j.cols > v * W) bias[v] = S::load(j.bias + v * W, j.cols - v * W);
            for (int i = 0; i < MR; ++i)
                for (int v = 0; v < 2; ++v) {
                    if (j.bias) acc[i][v] = acc[i][v] + bias[v];
                    if (j.relu) acc[i][v] = S::relu(acc[i][v]);
                }
        }
        for (int i = 0; i < MR; ++i)
            for (int v = 0; v < 2; ++v)
                if (j.cols > v * W) S::store(j.c + i * j.ldc + v * W, acc[i][v], j.cols - v * W);
    }

    static void round_row(const float* src, int64_t n, float* dst) {
        int64_t k = 0;
        for (; k + W <= n; k += W) S::round_bf16(f32::load_unaligned(src + k)).store_unaligned(dst + k);
        if (k < n) S::store(dst + k, S::round_bf16(S::load_partial(src + k, n - k)), n - k);
    }

    static void run(const gemm_f32_args& a) {
        if (a.M <= 0 || a.N <= 0) return;
        using tile_fn = void (*)(const tile_job&);
        static constexpr tile_fn tiles[max_rows] = {tile<1>, tile<2>, tile<3>, tile<4>, tile<5>, tile<6>};
        const uint16_t* packed = static_cast<const uint16_t*>(a.packed_w);
        const int64_t np = panels(a.N);
        const int64_t kblocks = std::max<int64_t>(1, (a.K + max_kc - 1) / max_kc);
        const int64_t kb = (a.K + kblocks - 1) / kblocks;  // equal K blocks of ≤ max_kc
        const int64_t panel_block = std::max<int64_t>(1, l2_block_bytes / (std::max<int64_t>(kb, 1) * panel * 2));
        alignas(64) float rounded[max_rows * max_kc];
        for (int64_t blk = 0; blk < kblocks; ++blk) {
            const int64_t k0 = blk * kb;
            tile_job j{};
            j.kc = std::max<int64_t>(0, std::min(kb, a.K - k0));
            j.a = rounded;
            j.ldc = a.ldd;
            j.accumulate = blk > 0;
            j.final = blk == kblocks - 1;
            j.relu = a.epi == epilogue::relu;
            for (int64_t p0 = 0; p0 < np; p0 += panel_block) {
                const int64_t p1 = std::min(np, p0 + panel_block);
                for (int64_t m0 = 0; m0 < a.M; m0 += max_rows) {
                    const int rows = int(std::min<int64_t>(max_rows, a.M - m0));
                    for (int i = 0; i < rows; ++i) round_row(a.src + (m0 + i) * a.lda + k0, j.kc, rounded + i * max_kc);
                    for (int64_t p = p0; p < p1; ++p) {
                        const int64_t n0 = p * panel;
                        j.cols = std::min(panel, a.N - n0);
                        j.b = packed + p * panel * a.K + k0 * panel;
                        j.c = a.dst + m0 * a.ldd + n0;
                        j.bias = a.bias ? a.bias + n0 : nullptr;
                        tiles[rows - 1](j);
                    }
                }
            }
        }
    }
};

// ---- gemm_u8s8: u8 × s8 → exact s32 with 16-bit multiply-adds, 4 rows × 2 vectors ----
// Not vpmaddubsw: its u8·s8 pair sums saturate at 16 bits. Weights are packed per panel of 2W
// channels, for each pair of k (K padded to even with zeros) the 2W channels' (w[c][2q], w[c][2q+1])
// bytes: one register, widened to s16 in two halves (W channels each). A row tile's src is staged
// once as 32-bit pairs x[2q] | x[2q+1] << 16 (zero past K), broadcast per pair; pmaddwd (NEON:
// smull + addp) forms x[2q]·w[2q] + x[2q+1]·w[2q+1] per channel in s32, exact (≤ 2·255·128).
// The fp32 epilogue is the ref's, in its order: (src_scale·w_scale[n])·float(acc − comp[n]) + bias
// (+0 without one), ReLU, the DCN cross x0·v + xl when asked, then the f32 store and/or
// clamp(nearbyint(v·inv) + zp, 0, 255) at stride ldq, inv = 1/scale rounded once; the library is
// built with -ffp-contract=off, so every product and sum round apart. dst_f32 may be xl: each
// element's xl is read before its result is stored.
template <class A>
struct gemm_u8s8_xs {
    using S = simd<A>;
    using f32 = typename S::f32;
    using i32 = typename S::i32;
    using i16 = typename S::i16;
    using u32 = typename S::u32;
    static constexpr int64_t W = S::width;
    static constexpr int max_rows = 4;
    static constexpr int64_t panel = 2 * W;             // channels per panel
    static constexpr int64_t pair_bytes = 2 * panel;    // one pair step: one register of s8
    static constexpr int64_t l2_block_bytes = 192 * 1024;

    static int64_t panels(int64_t N) { return (N + panel - 1) / panel; }
    static int64_t pairs(int64_t K) { return (K + 1) / 2; }
    static size_t packed_bytes(int64_t N, int64_t K) { return size_t(panels(N)) * size_t(pairs(K)) * size_t(pair_bytes); }
    static void pack(const int8_t* w, int64_t N, int64_t K, void* packed) {
        int8_t* p = static_cast<int8_t*>(packed);
        for (int64_t n0 = 0; n0 < N; n0 += panel)
            for (int64_t q = 0; q < pairs(K); ++q)
                for (int64_t c = 0; c < panel; ++c)
                    for (int64_t t = 0; t < 2; ++t, ++p) {
                        const int64_t col = n0 + c, k = 2 * q + t;
                        *p = col < N && k < K ? w[col * K + k] : int8_t(0);
                    }
    }

    struct tile_job {
        int64_t pairs;
        const uint32_t* x; int64_t ldxs;  // staged rows
        const int8_t* b;                  // the panel
        int64_t cols;                     // real channels (1..2W)
        const float* w_scale; const int32_t* comp; const float* bias;  // at the panel's first channel
        float src_scale, inv_dst_scale, dst_zp;
        float* dst_f32; uint8_t* dst_u8; int64_t ldd, ldq;              // at the tile's first row and channel
        const float* x0; const float* xl; int64_t ldx;                  // DCN cross (x0 != null), the same
        bool relu;
    };

    template <int MR>
    static void tile(const tile_job& j) {
        i32 acc[MR][2];
        for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = i32(0);
        const int8_t* b = j.b;
        for (int64_t q = 0; q < j.pairs; ++q, b += pair_bytes) {
            i16 w0, w1;
            S::widen_s8(b, w0, w1);
#pragma GCC unroll 4
            for (int i = 0; i < MR; ++i) {
                const i16 x = xsimd::bitwise_cast<i16>(u32(j.x[i * j.ldxs + q]));
                acc[i][0] = acc[i][0] + S::madd(x, w0);
                acc[i][1] = acc[i][1] + S::madd(x, w1);
            }
        }
        const f32 zero(0.0f);
        for (int v = 0; v < 2; ++v) {
            const int64_t n = j.cols - v * W;
            if (n <= 0) break;
            const f32 scale = f32(j.src_scale) * S::load(j.w_scale + v * W, n);
            const i32 comp = S::load_i32(j.comp + v * W, n);
            const f32 bias = j.bias ? S::load(j.bias + v * W, n) : zero;  // + 0 turns a −0 product into +0, as the ref
            for (int i = 0; i < MR; ++i) {
                f32 r = scale * xsimd::to_float(acc[i][v] - comp);
                r = r + bias;
                if (j.relu) r = S::relu(r);
                if (j.x0) r = S::load(j.x0 + i * j.ldx + v * W, n) * r + S::load(j.xl + i * j.ldx + v * W, n);
                if (j.dst_f32) S::store(j.dst_f32 + i * j.ldd + v * W, r, n);
                if (j.dst_u8) {
                    f32 qf = xsimd::nearbyint(r * f32(j.inv_dst_scale)) + f32(j.dst_zp);
                    qf = xsimd::select(qf >= zero, qf, zero);  // a NaN fails the compare: 0, as the ref
                    qf = xsimd::select(qf > f32(255.0f), f32(255.0f), qf);
                    uint8_t* d = j.dst_u8 + i * j.ldq + v * W;
                    if (n >= W) {
                        S::narrow_u8(xsimd::to_int(qf), d);
                    } else {
                        alignas(64) uint8_t t[f32::size];
                        S::narrow_u8(xsimd::to_int(qf), t);
                        std::memcpy(d, t, size_t(n));
                    }
                }
            }
        }
    }

    static void run(const gemm_u8s8_args& a) {
        if (a.M <= 0 || a.N <= 0) return;
        using tile_fn = void (*)(const tile_job&);
        static constexpr tile_fn tiles[max_rows] = {tile<1>, tile<2>, tile<3>, tile<4>};
        const int8_t* packed = static_cast<const int8_t*>(a.packed_w);
        const int64_t np = panels(a.N), npairs = pairs(a.K);
        const int64_t panel_bytes = npairs * pair_bytes;
        const int64_t panel_block = std::max<int64_t>(1, l2_block_bytes / std::max<int64_t>(panel_bytes, 1));
        // Staged src pairs; the row stride is padded by 16 pairs so the rows never share L1 sets.
        const int64_t ldxs = npairs + 16;
        static thread_local std::vector<uint32_t> stage;
        if (stage.size() < size_t(max_rows * ldxs)) stage.resize(size_t(max_rows * ldxs));
        tile_job j{};
        j.pairs = npairs;
        j.x = stage.data();
        j.ldxs = ldxs;
        j.src_scale = a.src_scale;
        j.inv_dst_scale = 1.0f / a.dst_scale;
        j.dst_zp = float(a.dst_zp);
        j.ldd = a.ldd;
        j.ldq = a.ldq ? a.ldq : a.ldd;
        j.ldx = a.ldx;
        j.relu = a.epi == epilogue::relu;
        for (int64_t p0 = 0; p0 < np; p0 += panel_block) {
            const int64_t p1 = std::min(np, p0 + panel_block);
            for (int64_t m0 = 0; m0 < a.M; m0 += max_rows) {
                const int rows = int(std::min<int64_t>(max_rows, a.M - m0));
                for (int i = 0; i < rows; ++i) {
                    const uint8_t* x = a.src + (m0 + i) * a.lda;
                    uint32_t* s = stage.data() + i * ldxs;
                    for (int64_t q = 0; q < a.K / 2; ++q) s[q] = uint32_t(x[2 * q]) | uint32_t(x[2 * q + 1]) << 16;
                    if (a.K % 2) s[npairs - 1] = x[a.K - 1];
                }
                for (int64_t p = p0; p < p1; ++p) {
                    const int64_t n0 = p * panel;
                    j.b = packed + p * panel_bytes;
                    j.cols = std::min(panel, a.N - n0);
                    j.w_scale = a.w_scale + n0;
                    j.comp = a.comp + n0;
                    j.bias = a.bias ? a.bias + n0 : nullptr;
                    j.dst_f32 = a.dst_f32 ? a.dst_f32 + m0 * a.ldd + n0 : nullptr;
                    j.dst_u8 = a.dst_u8 ? a.dst_u8 + m0 * j.ldq + n0 : nullptr;
                    j.x0 = a.x0 ? a.x0 + m0 * a.ldx + n0 : nullptr;
                    j.xl = a.xl ? a.xl + m0 * a.ldx + n0 : nullptr;
                    tiles[rows - 1](j);
                }
            }
        }
    }
};

// Instantiated only in generic.cpp / avx2.cpp, each with its own flags.
#if defined(__x86_64__)
extern template struct gemm_f32_xs<xsimd::sse2>;
extern template struct gemm_bf16_xs<xsimd::sse2>;
extern template struct gemm_u8s8_xs<xsimd::sse2>;
extern template struct embbag_xs<xsimd::sse2>;
extern template struct interact_dot_xs<xsimd::sse2>;
extern template struct dcn_cross_xs<xsimd::sse2>;
extern template struct sigmoid_xs<xsimd::sse2>;
extern template struct convert_xs<xsimd::sse2>;
extern template struct gemm_f32_xs<xsimd::fma3<xsimd::avx2>>;
extern template struct gemm_bf16_xs<xsimd::fma3<xsimd::avx2>>;
extern template struct gemm_u8s8_xs<xsimd::fma3<xsimd::avx2>>;
extern template struct embbag_xs<xsimd::fma3<xsimd::avx2>>;
extern template struct interact_dot_xs<xsimd::fma3<xsimd::avx2>>;
extern template struct dcn_cross_xs<xsimd::fma3<xsimd::avx2>>;
extern template struct sigmoid_xs<xsimd::fma3<xsimd::avx2>>;
extern template struct convert_xs<xsimd::fma3<xsimd::avx2>>;
#elif defined(__aarch64__)
extern template struct gemm_f32_xs<xsimd::neon64>;
extern template struct gemm_bf16_xs<xsimd::neon64>;
extern template struct gemm_u8s8_xs<xsimd::neon64>;
extern template struct embbag_xs<xsimd::neon64>;
extern template struct interact_dot_xs<xsimd::neon64>;
extern template struct dcn_cross_xs<xsimd::neon64>;
extern template struct sigmoid_xs<xsimd::neon64>;
extern template struct convert_xs<xsimd::neon64>;
#endif

}  // namespace dlrm::kernels::xs

// Scalar float <-> bf16 / f16 conversions in portable C++ (no F16C, no compiler half types).
//
// The reference kernels and the tests build on these. They live in an unnamed namespace so every
// translation unit gets its own copy: a per-ISA library that includes this header can never have
// its AVX-512 build of a helper merged by the linker into baseline code (STYLE.md, Highway).
#pragma once
#include <cstdint>
#include <cstring>

namespace dlrm::kernels::scalar {
namespace {

inline uint32_t float_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float bits_float(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// bf16 is the top half of a float; round to nearest even by adding 0x7FFF plus the lowest kept bit.
// A NaN would carry into the exponent or lose its payload, so it is truncated and forced quiet.
inline uint16_t f32_to_bf16(float f) {
    uint32_t u = float_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return uint16_t((u >> 16) | 0x0040u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

inline float bf16_to_f32(uint16_t h) { return bits_float(uint32_t(h) << 16); }

// IEEE binary16, round to nearest even, with subnormals, infinities and NaN (payload's top bits kept,
// quiet bit set so it stays a NaN).
inline uint16_t f32_to_f16(float f) {
    const uint32_t u = float_bits(f);
    const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return uint16_t(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
    if (a >= 0x477FF000u) return uint16_t(sign | 0x7C00u);  // >= 65520 rounds to inf (65504 is odd)
    if (a < 0x38800000u) {                                   // below 2^-14: half subnormal or zero
        const uint32_t e = a >> 23;
        if (e < 102) return sign;                            // below 2^-25: rounds to zero
        const uint32_t mant = (a & 0x7FFFFFu) | 0x800000u;
        const uint32_t shift = 126 - e;                      // value·2^24 = mant >> shift
        uint32_t r = mant >> shift;
        const uint32_t rem = mant & ((1u << shift) - 1u), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1u))) ++r;    // may carry into the smallest normal
        return uint16_t(sign | r);
    }
    const uint32_t v = a - 0x38000000u;                      // rebias exponent 127 -> 15
    uint32_t r = v >> 13;
    const uint32_t rem = v & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;  // a carry moves into the exponent
    return uint16_t(sign | r);
}

inline float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1Fu;
    uint32_t m = h & 0x3FFu;
    if (e == 0x1F) return bits_float(sign | 0x7F800000u | (m << 13));
    if (e != 0) return bits_float(sign | ((e + 112u) << 23) | (m << 13));
    if (m == 0) return bits_float(sign);
    uint32_t fe = 113;  // subnormal m·2^-24: normalise so the leading bit becomes implicit
    while (!(m & 0x400u)) { m <<= 1; --fe; }
    return bits_float(sign | (fe << 23) | ((m & 0x3FFu) << 13));
}

}  // namespace
}  // namespace dlrm::kernels::scalar

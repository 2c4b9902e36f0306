// Counter-based random numbers: the value for (seed, stream, index) is a pure function, so data can
// be generated in parallel, in any order, and regenerated bit for bit (dlrm synth relies on this).
#pragma once
#include <cmath>
#include <cstdint>

namespace dlrm {

constexpr uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

// A key for one stream of numbers (e.g. table 7's rows) under a seed.
constexpr uint64_t stream_key(uint64_t seed, uint64_t stream, uint64_t sub = 0) {
    return splitmix64(splitmix64(seed ^ 0x5DEECE66Dull) ^ splitmix64(stream * 0x2545F4914F6CDD1Dull + sub));
}

inline uint64_t random_u64(uint64_t key, uint64_t index) { return splitmix64(key ^ splitmix64(index)); }

// Uniform in [0, 1) with 24 random bits (exactly representable in float).
inline float random_unit(uint64_t key, uint64_t index) {
    return float(random_u64(key, index) >> 40) * (1.0f / 16777216.0f);
}
// Uniform in [0, 1) with 53 random bits.
inline double random_unit_d(uint64_t key, uint64_t index) {
    return double(random_u64(key, index) >> 11) * (1.0 / 9007199254740992.0);
}

// Standard normal from two uniforms (Box–Muller), one value per index.
inline float random_normal(uint64_t key, uint64_t index) {
    const uint64_t r = random_u64(key, index);
    const double u1 = (double(r >> 40) + 0.5) * (1.0 / 16777216.0);
    const double u2 = double((r >> 16) & 0xFFFFFF) * (1.0 / 16777216.0);
    return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

}  // namespace dlrm

#include "formats/weights/xxhash64.h"

#include <bit>
#include <cstring>

namespace dlrm {

namespace {
constexpr uint64_t k_p1 = 0x9E3779B185EBCA87ull;
constexpr uint64_t k_p2 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t k_p3 = 0x165667B19E3779F9ull;
constexpr uint64_t k_p4 = 0x85EBCA77C2B2AE63ull;
constexpr uint64_t k_p5 = 0x27D4EB2F165667C5ull;

// The spec reads lanes little-endian; memcpy compiles to one load and is safe on any alignment.
inline uint64_t load64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
    return v;
}
inline uint32_t load32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
    return v;
}

inline uint64_t round(uint64_t acc, uint64_t lane) {
    acc += lane * k_p2;
    acc = std::rotl(acc, 31);
    return acc * k_p1;
}
inline uint64_t merge_round(uint64_t h, uint64_t acc) {
    h ^= round(0, acc);
    return h * k_p1 + k_p4;
}

// The bulk loop: four independent accumulators, so the multiplies of one stripe overlap.
inline const uint8_t* consume_stripes(uint64_t acc[4], const uint8_t* p, const uint8_t* end) {
    uint64_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    while (end - p >= 32) {
        a0 = round(a0, load64(p));
        a1 = round(a1, load64(p + 8));
        a2 = round(a2, load64(p + 16));
        a3 = round(a3, load64(p + 24));
        p += 32;
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
    return p;
}

inline void init(uint64_t acc[4], uint64_t seed) {
    acc[0] = seed + k_p1 + k_p2;
    acc[1] = seed + k_p2;
    acc[2] = seed;
    acc[3] = seed - k_p1;
}

// Converges the accumulators (or the seed for inputs < 32 bytes), then mixes the tail of < 32 bytes.
uint64_t finish(const uint64_t acc[4], uint64_t seed, uint64_t total, const uint8_t* tail, size_t n) {
    uint64_t h;
    if (total >= 32) {
        h = std::rotl(acc[0], 1) + std::rotl(acc[1], 7) + std::rotl(acc[2], 12) + std::rotl(acc[3], 18);
        for (int i = 0; i < 4; ++i) h = merge_round(h, acc[i]);
    } else {
        h = seed + k_p5;
    }
    h += total;
    while (n >= 8) {
        h ^= round(0, load64(tail));
        h = std::rotl(h, 27) * k_p1 + k_p4;
        tail += 8;
        n -= 8;
    }
    if (n >= 4) {
        h ^= uint64_t(load32(tail)) * k_p1;
        h = std::rotl(h, 23) * k_p2 + k_p3;
        tail += 4;
        n -= 4;
    }
    while (n > 0) {
        h ^= uint64_t(*tail) * k_p5;
        h = std::rotl(h, 11) * k_p1;
        ++tail;
        --n;
    }
    h ^= h >> 33;
    h *= k_p2;
    h ^= h >> 29;
    h *= k_p3;
    h ^= h >> 32;
    return h;
}
}  // namespace

uint64_t xxh64(const void* data, size_t n, uint64_t seed) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    const uint8_t* end = p + n;
    uint64_t acc[4];
    init(acc, seed);
    p = consume_stripes(acc, p, end);
    return finish(acc, seed, n, p, size_t(end - p));
}

void xxh64_state::reset(uint64_t seed) {
    init(acc_, seed);
    seed_ = seed;
    total_ = 0;
    buffered_ = 0;
    std::memset(buf_, 0, sizeof buf_);
}

void xxh64_state::update(const void* data, size_t n) {
    if (n == 0) return;
    const uint8_t* p = static_cast<const uint8_t*>(data);
    const uint8_t* end = p + n;
    total_ += n;
    if (buffered_ > 0) {
        size_t take = 32 - buffered_;
        if (take > n) take = n;
        std::memcpy(buf_ + buffered_, p, take);
        buffered_ += uint32_t(take);
        p += take;
        if (buffered_ < 32) return;
        consume_stripes(acc_, buf_, buf_ + 32);
        buffered_ = 0;
    }
    p = consume_stripes(acc_, p, end);
    buffered_ = uint32_t(end - p);
    if (buffered_ > 0) std::memcpy(buf_, p, buffered_);
}

uint64_t xxh64_state::digest() const { return finish(acc_, seed_, total_, buf_, buffered_); }

}  // namespace dlrm

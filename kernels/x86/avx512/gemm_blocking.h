// Blocking arithmetic shared by the AVX-512 GEMMs: how M, N and K are cut into register tiles,
// panels and cache blocks. Only the avx512 library includes this header, and everything sits in
// namespace dlrm::kernels::avx512, so no AVX-512 copy of a helper can be merged into baseline code.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace dlrm::kernels::avx512 {

constexpr int64_t panel_cols = 32;  // columns of N per packed panel: two zmm of 16 lanes
constexpr int max_rows = 14;        // rows of the register tile: 14×2 accumulators + 2 weights + 1

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Row tiles of balanced height: M = 256 becomes 9 tiles of 14 and 10 of 13 rather than 18 of 14
// and a slow 4-row tail. Tile t starts at row_start(t). The per-row arithmetic never depends on
// the tile (each output is one FMA chain over k), so this split cannot change any result.
struct row_tiles {
    int64_t count, base, extra;  // `extra` tiles of base+1 rows come first, then tiles of base rows
    explicit row_tiles(int64_t M) {
        count = ceil_div(M, max_rows);
        base = count ? M / count : 0;
        extra = count ? M % count : 0;
    }
    int64_t start(int64_t t) const { return t * base + std::min(t, extra); }
    int rows(int64_t t) const { return int(base + (t < extra ? 1 : 0)); }
};

// K blocks of at most `max_kc`, of equal size so no block is a sliver.
struct k_blocks {
    int64_t count, size;
    k_blocks(int64_t K, int64_t max_kc) {
        count = std::max<int64_t>(1, ceil_div(K, max_kc));
        size = ceil_div(K, count);
    }
    int64_t start(int64_t b) const { return b * size; }
    int64_t len(int64_t b, int64_t K) const { return std::min(size, K - b * size); }
};

// The lanes of the last vector of a panel that hold real columns (cols in 1..16).
inline __mmask16 lane_mask(int64_t cols) {
    return cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1u);
}

}  // namespace dlrm::kernels::avx512

// Blocking arithmetic and small store helpers shared by the NEON GEMMs. Everything sits in an
// unnamed namespace: the dotprod file is built with +dotprod, and no copy of a helper compiled with
// it may be merged by the linker into the baseline NEON library (kernels/README.md).
#pragma once
#include <arm_neon.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace dlrm::kernels::neon {
namespace {

constexpr int64_t panel_cols = 16;  // columns of N per packed panel: four 4-lane vectors

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Row tiles of balanced height at most `max_rows` (M = 20 with 6 rows: 5,5,5,5 rather than
// 6,6,6,2). Each output is computed the same way whatever tile it is in, so this cannot change a
// result.
struct row_tiles {
    int64_t count, base, extra;
    row_tiles(int64_t M, int max_rows) {
        count = ceil_div(M, max_rows);
        base = count ? M / count : 0;
        extra = count ? M % count : 0;
    }
    int64_t start(int64_t t) const { return t * base + std::min(t, extra); }
    int rows(int64_t t) const { return int(base + (t < extra ? 1 : 0)); }
};

// K blocks of at most `max_kc`, of equal size.
struct k_blocks {
    int64_t count, size;
    k_blocks(int64_t K, int64_t max_kc) {
        count = std::max<int64_t>(1, ceil_div(K, max_kc));
        size = ceil_div(K, count);
    }
    int64_t start(int64_t b) const { return b * size; }
    int64_t len(int64_t b, int64_t K) const { return std::min(size, K - b * size); }
};

// The first n (0..4) lanes of p, the rest zero; reads nothing past p[n−1].
inline float32x4_t load_partial(const float* p, int64_t n) {
    if (n >= 4) return vld1q_f32(p);
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(t, p, size_t(n) * sizeof(float));
    return vld1q_f32(t);
}

// Stores the first n (0..4) lanes of v; writes nothing past p[n−1].
inline void store_partial(float* p, float32x4_t v, int64_t n) {
    if (n >= 4) { vst1q_f32(p, v); return; }
    float t[4];
    vst1q_f32(t, v);
    std::memcpy(p, t, size_t(n) * sizeof(float));
}

// ReLU as the reference writes it, v > 0 ? v : 0: FMAXNM returns the number when the other operand
// is a NaN and +0 for (−0, +0), so NaN and −0 both become +0.
inline float32x4_t relu(float32x4_t v) { return vmaxnmq_f32(v, vdupq_n_f32(0.0f)); }

// The fp32 GEMM tiles' accumulators, MR rows × 16 columns at c (row stride ldc), of which `cols`
// are real: zero, or (accumulate) the partial sums already in c from the previous K blocks.
template <int MR>
inline void load_tile(float32x4_t (&acc)[MR][4], bool accumulate, const float* c, int64_t ldc, int64_t cols) {
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < 4; ++v) {
            const int64_t n = cols - 4 * v;
            acc[i][v] = accumulate && n > 0 ? load_partial(c + i * ldc + 4 * v, n) : vdupq_n_f32(0.0f);
        }
}

// Their end: after the last K block (final) bias and ReLU, then the store of the real columns.
template <int MR>
inline void finish_tile(float32x4_t (&acc)[MR][4], bool final, const float* bias, bool relu_out, float* c,
                        int64_t ldc, int64_t cols) {
    if (final) {
        if (bias) {
            float32x4_t b[4];
            for (int v = 0; v < 4; ++v) {
                const int64_t n = cols - 4 * v;
                b[v] = n > 0 ? load_partial(bias + 4 * v, n) : vdupq_n_f32(0.0f);
            }
            for (int i = 0; i < MR; ++i)
                for (int v = 0; v < 4; ++v) acc[i][v] = vaddq_f32(acc[i][v], b[v]);
        }
        if (relu_out)
            for (int i = 0; i < MR; ++i)
                for (int v = 0; v < 4; ++v) acc[i][v] = relu(acc[i][v]);
    }
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < 4; ++v)
            if (cols > 4 * v) store_partial(c + i * ldc + 4 * v, acc[i][v], cols - 4 * v);
}

}  // namespace
}  // namespace dlrm::kernels::neon

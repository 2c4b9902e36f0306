// gemm_f32__neon_6x16: dst = src·Wᵀ + bias (+ ReLU) with fp32 FMAs (FMLA).
//
// Design (as gemm_f32__avx512_14x32, scaled to AArch64's 32 vector registers):
//   - W is packed once into panels of 16 columns, K-major: one k step of a panel is four 16-byte
//     loads from one sequential stream.
//   - Register tile 6 rows × 16 columns: 24 accumulators, 4 weight vectors and one broadcast (LD1R)
//     of src, 29 of 32 registers; 24 FMAs per 4 + 6 loads.
//   - K is cut into blocks of ≤ 512 so the 6 src rows of a block (≤ 12 KiB) stay in L1 while a
//     block of panels (≤ 512 KiB) stays in L2; between K blocks the partial sums live in dst (fp32,
//     exact), so each output is one FMA chain over k in order and never depends on M or the tiling.
//   - Tails: the last panel is zero-padded and computed whole, stored lane by lane up to N; rows
//     come in balanced tiles. Nothing outside src rows, dst's N columns and bias is touched.
//   - N ≤ 4 (a DLRM top MLP ends with N = 1): W row-major, dot products along k, 4 lanes.
#include <arm_neon.h>

#include <array>
#include <cstring>
#include <utility>

#include "kernels/arm/neon/neon_blocking.h"
#include "kernels/arm/neon/neon_kernels.h"

namespace dlrm::kernels::neon {
namespace {

constexpr int max_rows = 6;
constexpr int64_t dot_max_n = 4;
constexpr int64_t max_kc = 512;
constexpr int64_t l2_block_bytes = 512 * 1024;

struct tile_job {
    int64_t kc;
    const float* a; int64_t lda;  // the tile's first src row at the K block's first k
    const float* b;               // the panel at the K block's first k: 16 floats per k
    float* c; int64_t ldc;        // dst at the tile's first row and the panel's first column
    int64_t cols;                 // real columns of this panel (1..16)
    bool accumulate, final, relu;
    const float* bias;            // at the panel's first column, or null
};

template <int MR>
void tile(const tile_job& j) {
    float32x4_t acc[MR][4];
    load_tile<MR>(acc, j.accumulate, j.c, j.ldc, j.cols);
    const float* a = j.a;
    const float* b = j.b;
    for (int64_t k = 0; k < j.kc; ++k, ++a, b += panel_cols) {
        const float32x4_t w0 = vld1q_f32(b), w1 = vld1q_f32(b + 4), w2 = vld1q_f32(b + 8), w3 = vld1q_f32(b + 12);
#pragma GCC unroll 6
        for (int i = 0; i < MR; ++i) {
            const float32x4_t x = vld1q_dup_f32(a + i * j.lda);
            acc[i][0] = vfmaq_f32(acc[i][0], x, w0);
            acc[i][1] = vfmaq_f32(acc[i][1], x, w1);
            acc[i][2] = vfmaq_f32(acc[i][2], x, w2);
            acc[i][3] = vfmaq_f32(acc[i][3], x, w3);
        }
    }
    finish_tile<MR>(acc, j.final, j.bias, j.relu, j.c, j.ldc, j.cols);
}

using tile_fn = void (*)(const tile_job&);
constexpr std::array<tile_fn, max_rows> tiles = {tile<1>, tile<2>, tile<3>, tile<4>, tile<5>, tile<6>};

// ---- N ≤ 4: dot products along k; lane l sums k ≡ l (mod 4) in order, then a fixed reduction ----

void run_dot(const gemm_f32_args& a) {
    const float* w = static_cast<const float*>(a.packed_w);
    const int64_t K = a.K, k4 = K & ~int64_t(3);
    for (int64_t m = 0; m < a.M; ++m) {
        const float* x = a.src + m * a.lda;
        for (int64_t n = 0; n < a.N; ++n) {
            const float* wn = w + n * K;
            float32x4_t acc = vdupq_n_f32(0.0f);
            for (int64_t k = 0; k < k4; k += 4) acc = vfmaq_f32(acc, vld1q_f32(x + k), vld1q_f32(wn + k));
            if (k4 < K) acc = vfmaq_f32(acc, load_partial(x + k4, K - k4), load_partial(wn + k4, K - k4));
            float v = vaddvq_f32(acc) + (a.bias ? a.bias[n] : 0.0f);
            if (a.epi == epilogue::relu) v = v > 0.0f ? v : 0.0f;
            a.dst[m * a.ldd + n] = v;
        }
    }
}

size_t packed_bytes(int64_t N, int64_t K) {
    if (N <= dot_max_n) return size_t(N) * size_t(K) * sizeof(float);
    return size_t(ceil_div(N, panel_cols)) * size_t(panel_cols) * size_t(K) * sizeof(float);
}

void pack(const float* w, int64_t N, int64_t K, void* packed) {
    float* p = static_cast<float*>(packed);
    if (N <= dot_max_n) {
        if (const size_t n = packed_bytes(N, K)) std::memcpy(p, w, n);  // K = 0: w may be null
        return;
    }
    for (int64_t n0 = 0; n0 < N; n0 += panel_cols)
        for (int64_t k = 0; k < K; ++k)
            for (int64_t j = 0; j < panel_cols; ++j, ++p) *p = n0 + j < N ? w[(n0 + j) * K + k] : 0.0f;
}

void run(const gemm_f32_args& a) {
    if (a.M <= 0 || a.N <= 0) return;
    if (a.N <= dot_max_n) return run_dot(a);
    const float* packed = static_cast<const float*>(a.packed_w);
    const int64_t panels = ceil_div(a.N, panel_cols);
    const k_blocks kb(a.K, max_kc);
    const int64_t panel_block =
        std::max<int64_t>(1, l2_block_bytes / (std::max<int64_t>(kb.size, 1) * panel_cols * 4));
    const row_tiles rt(a.M, max_rows);
    for (int64_t blk = 0; blk < kb.count; ++blk) {
        const int64_t k0 = kb.start(blk);
        tile_job j{};
        j.kc = std::max<int64_t>(0, kb.len(blk, a.K));
        j.lda = a.lda;
        j.ldc = a.ldd;
        j.accumulate = blk > 0;
        j.final = blk == kb.count - 1;
        j.relu = a.epi == epilogue::relu;
        for (int64_t p0 = 0; p0 < panels; p0 += panel_block) {
            const int64_t p1 = std::min(panels, p0 + panel_block);
            for (int64_t t = 0; t < rt.count; ++t) {
                const int64_t m0 = rt.start(t);
                j.a = a.src + m0 * a.lda + k0;
                for (int64_t p = p0; p < p1; ++p) {
                    const int64_t n0 = p * panel_cols;
                    j.cols = std::min(panel_cols, a.N - n0);
                    j.b = packed + p * panel_cols * a.K + k0 * panel_cols;
                    j.c = a.dst + m0 * a.ldd + n0;
                    j.bias = a.bias ? a.bias + n0 : nullptr;
                    tiles[rt.rows(t) - 1](j);
                }
            }
        }
    }
}

}  // namespace
}  // namespace dlrm::kernels::neon

namespace dlrm::kernels {
const gemm_f32_kernel gemm_f32__neon_6x16 = {"gemm_f32__neon_6x16", neon::packed_bytes, neon::pack, neon::run};
}  // namespace dlrm::kernels

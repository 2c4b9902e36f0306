// gemm_bf16__neon_6x16: bf16 GEMM on any ARMv8 core (no BF16 extension): bf16 weights widened to
// fp32 in registers, fp32 FMAs (FMLA), bit-exact with gemm_bf16__ref.
//
// Design (gemm_f32__neon_6x16 with bf16 panels):
//   - W is packed once as bf16 bits (round to nearest even, as the ref) into panels of 16 columns,
//     K-major: one k step of a panel is two 16-byte loads; a bf16 is the top half of an fp32, so
//     USHLL/USHLL2 #16 widen each load to two float vectors, exactly.
//   - src is rounded to bf16 once per row tile and K block into a buffer (6 × 512 floats, 12 KiB,
//     in L1), which the tile broadcasts from (LD1R).
//   - Register tile 6 rows × 16 columns: 24 accumulators, 4 weight vectors and one broadcast.
//   - The products of two bf16 values are exact in fp32, so each output's FMA chain over k in order
//     (its partial sum kept in dst between K blocks, exact) gives the ref's sums bit for bit,
//     whatever M or the tiling. Hence no N ≤ 4 dot-product path (it would reorder the sum).
//   - Tails: the last panel is zero-padded and computed whole, stored lane by lane up to N.
#include <arm_neon.h>

#include <array>
#include <cstring>

#include "kernels/arm/neon/neon_blocking.h"
#include "kernels/ref/scalar_convert.h"
#include "kernels/arm/neon/neon_kernels.h"

namespace dlrm::kernels::neon {
namespace {

constexpr int max_rows = 6;
constexpr int64_t max_kc = 512;
constexpr int64_t l2_block_bytes = 256 * 1024;

// Four floats rounded to their nearest bf16 values (as floats), as scalar::f32_to_bf16: ties to even,
// a NaN truncated and quiet.
inline float32x4_t round_bf16(float32x4_t x) {
    const uint32x4_t u = vreinterpretq_u32_f32(x);
    const uint32x4_t lsb = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
    const uint32x4_t rounded = vaddq_u32(u, vaddq_u32(lsb, vdupq_n_u32(0x7FFF)));
    const uint32x4_t nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7FFFFFFF)), vdupq_n_u32(0x7F800000));
    const uint32x4_t r = vbslq_u32(nan, vorrq_u32(u, vdupq_n_u32(0x00400000)), rounded);
    return vreinterpretq_f32_u32(vandq_u32(r, vdupq_n_u32(0xFFFF0000u)));
}

// dst[k] = bf16(src[k]) as floats for k < n; reads and writes exactly n floats.
void round_row(const float* src, int64_t n, float* dst) {
    int64_t k = 0;
    for (; k + 4 <= n; k += 4) vst1q_f32(dst + k, round_bf16(vld1q_f32(src + k)));
    if (k < n) store_partial(dst + k, round_bf16(load_partial(src + k, n - k)), n - k);
}

struct tile_job {
    int64_t kc;
    const float* a;               // the tile's rounded src rows, max_kc apart
    const uint16_t* b;            // the panel at the K block's first k: 16 bf16 per k
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
    const uint16_t* b = j.b;
    for (int64_t k = 0; k < j.kc; ++k, ++a, b += panel_cols) {
        const uint16x8_t h0 = vld1q_u16(b), h1 = vld1q_u16(b + 8);
        const float32x4_t w0 = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h0), 16));
        const float32x4_t w1 = vreinterpretq_f32_u32(vshll_high_n_u16(h0, 16));
        const float32x4_t w2 = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h1), 16));
        const float32x4_t w3 = vreinterpretq_f32_u32(vshll_high_n_u16(h1, 16));
#pragma GCC unroll 6
        for (int i = 0; i < MR; ++i) {
            const float32x4_t x = vld1q_dup_f32(a + i * max_kc);
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

size_t packed_bytes(int64_t N, int64_t K) {
    return size_t(ceil_div(N, panel_cols)) * size_t(panel_cols) * size_t(K) * sizeof(uint16_t);
}

void pack(const float* w, int64_t N, int64_t K, void* packed) {
    uint16_t* p = static_cast<uint16_t*>(packed);
    for (int64_t n0 = 0; n0 < N; n0 += panel_cols)
        for (int64_t k = 0; k < K; ++k)
            for (int64_t j = 0; j < panel_cols; ++j, ++p) *p = n0 + j < N ? scalar::f32_to_bf16(w[(n0 + j) * K + k]) : uint16_t(0);
}

void run(const gemm_f32_args& a) {
    if (a.M <= 0 || a.N <= 0) return;
    const uint16_t* packed = static_cast<const uint16_t*>(a.packed_w);
    const int64_t panels = ceil_div(a.N, panel_cols);
    const k_blocks kb(a.K, max_kc);
    const int64_t panel_block =
        std::max<int64_t>(1, l2_block_bytes / (std::max<int64_t>(kb.size, 1) * panel_cols * 2));
    const row_tiles rt(a.M, max_rows);
    alignas(16) float rounded[max_rows * max_kc];
    for (int64_t blk = 0; blk < kb.count; ++blk) {
        const int64_t k0 = kb.start(blk);
        tile_job j{};
        j.kc = std::max<int64_t>(0, kb.len(blk, a.K));
        j.a = rounded;
        j.ldc = a.ldd;
        j.accumulate = blk > 0;
        j.final = blk == kb.count - 1;
        j.relu = a.epi == epilogue::relu;
        for (int64_t p0 = 0; p0 < panels; p0 += panel_block) {
            const int64_t p1 = std::min(panels, p0 + panel_block);
            for (int64_t t = 0; t < rt.count; ++t) {
                const int64_t m0 = rt.start(t);
                const int rows = rt.rows(t);
                for (int i = 0; i < rows; ++i) round_row(a.src + (m0 + i) * a.lda + k0, j.kc, rounded + i * max_kc);
                for (int64_t p = p0; p < p1; ++p) {
                    const int64_t n0 = p * panel_cols;
                    j.cols = std::min(panel_cols, a.N - n0);
                    j.b = packed + p * panel_cols * a.K + k0 * panel_cols;
                    j.c = a.dst + m0 * a.ldd + n0;
                    j.bias = a.bias ? a.bias + n0 : nullptr;
                    tiles[rows - 1](j);
                }
            }
        }
    }
}

}  // namespace
}  // namespace dlrm::kernels::neon

namespace dlrm::kernels {
const gemm_bf16_kernel gemm_bf16__neon_6x16 = {"gemm_bf16__neon_6x16", neon::packed_bytes, neon::pack, neon::run};
}  // namespace dlrm::kernels

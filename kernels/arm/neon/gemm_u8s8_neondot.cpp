// gemm_u8s8s32__neondot_4x16: u8 activations × s8 weights → s32 with SDOT (ARMv8.2 dotprod), then
// the reference's fp32 epilogue (u8s8_epilogue.h). Built with -march=armv8.2-a+dotprod in a library
// of its own; the registry line requires HWCAP ASIMDDP.
//
// u8 × s8: SDOT multiplies s8 by s8 and UDOT u8 by u8; the mixed USDOT needs the later i8mm
// extension. Activations are therefore moved into s8 by flipping their top bit (x ^ 0x80 = x − 128
// as a signed byte), and the shift is undone exactly with a per-channel constant:
//   Σ_k x·w = Σ_k (x − 128)·w + 128·Σ_k w
// 128·Σ_k w[n][k] depends only on the weights, so pack() stores it after the panels and the tile
// adds it once before the epilogue. (The alternative, UDOT with weights + 128, would need Σ_k x per
// activation row at run time.) All of it is integer arithmetic, so the result is the ref's exactly.
//
// Layout: panel of 16 channels; per group of 4 k, 16 channels × 4 bytes (four 16-byte vectors of 4
// channels each), K padded to a multiple of 4 with zero weights. Tile 4 rows × 16 columns: 16
// accumulators, 4 activation vectors (16 k of each row) and 4 weight vectors; each group step is
// 16 SDOTs for 4 weight loads, the activations entering by lane (SDOT's by-element form).
#include <arm_neon.h>

#include <array>
#include <cstring>

#include "kernels/arm/neon/neon_blocking.h"
#include "kernels/arm/neon/neon_kernels.h"
#include "kernels/arm/neon/u8s8_epilogue.h"

namespace dlrm::kernels::neon {
namespace {

constexpr int max_rows = 4;
constexpr int64_t group = 4;                         // k per SDOT lane
constexpr int64_t group_bytes = panel_cols * group;  // 64
constexpr int64_t l2_block_bytes = 512 * 1024;

int64_t panel_bytes(int64_t K) { return ceil_div(K, group) * group_bytes; }

struct tile_job {
    int64_t K;
    const uint8_t* a; int64_t lda;
    const int8_t* b;              // the panel
    const int32_t* corr;          // 128·Σw at the panel's first column (16 entries, padded)
    u8s8_epilogue e;
};

// One 16-k chunk: acc[i][v] += Σ over 4 groups of the group's 4 products.
template <int MR>
inline void chunk(int32x4_t (&acc)[MR][4], const int8x16_t (&x)[MR], const int8_t* b, int groups) {
#define DLRM_SDOT_GROUP(G)                                                              \
    if (G < groups) {                                                                   \
        const int8x16_t w0 = vld1q_s8(b + G * group_bytes), w1 = vld1q_s8(b + G * group_bytes + 16); \
        const int8x16_t w2 = vld1q_s8(b + G * group_bytes + 32), w3 = vld1q_s8(b + G * group_bytes + 48); \
        for (int i = 0; i < MR; ++i) {                                                  \
            acc[i][0] = vdotq_laneq_s32(acc[i][0], w0, x[i], G);                        \
            acc[i][1] = vdotq_laneq_s32(acc[i][1], w1, x[i], G);                        \
            acc[i][2] = vdotq_laneq_s32(acc[i][2], w2, x[i], G);                        \
            acc[i][3] = vdotq_laneq_s32(acc[i][3], w3, x[i], G);                        \
        }                                                                               \
    }
    DLRM_SDOT_GROUP(0)
    DLRM_SDOT_GROUP(1)
    DLRM_SDOT_GROUP(2)
    DLRM_SDOT_GROUP(3)
#undef DLRM_SDOT_GROUP
}

template <int MR>
void tile(const tile_job& j) {
    int32x4_t acc[MR][4];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < 4; ++v) acc[i][v] = vdupq_n_s32(0);
    const uint8x16_t flip = vdupq_n_u8(0x80);
    const int64_t k16 = j.K & ~int64_t(15);
    const int8_t* b = j.b;
    for (int64_t k = 0; k < k16; k += 16, b += 4 * group_bytes) {
        int8x16_t x[MR];
        for (int i = 0; i < MR; ++i) x[i] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(j.a + i * j.lda + k), flip));
        chunk<MR>(acc, x, b, 4);
    }
    if (k16 < j.K) {
        // The last partial chunk, copied so the rows are never read past K; the padding bytes meet
        // zero weights and contribute nothing.
        const int64_t rest = j.K - k16;
        int8x16_t x[MR];
        for (int i = 0; i < MR; ++i) {
            uint8_t t[16] = {};
            std::memcpy(t, j.a + i * j.lda + k16, size_t(rest));
            x[i] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(t), flip));
        }
        chunk<MR>(acc, x, b, int(ceil_div(rest, group)));
    }
    int32x4_t corr[4];
    for (int v = 0; v < 4; ++v) corr[v] = vld1q_s32(j.corr + 4 * v);
    for (int i = 0; i < MR; ++i) {
        for (int v = 0; v < 4; ++v) acc[i][v] = vaddq_s32(acc[i][v], corr[v]);
        finish_row(j.e, i, acc[i]);
    }
}

using tile_fn = void (*)(const tile_job&);
constexpr std::array<tile_fn, max_rows> tiles = {tile<1>, tile<2>, tile<3>, tile<4>};

size_t packed_bytes(int64_t N, int64_t K) {
    const int64_t panels = ceil_div(N, panel_cols);
    return size_t(panels * panel_bytes(K)) + size_t(panels * panel_cols) * sizeof(int32_t);
}

void pack(const int8_t* w, int64_t N, int64_t K, void* packed) {
    int8_t* p = static_cast<int8_t*>(packed);
    const int64_t panels = ceil_div(N, panel_cols), groups = ceil_div(K, group);
    for (int64_t n0 = 0; n0 < N; n0 += panel_cols)
        for (int64_t g = 0; g < groups; ++g)
            for (int64_t c = 0; c < panel_cols; ++c)
                for (int64_t t = 0; t < group; ++t, ++p) {
                    const int64_t col = n0 + c, k = g * group + t;
                    *p = col < N && k < K ? w[col * K + k] : int8_t(0);
                }
    for (int64_t n = 0; n < panels * panel_cols; ++n) {
        int32_t sum = 0;
        if (n < N)
            for (int64_t k = 0; k < K; ++k) sum += w[n * K + k];
        const int32_t corr = sum * 128;
        std::memcpy(p + n * 4, &corr, 4);  // 64-byte aligned buffer, panels are multiples of 64 bytes
    }
}

void run(const gemm_u8s8_args& a) {
    if (a.M <= 0 || a.N <= 0) return;
    const int8_t* packed = static_cast<const int8_t*>(a.packed_w);
    const int64_t panels = ceil_div(a.N, panel_cols);
    const int64_t pb = panel_bytes(a.K);
    const int32_t* corr = reinterpret_cast<const int32_t*>(packed + panels * pb);
    const int64_t panel_block = std::max<int64_t>(1, l2_block_bytes / std::max<int64_t>(pb, 1));
    const row_tiles rt(a.M, max_rows);
    tile_job j{};
    j.K = a.K;
    j.lda = a.lda;
    j.e = epilogue_for(a);
    for (int64_t p0 = 0; p0 < panels; p0 += panel_block) {
        const int64_t p1 = std::min(panels, p0 + panel_block);
        for (int64_t t = 0; t < rt.count; ++t) {
            const int64_t m0 = rt.start(t);
            j.a = a.src + m0 * a.lda;
            for (int64_t p = p0; p < p1; ++p) {
                const int64_t n0 = p * panel_cols;
                j.b = packed + p * pb;
                j.corr = corr + n0;
                point_epilogue(j.e, a, m0, n0, std::min(panel_cols, a.N - n0));
                tiles[rt.rows(t) - 1](j);
            }
        }
    }
}

}  // namespace
}  // namespace dlrm::kernels::neon

namespace dlrm::kernels {
const gemm_u8s8_kernel gemm_u8s8s32__neondot_4x16 = {"gemm_u8s8s32__neondot_4x16", neon::packed_bytes,
                                                     neon::pack, neon::run};
}  // namespace dlrm::kernels

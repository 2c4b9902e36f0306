// gemm_u8s8s32__neon_4x16: u8 activations × s8 weights → s32 on any ARMv8 core (no dotprod), the
// fallback of gemm_u8s8s32__neondot_4x16 and bit-identical to it and to the ref.
//
// Each k step widens the 16 weights of a panel to s16 once, and every row adds x·w with SMLAL
// (s16 × s16 → s32, exact: |x·w| ≤ 255·128). Activations are u8 ≤ 255, so they fit s16 as they are.
// Layout: panel of 16 channels, for each k the 16 weight bytes (zero past N). Tile 4 × 16.
#include <arm_neon.h>

#include <array>
#include <cstring>

#include "kernels/arm/neon/neon_blocking.h"
#include "kernels/arm/neon/neon_kernels.h"
#include "kernels/arm/neon/u8s8_epilogue.h"

namespace dlrm::kernels::neon {
namespace {

constexpr int max_rows = 4;
constexpr int64_t l2_block_bytes = 512 * 1024;

struct tile_job {
    int64_t K;
    const uint8_t* a; int64_t lda;
    const int8_t* b;
    u8s8_epilogue e;
};

template <int MR>
void tile(const tile_job& j) {
    int32x4_t acc[MR][4];
    for (int i = 0; i < MR; ++i)
        for (int v = 0; v < 4; ++v) acc[i][v] = vdupq_n_s32(0);
    const int8_t* b = j.b;
    for (int64_t k = 0; k < j.K; ++k, b += panel_cols) {
        const int8x16_t w = vld1q_s8(b);
        const int16x8_t lo = vmovl_s8(vget_low_s8(w)), hi = vmovl_s8(vget_high_s8(w));
        for (int i = 0; i < MR; ++i) {
            const int16_t x = int16_t(j.a[i * j.lda + k]);
            acc[i][0] = vmlal_n_s16(acc[i][0], vget_low_s16(lo), x);
            acc[i][1] = vmlal_n_s16(acc[i][1], vget_high_s16(lo), x);
            acc[i][2] = vmlal_n_s16(acc[i][2], vget_low_s16(hi), x);
            acc[i][3] = vmlal_n_s16(acc[i][3], vget_high_s16(hi), x);
        }
    }
    for (int i = 0; i < MR; ++i) finish_row(j.e, i, acc[i]);
}

using tile_fn = void (*)(const tile_job&);
constexpr std::array<tile_fn, max_rows> tiles = {tile<1>, tile<2>, tile<3>, tile<4>};

size_t packed_bytes(int64_t N, int64_t K) { return size_t(ceil_div(N, panel_cols) * panel_cols) * size_t(K); }

void pack(const int8_t* w, int64_t N, int64_t K, void* packed) {
    int8_t* p = static_cast<int8_t*>(packed);
    for (int64_t n0 = 0; n0 < N; n0 += panel_cols)
        for (int64_t k = 0; k < K; ++k)
            for (int64_t c = 0; c < panel_cols; ++c, ++p) *p = n0 + c < N ? w[(n0 + c) * K + k] : int8_t(0);
}

void run(const gemm_u8s8_args& a) {
    if (a.M <= 0 || a.N <= 0) return;
    const int8_t* packed = static_cast<const int8_t*>(a.packed_w);
    const int64_t panels = ceil_div(a.N, panel_cols);
    const int64_t pb = panel_cols * a.K;
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
                point_epilogue(j.e, a, m0, n0, std::min(panel_cols, a.N - n0));
                tiles[rt.rows(t) - 1](j);
            }
        }
    }
}

}  // namespace
}  // namespace dlrm::kernels::neon

namespace dlrm::kernels {
const gemm_u8s8_kernel gemm_u8s8s32__neon_4x16 = {"gemm_u8s8s32__neon_4x16", neon::packed_bytes, neon::pack,
                                                  neon::run};
}  // namespace dlrm::kernels

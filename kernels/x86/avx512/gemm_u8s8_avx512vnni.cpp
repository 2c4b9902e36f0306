// gemm_u8s8s32__avx512vnni_14x32: u8 activations × s8 weights → s32 with vpdpbusd, then the fp32
// epilogue of api.h (compensation, scales, bias, ReLU) and an fp32 or requantized u8 store.
//
// Design:
//   - W is packed in the VNNI layout: panel p (32 output channels), for each group g of 4 k
//     (K padded to a multiple of 4 with zeros), two blocks of 16 channels × 4 bytes. One group step
//     is two aligned zmm loads; vpdpbusd multiplies each 4-byte lane of src (u8, the broadcast
//     operand) with the matching 4 weights (s8) and adds the 4 products to the s32 lane. Only
//     vpdpbusd is used: it accumulates in s32 without saturation (vpmaddubsw's 16-bit
//     intermediate saturates, which is why the pre-VNNI sequence is not used as a fallback here).
//   - 14 × 32 register tile: 28 s32 accumulators, 2 weight vectors, 1 broadcast.
//   - The whole K stays in the accumulators (a quarter of fp32's bytes per k, so a tile's src rows
//     stay in L1 for K up to ~3000 and a panel streams from L2); the weight panels are processed in
//     blocks that fit L2 while every row tile sweeps them.
//   - src staging: for K ≤ max_staged_k a row tile's src rows are first copied into a buffer at the
//     constant stride a_ld (zero-padded to whole groups), so the 14 broadcasts of a group step are one
//     pointer plus immediate offsets (no row pointers to spill), the rows never share L1 sets (lda =
//     1024 would put all 14 in one), and the K tail needs no special case. Longer rows are read in
//     place, their partial last group assembled byte by byte (never reading past the row).
//     The padded weights are zero, so the padding contributes nothing.
//   - Epilogue in the order of the ref: v = (src_scale·w_scale[n])·float(acc − comp[n]) + bias[n],
//     ReLU as max(v, 0), the DCN cross x0·v + xl when asked (DLRM v2's W GEMM writes x_{l+1}
//     directly), then an fp32 and/or a u8 store (the next int8 layer's input); requantization as api.h: q = v·(1/dst_scale), clamped to [−256, 256] in fp32
//     (a NaN becomes −256 because vmaxps returns its second operand), converted with round-to-nearest-
//     even (vcvtps2dq in the default MXCSR mode, as nearbyint), + zero point, then vpmovusdb after a
//     max with 0: 6 instructions per 16 outputs.
// Integer accumulation is exact, so every variant and tiling gives the same bits.
// GCC 12.2 reports its own intrinsic headers' "__Y = __Y" idiom as (maybe-)uninitialized once they
// are inlined (GCC bug 105593, fixed in 12.3); the pragmas must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <array>
#include <cmath>
#include <cstring>
#include <utility>

#include "kernels/x86/avx512/avx512_gemm.h"
#include "kernels/x86/avx512/gemm_blocking.h"

namespace dlrm::kernels::avx512 {
namespace {

constexpr int64_t group = 4;                    // k per vpdpbusd lane
constexpr int64_t group_bytes = panel_cols * group;  // one group step of a panel: 128 bytes
constexpr int64_t l2_block_bytes = 768 * 1024;

constexpr int64_t max_staged_k = 4096;          // longer src rows are read in place
constexpr int64_t a_ld = max_staged_k + 64;      // bytes between staged rows: 65 cache lines
constexpr int64_t b_prefetch_groups = 8;         // weights prefetched this many group steps ahead

struct tile_job {
    int64_t groups;               // full groups of 4 k in every src row (K / 4; ceil when staged)
    int64_t tail;                 // k left over (K % 4; 0 when staged)
    const uint8_t* a; int64_t lda;
    const int8_t* b;              // the panel
    __mmask16 last;
    int64_t ldc;
    // epilogue, at the panel's first column
    const float* w_scale; const int32_t* comp; const float* bias;
    float src_scale;
    float* dst_f32; uint8_t* dst_u8; int64_t ldq;
    const float* x0; const float* xl; int64_t ldx;  // DCN cross (x0 != null), at the tile's first row/column
    // The epilogue's memory of the next tile (next panel, or the next row tile's first): fetched while
    // this tile computes, because a 14-row tile of a 3456-wide fp32 matrix is 14 lines 13.5 KiB apart
    // that no hardware prefetcher predicts. Null when there is none.
    const float* pf_x0; const float* pf_xl; const float* pf_f32; const uint8_t* pf_u8;
    float inv_dst_scale; int32_t dst_zp;
    bool relu;
};

inline int32_t load_group(const uint8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);  // unaligned 4-byte load, folded into vpbroadcastd
    return v;
}

// The last partial group of a row: `tail` bytes, zero-extended, without reading past them.
inline uint32_t load_tail(const uint8_t* p, int64_t tail) {
    uint32_t v = 0;
    for (int64_t t = 0; t < tail; ++t) v |= uint32_t(p[t]) << (8 * t);
    return v;
}

// acc += Σ_4 u8(x)·s8(w) per 32-bit lane. Written as asm because GCC 12 does not tie the
// accumulator of the vpdpbusd builtin to its destination: with 28 live accumulators it then copies
// and spills every one of them each k step (4× slower than the instruction allows).
inline __m512i dpbusd(__m512i acc, __m512i x, __m512i w) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
    return acc;
}

template <int NV>
inline __m512 load_f32(const float* p, int v, __mmask16 last) {
    return v == NV - 1 ? _mm512_maskz_loadu_ps(last, p + 16 * v) : _mm512_loadu_ps(p + 16 * v);
}

// STAGED: j.a rows are a_ld bytes apart, whole groups, no tail (the stride is a constant).
template <int MR, int NV, bool STAGED>
void tile(const tile_job& j) {
    __m512i acc[MR][NV];
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_si512();
    const int8_t* b = j.b;
    // The next tile's epilogue lines, fetched one per group step (all at once would overflow the
    // L1 miss queue and most would be dropped).
    const char* pf[MR * (3 * NV + 1)];
    int npf = 0;
    for (int i = 0; i < MR; ++i) {
        for (int v = 0; v < NV; ++v) {
            if (j.pf_x0) pf[npf++] = reinterpret_cast<const char*>(j.pf_x0 + i * j.ldx + 16 * v);
            if (j.pf_xl) pf[npf++] = reinterpret_cast<const char*>(j.pf_xl + i * j.ldx + 16 * v);
            if (j.pf_f32 && j.pf_f32 != j.pf_xl) pf[npf++] = reinterpret_cast<const char*>(j.pf_f32 + i * j.ldc + 16 * v);
        }
        if (j.pf_u8) pf[npf++] = reinterpret_cast<const char*>(j.pf_u8 + i * j.ldq);
    }
    int ipf = 0;
    // One group step: 2 weight vectors, their prefetch, 14 broadcasts of 4 src bytes, 28 vpdpbusd.
    auto step = [&](const uint8_t* a, int64_t lda) {
        __m512i w[NV];
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) w[v] = _mm512_load_si512(b + 64 * v);
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
            _mm_prefetch(reinterpret_cast<const char*>(b + b_prefetch_groups * group_bytes + 64 * v), _MM_HINT_T0);
#pragma GCC unroll 14
        for (int i = 0; i < MR; ++i) {
            const __m512i x = _mm512_set1_epi32(load_group(a + i * lda));
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) acc[i][v] = dpbusd(acc[i][v], x, w[v]);
        }
        b += group_bytes;
        if (ipf < npf) _mm_prefetch(pf[ipf++], _MM_HINT_T0);
    };
    if constexpr (STAGED) {
        // Constant stride: every broadcast is j.a + an immediate offset.
        const uint8_t* a = j.a;
        for (int64_t g = 0; g < j.groups; ++g, a += group) step(a, a_ld);
    } else {
        // Two passes of one loop: the full groups of the src rows, then (if K % 4) the partial last
        // groups, assembled into `tails` so the rows are never read past their end. One loop body for
        // both keeps GCC from splitting the 28 accumulators' live ranges (with a separate tail block it
        // copied every accumulator each k step).
        uint32_t tails[MR];
        if (j.tail)
            for (int i = 0; i < MR; ++i) tails[i] = load_tail(j.a + i * j.lda + j.groups * group, j.tail);
        const uint8_t* const bases[2] = {j.a, reinterpret_cast<const uint8_t*>(tails)};
        const int64_t strides[2] = {j.lda, group};
        const int64_t counts[2] = {j.groups, j.tail ? 1 : 0};
        for (int pass = 0; pass < 2; ++pass) {
            const uint8_t* a = bases[pass];
            for (int64_t g = 0; g < counts[pass]; ++g, a += group) step(a, strides[pass]);
        }
    }

    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
        const __m512 scale = _mm512_mul_ps(_mm512_set1_ps(j.src_scale), load_f32<NV>(j.w_scale, v, j.last));
        const __m512i comp = v == NV - 1 ? _mm512_maskz_loadu_epi32(j.last, j.comp + 16 * v)
                                         : _mm512_loadu_si512(j.comp + 16 * v);
        const __m512 bias = j.bias ? load_f32<NV>(j.bias, v, j.last) : zero;
        const __mmask16 store = v == NV - 1 ? j.last : __mmask16(0xFFFF);
#pragma GCC unroll 14
        for (int i = 0; i < MR; ++i) {
            __m512 r = _mm512_mul_ps(scale, _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][v], comp)));
            // The empty asm makes the product a value of its own, so GCC cannot fuse the multiply
            // and the bias add into one FMA (one rounding instead of the ref's two).
            __asm__("" : "+v"(r));
            if (j.bias) r = _mm512_add_ps(r, bias);
            if (j.relu) r = _mm512_max_ps(r, zero);
            if (j.x0) {
                // x0·v + xl, product and sum rounded apart as the ref (the asm keeps them unfused)
                __m512 p = _mm512_mul_ps(load_f32<NV>(j.x0 + i * j.ldx, v, store), r);
                __asm__("" : "+v"(p));
                r = _mm512_add_ps(p, load_f32<NV>(j.xl + i * j.ldx, v, store));
            }
            if (j.dst_f32) _mm512_mask_storeu_ps(j.dst_f32 + i * j.ldc + 16 * v, store, r);
            if (j.dst_u8) {
                // Clamping to [−256, 256] before the conversion keeps it in range without changing any
                // result (zp ∈ [0, 255]: q + zp still lands ≤ 0 or ≥ 255); a NaN (vmaxps returns
                // −256) ends at 0 after the zero point and the max.
                __m512 q = _mm512_mul_ps(r, _mm512_set1_ps(j.inv_dst_scale));
                q = _mm512_min_ps(_mm512_max_ps(q, _mm512_set1_ps(-256.0f)), _mm512_set1_ps(256.0f));
                __m512i qi = _mm512_add_epi32(_mm512_cvtps_epi32(q), _mm512_set1_epi32(j.dst_zp));
                qi = _mm512_max_epi32(qi, _mm512_setzero_si512());
                _mm_mask_storeu_epi8(j.dst_u8 + i * j.ldq + 16 * v, store, _mm512_cvtusepi32_epi8(qi));
            }
        }
    }
}

using tile_fn = void (*)(const tile_job&);

template <int NV, bool STAGED, size_t... I>
constexpr std::array<tile_fn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
    return {tile<int(I) + 1, NV, STAGED>...};
}
// tiles[staged][nv − 1][rows − 1]
const std::array<std::array<std::array<tile_fn, max_rows>, 2>, 2> tiles = {{
    {make_tiles<1, false>(std::make_index_sequence<max_rows>()), make_tiles<2, false>(std::make_index_sequence<max_rows>())},
    {make_tiles<1, true>(std::make_index_sequence<max_rows>()), make_tiles<2, true>(std::make_index_sequence<max_rows>())},
}};

size_t packed_bytes(int64_t N, int64_t K) {
    return size_t(ceil_div(N, panel_cols)) * size_t(ceil_div(K, group)) * size_t(group_bytes);
}

void pack(const int8_t* w, int64_t N, int64_t K, void* packed) {
    int8_t* p = static_cast<int8_t*>(packed);
    const int64_t groups = ceil_div(K, group);
    for (int64_t n0 = 0; n0 < N; n0 += panel_cols)
        for (int64_t g = 0; g < groups; ++g)
            for (int64_t j = 0; j < panel_cols; ++j)      // block j/16, channel j%16 within it
                for (int64_t t = 0; t < group; ++t, ++p) {
                    const int64_t col = n0 + j, k = g * group + t;
                    *p = col < N && k < K ? w[col * K + k] : int8_t(0);
                }
}

void run(const gemm_u8s8_args& a) {
    if (a.M <= 0 || a.N <= 0) return;
    const int8_t* packed = static_cast<const int8_t*>(a.packed_w);
    const int64_t panels = ceil_div(a.N, panel_cols);
    const int64_t panel_bytes = ceil_div(a.K, group) * group_bytes;
    const int64_t panel_block = std::max<int64_t>(1, l2_block_bytes / std::max<int64_t>(panel_bytes, 1));
    const row_tiles rt(a.M);
    const bool staged = a.K <= max_staged_k;
    tile_job j{};
    j.groups = staged ? ceil_div(a.K, group) : a.K / group;
    j.tail = staged ? 0 : a.K % group;
    j.lda = a.lda;
    j.ldc = a.ldd;
    j.ldq = a.ldq ? a.ldq : a.ldd;
    j.ldx = a.ldx;
    j.src_scale = a.src_scale;
    j.dst_zp = a.dst_zp;
    j.inv_dst_scale = 1.0f / a.dst_scale;
    j.relu = a.epi == epilogue::relu;
    // 57 KiB: thread_local, not on the stack of an OpenMP worker. Only staged calls touch it.
    alignas(64) static thread_local uint8_t stage[max_rows * a_ld];
    const int64_t padded = j.groups * group;
    for (int64_t p0 = 0; p0 < panels; p0 += panel_block) {
        const int64_t p1 = std::min(panels, p0 + panel_block);
        for (int64_t t = 0; t < rt.count; ++t) {
            const int64_t m0 = rt.start(t);
            const int rows = rt.rows(t);
            j.a = a.src + m0 * a.lda;
            if (staged) {
                for (int i = 0; i < rows; ++i) {
                    uint8_t* d = stage + i * a_ld;
                    std::memcpy(d, a.src + (m0 + i) * a.lda, size_t(a.K));
                    std::memset(d + a.K, 0, size_t(padded - a.K));  // the padded group: zeros
                }
                j.a = stage;
            }
            for (int64_t p = p0; p < p1; ++p) {
                const int64_t n0 = p * panel_cols, cols = std::min(panel_cols, a.N - n0);
                const int nv = cols > 16 ? 2 : 1;
                j.b = packed + p * panel_bytes;
                j.last = lane_mask(cols - 16 * (nv - 1));
                j.w_scale = a.w_scale + n0;
                j.comp = a.comp + n0;
                j.bias = a.bias ? a.bias + n0 : nullptr;
                j.dst_f32 = a.dst_f32 ? a.dst_f32 + m0 * a.ldd + n0 : nullptr;
                j.dst_u8 = a.dst_u8 ? a.dst_u8 + m0 * j.ldq + n0 : nullptr;
                j.x0 = a.x0 ? a.x0 + m0 * a.ldx + n0 : nullptr;
                j.xl = a.xl ? a.xl + m0 * a.ldx + n0 : nullptr;
                // Where the next tile writes: the next panel of these rows, else the next row tile.
                int64_t nm = m0, nn = n0 + panel_cols;
                if (p + 1 >= p1) {
                    nm = t + 1 < rt.count ? rt.start(t + 1) : -1;
                    nn = p0 * panel_cols;
                }
                j.pf_x0 = a.x0 && nm >= 0 ? a.x0 + nm * a.ldx + nn : nullptr;
                j.pf_xl = a.xl && nm >= 0 ? a.xl + nm * a.ldx + nn : nullptr;
                j.pf_f32 = a.dst_f32 && nm >= 0 ? a.dst_f32 + nm * a.ldd + nn : nullptr;
                j.pf_u8 = a.dst_u8 && nm >= 0 ? a.dst_u8 + nm * j.ldq + nn : nullptr;
                tiles[staged][nv - 1][rows - 1](j);
            }
        }
    }
}

}  // namespace
}  // namespace dlrm::kernels::avx512

namespace dlrm::kernels {
const gemm_u8s8_kernel gemm_u8s8s32__avx512vnni_14x32 = {
    "gemm_u8s8s32__avx512vnni_14x32", avx512::packed_bytes, avx512::pack, avx512::run};
}  // namespace dlrm::kernels

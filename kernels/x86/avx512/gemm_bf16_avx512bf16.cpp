// gemm_bf16__avx512bf16_14x32: bf16 GEMM with vdpbf16ps (Cooper Lake, Sapphire Rapids, Zen 4).
//
// Only CPUs with avx512_bf16 may call it (registry predicate). It follows gemm_f32_avx512.cpp:
//   - W is packed as bf16 pairs: panel p (32 columns), for each pair q of k (K padded to even with
//     zeros), 32 × (W[n][2q], W[n][2q+1]) as 32-bit lanes: two zmm per pair step.
//   - src rows of a tile are rounded to bf16 (nearest even, vcvtneps2bf16) once per K block into a
//     small buffer, an odd K block padded with a zero, and each pair is broadcast as one 32-bit lane.
//   - vdpbf16ps adds both products of a pair to the fp32 accumulator: 28 accumulators, 14 × 32
//     outputs, 2 k per instruction. Partial sums between K blocks live in dst (fp32, exact).
//   - Software prefetch of the weights ahead and of the next tile's dst near the end of a tile.
// The summation order (pairs of k) differs from gemm_bf16__ref, as api.h allows; it does not depend
// on M or the tiling, so results stay deterministic.
// GCC 12.2 reports its own intrinsic headers' "__Y = __Y" idiom as (maybe-)uninitialized once they
// are inlined (GCC bug 105593, fixed in 12.3); the pragmas must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <array>
#include <cstring>
#include <utility>

#include "kernels/x86/avx512/avx512_gemm.h"
#include "kernels/x86/avx512/gemm_bf16_round.h"
#include "kernels/x86/avx512/gemm_blocking.h"

namespace dlrm::kernels::avx512 {
namespace {

constexpr int64_t max_kc = 384;                 // even: K blocks start on a pair boundary
constexpr int64_t l2_block_bytes = 768 * 1024;
// 32-bit pairs per row of the rounded src buffer: a constant stride, so the broadcasts of a pair
// step are one pointer plus immediate offsets, and not a multiple of 4 KiB (no shared L1 sets).
constexpr int64_t pair_ld = max_kc / 2 + 16;
constexpr int64_t b_prefetch_pairs = 16;        // weights prefetched this many pair steps ahead
constexpr int64_t c_prefetch_pairs = 32;        // the next tile's dst, this many pair steps before the end

struct tile_job {
    int64_t pairs;                // k pairs in this K block
    const uint32_t* a;            // rounded src rows, pair_ld pairs apart
    const uint16_t* b;            // the panel at the K block's first pair: 64 bf16 per pair
    float* c; int64_t ldc;
    const float* c_next;          // the next job's dst tile, prefetched near the end (may be null)
    __mmask16 last;
    bool accumulate, final;
    const float* bias;
    bool relu;
};

template <int MR, int NV>
void tile(const tile_job& j) {
    __m512 acc[MR][NV];
    #pragma GCC unroll 14
    for (int i = 0; i < MR; ++i)
        #pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) {
            const float* c = j.c + i * j.ldc + 16 * v;
            if (!j.accumulate) acc[i][v] = _mm512_setzero_ps();
            else if (v == NV - 1) acc[i][v] = _mm512_maskz_loadu_ps(j.last, c);
            else acc[i][v] = _mm512_loadu_ps(c);
        }
    const uint16_t* b = j.b;
    const uint32_t* a = j.a;
    auto step = [&] {
        __m512bh w[NV];
        #pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) w[v] = (__m512bh)_mm512_load_si512(b + 32 * v);
        #pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
            _mm_prefetch(reinterpret_cast<const char*>(b + b_prefetch_pairs * 2 * panel_cols + 32 * v), _MM_HINT_T0);
        #pragma GCC unroll 14
        for (int i = 0; i < MR; ++i) {
            const __m512bh x = (__m512bh)_mm512_set1_epi32(int32_t(a[i * pair_ld]));
            #pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], x, w[v]);
        }
        ++a;
        b += 2 * panel_cols;
    };
    // The next tile's dst lines are fetched during the last pair steps (gemm_f32_avx512.cpp).
    const int64_t tail = std::min<int64_t>(j.pairs, c_prefetch_pairs);
    for (int64_t q = tail; q < j.pairs; ++q) step();
    if (j.c_next)
        #pragma GCC unroll 14
        for (int i = 0; i < MR; ++i)
            #pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) _mm_prefetch(reinterpret_cast<const char*>(j.c_next + i * j.ldc + 16 * v), _MM_HINT_T0);
    for (int64_t q = 0; q < tail; ++q) step();
    if (j.final) {
        #pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) {
            __m512 bias = _mm512_setzero_ps();
            if (j.bias)
                bias = v == NV - 1 ? _mm512_maskz_loadu_ps(j.last, j.bias + 16 * v)
                                   : _mm512_loadu_ps(j.bias + 16 * v);
            #pragma GCC unroll 14
            for (int i = 0; i < MR; ++i) {
                if (j.bias) acc[i][v] = _mm512_add_ps(acc[i][v], bias);
                if (j.relu) acc[i][v] = _mm512_max_ps(acc[i][v], _mm512_setzero_ps());
            }
        }
    }
    #pragma GCC unroll 14
    for (int i = 0; i < MR; ++i)
        #pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) {
            float* c = j.c + i * j.ldc + 16 * v;
            if (v == NV - 1) _mm512_mask_storeu_ps(c, j.last, acc[i][v]);
            else _mm512_storeu_ps(c, acc[i][v]);
        }
}

using tile_fn = void (*)(const tile_job&);

template <int NV, size_t... I>
constexpr std::array<tile_fn, sizeof...(I)> make_tiles(std::index_sequence<I...>) {
    return {tile<int(I) + 1, NV>...};
}
const std::array<std::array<tile_fn, max_rows>, 2> tiles = {
    make_tiles<1>(std::make_index_sequence<max_rows>()),
    make_tiles<2>(std::make_index_sequence<max_rows>()),
};

// src[0..n) → bf16 pairs in dst[0..ceil(n/2)), an odd n padded with a zero bf16.
void round_row_pairs(const float* src, int64_t n, uint32_t* dst) {
    uint16_t* d = reinterpret_cast<uint16_t*>(dst);
    int64_t k = 0;
    for (; k + 16 <= n; k += 16)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + k),
                            (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + k)));
    if (k < n) {
        const __mmask16 m = lane_mask(n - k);
        _mm256_mask_storeu_epi16(d + k, m, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + k)));
    }
    if (n % 2) d[n] = 0;
}

size_t packed_bytes(int64_t N, int64_t K) {
    return size_t(ceil_div(N, panel_cols)) * size_t(panel_cols) * size_t(ceil_div(K, 2)) * 2 *
           sizeof(uint16_t);
}

void pack(const float* w, int64_t N, int64_t K, void* packed) {
    uint16_t* p = static_cast<uint16_t*>(packed);
    const int64_t pairs = ceil_div(K, 2);
    for (int64_t n0 = 0; n0 < N; n0 += panel_cols)
        for (int64_t q = 0; q < pairs; ++q)
            for (int64_t j = 0; j < panel_cols; ++j)
                for (int64_t h = 0; h < 2; ++h, ++p) {
                    const int64_t col = n0 + j, k = 2 * q + h;
                    *p = col < N && k < K ? scalar::f32_to_bf16(w[col * K + k]) : uint16_t(0);
                }
}

void run(const gemm_f32_args& a) {
    if (a.M <= 0 || a.N <= 0) return;
    const uint16_t* packed = static_cast<const uint16_t*>(a.packed_w);
    const int64_t panels = ceil_div(a.N, panel_cols);
    const int64_t pairs_total = ceil_div(a.K, 2);
    const k_blocks kb(pairs_total, max_kc / 2);  // in pairs, so every block starts on an even k
    const int64_t panel_block =
        std::max<int64_t>(1, l2_block_bytes / (std::max<int64_t>(kb.size, 1) * panel_cols * 4));
    const row_tiles rt(a.M);
    alignas(64) uint32_t rounded[max_rows * pair_ld];
    for (int64_t b = 0; b < kb.count; ++b) {
        const int64_t q0 = kb.start(b), k0 = 2 * q0;
        tile_job j{};
        j.pairs = kb.len(b, pairs_total);
        const int64_t kc = std::min(2 * j.pairs, a.K - k0);
        j.a = rounded;
        j.ldc = a.ldd;
        j.accumulate = b > 0;
        j.final = b == kb.count - 1;
        j.relu = a.epi == epilogue::relu;
        for (int64_t p0 = 0; p0 < panels; p0 += panel_block) {
            const int64_t p1 = std::min(panels, p0 + panel_block);
            for (int64_t t = 0; t < rt.count; ++t) {
                const int64_t m0 = rt.start(t);
                const int rows = rt.rows(t);
                for (int i = 0; i < rows; ++i)
                    round_row_pairs(a.src + (m0 + i) * a.lda + k0, kc, rounded + i * pair_ld);
                for (int64_t p = p0; p < p1; ++p) {
                    j.c_next = p + 1 < p1 ? a.dst + m0 * a.ldd + (p + 1) * panel_cols
                               : t + 1 < rt.count ? a.dst + rt.start(t + 1) * a.ldd + p0 * panel_cols : nullptr;
                    const int64_t n0 = p * panel_cols, cols = std::min(panel_cols, a.N - n0);
                    const int nv = cols > 16 ? 2 : 1;
                    j.b = packed + (p * pairs_total + q0) * 2 * panel_cols;
                    j.c = a.dst + m0 * a.ldd + n0;
                    j.last = lane_mask(cols - 16 * (nv - 1));
                    j.bias = a.bias ? a.bias + n0 : nullptr;
                    tiles[nv - 1][rows - 1](j);
                }
            }
        }
    }
}

}  // namespace
}  // namespace dlrm::kernels::avx512

namespace dlrm::kernels {
const gemm_bf16_kernel gemm_bf16__avx512bf16_14x32 = {
    "gemm_bf16__avx512bf16_14x32", avx512::packed_bytes, avx512::pack, avx512::run};
}  // namespace dlrm::kernels

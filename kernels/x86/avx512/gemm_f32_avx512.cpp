// gemm_f32__avx512_14x32: dst = src·Wᵀ + bias (+ ReLU) with fp32 FMAs.
//
// Design (BLIS / oneDNN brgemm style):
//   - W is packed once into panels of 32 columns, K-major: one k step of a panel is two aligned zmm
//     loads, and the panel streams through L1 as a single sequential stream.
//   - The register tile is up to 14 rows × 32 columns: 28 zmm accumulators, 2 for the weights, 1
//     broadcast: each k step is 28 FMAs for 2 vector loads + 14 broadcast loads.
//   - K is cut into blocks of ≤ 384. For each row tile, its src rows of the K block are first copied
//     into a small buffer at a constant stride (a_ld), then reused by a block of panels (≤ 768 KiB,
//     kept in L2). Measured on the MLPerf shapes, this staging is what closes the gap to oneDNN:
//     with src read in place, 14 rows 4 KiB apart (K = 1024) share L1 sets and the 14 row pointers
//     spill. Between K blocks the partial sums live in dst (fp32, exact), so every output is one FMA
//     chain over k in order: the result of a row never depends on M, on the tiling or on the other rows.
//   - Software prefetch: weights 16 k steps ahead; the next tile's dst during the last 64 k steps.
//   - Tails: the last panel is zero-padded, so it is computed whole and stored with a lane mask;
//     rows come in balanced tiles of 13-14 (gemm_blocking.h). Nothing outside src rows, the N
//     columns of dst and bias is ever read or written.
//   - N ≤ 8 (the final Linear of a DLRM top MLP has N = 1): a 32-column tile would waste ≥ 3/4 of
//     every FMA, so W is kept row-major and each output is a dot product vectorised along k.
// GCC 12.2 reports its own intrinsic headers' "__Y = __Y" idiom as (maybe-)uninitialized once they
// are inlined (GCC bug 105593, fixed in 12.3); the pragmas must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <array>
#include <cstring>
#include <utility>

#include "kernels/x86/avx512/avx512_gemm.h"
#include "kernels/x86/avx512/gemm_blocking.h"

namespace dlrm::kernels::avx512 {
namespace {

constexpr int64_t dot_max_n = 8;     // N at or below this uses the dot-product path
constexpr int64_t max_kc = 384;      // K block: the panel's 384 k (48 KiB) stream from L2 per tile
constexpr int64_t l2_block_bytes = 768 * 1024;  // weight panels kept in L2 per K block
// Row stride of the staged src tile, in floats: a compile-time constant, so the 14 broadcasts of a
// k step are one pointer plus immediate offsets (no per-row address registers to spill), and not a
// multiple of 4 KiB, so the 14 rows never fight over the same L1 sets as lda = 1024 rows would.
constexpr int64_t a_ld = max_kc + 16;
constexpr int64_t b_prefetch_k = 16; // weights prefetched this many k steps ahead
constexpr int64_t c_prefetch_k = 64; // the next tile's dst is prefetched this many k steps before the end

struct tile_job {
    int64_t kc;
    const float* a;               // the tile's src rows, staged: a[i·a_ld + k] = src[m0 + i][k0 + k]
    const float* b;               // the panel at the K block's first k: 32 floats per k
    float* c; int64_t ldc;        // dst at the tile's first row and the panel's first column
    const float* c_next;          // the next job's dst tile, prefetched near the end (may be null)
    __mmask16 last;               // lanes of the last vector that are real columns
    bool accumulate;              // continue the partial sums in c (every K block but the first)
    bool final;                   // last K block: add bias, apply ReLU
    const float* bias;            // at the panel's first column, or null
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
    const float* a = j.a;
    const float* b = j.b;
    auto step = [&] {
        __m512 w[NV];
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v) w[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 2
        for (int v = 0; v < NV; ++v)
            _mm_prefetch(reinterpret_cast<const char*>(b + b_prefetch_k * panel_cols + 16 * v), _MM_HINT_T0);
#pragma GCC unroll 14
        for (int i = 0; i < MR; ++i) {
            const __m512 x = _mm512_set1_ps(a[i * a_ld]);
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(x, w[v], acc[i][v]);
        }
        ++a;
        b += panel_cols;
    };
    // The next tile's dst lines are fetched during the last k steps: late enough that the streaming
    // weights do not evict them again, early enough to hide the L2 latency of its first loads.
    const int64_t tail = std::min<int64_t>(j.kc, c_prefetch_k);
    for (int64_t k = tail; k < j.kc; ++k) step();
    if (j.c_next)
#pragma GCC unroll 14
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) _mm_prefetch(reinterpret_cast<const char*>(j.c_next + i * j.ldc + 16 * v), _MM_HINT_T0);
    for (int64_t k = 0; k < tail; ++k) step();
    if (j.final) {
        if (j.bias) {
            __m512 bias[NV];
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v)
                bias[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(j.last, j.bias + 16 * v)
                                      : _mm512_loadu_ps(j.bias + 16 * v);
#pragma GCC unroll 14
            for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
                for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_add_ps(acc[i][v], bias[v]);
        }
        if (j.relu) {
            // max(v, 0) with 0 as the second operand: vmaxps returns it for NaN and −0, like the ref.
            const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 14
            for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
                for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_max_ps(acc[i][v], zero);
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
// tiles[nv − 1][rows − 1]
const std::array<std::array<tile_fn, max_rows>, 2> tiles = {
    make_tiles<1>(std::make_index_sequence<max_rows>()),
    make_tiles<2>(std::make_index_sequence<max_rows>()),
};

// ---- N ≤ 8: dot products along k --------------------------------------------------------------

// One src row against NN weight rows: lane l of acc[n] sums k ≡ l (mod 16) in order, then the 16
// lanes are reduced in a fixed tree. The order depends only on K, never on M.
template <int NN>
void dot_row(const float* x, const float* w, int64_t K, const float* bias, bool relu, float* d) {
    __m512 acc[NN];
    for (int n = 0; n < NN; ++n) acc[n] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        const __m512 xv = _mm512_loadu_ps(x + k);
        for (int n = 0; n < NN; ++n) acc[n] = _mm512_fmadd_ps(xv, _mm512_loadu_ps(w + n * K + k), acc[n]);
    }
    if (k < K) {
        const __mmask16 m = lane_mask(K - k);
        const __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
        for (int n = 0; n < NN; ++n)
            acc[n] = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, w + n * K + k), acc[n]);
    }
    for (int n = 0; n < NN; ++n) {
        float v = _mm512_reduce_add_ps(acc[n]) + (bias ? bias[n] : 0.0f);
        if (relu) v = v > 0.0f ? v : 0.0f;
        d[n] = v;
    }
}

template <int NN>
void dot_rows(const gemm_f32_args& a) {
    const float* w = static_cast<const float*>(a.packed_w);
    for (int64_t m = 0; m < a.M; ++m)
        dot_row<NN>(a.src + m * a.lda, w, a.K, a.bias, a.epi == epilogue::relu, a.dst + m * a.ldd);
}

void run_dot(const gemm_f32_args& a) {
    switch (a.N) {
        case 1: return dot_rows<1>(a);
        case 2: return dot_rows<2>(a);
        case 3: return dot_rows<3>(a);
        case 4: return dot_rows<4>(a);
        case 5: return dot_rows<5>(a);
        case 6: return dot_rows<6>(a);
        case 7: return dot_rows<7>(a);
        default: return dot_rows<8>(a);
    }
}

// ---- entry points -------------------------------------------------------------------------------

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
            for (int64_t j = 0; j < panel_cols; ++j, ++p)
                *p = n0 + j < N ? w[(n0 + j) * K + k] : 0.0f;
}

void run(const gemm_f32_args& a) {
    if (a.M <= 0 || a.N <= 0) return;
    if (a.N <= dot_max_n) return run_dot(a);
    const float* packed = static_cast<const float*>(a.packed_w);
    const int64_t panels = ceil_div(a.N, panel_cols);
    const k_blocks kb(a.K, max_kc);
    const int64_t panel_block =
        std::max<int64_t>(1, l2_block_bytes / (std::max<int64_t>(kb.size, 1) * panel_cols * 4));
    const row_tiles rt(a.M);
    alignas(64) float apack[max_rows * a_ld];
    for (int64_t b = 0; b < kb.count; ++b) {
        const int64_t k0 = kb.start(b);
        tile_job j{};
        j.kc = kb.len(b, a.K);
        j.ldc = a.ldd;
        j.accumulate = b > 0;
        j.final = b == kb.count - 1;
        j.relu = a.epi == epilogue::relu;
        for (int64_t p0 = 0; p0 < panels; p0 += panel_block) {
            const int64_t p1 = std::min(panels, p0 + panel_block);
            for (int64_t t = 0; t < rt.count; ++t) {
                const int64_t m0 = rt.start(t);
                const int rows = rt.rows(t);
                // The tile's src rows at the constant stride a_ld (see there); reused by every panel.
                for (int i = 0; i < rows; ++i)
                    std::memcpy(apack + i * a_ld, a.src + (m0 + i) * a.lda + k0, size_t(j.kc) * sizeof(float));
                j.a = apack;
                for (int64_t p = p0; p < p1; ++p) {
                    j.c_next = p + 1 < p1 ? a.dst + m0 * a.ldd + (p + 1) * panel_cols
                               : t + 1 < rt.count ? a.dst + rt.start(t + 1) * a.ldd + p0 * panel_cols : nullptr;
                    const int64_t n0 = p * panel_cols, cols = std::min(panel_cols, a.N - n0);
                    const int nv = cols > 16 ? 2 : 1;
                    j.b = packed + p * panel_cols * a.K + k0 * panel_cols;
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
const gemm_f32_kernel gemm_f32__avx512_14x32 = {"gemm_f32__avx512_14x32", avx512::packed_bytes,
                                                 avx512::pack, avx512::run};
}  // namespace dlrm::kernels

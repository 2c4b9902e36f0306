// gemm_bf16__avx512_14x32: bf16 GEMM for AVX-512 CPUs without avx512_bf16 (Skylake-X … Ice Lake).
//
// The weights are stored as bf16 (half the bytes of fp32, so half the L2 and memory traffic) and
// widened in registers; src is rounded to bf16 (nearest even) once per tile and K block; the
// products of two bf16 values are exact in fp32, so an FMA chain over k in order gives exactly the
// sums of gemm_bf16__ref (acc += x·w with one rounding per step), bit for bit.
//
// Widening trick: a bf16 is the top half of an fp32. Within each k step of a panel the 32 columns
// are interleaved (16-bit slot 2j = column j, slot 2j+1 = column 16+j), so one 64-byte load gives
// both vectors with one integer op each: `v << 16` moves every even slot into the top half of its
// 32-bit lane (columns 0..15), `v & 0xFFFF0000` keeps every odd slot in place (columns 16..31).
// No shuffle port is needed, which matters because vpmovzxwd would compete with the FMAs on port 5.
//
// Blocking, tails, determinism: as gemm_f32_avx512.cpp (14×32 tile, K blocks with the partial sums
// kept in dst, balanced row tiles, masked last panel), minus the N ≤ 8 dot path: keeping one FMA
// chain per output in k order is what makes this variant bit-exact.
// GCC 12.2 reports its own intrinsic headers' "__Y = __Y" idiom as (maybe-)uninitialized once they
// are inlined (GCC bug 105593, fixed in 12.3); the pragmas must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <array>
#include <utility>

#include "kernels/x86/avx512/avx512_gemm.h"
#include "kernels/x86/avx512/gemm_bf16_round.h"
#include "kernels/x86/avx512/gemm_blocking.h"

namespace dlrm::kernels::avx512 {
namespace {

constexpr int64_t max_kc = 384;                  // 14 rows × 384 rounded floats = 21 KiB of L1
constexpr int64_t l2_block_bytes = 768 * 1024;   // bf16 weight panels kept in L2 per K block

struct tile_job {
    int64_t kc;
    const float* a; int64_t lda;  // the tile's src rows already rounded to bf16 (as fp32)
    const uint16_t* b;            // the panel at the K block's first k: 32 bf16 per k, interleaved
    float* c; int64_t ldc;
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
    const float* a = j.a;
    const uint16_t* b = j.b;
    const int64_t lda = j.lda;
    const __m512i high_half = _mm512_set1_epi32(int32_t(0xFFFF0000u));
    for (int64_t k = 0; k < j.kc; ++k, ++a, b += panel_cols) {
        const __m512i packed = _mm512_load_si512(b);
        __m512 w[NV];
        w[0] = _mm512_castsi512_ps(_mm512_slli_epi32(packed, 16));
        if constexpr (NV == 2) w[1] = _mm512_castsi512_ps(_mm512_and_si512(packed, high_half));
#pragma GCC unroll 14
        for (int i = 0; i < MR; ++i) {
            const __m512 x = _mm512_set1_ps(a[i * lda]);
#pragma GCC unroll 2
            for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(x, w[v], acc[i][v]);
        }
    }
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
            const __m512 zero = _mm512_setzero_ps();  // second operand: NaN and −0 give +0, as the ref
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
const std::array<std::array<tile_fn, max_rows>, 2> tiles = {
    make_tiles<1>(std::make_index_sequence<max_rows>()),
    make_tiles<2>(std::make_index_sequence<max_rows>()),
};

size_t packed_bytes(int64_t N, int64_t K) {
    return size_t(ceil_div(N, panel_cols)) * size_t(panel_cols) * size_t(K) * sizeof(uint16_t);
}

void pack(const float* w, int64_t N, int64_t K, void* packed) {
    uint16_t* p = static_cast<uint16_t*>(packed);
    for (int64_t n0 = 0; n0 < N; n0 += panel_cols)
        for (int64_t k = 0; k < K; ++k, p += panel_cols)
            for (int64_t j = 0; j < panel_cols; ++j) {
                const int64_t col = n0 + j;
                const int64_t slot = j < 16 ? 2 * j : 2 * (j - 16) + 1;
                p[slot] = col < N ? scalar::f32_to_bf16(w[col * K + k]) : uint16_t(0);
            }
}

void run(const gemm_f32_args& a) {
    if (a.M <= 0 || a.N <= 0) return;
    const uint16_t* packed = static_cast<const uint16_t*>(a.packed_w);
    const int64_t panels = ceil_div(a.N, panel_cols);
    const k_blocks kb(a.K, max_kc);
    const int64_t panel_block =
        std::max<int64_t>(1, l2_block_bytes / (std::max<int64_t>(kb.size, 1) * panel_cols * 2));
    const row_tiles rt(a.M);
    alignas(64) float rounded[max_rows * max_kc];  // the row tile's src, rounded to bf16
    for (int64_t b = 0; b < kb.count; ++b) {
        const int64_t k0 = kb.start(b);
        tile_job j{};
        j.kc = kb.len(b, a.K);
        j.a = rounded;
        j.lda = max_kc;
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
                    round_row_bf16(a.src + (m0 + i) * a.lda + k0, j.kc, rounded + i * max_kc);
                for (int64_t p = p0; p < p1; ++p) {
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
const gemm_bf16_kernel gemm_bf16__avx512_14x32 = {"gemm_bf16__avx512_14x32", avx512::packed_bytes,
                                                   avx512::pack, avx512::run};
}  // namespace dlrm::kernels

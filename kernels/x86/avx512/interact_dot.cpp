// interact_dot_f32__avx512: x_0 copied, then the lower triangle of X·Xᵀ per sample (api.h).
//
// The Gram matrix is computed in 4 × 4 blocks of dot products (rows i0..i0+3 against rows
// j0..j0+3, j0 ≤ i0): per 16-column chunk, 8 loads feed 16 FMAs into 16 independent accumulators,
// so the loop is FMA-bound rather than load-bound (a dot at a time needs 2 loads per FMA) and
// latency-bound (16 chains, not 4). The 16 accumulators are then reduced together by a transpose
// tree (4 levels of shuffle + add, 45 instructions for 16 dots instead of ~10 per dot), whose
// result has row i0+q's four dots in 128-bit lane q: one masked 4-float store per row of the block.
// Blocks on the diagonal compute a few dots past the triangle (j ≥ i) and rows past F are clamped
// to row F−1; neither is stored. The next sample's rows are prefetched during the current one
// (13.8 KB at F = 27, D = 128, which the engine's embedding bag has just written to L2/L3).
// Summation order differs from the reference's sequential d loop: results agree to rounding.
// GCC 12 warns about the intrinsics' own self-initialised "undefined" vectors once they are inlined
// (GCC bug 105593, fixed in 12.3); the pragma must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>

#include "kernels/x86/avx512/avx512_misc.h"

namespace dlrm::kernels::avx512 {
namespace {

constexpr int64_t block = 4;

// a, b → per 256-bit half h: a's half-sums in h = 0, b's in h = 1 (8 partial sums each).
inline __m512 fold256(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
}
// Two fold256 results → 128-bit lane q = [4 partials of input q] for the four inputs a.lo, a.hi, b.lo, b.hi.
inline __m512 fold128(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x88), _mm512_shuffle_f32x4(a, b, 0xDD));
}
// Within each 128-bit lane: [a0+a1, a2+a3, b0+b1, b2+b3].
inline __m512 fold_pairs(__m512 a, __m512 b) {
    return _mm512_add_ps(_mm512_shuffle_ps(a, b, 0x88), _mm512_shuffle_ps(a, b, 0xDD));
}

// v[n] with n = 4·jj + ii (16 vectors) → lane 4·ii + jj holds the total of v[4·jj + ii]: row ii's
// four dots in 128-bit lane ii.
inline __m512 reduce16(const __m512 (&v)[16]) {
    __m512 t[8], u[4];
    for (int k = 0; k < 8; ++k) t[k] = fold256(v[2 * k], v[2 * k + 1]);   // t[k]: v[2k] | v[2k+1]
    for (int k = 0; k < 4; ++k) u[k] = fold128(t[2 * k], t[2 * k + 1]);   // u[k] lane q: v[4k+q]
    // u[0] lane q = v[q] (jj = 0, ii = q), u[1] lane q = v[4+q] (jj = 1), …
    const __m512 w0 = fold_pairs(u[0], u[1]);  // lane q: [v[q] ½, v[q] ½, v[4+q] ½, v[4+q] ½]
    const __m512 w1 = fold_pairs(u[2], u[3]);
    return fold_pairs(w0, w1);                 // lane q: [v[q], v[4+q], v[8+q], v[12+q]]
}

// Offset of row i's first dot in the triangle (row i has i dots, i + 1 with the diagonal).
inline int64_t row_offset(int64_t i, bool diag) { return diag ? i * (i + 1) / 2 : i * (i - 1) / 2; }

template <int NC>
void run_nc(const interact_dot_args& a) {
    const int64_t F = a.num_features, D = a.dim;
    const __mmask16 tail = __mmask16(D % 16 == 0 ? 0xFFFF : (1u << (D % 16)) - 1);
    const bool has_dots = a.diag ? F > 0 : F > 1;
    for (int64_t b = 0; b < a.batch; ++b) {
        const float* x = a.src + b * a.src_ld;
        float* out = a.dst + b * a.dst_ld;
        const float* next = b + 1 < a.batch ? x + a.src_ld : nullptr;
        int64_t pf = 0;                                  // next sample's bytes prefetched so far
        const int64_t pf_end = next ? F * D * 4 : 0;
        for (int64_t d = 0; d < D; d += 16) {
            const __mmask16 m = D - d >= 16 ? __mmask16(0xFFFF) : tail;
            _mm512_mask_storeu_ps(out + d, m, _mm512_maskz_loadu_ps(m, x + d));
        }
        out += D;
        if (!has_dots) continue;
        const int64_t i_first = a.diag ? 0 : 1;
        for (int64_t i0 = i_first; i0 < F; i0 += block) {
            const float* xi[block];
            for (int q = 0; q < block; ++q) xi[q] = x + std::min(i0 + q, F - 1) * D;
            const int64_t j_end = std::min(F, a.diag ? i0 + block : i0 + block - 1);  // j < this for some row
            for (int64_t j0 = 0; j0 < j_end; j0 += block) {
                const float* xj[block];
                for (int q = 0; q < block; ++q) xj[q] = x + std::min(j0 + q, F - 1) * D;
                __m512 acc[16];
                for (int n = 0; n < 16; ++n) acc[n] = _mm512_setzero_ps();
                for (int c = 0; c < NC; ++c) {
                    const __mmask16 m = c == NC - 1 ? tail : __mmask16(0xFFFF);
                    __m512 vi[block], vj[block];
                    for (int q = 0; q < block; ++q) vi[q] = _mm512_maskz_loadu_ps(m, xi[q] + 16 * c);
                    for (int q = 0; q < block; ++q) vj[q] = _mm512_maskz_loadu_ps(m, xj[q] + 16 * c);
                    for (int jj = 0; jj < block; ++jj)
                        for (int ii = 0; ii < block; ++ii)
                            acc[4 * jj + ii] = _mm512_fmadd_ps(vi[ii], vj[jj], acc[4 * jj + ii]);
                }
                if (pf < pf_end) {  // 8 lines of the next sample per block: its 216 lines over the 28 blocks
                    for (int l = 0; l < 8 && pf < pf_end; ++l, pf += 64)
                        _mm_prefetch(reinterpret_cast<const char*>(next) + pf, _MM_HINT_T0);
                }
                const __m512 r = reduce16(acc);
                for (int q = 0; q < block; ++q) {
                    const int64_t i = i0 + q;
                    if (i >= F) break;
                    const int64_t count = std::min<int64_t>(block, (a.diag ? i + 1 : i) - j0);  // dots of row i in this block
                    if (count <= 0) continue;
                    float* o = out + row_offset(i, a.diag) + j0;
                    __m128 v;
                    switch (q) {
                        case 0: v = _mm512_castps512_ps128(r); break;
                        case 1: v = _mm512_extractf32x4_ps(r, 1); break;
                        case 2: v = _mm512_extractf32x4_ps(r, 2); break;
                        default: v = _mm512_extractf32x4_ps(r, 3); break;
                    }
                    _mm_mask_storeu_ps(o, __mmask8((1u << count) - 1), v);
                }
            }
        }
        for (; pf < pf_end; pf += 64) _mm_prefetch(reinterpret_cast<const char*>(next) + pf, _MM_HINT_T0);
    }
}

// dim > 128: the row does not fit in registers; plain dot products with one accumulator each.
void run_wide(const interact_dot_args& a) {
    const int64_t F = a.num_features, D = a.dim;
    for (int64_t b = 0; b < a.batch; ++b) {
        const float* x = a.src + b * a.src_ld;
        float* out = a.dst + b * a.dst_ld;
        for (int64_t d = 0; d < D; ++d) *out++ = x[d];
        for (int64_t i = a.diag ? 0 : 1; i < F; ++i) {
            const int64_t last = a.diag ? i : i - 1;
            for (int64_t j = 0; j <= last; ++j) {
                __m512 acc = _mm512_setzero_ps();
                for (int64_t d = 0; d < D; d += 16) {
                    const __mmask16 m = D - d >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (D - d)) - 1);
                    acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i * D + d), _mm512_maskz_loadu_ps(m, x + j * D + d), acc);
                }
                *out++ = _mm512_reduce_add_ps(acc);
            }
        }
    }
}

void run(const interact_dot_args& a) {
    if (a.dim <= 0) {
        // no x_0 to copy; every dot product is an empty sum
        for (int64_t b = 0; b < a.batch; ++b) {
            float* out = a.dst + b * a.dst_ld;
            const int64_t F = a.num_features, n = a.diag ? F * (F + 1) / 2 : F * (F - 1) / 2;
            for (int64_t k = 0; k < n; ++k) out[k] = 0.0f;
        }
        return;
    }
    switch ((a.dim + 15) / 16) {
        case 1: return run_nc<1>(a);
        case 2: return run_nc<2>(a);
        case 3: return run_nc<3>(a);
        case 4: return run_nc<4>(a);
        case 5: return run_nc<5>(a);
        case 6: return run_nc<6>(a);
        case 7: return run_nc<7>(a);
        case 8: return run_nc<8>(a);
        default: return run_wide(a);
    }
}

}  // namespace
}  // namespace dlrm::kernels::avx512

namespace dlrm::kernels {
const interact_dot_kernel interact_dot_f32__avx512 = {"interact_dot_f32__avx512", avx512::run};
}  // namespace dlrm::kernels

// interact_dot_f32__avx512: x_0 copied, then the lower triangle of X·Xᵀ per sample (api.h).
//
// Row i's dim floats stay in registers (up to 8 zmm, dim ≤ 128, the MLPerf shape F = 27, D = 128)
// while the rows j < i stream from L1 with FMAs that take a memory operand; four j at a time so
// four independent FMA chains hide the FMA latency, and their four horizontal sums are done together
// (one extract + add per pair of halves, then two hadd levels) rather than one reduction per dot.
// Summation order differs from the reference's sequential d loop: results agree to rounding.
// GCC 12 warns about the intrinsics' own self-initialised "undefined" vectors once they are inlined
// (GCC bug 105593, fixed in 12.3); the pragma must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/x86/avx512/avx512_misc.h"

namespace dlrm::kernels::avx512 {
namespace {

// The four totals of a0..a3 in lanes 0..3.
inline __m128 hsum4(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
    const auto half = [](__m512 v) {
        return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    };
    const __m256 h01 = _mm256_hadd_ps(half(a0), half(a1));  // per 128-bit lane: pair sums of a0, a1
    const __m256 h23 = _mm256_hadd_ps(half(a2), half(a3));
    const __m256 h = _mm256_hadd_ps(h01, h23);              // per lane: [a0, a1, a2, a3] partials
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// Dots of row xi (NC chunks in registers, last chunk masked by `tail`) with rows x_0..x_{count−1}.
template <int NC>
void dots_of_row(const __m512 (&xi)[NC], __mmask16 tail, const float* x, int64_t dim, int64_t count, float* out) {
    int64_t j = 0;
    for (; j < count; j += 4) {
        const int64_t n = count - j < 4 ? count - j : 4;
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (int c = 0; c < NC; ++c) {
            const __mmask16 m = c == NC - 1 ? tail : __mmask16(0xFFFF);
            for (int u = 0; u < 4; ++u) {
                // rows past `count` are not read: their accumulators stay zero and are not stored
                if (u < n) acc[u] = _mm512_fmadd_ps(xi[c], _mm512_maskz_loadu_ps(m, x + (j + u) * dim + 16 * c), acc[u]);
            }
        }
        _mm_mask_storeu_ps(out + j, __mmask8((1u << n) - 1), hsum4(acc[0], acc[1], acc[2], acc[3]));
    }
}

template <int NC>
void run_nc(const interact_dot_args& a) {
    const int64_t F = a.num_features, D = a.dim;
    const __mmask16 tail = __mmask16(D % 16 == 0 ? 0xFFFF : (1u << (D % 16)) - 1);
    for (int64_t b = 0; b < a.batch; ++b) {
        const float* x = a.src + b * a.src_ld;
        float* out = a.dst + b * a.dst_ld;
        for (int64_t d = 0; d < D; d += 16) {
            const __mmask16 m = D - d >= 16 ? __mmask16(0xFFFF) : tail;
            _mm512_mask_storeu_ps(out + d, m, _mm512_maskz_loadu_ps(m, x + d));
        }
        out += D;
        // with diag the triangle starts at x_0·x_0 (torch's li/lj, width dim + F(F+1)/2)
        for (int64_t i = a.diag ? 0 : 1; i < F; ++i) {
            __m512 xi[NC];
            for (int c = 0; c < NC; ++c)
                xi[c] = _mm512_maskz_loadu_ps(c == NC - 1 ? tail : __mmask16(0xFFFF), x + i * D + 16 * c);
            const int64_t count = a.diag ? i + 1 : i;
            dots_of_row<NC>(xi, tail, x, D, count, out);
            out += count;
        }
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

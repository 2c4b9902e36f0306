// The xsimd kernel templates, one functor per family, templated on the xsimd architecture A.
// Only generic.cpp and avx2.cpp include this file, each instantiating the functors for its own A
// with its own compiler flags; the `extern template` lines below make sure no other file (or the
// other architecture's file) ever instantiates them, so each instance is compiled exactly once,
// with the flags of its architecture. Instances for different A are distinct symbols, so the
// linker can never substitute an AVX2 build for the baseline one.
#pragma once
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/api.h"

namespace dlrm::kernels::xs {

template <class A>
struct simd {
    using f32 = xsimd::batch<float, A>;
    static constexpr int64_t width = int64_t(f32::size);

    // The first n lanes of p (n < width), the rest zero; reads nothing past p[n−1].
    static f32 load_partial(const float* p, int64_t n) {
        alignas(64) float t[f32::size] = {};
        std::memcpy(t, p, size_t(n) * sizeof(float));
        return f32::load_aligned(t);
    }
    static f32 load(const float* p, int64_t n) { return n >= width ? f32::load_unaligned(p) : load_partial(p, n); }
    // Stores the first min(n, width) lanes.
    static void store(float* p, f32 v, int64_t n) {
        if (n >= width) { v.store_unaligned(p); return; }
        alignas(64) float t[f32::size];
        v.store_aligned(t);
        std::memcpy(p, t, size_t(n) * sizeof(float));
    }
    // ReLU as the ref, v > 0 ? v : 0 (NaN and −0 become +0).
    static f32 relu(f32 v) { return xsimd::select(v > f32(0.0f), v, f32(0.0f)); }
};

// ---- gemm_f32: 6 rows × 2 vectors register tile over K-major panels (see generic_kernels.h) ----
template <class A>
struct gemm_f32_xs {
    using S = simd<A>;
    using f32 = typename S::f32;
    static constexpr int max_rows = 6;                 // 12 accumulators + 2 weights + 1 broadcast
    static constexpr int64_t panel = 2 * S::width;
    static constexpr int64_t dot_max_n = 4;

    static size_t packed_bytes(int64_t N, int64_t K) {
        if (N <= dot_max_n) return size_t(N) * size_t(K) * sizeof(float);
        return size_t((N + panel - 1) / panel) * size_t(panel) * size_t(K) * sizeof(float);
    }
    static void pack(const float* w, int64_t N, int64_t K, void* packed) {
        float* p = static_cast<float*>(packed);
        if (N <= dot_max_n) {
            if (const size_t n = packed_bytes(N, K)) std::memcpy(p, w, n);  // K = 0: w may be null
            return;
        }
        for (int64_t n0 = 0; n0 < N; n0 += panel)
            for (int64_t k = 0; k < K; ++k)
                for (int64_t j = 0; j < panel; ++j, ++p) *p = n0 + j < N ? w[(n0 + j) * K + k] : 0.0f;
    }

    // Rows m0..m0+MR−1 against one panel; each output is one FMA chain over k in order.
    template <int MR>
    static void tile(const gemm_f32_args& a, int64_t m0, const float* b, int64_t n0) {
        const int64_t cols = std::min(panel, a.N - n0);
        f32 acc[MR][2];
        for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = f32(0.0f);
        const float* x = a.src + m0 * a.lda;
        for (int64_t k = 0; k < a.K; ++k, b += panel) {
            const f32 w0 = f32::load_aligned(b), w1 = f32::load_aligned(b + S::width);
            for (int i = 0; i < MR; ++i) {
                const f32 xv(x[i * a.lda + k]);
                acc[i][0] = xsimd::fma(xv, w0, acc[i][0]);
                acc[i][1] = xsimd::fma(xv, w1, acc[i][1]);
            }
        }
        f32 bias[2] = {f32(0.0f), f32(0.0f)};
        if (a.bias)
            for (int v = 0; v < 2; ++v)
                if (cols > v * S::width) bias[v] = S::load(a.bias + n0 + v * S::width, cols - v * S::width);
        for (int i = 0; i < MR; ++i)
            for (int v = 0; v < 2; ++v) {
                if (cols <= v * S::width) continue;
                f32 r = acc[i][v] + bias[v];
                if (a.epi == epilogue::relu) r = S::relu(r);
                S::store(a.dst + (m0 + i) * a.ldd + n0 + v * S::width, r, cols - v * S::width);
            }
    }

    static void run_dot(const gemm_f32_args& a) {
        const float* w = static_cast<const float*>(a.packed_w);
        for (int64_t m = 0; m < a.M; ++m)
            for (int64_t n = 0; n < a.N; ++n) {
                const float* x = a.src + m * a.lda;
                const float* wn = w + n * a.K;
                f32 acc(0.0f);
                for (int64_t k = 0; k < a.K; k += S::width)
                    acc = xsimd::fma(S::load(x + k, a.K - k), S::load(wn + k, a.K - k), acc);
                float v = xsimd::hadd(acc) + (a.bias ? a.bias[n] : 0.0f);
                if (a.epi == epilogue::relu) v = v > 0.0f ? v : 0.0f;
                a.dst[m * a.ldd + n] = v;
            }
    }

    static void run(const gemm_f32_args& a) {
        if (a.M <= 0 || a.N <= 0) return;
        if (a.N <= dot_max_n) return run_dot(a);
        const float* packed = static_cast<const float*>(a.packed_w);
        // Panels outer, rows inner: a panel (≤ 64·K bytes) stays in L2 while all rows sweep it.
        for (int64_t n0 = 0, p = 0; n0 < a.N; n0 += panel, ++p) {
            const float* b = packed + p * panel * a.K;
            int64_t m = 0;
            for (; m + max_rows <= a.M; m += max_rows) tile<max_rows>(a, m, b, n0);
            switch (a.M - m) {
                case 5: tile<5>(a, m, b, n0); break;
                case 4: tile<4>(a, m, b, n0); break;
                case 3: tile<3>(a, m, b, n0); break;
                case 2: tile<2>(a, m, b, n0); break;
                case 1: tile<1>(a, m, b, n0); break;
                default: break;
            }
        }
    }
};

// ---- interact_dot: four dot products at a time (independent FMA chains), lanes reduced at the end
template <class A>
struct interact_dot_xs {
    using S = simd<A>;
    using f32 = typename S::f32;
    static void run(const interact_dot_args& a) {
        const int64_t F = a.num_features, D = a.dim;
        for (int64_t b = 0; b < a.batch; ++b) {
            const float* x = a.src + b * a.src_ld;
            float* out = a.dst + b * a.dst_ld;
            if (D > 0) std::memcpy(out, x, size_t(D) * sizeof(float));
            out += D;
            for (int64_t i = a.diag ? 0 : 1; i < F; ++i) {  // with diag from x_0·x_0 (torch's li/lj)
                const int64_t count = a.diag ? i + 1 : i;
                for (int64_t j = 0; j < count; j += 4) {
                    const int n = int(std::min<int64_t>(4, count - j));
                    f32 acc[4] = {f32(0.0f), f32(0.0f), f32(0.0f), f32(0.0f)};
                    for (int64_t d = 0; d < D; d += S::width) {
                        const f32 xi = S::load(x + i * D + d, D - d);
                        for (int u = 0; u < n; ++u)
                            acc[u] = xsimd::fma(xi, S::load(x + (j + u) * D + d, D - d), acc[u]);
                    }
                    for (int u = 0; u < n; ++u) out[j + u] = xsimd::hadd(acc[u]);
                }
                out += count;
            }
        }
    }
};

// ---- dcn_cross: dst = x0·y + xl (one FMA where the architecture has one; dst may alias xl) ----
template <class A>
struct dcn_cross_xs {
    using S = simd<A>;
    using f32 = typename S::f32;
    static void run(int64_t n, const float* x0, const float* y, const float* xl, float* dst) {
        for (int64_t i = 0; i < n; i += S::width) {
            const int64_t left = n - i;
            S::store(dst + i, xsimd::fma(S::load(x0 + i, left), S::load(y + i, left), S::load(xl + i, left)), left);
        }
    }
};

// Instantiated only in generic.cpp / avx2.cpp, each with its own flags.
#if defined(__x86_64__)
extern template struct gemm_f32_xs<xsimd::sse2>;
extern template struct interact_dot_xs<xsimd::sse2>;
extern template struct dcn_cross_xs<xsimd::sse2>;
extern template struct gemm_f32_xs<xsimd::fma3<xsimd::avx2>>;
extern template struct interact_dot_xs<xsimd::fma3<xsimd::avx2>>;
extern template struct dcn_cross_xs<xsimd::fma3<xsimd::avx2>>;
#elif defined(__aarch64__)
extern template struct gemm_f32_xs<xsimd::neon64>;
extern template struct interact_dot_xs<xsimd::neon64>;
extern template struct dcn_cross_xs<xsimd::neon64>;
#endif

}  // namespace dlrm::kernels::xs

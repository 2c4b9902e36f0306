// gemm_f32__ref: dst = src·Wᵀ + bias (+ ReLU), one fp32 accumulator per output, k in order.
#include <cstring>

#include "kernels/ref/ref_kernels.h"

namespace dlrm::kernels {
namespace {

size_t packed_bytes(int64_t N, int64_t K) { return size_t(N) * size_t(K) * sizeof(float); }

void pack(const float* w, int64_t N, int64_t K, void* packed) {
    if (const size_t n = packed_bytes(N, K)) std::memcpy(packed, w, n);  // K = 0: w may be null
}

void run(const gemm_f32_args& a) {
    const float* w = static_cast<const float*>(a.packed_w);
    for (int64_t m = 0; m < a.M; ++m) {
        const float* x = a.src + m * a.lda;
        for (int64_t n = 0; n < a.N; ++n) {
            const float* wn = w + n * a.K;
            float acc = 0.0f;
            for (int64_t k = 0; k < a.K; ++k) acc += x[k] * wn[k];
            float v = acc + (a.bias ? a.bias[n] : 0.0f);
            if (a.epi == epilogue::relu) v = v > 0.0f ? v : 0.0f;  // as vmaxps(v, 0): −0 and NaN give +0
            a.dst[m * a.ldd + n] = v;
        }
    }
}

}  // namespace

const gemm_f32_kernel gemm_f32__ref = {"gemm_f32__ref", packed_bytes, pack, run};

}  // namespace dlrm::kernels

// gemm_bf16__ref: as gemm_f32__ref with both operands rounded to bf16 first. The weights are rounded
// once at pack time and kept as bf16 bits (N×K); each product of two bf16 values is exact in fp32.
#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/scalar_convert.h"

namespace dlrm::kernels {
namespace {

size_t packed_bytes(int64_t N, int64_t K) { return size_t(N) * size_t(K) * sizeof(uint16_t); }

void pack(const float* w, int64_t N, int64_t K, void* packed) {
    uint16_t* p = static_cast<uint16_t*>(packed);
    for (int64_t i = 0; i < N * K; ++i) p[i] = scalar::f32_to_bf16(w[i]);
}

void run(const gemm_f32_args& a) {
    const uint16_t* w = static_cast<const uint16_t*>(a.packed_w);
    for (int64_t m = 0; m < a.M; ++m) {
        const float* x = a.src + m * a.lda;
        for (int64_t n = 0; n < a.N; ++n) {
            const uint16_t* wn = w + n * a.K;
            float acc = 0.0f;
            for (int64_t k = 0; k < a.K; ++k) {
                const float xk = scalar::bf16_to_f32(scalar::f32_to_bf16(x[k]));
                acc += xk * scalar::bf16_to_f32(wn[k]);
            }
            float v = acc + (a.bias ? a.bias[n] : 0.0f);
            if (a.epi == epilogue::relu) v = v > 0.0f ? v : 0.0f;
            a.dst[m * a.ldd + n] = v;
        }
    }
}

}  // namespace

const gemm_bf16_kernel gemm_bf16__ref = {"gemm_bf16__ref", packed_bytes, pack, run};

}  // namespace dlrm::kernels

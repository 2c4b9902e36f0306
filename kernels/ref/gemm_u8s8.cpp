// gemm_u8s8s32__ref: u8 activations × s8 weights with an s32 accumulator, zero point removed by the
// precomputed compensation, then the fp32 epilogue (scale, bias, ReLU, DCN cross) and f32 and/or u8 stores.
#include <cmath>
#include <cstring>

#include "kernels/ref/ref_kernels.h"

namespace dlrm::kernels {
namespace {

size_t packed_bytes(int64_t N, int64_t K) { return size_t(N) * size_t(K); }

void pack(const int8_t* w, int64_t N, int64_t K, void* packed) {
    if (const size_t n = packed_bytes(N, K)) std::memcpy(packed, w, n);  // K = 0: w may be null
}

// clamp(nearbyint(v · inv) + zp, 0, 255), inv = 1/scale in fp32; the clamp is done in float so a
// huge v cannot overflow an integer, and a NaN lands on 0 instead of being undefined behaviour.
uint8_t requantize(float v, float inv, int32_t zp) {
    const float p = v * inv;  // one rounding (this library is built with -ffp-contract=off)
    float q = std::nearbyint(p) + float(zp);
    if (!(q >= 0.0f)) q = 0.0f;
    if (q > 255.0f) q = 255.0f;
    return uint8_t(q);
}

void run(const gemm_u8s8_args& a) {
    const int8_t* w = static_cast<const int8_t*>(a.packed_w);
    const float inv = 1.0f / a.dst_scale;
    const int64_t ldq = a.ldq ? a.ldq : a.ldd;
    for (int64_t m = 0; m < a.M; ++m) {
        const uint8_t* x = a.src + m * a.lda;
        for (int64_t n = 0; n < a.N; ++n) {
            const int8_t* wn = w + n * a.K;
            int32_t acc = 0;
            for (int64_t k = 0; k < a.K; ++k) acc += int32_t(x[k]) * int32_t(wn[k]);
            acc -= a.comp[n];
            float v = a.src_scale * a.w_scale[n] * float(acc) + (a.bias ? a.bias[n] : 0.0f);
            if (a.epi == epilogue::relu) v = v > 0.0f ? v : 0.0f;
            if (a.x0) {
                const float p = a.x0[m * a.ldx + n] * v;  // two roundings: -ffp-contract=off
                v = p + a.xl[m * a.ldx + n];
            }
            if (a.dst_f32) a.dst_f32[m * a.ldd + n] = v;
            if (a.dst_u8) a.dst_u8[m * ldq + n] = requantize(v, inv, a.dst_zp);
        }
    }
}

}  // namespace

const gemm_u8s8_kernel gemm_u8s8s32__ref = {"gemm_u8s8s32__ref", packed_bytes, pack, run};

}  // namespace dlrm::kernels

// convert__ref: element-wise f32 <-> bf16 / f16 conversions and u8 activation quantization.
#include <cmath>

#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/scalar_convert.h"

namespace dlrm::kernels {
namespace {

void f32_to_bf16(int64_t n, const float* src, uint16_t* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = scalar::f32_to_bf16(src[i]);
}
void bf16_to_f32(int64_t n, const uint16_t* src, float* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = scalar::bf16_to_f32(src[i]);
}
void f32_to_f16(int64_t n, const float* src, uint16_t* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = scalar::f32_to_f16(src[i]);
}
void f16_to_f32(int64_t n, const uint16_t* src, float* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = scalar::f16_to_f32(src[i]);
}

// clamp(nearbyint(x · inv) + zp, 0, 255), inv = 1/scale in fp32, clamped in float (no integer
// overflow; NaN gives 0).
void quantize_u8(int64_t n, const float* src, float scale, int32_t zp, uint8_t* dst) {
    const float inv = 1.0f / scale;
    for (int64_t i = 0; i < n; ++i) {
        const float p = src[i] * inv;
        float q = std::nearbyint(p) + float(zp);
        if (!(q >= 0.0f)) q = 0.0f;
        if (q > 255.0f) q = 255.0f;
        dst[i] = uint8_t(q);
    }
}

}  // namespace

const convert_kernel convert__ref = {"convert__ref", f32_to_bf16, bf16_to_f32, f32_to_f16, f16_to_f32,
                                     quantize_u8};

}  // namespace dlrm::kernels

#include "engine/row_quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dlrm {

namespace {

uint16_t to_half(const kernels::kernel_table& k, float v) {
    uint16_t h;
    k.convert.f32_to_f16(1, &v, &h);
    return h;
}
float from_half(const kernels::kernel_table& k, uint16_t h) {
    float v;
    k.convert.f16_to_f32(1, &h, &v);
    return v;
}

void quantize_u4(const kernels::kernel_table& k, const float* x, int64_t dim, uint8_t* out) {
    float lo = x[0], hi = x[0];
    for (int64_t d = 1; d < dim; ++d) { lo = std::min(lo, x[d]); hi = std::max(hi, x[d]); }
    // The bias is stored as fp16, so quantize against the rounded value (as FBGEMM does).
    const uint16_t bias_h = to_half(k, lo);
    const float bias = from_half(k, bias_h);
    const float range = hi - bias;
    float scale = range == 0 ? 1.0f : range / 15.0f;
    uint16_t scale_h = to_half(k, scale);
    scale = from_half(k, scale_h);
    float inv = 1.0f / scale;
    if (scale == 0 || std::isinf(inv)) {
        scale_h = to_half(k, 1.0f);
        inv = 1.0f;
    }
    const int64_t payload = (dim + 1) / 2;
    std::memset(out, 0, size_t(payload));
    for (int64_t d = 0; d < dim; ++d) {
        long q = std::lrintf((x[d] - bias) * inv);
        q = std::clamp(q, 0L, 15L);
        out[d / 2] |= uint8_t(q << ((d % 2) * 4));
    }
    std::memcpy(out + payload, &scale_h, 2);
    std::memcpy(out + payload + 2, &bias_h, 2);
}

void quantize_i8(const float* x, int64_t dim, uint8_t* out) {
    float lo = x[0], hi = x[0];
    for (int64_t d = 1; d < dim; ++d) { lo = std::min(lo, x[d]); hi = std::max(hi, x[d]); }
    const float range = hi - lo;
    const float scale = range / 255.0f;
    const float inv = 255.0f / (range + 1e-8f);
    for (int64_t d = 0; d < dim; ++d) {
        long q = std::lrintf((x[d] - lo) * inv);
        out[d] = uint8_t(std::clamp(q, 0L, 255L));
    }
    std::memcpy(out + dim, &scale, 4);
    std::memcpy(out + dim + 4, &lo, 4);
}

}  // namespace

void quantize_rows(const kernels::kernel_table& k, kernels::row_type type, const float* src, int64_t rows,
                   int64_t dim, uint8_t* dst) {
    const size_t rb = kernels::row_bytes(type, dim);
    switch (type) {
        case kernels::row_type::f32:
            std::memcpy(dst, src, size_t(rows * dim) * 4);
            return;
        case kernels::row_type::f16:
            k.convert.f32_to_f16(rows * dim, src, reinterpret_cast<uint16_t*>(dst));
            return;
        case kernels::row_type::bf16:
            k.convert.f32_to_bf16(rows * dim, src, reinterpret_cast<uint16_t*>(dst));
            return;
        case kernels::row_type::i8rw:
            for (int64_t r = 0; r < rows; ++r) quantize_i8(src + r * dim, dim, dst + size_t(r) * rb);
            return;
        case kernels::row_type::u4rw:
            for (int64_t r = 0; r < rows; ++r) quantize_u4(k, src + r * dim, dim, dst + size_t(r) * rb);
            return;
    }
}

}  // namespace dlrm

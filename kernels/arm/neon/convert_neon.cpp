// convert__neon: f32 ↔ bf16 / f16 and u8 activation quantization, bit for bit as convert__ref.
// Four elements per step; a tail of n % 4 goes through a zeroed 4-element buffer so nothing past
// the arrays is read or written.
#include <arm_neon.h>

#include <cstring>

#include "kernels/arm/neon/neon_blocking.h"
#include "kernels/arm/neon/neon_kernels.h"

namespace dlrm::kernels::neon {
namespace {

// Runs op(4 inputs) → 4 outputs over n elements.
template <class In, class Out, class Op>
inline void map4(int64_t n, const In* src, Out* dst, Op op) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) op(src + i, dst + i);
    if (i < n) {
        In in[4] = {};
        Out out[4];
        std::memcpy(in, src + i, size_t(n - i) * sizeof(In));
        op(in, out);
        std::memcpy(dst + i, out, size_t(n - i) * sizeof(Out));
    }
}

// Round to nearest even by adding 0x7FFF plus the lowest kept bit; a NaN would carry into the
// exponent, so it is truncated and forced quiet instead (as the ref).
void f32_to_bf16(int64_t n, const float* src, uint16_t* dst) {
    map4(n, src, dst, [](const float* s, uint16_t* d) {
        const uint32x4_t u = vreinterpretq_u32_f32(vld1q_f32(s));
        const uint32x4_t lsb = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
        const uint32x4_t rounded = vshrq_n_u32(vaddq_u32(u, vaddq_u32(lsb, vdupq_n_u32(0x7FFF))), 16);
        const uint32x4_t nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7FFFFFFF)), vdupq_n_u32(0x7F800000));
        const uint32x4_t quiet = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(0x40));
        vst1_u16(d, vmovn_u32(vbslq_u32(nan, quiet, rounded)));
    });
}

void bf16_to_f32(int64_t n, const uint16_t* src, float* dst) {
    map4(n, src, dst, [](const uint16_t* s, float* d) {
        vst1q_f32(d, vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(s), 16)));
    });
}

// FCVTN rounds in FPCR's mode, round to nearest even unless a program changed it (the engine does
// not). A NaN keeps its top payload bits with the quiet bit set, as the ref does.
void f32_to_f16(int64_t n, const float* src, uint16_t* dst) {
    map4(n, src, dst, [](const float* s, uint16_t* d) {
        vst1_u16(d, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(s))));
    });
}

// FCVTL is exact but quiets a signalling NaN, which the ref keeps signalling: those lanes get the
// ref's bits (sign, all-ones exponent, payload << 13).
void f16_to_f32(int64_t n, const uint16_t* src, float* dst) {
    map4(n, src, dst, [](const uint16_t* s, float* d) {
        const uint16x4_t h = vld1_u16(s);
        const uint32x4_t w = vmovl_u16(h);
        const uint32x4_t nan = vcgtq_u32(vandq_u32(w, vdupq_n_u32(0x7FFF)), vdupq_n_u32(0x7C00));
        const uint32x4_t bits = vorrq_u32(vorrq_u32(vshlq_n_u32(vandq_u32(w, vdupq_n_u32(0x8000)), 16),
                                                    vdupq_n_u32(0x7F800000)),
                                          vshlq_n_u32(vandq_u32(w, vdupq_n_u32(0x3FF)), 13));
        const float32x4_t f = vcvt_f32_f16(vreinterpret_f16_u16(h));
        vst1q_f32(d, vbslq_f32(nan, vreinterpretq_f32_u32(bits), f));
    });
}

// clamp(nearbyint(x · inv) + zp, 0, 255), inv = 1/scale, in float like the ref: FRINTX rounds in the current mode
// (nearbyint), FMAXNM(q, 0) gives 0 for a NaN q, so no integer conversion ever overflows.
void quantize_u8(int64_t n, const float* src, float scale, int32_t zp, uint8_t* dst) {
    const float32x4_t vinv = vdupq_n_f32(1.0f / scale), vzp = vdupq_n_f32(float(zp));
    map4(n, src, dst, [&](const float* s, uint8_t* d) {
        float32x4_t q = vrndxq_f32(vmulq_f32(vld1q_f32(s), vinv));
        q = vaddq_f32(q, vzp);
        q = vminq_f32(vmaxnmq_f32(q, vdupq_n_f32(0.0f)), vdupq_n_f32(255.0f));
        const uint16x4_t h = vmovn_u32(vcvtq_u32_f32(q));
        const uint8x8_t b = vmovn_u16(vcombine_u16(h, h));
        uint8_t t[8];
        vst1_u8(t, b);
        std::memcpy(d, t, 4);
    });
}

}  // namespace
}  // namespace dlrm::kernels::neon

namespace dlrm::kernels {
const convert_kernel convert__neon = {"convert__neon", neon::f32_to_bf16, neon::bf16_to_f32, neon::f32_to_f16,
                                      neon::f16_to_f32, neon::quantize_u8};
}  // namespace dlrm::kernels

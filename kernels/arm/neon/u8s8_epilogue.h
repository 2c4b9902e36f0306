// The fp32 epilogue of the NEON u8s8 GEMMs (api.h), in the reference's order of operations so the
// results are the same bits as gemm_u8s8s32__ref:
//   v = (src_scale·w_scale[n])·float(acc − comp[n]) + bias[n];  ReLU;  DCN cross x0·v + xl;
//   f32 store and/or
//   u8 = clamp(nearbyint(v · inv_dst_scale) + dst_zp, 0, 255), inv_dst_scale = 1/dst_scale in fp32
// The files including this are built with -ffp-contract=off, so the product and the bias add stay
// two roundings as in the ref. Unnamed namespace: the dotprod library includes it too.
#pragma once
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/api.h"
#include "kernels/arm/neon/neon_blocking.h"

namespace dlrm::kernels::neon {
namespace {

struct u8s8_epilogue {
    float src_scale;
    const float* w_scale; const int32_t* comp; const float* bias;  // at the panel's first column
    float* dst_f32; uint8_t* dst_u8; int64_t ldd, ldq;             // at the tile's first row/column
    const float* x0; const float* xl; int64_t ldx;                 // DCN cross (x0 != null), the same
    float inv_dst_scale, dst_zp;
    bool relu;
    int64_t cols;                                                  // real columns (1..16)
};

// The tile-independent part of the epilogue, from the call's arguments.
inline u8s8_epilogue epilogue_for(const gemm_u8s8_args& a) {
    u8s8_epilogue e{};
    e.src_scale = a.src_scale;
    e.ldd = a.ldd;
    e.ldq = a.ldq ? a.ldq : a.ldd;
    e.ldx = a.ldx;
    e.inv_dst_scale = 1.0f / a.dst_scale;
    e.dst_zp = float(a.dst_zp);
    e.relu = a.epi == epilogue::relu;
    return e;
}

// Points the epilogue at the tile whose first row is m0 and first column n0 (cols real columns).
inline void point_epilogue(u8s8_epilogue& e, const gemm_u8s8_args& a, int64_t m0, int64_t n0, int64_t cols) {
    e.cols = cols;
    e.w_scale = a.w_scale + n0;
    e.comp = a.comp + n0;
    e.bias = a.bias ? a.bias + n0 : nullptr;
    e.dst_f32 = a.dst_f32 ? a.dst_f32 + m0 * e.ldd + n0 : nullptr;
    e.dst_u8 = a.dst_u8 ? a.dst_u8 + m0 * e.ldq + n0 : nullptr;
    e.x0 = a.x0 ? a.x0 + m0 * a.ldx + n0 : nullptr;
    e.xl = a.xl ? a.xl + m0 * a.ldx + n0 : nullptr;
}

inline int32x4_t load_partial_s32(const int32_t* p, int64_t n) {
    if (n >= 4) return vld1q_s32(p);
    int32_t t[4] = {0, 0, 0, 0};
    std::memcpy(t, p, size_t(n) * sizeof(int32_t));
    return vld1q_s32(t);
}

// Row i of the tile: acc holds Σ_k src·w for the 16 columns.
inline void finish_row(const u8s8_epilogue& e, int i, const int32x4_t (&acc)[4]) {
    float32x4_t r[4];
    for (int v = 0; v < 4; ++v) {
        const int64_t n = e.cols - 4 * v;
        if (n <= 0) { r[v] = vdupq_n_f32(0.0f); continue; }
        const float32x4_t scale = vmulq_f32(vdupq_n_f32(e.src_scale), load_partial(e.w_scale + 4 * v, n));
        const int32x4_t centred = vsubq_s32(acc[v], load_partial_s32(e.comp + 4 * v, n));
        float32x4_t x = vmulq_f32(scale, vcvtq_f32_s32(centred));
        // + 0 without a bias, as the ref: it turns a −0 product into +0
        x = vaddq_f32(x, e.bias ? load_partial(e.bias + 4 * v, n) : vdupq_n_f32(0.0f));
        if (e.relu) x = relu(x);
        if (e.x0)  // x0·v + xl, two roundings (this file is built with -ffp-contract=off)
            x = vaddq_f32(vmulq_f32(load_partial(e.x0 + i * e.ldx + 4 * v, n), x), load_partial(e.xl + i * e.ldx + 4 * v, n));
        r[v] = x;
    }
    if (e.dst_f32) {
        float* d = e.dst_f32 + i * e.ldd;
        for (int v = 0; v < 4; ++v)
            if (e.cols > 4 * v) store_partial(d + 4 * v, r[v], e.cols - 4 * v);
    }
    if (!e.dst_u8) return;
    // FRINTN (ties to even, as nearbyint in the default mode) of the product by the reciprocal;
    // FMAXNM(q, 0) turns a NaN into 0 like the ref's !(q >= 0) test.
    uint16x4_t h[4];
    for (int v = 0; v < 4; ++v) {
        float32x4_t q = vrndnq_f32(vmulq_f32(r[v], vdupq_n_f32(e.inv_dst_scale)));
        q = vaddq_f32(q, vdupq_n_f32(e.dst_zp));
        q = vminq_f32(vmaxnmq_f32(q, vdupq_n_f32(0.0f)), vdupq_n_f32(255.0f));
        h[v] = vmovn_u32(vcvtq_u32_f32(q));
    }
    const uint8x16_t bytes = vcombine_u8(vmovn_u16(vcombine_u16(h[0], h[1])), vmovn_u16(vcombine_u16(h[2], h[3])));
    uint8_t* d = e.dst_u8 + i * e.ldq;
    if (e.cols >= 16) {
        vst1q_u8(d, bytes);
    } else {
        uint8_t t[16];
        vst1q_u8(t, bytes);
        std::memcpy(d, t, size_t(e.cols));
    }
}

}  // namespace
}  // namespace dlrm::kernels::neon

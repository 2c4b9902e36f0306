// The xsimd kernels (kernels/generic/): each written once as a functor templated on the xsimd
// architecture (xsimd_kernels.h) and instantiated in one file per architecture, built with that
// architecture's flags (kernels/meson.build):
//   generic.cpp  xsimd::default_arch: SSE2 on x86-64, NEON (neon64) on aarch64   level `generic`
//   avx2.cpp     xsimd::fma3<xsimd::avx2>, built with -mavx2 -mfma -mf16c      level `avx2`
// The pointers are resolved once, here, as kernel structs; the registry lists them.
//
//   gemm_f32__{generic,avx2}_6xW         fp32 GEMM, 6 rows × 2 vectors (W = 8 for SSE2/NEON, 16 for AVX2)
//   gemm_bf16__{generic,avx2}_6xW        bf16 weights widened to fp32 in registers, 6 rows × 2 vectors,
//                                        bit-exact vs gemm_bf16__ref (one FMA chain per output, k in order)
//   gemm_u8s8s32__{generic,avx2}_4xW     u8×s8→s32 with 16-bit multiply-adds (pmaddwd; NEON smull+addp),
//                                        4 rows × 2 vectors of s32, bit-exact integer sums
//   embbag_sum__{generic,avx2}           fused sum-pooled bags, all five row types, bit-exact
//   interact_dot_f32__{generic,avx2}, dcn_cross_f32__{generic,avx2}
//   sigmoid_f32__{generic,avx2}          exp by Cody–Waite + polynomial, within 2 ulp
//   convert__{generic,avx2}              f32 ↔ bf16 / f16 and u8 quantization, bit-exact vs the ref
//
// Packed layouts (private to each instantiation; W = 4 for SSE2/NEON, 8 for AVX2):
//   f32, N > 4:  ceil(N/2W) panels, panel p holding for k = 0..K−1 the 2W floats W[2Wp + j][k]
//                (zero past N); N ≤ 4: W itself, N×K.
//   bf16:        as f32's panels (no N ≤ 4 case) but bf16 bits, the 2W columns of each k interleaved:
//                16-bit slot 2j = column j, slot 2j+1 = column W + j.      bytes: 4W·K·ceil(N/2W)
//   u8s8:        ceil(N/2W) panels, panel p holding for each pair q of k (K padded to even with zeros)
//                the 2W channels' bytes (W[c][2q], W[c][2q+1]).              bytes: 4W·ceil(K/2)·ceil(N/2W)
#pragma once
#include "kernels/dispatch.h"

namespace dlrm::kernels {

extern const gemm_f32_kernel gemm_f32__generic_6x8;
extern const gemm_bf16_kernel gemm_bf16__generic_6x8;
extern const gemm_u8s8_kernel gemm_u8s8s32__generic_4x8;
extern const embbag_kernel embbag_sum__generic;
extern const interact_dot_kernel interact_dot_f32__generic;
extern const dcn_cross_kernel dcn_cross_f32__generic;
extern const sigmoid_kernel sigmoid_f32__generic;
extern const convert_kernel convert__generic;

#if defined(__x86_64__)
extern const gemm_f32_kernel gemm_f32__avx2_6x16;
extern const gemm_bf16_kernel gemm_bf16__avx2_6x16;
extern const gemm_u8s8_kernel gemm_u8s8s32__avx2_4x16;
extern const embbag_kernel embbag_sum__avx2;
extern const interact_dot_kernel interact_dot_f32__avx2;
extern const dcn_cross_kernel dcn_cross_f32__avx2;
extern const sigmoid_kernel sigmoid_f32__avx2;
extern const convert_kernel convert__avx2;
#endif

}  // namespace dlrm::kernels

// The hand-written NEON (AArch64 Advanced SIMD) kernels, built in kernels/meson.build's neon
// libraries. NEON is part of the AArch64 baseline, so all but one run on every ARMv8.0 core; the
// dotprod GEMM lives in a library of its own built with +dotprod and its registry line requires
// HWCAP ASIMDDP.
//
//   gemm_f32__neon_6x16             fp32 FMA, 6×16 register tile (24 accumulators), 16-column panels
//   gemm_bf16__neon_6x16            bf16 weights widened to fp32 with a shift (USHLL #16), fp32 FMA,
//                                   6×16 tile; bit-exact vs gemm_bf16__ref (one FMA chain per output)
//   gemm_u8s8s32__neondot_4x16      u8×s8→s32 with sdot (ARMv8.2 dotprod), 4×16 tile
//   gemm_u8s8s32__neon_4x16         u8×s8→s32 with widening multiply-accumulate (smlal), any ARMv8
//   embbag_sum__neon                fused sum-pooled bags, all five row types, bit-exact
//   interact_dot_f32__neon, dcn_cross_f32__neon, sigmoid_f32__neon, convert__neon
//
// Packed layouts (private to these kernels; each GEMM packs for itself):
//   f32, N > 4:   ceil(N/16) panels; panel p holds, for k = 0..K−1, W[16p + j][k] for j = 0..15
//                 (zero past N).                                           bytes: 64·K·ceil(N/16)
//   f32, N ≤ 4:   W itself, N×K row-major (dot products along k).          bytes: 4·N·K
//   bf16:         as f32's panels (for every N) but bf16 bits (rounded to nearest even at pack
//                 time), 16 per k in column order.                         bytes: 32·K·ceil(N/16)
//   u8s8 dotprod: panel p, for each group of 4 k (K padded to a multiple of 4 with zeros), the 16
//                 channels × 4 bytes (channel-major, k within), then after all panels one int32
//                 128·Σ_k W[n][k] per channel (the sdot bias correction, see the .cpp).
//   u8s8 plain:   panel p, for each k, the 16 channels' bytes (zero past N).
#pragma once
#include "kernels/dispatch.h"

namespace dlrm::kernels {

extern const gemm_f32_kernel gemm_f32__neon_6x16;
extern const gemm_bf16_kernel gemm_bf16__neon_6x16;
extern const gemm_u8s8_kernel gemm_u8s8s32__neondot_4x16;
extern const gemm_u8s8_kernel gemm_u8s8s32__neon_4x16;
extern const embbag_kernel embbag_sum__neon;
extern const interact_dot_kernel interact_dot_f32__neon;
extern const dcn_cross_kernel dcn_cross_f32__neon;
extern const sigmoid_kernel sigmoid_f32__neon;
extern const convert_kernel convert__neon;

}  // namespace dlrm::kernels

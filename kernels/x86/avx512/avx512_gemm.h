// The AVX-512 GEMM variants (kernels/x86/avx512/gemm_*.cpp), compiled with the avx512 flags of
// kernels/meson.build. Each is one kernel struct; registry.cpp decides which CPUs may call it.
//
//   gemm_f32__avx512_14x32         fp32 FMA, 14×32 register tile, weights in 32-column panels
//   gemm_bf16__avx512_14x32        bf16 weights (half the bytes) widened to fp32 in registers, for
//                                  AVX-512 CPUs without avx512_bf16; bit-exact vs gemm_bf16__ref
//   gemm_bf16__avx512bf16_14x32    vdpbf16ps on bf16 pairs (needs avx512_bf16)
//   gemm_u8s8s32__avx512vnni_14x32 u8×s8→s32 with vpdpbusd (needs avx512_vnni)
//
// Packed layouts (the .dlrm file stores them, so they are part of the format):
//   f32, N > 8:  ceil(N/32) panels; panel p holds, for k = 0..K−1, the 32 floats W[32p + j][k]
//                (j = 0..31, zero past N).                                  bytes: 128·K·ceil(N/32)
//   f32, N ≤ 8:  W itself, N×K row-major (the dot-product path).           bytes: 4·N·K
//   bf16:        as f32 but bf16 bits, and within each k the 32 columns interleaved
//                (slot 2j = column j, slot 2j+1 = column 16+j; see gemm_bf16_avx512.cpp).
//                N ≤ 8: bf16 N×K row-major.                                bytes: half of f32's
//   bf16 pairs:  panel p, for each pair of k (K padded to even with zeros), for j = 0..31:
//                (W[32p+j][2q], W[32p+j][2q+1]).                            bytes: 128·ceil(K/2)·ceil(N/32)
//   u8s8:        panel p, for each group of 4 k (K padded to a multiple of 4 with zeros), two blocks
//                of 16 channels, each 16×4 bytes (channel-major, k within): bytes 128·ceil(K/4)·ceil(N/32)
#pragma once
#include "kernels/dispatch.h"

namespace dlrm::kernels {

extern const gemm_f32_kernel gemm_f32__avx512_14x32;
extern const gemm_bf16_kernel gemm_bf16__avx512_14x32;
extern const gemm_bf16_kernel gemm_bf16__avx512bf16_14x32;
extern const gemm_u8s8_kernel gemm_u8s8s32__avx512vnni_14x32;

}  // namespace dlrm::kernels

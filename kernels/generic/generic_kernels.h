// The xsimd kernels (kernels/generic/): each written once as a functor templated on the xsimd
// architecture (xsimd_kernels.h) and instantiated in one file per architecture, built with that
// architecture's flags (kernels/meson.build):
//   generic.cpp  xsimd::default_arch: SSE2 on x86-64, NEON (neon64) on aarch64   level `generic`
//   avx2.cpp     xsimd::fma3<xsimd::avx2>, built with -mavx2 -mfma -mf16c      level `avx2`
// The pointers are resolved once, here, as kernel structs; the registry lists them.
//
//   gemm_f32__{generic,avx2}_6xW    fp32 GEMM, 6 rows × 2 vectors (W = 8 for SSE2/NEON, 16 for AVX2)
//   interact_dot_f32__{generic,avx2}, dcn_cross_f32__{generic,avx2}
//
// Packed layout of gemm_f32 (private to each instantiation): N > 4: ceil(N/W) panels, panel p
// holding for k = 0..K−1 the W floats W[Wp + j][k] (zero past N); N ≤ 4: W itself, N×K.
#pragma once
#include "kernels/dispatch.h"

namespace dlrm::kernels {

extern const gemm_f32_kernel gemm_f32__generic_6x8;
extern const interact_dot_kernel interact_dot_f32__generic;
extern const dcn_cross_kernel dcn_cross_f32__generic;

#if defined(__x86_64__)
extern const gemm_f32_kernel gemm_f32__avx2_6x16;
extern const interact_dot_kernel interact_dot_f32__avx2;
extern const dcn_cross_kernel dcn_cross_f32__avx2;
#endif

}  // namespace dlrm::kernels

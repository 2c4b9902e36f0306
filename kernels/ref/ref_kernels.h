// The scalar reference kernels: the oracle every other variant is tested against.
//
// Plain loops in the summation order of the pseudocode in kernels/api.h, compiled with
// -ffp-contract=off (kernels/meson.build) so no multiply and add are ever fused behind our back;
// where the pseudocode asks for one rounding (embbag's fmaf) it is written out.
// Packed weight layout of the ref table: the plain N×K row-major matrix of the family's element
// type (f32: float, bf16: bf16 bits rounded to nearest even at pack time, u8s8: int8).
#pragma once
#include "kernels/dispatch.h"

namespace dlrm::kernels {

extern const gemm_f32_kernel gemm_f32__ref;
extern const gemm_bf16_kernel gemm_bf16__ref;
extern const gemm_u8s8_kernel gemm_u8s8s32__ref;
extern const embbag_kernel embbag_sum__ref;
extern const interact_dot_kernel interact_dot_f32__ref;
extern const dcn_cross_kernel dcn_cross_f32__ref;
extern const sigmoid_kernel sigmoid_f32__ref;
extern const convert_kernel convert__ref;

}  // namespace dlrm::kernels

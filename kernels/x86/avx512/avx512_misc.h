// The hand-written AVX-512 (F/BW/VL/DQ + F16C) kernels other than GEMM: embedding bag, dot
// interaction, DCN cross, sigmoid and conversions. Built with the avx512 library flags
// (kernels/meson.build); registry lines guard them with the avx512 CPU predicate. None needs
// avx512_bf16; embbag_sum__avx512vbmi (its own library, -mavx512vbmi) needs VBMI.
#pragma once
#include "kernels/dispatch.h"

namespace dlrm::kernels {

extern const embbag_kernel embbag_sum__avx512;
extern const embbag_kernel embbag_sum__avx512vbmi;
extern const interact_dot_kernel interact_dot_f32__avx512;
extern const dcn_cross_kernel dcn_cross_f32__avx512;
extern const sigmoid_kernel sigmoid_f32__avx512;
extern const convert_kernel convert__avx512;

}  // namespace dlrm::kernels

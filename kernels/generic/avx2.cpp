// The xsimd kernels instantiated for AVX2 + FMA (xsimd::fma3<xsimd::avx2>), level `avx2`. Built with
// -mavx2 -mfma -mf16c (kernels/meson.build); the registry lines require exactly those features, so
// these run on Haswell-class CPUs without AVX-512.
#include "kernels/generic/generic_kernels.h"
#include "kernels/generic/xsimd_kernels.h"

namespace dlrm::kernels {
namespace xs {
using avx2_arch = xsimd::fma3<xsimd::avx2>;
template struct gemm_f32_xs<avx2_arch>;
template struct gemm_bf16_xs<avx2_arch>;
template struct gemm_u8s8_xs<avx2_arch>;
template struct embbag_xs<avx2_arch>;
template struct interact_dot_xs<avx2_arch>;
template struct dcn_cross_xs<avx2_arch>;
template struct sigmoid_xs<avx2_arch>;
template struct convert_xs<avx2_arch>;
static_assert(gemm_f32_xs<avx2_arch>::panel == 16, "the variant names say 6x16");
static_assert(gemm_bf16_xs<avx2_arch>::panel == 16 && gemm_bf16_xs<avx2_arch>::max_rows == 6,
              "the variant names say 6x16");
static_assert(gemm_u8s8_xs<avx2_arch>::panel == 16 && gemm_u8s8_xs<avx2_arch>::max_rows == 4,
              "the variant names say 4x16");
using avx2_f32 = gemm_f32_xs<avx2_arch>;
using avx2_bf16 = gemm_bf16_xs<avx2_arch>;
using avx2_u8s8 = gemm_u8s8_xs<avx2_arch>;
using avx2_convert = convert_xs<avx2_arch>;
}  // namespace xs

const gemm_f32_kernel gemm_f32__avx2_6x16 = {"gemm_f32__avx2_6x16", xs::avx2_f32::packed_bytes, xs::avx2_f32::pack,
                                             xs::avx2_f32::run};
const gemm_bf16_kernel gemm_bf16__avx2_6x16 = {"gemm_bf16__avx2_6x16", xs::avx2_bf16::packed_bytes, xs::avx2_bf16::pack,
                                               xs::avx2_bf16::run};
const gemm_u8s8_kernel gemm_u8s8s32__avx2_4x16 = {"gemm_u8s8s32__avx2_4x16", xs::avx2_u8s8::packed_bytes,
                                                  xs::avx2_u8s8::pack, xs::avx2_u8s8::run};
const embbag_kernel embbag_sum__avx2 = {"embbag_sum__avx2", xs::embbag_xs<xs::avx2_arch>::run};
const interact_dot_kernel interact_dot_f32__avx2 = {"interact_dot_f32__avx2", xs::interact_dot_xs<xs::avx2_arch>::run};
const dcn_cross_kernel dcn_cross_f32__avx2 = {"dcn_cross_f32__avx2", xs::dcn_cross_xs<xs::avx2_arch>::run};
const sigmoid_kernel sigmoid_f32__avx2 = {"sigmoid_f32__avx2", xs::sigmoid_xs<xs::avx2_arch>::run};
const convert_kernel convert__avx2 = {"convert__avx2", xs::avx2_convert::f32_to_bf16, xs::avx2_convert::bf16_to_f32,
                                      xs::avx2_convert::f32_to_f16, xs::avx2_convert::f16_to_f32,
                                      xs::avx2_convert::quantize_u8};

}  // namespace dlrm::kernels

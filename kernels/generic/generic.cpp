// The xsimd kernels instantiated for the target's baseline architecture (xsimd::default_arch: SSE2
// on x86-64, NEON on aarch64), level `generic`. Built with the baseline flags only.
#include "kernels/generic/generic_kernels.h"
#include "kernels/generic/xsimd_kernels.h"

#include <type_traits>

namespace dlrm::kernels {
namespace xs {
using generic_arch = xsimd::default_arch;
#if defined(__x86_64__)
static_assert(std::is_same_v<generic_arch, xsimd::sse2>, "generic.cpp must be built for the x86-64 baseline");
#elif defined(__aarch64__)
static_assert(std::is_same_v<generic_arch, xsimd::neon64>, "generic.cpp must be built for the aarch64 baseline");
#endif
template struct gemm_f32_xs<generic_arch>;
template struct gemm_bf16_xs<generic_arch>;
template struct gemm_u8s8_xs<generic_arch>;
template struct embbag_xs<generic_arch>;
template struct interact_dot_xs<generic_arch>;
template struct dcn_cross_xs<generic_arch>;
template struct sigmoid_xs<generic_arch>;
template struct convert_xs<generic_arch>;
static_assert(gemm_f32_xs<generic_arch>::panel == 8, "the variant names say 6x8");
static_assert(gemm_bf16_xs<generic_arch>::panel == 8 && gemm_bf16_xs<generic_arch>::max_rows == 6,
              "the variant names say 6x8");
static_assert(gemm_u8s8_xs<generic_arch>::panel == 8 && gemm_u8s8_xs<generic_arch>::max_rows == 4,
              "the variant names say 4x8");
using gen_f32 = gemm_f32_xs<generic_arch>;
using gen_bf16 = gemm_bf16_xs<generic_arch>;
using gen_u8s8 = gemm_u8s8_xs<generic_arch>;
using gen_convert = convert_xs<generic_arch>;
}  // namespace xs

const gemm_f32_kernel gemm_f32__generic_6x8 = {"gemm_f32__generic_6x8", xs::gen_f32::packed_bytes, xs::gen_f32::pack,
                                               xs::gen_f32::run};
const gemm_bf16_kernel gemm_bf16__generic_6x8 = {"gemm_bf16__generic_6x8", xs::gen_bf16::packed_bytes,
                                                 xs::gen_bf16::pack, xs::gen_bf16::run};
const gemm_u8s8_kernel gemm_u8s8s32__generic_4x8 = {"gemm_u8s8s32__generic_4x8", xs::gen_u8s8::packed_bytes,
                                                    xs::gen_u8s8::pack, xs::gen_u8s8::run};
const embbag_kernel embbag_sum__generic = {"embbag_sum__generic", xs::embbag_xs<xs::generic_arch>::run};
const interact_dot_kernel interact_dot_f32__generic = {"interact_dot_f32__generic",
                                                       xs::interact_dot_xs<xs::generic_arch>::run};
const dcn_cross_kernel dcn_cross_f32__generic = {"dcn_cross_f32__generic", xs::dcn_cross_xs<xs::generic_arch>::run};
const sigmoid_kernel sigmoid_f32__generic = {"sigmoid_f32__generic", xs::sigmoid_xs<xs::generic_arch>::run};
const convert_kernel convert__generic = {"convert__generic", xs::gen_convert::f32_to_bf16, xs::gen_convert::bf16_to_f32,
                                         xs::gen_convert::f32_to_f16, xs::gen_convert::f16_to_f32,
                                         xs::gen_convert::quantize_u8};

}  // namespace dlrm::kernels

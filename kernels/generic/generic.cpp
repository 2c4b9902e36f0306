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
template struct interact_dot_xs<generic_arch>;
template struct dcn_cross_xs<generic_arch>;
static_assert(gemm_f32_xs<generic_arch>::panel == 8, "the variant names say 6x8");
}  // namespace xs

const gemm_f32_kernel gemm_f32__generic_6x8 = {"gemm_f32__generic_6x8", xs::gemm_f32_xs<xs::generic_arch>::packed_bytes,
                                               xs::gemm_f32_xs<xs::generic_arch>::pack,
                                               xs::gemm_f32_xs<xs::generic_arch>::run};
const interact_dot_kernel interact_dot_f32__generic = {"interact_dot_f32__generic",
                                                       xs::interact_dot_xs<xs::generic_arch>::run};
const dcn_cross_kernel dcn_cross_f32__generic = {"dcn_cross_f32__generic", xs::dcn_cross_xs<xs::generic_arch>::run};

}  // namespace dlrm::kernels

// The xsimd kernels instantiated for AVX2 + FMA (xsimd::fma3<xsimd::avx2>), level `avx2`. Built with
// -mavx2 -mfma -mf16c (kernels/meson.build); the registry lines require exactly those features, so
// these run on Haswell-class CPUs without AVX-512.
#include "kernels/generic/generic_kernels.h"
#include "kernels/generic/xsimd_kernels.h"

namespace dlrm::kernels {
namespace xs {
using avx2_arch = xsimd::fma3<xsimd::avx2>;
template struct gemm_f32_xs<avx2_arch>;
template struct interact_dot_xs<avx2_arch>;
template struct dcn_cross_xs<avx2_arch>;
static_assert(gemm_f32_xs<avx2_arch>::panel == 16, "the variant names say 6x16");
}  // namespace xs

const gemm_f32_kernel gemm_f32__avx2_6x16 = {"gemm_f32__avx2_6x16", xs::gemm_f32_xs<xs::avx2_arch>::packed_bytes,
                                             xs::gemm_f32_xs<xs::avx2_arch>::pack, xs::gemm_f32_xs<xs::avx2_arch>::run};
const interact_dot_kernel interact_dot_f32__avx2 = {"interact_dot_f32__avx2", xs::interact_dot_xs<xs::avx2_arch>::run};
const dcn_cross_kernel dcn_cross_f32__avx2 = {"dcn_cross_f32__avx2", xs::dcn_cross_xs<xs::avx2_arch>::run};

}  // namespace dlrm::kernels

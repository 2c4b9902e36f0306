// dcn_cross_f32__ref and sigmoid_f32__ref: the element-wise f32 kernels.
#include <cmath>

#include "kernels/ref/ref_kernels.h"

namespace dlrm::kernels {
namespace {

// Two roundings (product, then sum): the file is built with -ffp-contract=off.
void dcn_cross(int64_t n, const float* x0, const float* y, const float* xl, float* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = x0[i] * y[i] + xl[i];
}

// Evaluated in double and rounded once, so the oracle is within about half an ulp everywhere,
// including tiny results near −88 where exp(−x) in float would already overflow.
void sigmoid(int64_t n, const float* src, float* dst) {
    for (int64_t i = 0; i < n; ++i) dst[i] = float(1.0 / (1.0 + std::exp(-double(src[i]))));
}

}  // namespace

const dcn_cross_kernel dcn_cross_f32__ref = {"dcn_cross_f32__ref", dcn_cross};
const sigmoid_kernel sigmoid_f32__ref = {"sigmoid_f32__ref", sigmoid};

}  // namespace dlrm::kernels

// interact_dot_f32__ref: x_0 copied, then the (strict or non-strict) lower triangle of X·Xᵀ in
// row-major order; each dot product accumulates in fp32 with d in order.
#include "kernels/ref/ref_kernels.h"

namespace dlrm::kernels {
namespace {

void run(const interact_dot_args& a) {
    const int64_t F = a.num_features, D = a.dim;
    for (int64_t b = 0; b < a.batch; ++b) {
        const float* x = a.src + b * a.src_ld;
        float* out = a.dst + b * a.dst_ld;
        for (int64_t d = 0; d < D; ++d) *out++ = x[d];
        // i from 0: with diag, torch's li/lj (and the width dim + F(F+1)/2) include x_0·x_0;
        // without it, i = 0 contributes nothing.
        for (int64_t i = 0; i < F; ++i) {
            const int64_t last = a.diag ? i : i - 1;
            for (int64_t j = 0; j <= last; ++j) {
                float acc = 0.0f;
                for (int64_t d = 0; d < D; ++d) acc += x[i * D + d] * x[j * D + d];
                *out++ = acc;
            }
        }
    }
}

}  // namespace

const interact_dot_kernel interact_dot_f32__ref = {"interact_dot_f32__ref", run};

}  // namespace dlrm::kernels

// Feature-group equalization of a DCN model before int8 calibration (cross-layer equalization,
// Nagel et al. 2019, applied to the DCN's feature groups).
//
// Why: the DCN input x0 = [bottom output, pooled table 0, …, pooled table 25] is quantized to u8 with
// one scale per tensor, but its groups differ in range by up to 30× (a bag of 100 ids against a bag of
// 1), so the narrow groups get a few of the 256 codes. Scaling group g of x0 by s_g — the last bottom
// layer's rows and bias, table g−1's rows — scales group g of every x_l by s_g too
// (x_{l+1} = x0 ⊙ (W·V·x_l + b) + x_l is linear in (x0, x_l) group-wise), so dividing the matching
// columns of every dcn.l.V and of top.0 by s_g gives the same network in exact arithmetic. With
// s_g = sqrt(rms_max / rms_g) (SmoothQuant's α = 0.5 between activations and weights) every group
// spans more of the u8 range, at the cost of coarser int8 weights for the widened columns.
// uint4 tables are row-wise, so scaling a whole table changes nothing in their relative error.
#pragma once
#include <vector>

#include "engine/model.h"
#include "engine/quant/calibrate.h"
#include "formats/criteo/criteo_dataset.h"
#include "kernels/dispatch.h"

namespace dlrm {

// Whether the transform applies: a DCN model with fp32 Linear layers and at least one bottom layer.
bool can_equalize(const model& m);

// One fp32 pass over rows [r0, r1): s_g = sqrt(max_h rms_h / rms_g) from the RMS of each feature
// group of x0 (the input of dcn.0.V). Tables stored in a non-f32 row type, and groups that are all
// zero, keep s = 1.
result<std::vector<float>> equalization_scales(const model& fp32, const criteo_dataset& ds,
                                               const kernels::kernel_table& k, int64_t r0, int64_t r1,
                                               const run_setup& rs);

// The scaled copies equalized_model holds: the fp32 bytes of every table with s ≠ 1.
uint64_t equalized_table_bytes(const model_config& c, const std::vector<float>& s);

// Keeps the copies within `budget` bytes by resetting the largest tables' scales to 1 (any s > 0
// gives the same network, s = 1 just leaves that group as it is). Returns how many were reset.
int limit_equalized_bytes(const model_config& c, std::vector<float>& s, uint64_t budget);

// The same network with group g of x0 scaled by s[g] (see above): a model over memory that owns the
// scaled copies and points into `src` (which must outlive it) for every other tensor.
result<model> equalized_model(const model& src, const std::vector<float>& s);

}  // namespace dlrm

// Calibration: observe every Linear input of an fp32 model over calibration rows, choose u8 ranges,
// measure layer SQNR and AUC. The executor runs the real fp32 network; a hook sees each Linear's
// input and output (per-thread observers, no locks in the loop, merged after the pass).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/executor.h"
#include "engine/model.h"
#include "engine/quant/plan.h"
#include "engine/quant/range.h"
#include "formats/criteo/criteo_dataset.h"

namespace dlrm {

struct run_setup {
    int threads = 0;
    int64_t batch = 0;
};

// An executor for the calibration passes: precision p, the dataset's bag sizes, rs's threads and batch.
result<std::unique_ptr<executor>> make_executor(const model& m, precision p, const criteo_dataset& ds,
                                                const kernels::kernel_table& k, const run_setup& rs);

// Rows [r0, r1) must be a non-empty range inside the dataset; `what` names them in the error.
status check_rows(const criteo_dataset& ds, int64_t r0, int64_t r1, const char* what);

struct layer_range {
    std::string name;
    float min = 0, max = 0;   // observed
    clip_range clip;          // chosen by the method
    act_qparams q;
};

// Two passes over [r0, r1) (one for minmax): exact min / max, then a 2048-bin histogram per layer.
// An empty range of rows is an error.
result<std::vector<layer_range>> observe_ranges(const model& fp32, const criteo_dataset& ds,
                                                const kernels::kernel_table& k, int64_t r0, int64_t r1,
                                                range_method method, double percentile, const run_setup& rs);

// Layer-local SQNR (dB) of every non-fp32 Linear of `quantized` against fp32 on rows [r0, r1): both see
// the fp32 network's input of the layer; the quantized output uses the stored weights dequantized and
// the input fake-quantized with the stored qparams (bf16 / fp16: rounded), bias and ReLU as the layer.
result<std::map<std::string, double>> layer_sqnr(const model& fp32, const model& quantized, const criteo_dataset& ds,
                                                 const kernels::kernel_table& k, int64_t r0, int64_t r1,
                                                 const run_setup& rs);

// Scores rows [r0, r1) and returns the exact AUC against the dataset's labels.
result<double> measure_auc(const model& m, precision p, const criteo_dataset& ds, const kernels::kernel_table& k,
                           int64_t r0, int64_t r1, const run_setup& rs);

}  // namespace dlrm

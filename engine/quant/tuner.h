// Accuracy-driven fallback (calibrate --max-auc-drop X --eval-rows A:B), README.md "Fallback".
// Ranks the quantized layers and tables by measured sensitivity (AUC gained by putting each one
// alone back to fp32 on the evaluation rows), then moves entries down their ladders (Linear int8 →
// bf16 → fp32; table uint4 → int8 → fp32) most harmful first, one rung for every entry before the
// second rung of any, measuring after every step, and returns the first plan whose AUC drop is ≤ X.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/quant/calibrate.h"
#include "engine/quant/quantizer.h"

namespace dlrm {

struct tune_trial {
    std::string what;   // "sensitivity emb.3 → fp32", "emb.3 → int8", ...
    double auc = 0;
    double drop = 0;    // fp32 AUC − this AUC
    bool meets = false;
};

// AUC of the plan's quantized model (built in memory, run with --int8) on rows [e0, e1).
result<double> plan_auc(tensor_builder& b, const quant_plan& p, const criteo_dataset& ds,
                        const kernels::kernel_table& k, int64_t e0, int64_t e1, const run_setup& rs);

// start_auc: the AUC of `start` (already measured). log receives one line per trial.
result<quant_plan> tune_plan(tensor_builder& b, const quant_plan& start, double fp32_auc, double start_auc,
                             double max_drop, const criteo_dataset& ds, const kernels::kernel_table& k,
                             int64_t e0, int64_t e1, const run_setup& rs,
                             const std::function<void(const tune_trial&)>& log, std::vector<tune_trial>* trials);

}  // namespace dlrm

// A standalone SVG picture of a ROC curve (`dlrm auc --roc-svg`): opens in any browser, no scripts,
// no external fonts or styles.
#pragma once
#include <string>

#include "engine/metrics/auc.h"

namespace dlrm {

// The curve (as evaluate_binary downsamples it: at most ~1000 points) over a unit square with grid
// lines every 0.1, the chance diagonal, and a title with the AUC, rows and positives. `source`
// (e.g. the predictions file name) is printed under the title, XML-escaped.
std::string roc_svg(const roc_curve& curve, const binary_metrics& m, const std::string& source);

}  // namespace dlrm

// Binary classification metrics over all individual rows, as MLPerf DLRM reports them:
// exact ROC AUC (ties as scikit-learn's roc_auc_score), log loss and accuracy.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"

namespace dlrm {

struct binary_metrics {
    // ROC AUC = P(score of a random positive > score of a random negative) + ½ P(equal scores):
    // the Mann–Whitney statistic with ties counting ½, which equals sklearn's roc_auc_score (the
    // trapezoid under the ROC curve built over distinct thresholds). Computed exactly in integers:
    //   auc = Σ_pos (2·#neg strictly below + #neg tied) / (2·P·N)
    // with one rounding at the final division. -0.0 and +0.0 are the same score (a tie).
    double auc = 0;
    // mean of −[y ln q + (1−y) ln(1−q)], q = clip(p, 1e-15, 1 − 1e-15), in double precision:
    // sklearn's log_loss(y, p.astype(float64), eps=1e-15) (sklearn < 1.2's default eps). sklearn 1.2's
    // default eps="auto" clips at the machine epsilon of the prediction dtype instead (1.19e-7 for
    // float32 input), which differs from this only for predictions within 1.19e-7 of 0 or 1.
    double logloss = 0;
    // fraction of rows where (p > 0.5) == y: 0.5 itself predicts 0, like the DLRM reference
    // (np.round, which rounds half to even), torchmetrics' BinaryAccuracy and sklearn's predict().
    double accuracy = 0;
    int64_t rows = 0;
    int64_t positives = 0;
    int64_t negatives = 0;
};

// ROC curve downsampled for drawing: points (fpr[i], tpr[i]) from (0, 0) to (1, 1), fpr and tpr
// non-decreasing. Every point is a true point of the full curve (the rates at one threshold);
// a point is kept when the walk along the curve (Δfpr + Δtpr, total length 2) enters a new
// 1/500 step, so there are at most ~1002 points and the straight lines between them stay within
// 1/500 of the full curve.
struct roc_curve {
    std::vector<double> fpr;
    std::vector<double> tpr;
};

// Names used in error messages, and the file row of the first element, so that a message points at
// the row of the file even when only a range was passed in.
struct binary_input_names {
    std::string predictions = "predictions";
    std::string labels = "labels";
    int64_t prediction_first_row = 0;
    int64_t label_first_row = 0;
};

// Evaluates n rows: pred[i] must be a probability in [0, 1] (NaN or anything outside is an error
// naming the row and the value) and labels[i] must be 0 or 1; both classes must occur.
// Uses OpenMP threads; the result is the same whatever the thread count (the log loss is summed in
// fixed blocks in a fixed order; everything else is exact integer arithmetic).
// Memory: 8 bytes per row of scratch (two uint32 arrays for the radix sort).
// Limit: n < 6·10⁹, so that 2·P·N fits the uint64 sum.
// `curve`, when not null, receives the downsampled ROC curve.
result<binary_metrics> evaluate_binary(const float* pred, const int32_t* labels, int64_t n,
                                       roc_curve* curve = nullptr, const binary_input_names& names = {});
// The same for one-byte labels (numpy bool or uint8 files).
result<binary_metrics> evaluate_binary(const float* pred, const uint8_t* labels, int64_t n,
                                       roc_curve* curve = nullptr, const binary_input_names& names = {});

}  // namespace dlrm

// Activation range selection from observed values (calibration, README.md "Range methods").
// Observation is two streaming passes: the exact min / max, then a histogram of 2048 equal bins over
// [min, max]. Each method turns them into the clip range [lo, hi] that qparams_for_range() maps to u8.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"

namespace dlrm {

enum class range_method : uint8_t { minmax, histogram, percentile, entropy };
const char* range_method_name(range_method m);
result<range_method> parse_range_method(const std::string& s);

inline constexpr int k_hist_bins = 2048;

struct value_histogram {
    float lo = 0, hi = 0;          // the observed min / max (bins span [lo, hi])
    std::vector<double> counts;    // k_hist_bins
    double zeros = 0;              // of those, values exactly 0 (ReLU outputs): they quantize exactly
    int64_t total() const;
    // Adds n values (they must lie in [lo, hi]; values outside are clamped to the edge bins).
    void add(const float* x, int64_t n);
    void merge(const value_histogram& o);
};
value_histogram make_histogram(float lo, float hi);

// The clip range for a method. minmax ignores the histogram (returns [lo, hi]).
//   histogram:  L2 search as PyTorch's HistogramObserver: shrink [lo, hi] bin by bin from the side with
//               less mass, minimising Σ count · error² (clipping distance² outside, Δ²/12 inside, Δ the
//               step of 256 levels over the candidate range with 0 included); the global minimum wins.
//   percentile: the P-th percentile of the values (and the (100 − P)-th when they go below 0).
//   entropy:    KL divergence as TensorRT: candidates shrink [lo, hi] towards 0 (128 … 2048 bins kept),
//               the clipped histogram P against its 256-level quantization Q; min KL(P‖Q) wins.
struct clip_range {
    float lo = 0, hi = 0;
};
clip_range choose_range(range_method m, const value_histogram& h, double percentile);

}  // namespace dlrm

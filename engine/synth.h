// dlrm synth: a model and an MLPerf-layout dataset from a planted teacher.
//
// The model written IS the teacher: labels are drawn from its own probabilities on the generated
// rows, so the fp32 AUC of the model on its data is the Bayes-optimal AUC (clearly above 0.5) and any
// loss from bf16/int8/uint4 is measurable. Ids are Zipf-skewed (hot rows scattered over the table, as in
// Criteo); dense features are ln(x + 3) of log-normal counts, as MLPerf ships them.
// Everything is a pure function of (seed, shape, cap, samples, table type): the same command writes the
// same bytes. Tables and data stream to disk in chunks; nothing the size of a table is held in memory.
#pragma once
#include <functional>
#include <string>

#include "engine/model_config.h"
#include "engine/status.h"
#include "kernels/dispatch.h"

namespace dlrm {

struct synth_options {
    std::string shape = "small";    // small | mlperf-v1 | mlperf-v2
    int64_t rows_cap = 0;           // cap on rows per table (0 = the shape's real row counts)
    int64_t samples = 100000;       // dataset rows
    uint64_t seed = 1;
    int day = 0;
    kernels::row_type table_type = kernels::row_type::f32;
    std::string out_dir;
};

// The architecture synth would write for these options (shape, cap, table type applied).
result<model_config> synth_config(const synth_options& o);

// Writes DIR/day_N_dense.npy, day_N_sparse_multi_hot.npz and an all-zero day_N_labels.npy for a
// model of architecture c: the synthetic inputs alone (dlrm bench scores them; no teacher, no labels).
status write_synthetic_inputs(const std::string& dir, const model_config& c, int day, int64_t samples, uint64_t seed);

// Writes out_dir/model.dlrm, day_N_dense.npy, day_N_labels.npy, day_N_sparse_multi_hot.npz.
// All four appear only when all succeeded (they are staged in a temporary folder, then renamed).
status synthesize(const synth_options& o, const kernels::kernel_table& k,
                  const std::function<void(const std::string&)>& log);

}  // namespace dlrm

// Raw Criteo data (TSV, gzip TSV or Facebook .bin) → one day of the MLPerf / torchrec layout that
// criteo_dataset reads: day_N_dense.npy, day_N_labels.npy and day_N_sparse.npy (one-hot) or
// day_N_sparse_multi_hot.npz. Streams in bounded memory with a reader thread, parser threads and an
// in-order writer. Rules: formats/criteo_tsv/criteo_tsv.md.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/status.h"
#include "formats/criteo_tsv/criteo_tsv.h"

namespace dlrm {

enum class criteo_input { tsv, bin };
enum class sparse_output { one_hot, multi_hot };

struct convert_progress {
    int64_t rows = 0;            // rows written so far
    int64_t bad_lines = 0;       // skipped so far (--skip-bad-lines)
    uint64_t data_bytes = 0;     // input bytes parsed (after decompression)
    uint64_t file_bytes = 0;     // input file bytes consumed (compressed bytes for gzip)
    uint64_t total_file_bytes = 0;  // sum of the input files' sizes (0 when unknown, e.g. a pipe)
    double seconds = 0;
};

struct convert_options {
    criteo_input from = criteo_input::tsv;
    std::vector<std::string> inputs;  // concatenated in this order into one day
    std::string out_dir;              // created if missing (one level)
    int day = 0;
    uint32_t max_ind_range = 0;       // 0: hash % 2^31; else hash % max_ind_range, 1 ≤ N ≤ 2^31
    dense_transform transform = dense_transform::log3;
    sparse_output sparse = sparse_output::one_hot;
    bool skip_bad_lines = false;
    int parser_threads = 0;                  // 0: one per hardware thread
    size_t chunk_bytes = size_t(8) << 20;    // input bytes per parse job; a line must fit in one
    int64_t multi_hot_block_rows = 1 << 18;  // rows buffered per column block of the npz scratch file
    std::function<void(const convert_progress&)> on_progress;  // called about once a second by the writer
};

struct convert_report {
    int64_t rows = 0;
    int64_t bad_lines = 0;
    std::vector<std::string> first_bad;  // "file:line N: message" of the first few skipped lines
    uint64_t data_bytes = 0;
    double seconds = 0;
    std::vector<std::string> outputs;    // the files written, in the order committed
};

// All-or-nothing: nothing appears under the output names unless every input converted (or, with
// skip_bad_lines, every bad line was skipped) and every file was written.
result<convert_report> convert_criteo(const convert_options& opt);

}  // namespace dlrm

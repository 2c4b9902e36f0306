// The Criteo dataset the engine scores: one day of the MLPerf multi-hot layout, the torchrec one-hot
// layout or a Facebook DLRM .bin file, memory-mapped and read batch by batch without copies beyond
// the caller's buffers. The files and the rules are in formats/criteo/criteo.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"
#include "formats/mapped_file.h"
#include "formats/zip/npz.h"

namespace dlrm {

enum class dataset_layout { mlperf_multi_hot, torchrec_one_hot, facebook_bin };
const char* dataset_layout_name(dataset_layout l);  // "mlperf-multi-hot", "torchrec-one-hot", "facebook-bin"

class criteo_dataset {
public:
    // path_dir_or_bin: a directory holding day_{day}_* files (tried in this order: multi-hot npz,
    // one-hot npy, day_{day}.bin), or a path to a *.bin file (day is then ignored).
    // table_rows: rows of each table of the model. Given, the table count must match and ids are
    // reduced (one-hot, .bin) and range-checked in read_batch; empty = unknown (describe/info only:
    // ids are returned as stored, only negative one-hot/.bin ids are refused).
    static result<criteo_dataset> open(const std::string& path_dir_or_bin, int day, std::vector<int64_t> table_rows);

    dataset_layout layout() const { return layout_; }
    int64_t rows() const { return rows_; }
    int64_t num_dense() const { return num_dense_; }  // 13 for every Criteo layout
    int64_t num_tables() const { return int64_t(bags_.size()); }
    int32_t bag_size(int64_t t) const { return bags_[size_t(t)]; }  // fixed ids per sample (1 for one-hot/.bin)
    int64_t ids_per_row() const;                                     // sum of bag sizes
    const std::vector<int64_t>& table_rows() const { return table_rows_; }
    std::string describe() const;  // multi-line summary: layout, files, rows, dtypes, bag sizes

    // Rows [r0, r0 + n): dense n × num_dense() row-major floats (ln(x + 1) of the clamped counts for
    // .bin), labels n int32 0/1 (labels may be null), ids[t] → n · bag_size(t) int32 per table,
    // row-major (bag of row i at ids[t] + i · bag_size(t)); one-hot/.bin ids reduced modulo
    // table_rows[t], multi-hot ids checked 0 ≤ id < table_rows[t]. Errors name the file, the row,
    // the value and the rule. Const and allocation-free: threads may call it concurrently on
    // disjoint buffers.
    status read_batch(int64_t r0, int64_t n, float* dense, int32_t* labels, int32_t* const* ids) const;
    status read_labels(int64_t r0, int64_t n, int32_t* labels) const;

private:
    enum class label_type { i4, i8, u1, b1, f4 };
    struct table_src {
        const uint8_t* data = nullptr;  // multi-hot member data: (rows, bag) int32, any alignment
        std::string name;               // for messages: "<npz> member 7.npy"
        uint32_t mod_d = 0;             // one-hot/.bin: reduce ids modulo this (0: leave as stored)
        uint64_t mod_m = 0;             // Lemire's fastmod constant for mod_d
        uint32_t limit = 0;             // multi-hot: ids must be < limit (0: unchecked)
    };

    status check_rows(int64_t r0, int64_t n) const;
    status read_dense(int64_t r0, int64_t n, float* dense) const;
    status read_ids(int64_t r0, int64_t n, int32_t* const* ids) const;
    status read_bin(int64_t r0, int64_t n, float* dense, int32_t* labels, int32_t* const* ids) const;

    dataset_layout layout_ = dataset_layout::mlperf_multi_hot;
    int64_t rows_ = 0;
    int64_t num_dense_ = 13;
    std::vector<int32_t> bags_;
    std::vector<int64_t> table_rows_;
    std::vector<table_src> tables_;

    // Owned maps; moving them keeps their addresses, so the pointers below stay valid.
    mapped_file dense_file_, labels_file_, sparse_file_, bin_file_;
    npz_file npz_;
    const uint8_t* dense_ = nullptr;
    const uint8_t* labels_ = nullptr;
    const uint8_t* sparse_ = nullptr;  // one-hot (rows, T) int32, or .bin records
    label_type label_type_ = label_type::i4;
    std::string dense_name_, labels_name_, sparse_name_;
    std::string dense_descr_, labels_descr_, labels_shape_, sparse_descr_;
};

}  // namespace dlrm

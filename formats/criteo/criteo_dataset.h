// The Criteo dataset the engine scores: one day of the MLPerf multi-hot layout, the torchrec one-hot
// layout or a Facebook DLRM .bin file, memory-mapped and read batch by batch without copies beyond
// the caller's buffers. The files and the rules are in formats/criteo/criteo.md.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/status.h"
#include "formats/mapped_file.h"
#include "formats/zip/npz.h"

namespace dlrm {

enum class dataset_layout { mlperf_multi_hot, torchrec_one_hot, facebook_bin };
const char* dataset_layout_name(dataset_layout l);  // "mlperf-multi-hot", "torchrec-one-hot", "facebook-bin"

// What read_batch does with a bad id: multi-hot, outside [0, table rows); one-hot / .bin, negative
// (other one-hot / .bin ids are reduced modulo the table size, so they are never out of range).
// Rules and the reasons for them: criteo.md, "Bad ids".
enum class index_policy {
    error,  // refuse the batch, naming the file, row, id and table (the default)
    clamp,  // id < 0 → 0, id ≥ rows → rows − 1
    skip,   // drop the id from its bag: the bag pools the remaining ids (zeros if none remain)
};
const char* index_policy_name(index_policy p);  // "error", "clamp", "skip"
result<index_policy> parse_index_policy(const std::string& s);

// Bad ids met by read_batch so far (clamp / skip; error stops at the first): ids, and rows with at
// least one. Totals over disjoint batches, so the same rows give the same counts whatever the threads.
struct bad_index_counts {
    int64_t ids = 0;
    int64_t rows = 0;
};

class criteo_dataset {
public:
    // path_dir_or_bin: a directory holding day_{day}_* files (tried in this order: multi-hot npz,
    // one-hot npy, day_{day}.bin), or a path to a *.bin file (day is then ignored).
    // table_rows: rows of each table of the model. Given, the table count must match and ids are
    // reduced (one-hot, .bin) and range-checked in read_batch; empty = unknown (describe/info only:
    // ids are returned as stored, only negative one-hot/.bin ids are refused).
    // on_bad: the index policy read_batch applies (only meaningful with table_rows given).
    static result<criteo_dataset> open(const std::string& path_dir_or_bin, int day, std::vector<int64_t> table_rows,
                                       index_policy on_bad = index_policy::error);

    dataset_layout layout() const { return layout_; }
    int64_t rows() const { return rows_; }
    int64_t num_dense() const { return num_dense_; }  // 13 for every Criteo layout
    int64_t num_tables() const { return int64_t(bags_.size()); }
    int32_t bag_size(int64_t t) const { return bags_[size_t(t)]; }  // fixed ids per sample (1 for one-hot/.bin)
    int64_t ids_per_row() const;                                     // sum of bag sizes
    const std::vector<int64_t>& table_rows() const { return table_rows_; }
    index_policy on_bad_index() const { return on_bad_; }
    bad_index_counts bad_indices() const;  // totals over every read_batch so far
    std::string describe() const;  // multi-line summary: layout, files, rows, dtypes, bag sizes

    // Rows [r0, r0 + n): dense n × num_dense() row-major floats (ln(x + 1) of the clamped counts for
    // .bin), labels n int32 0/1 (labels may be null), ids[t] → n · bag_size(t) int32 per table,
    // row-major (bag of row i at ids[t] + i · bag_size(t)); one-hot/.bin ids reduced modulo
    // table_rows[t], multi-hot ids checked 0 ≤ id < table_rows[t]. Errors name the file, the row,
    // the value and the rule. Const and allocation-free: threads may call it concurrently on
    // disjoint buffers.
    //
    // offsets (per table, n + 1 int32) is required with index_policy::skip and ignored otherwise:
    // read_batch then packs each table's surviving ids to the front of ids[t] and writes the bag
    // boundaries, bag i = ids[t][offsets[t][i] .. offsets[t][i + 1]) (kernels::embbag_table_args).
    status read_batch(int64_t r0, int64_t n, float* dense, int32_t* labels, int32_t* const* ids,
                      int32_t* const* offsets = nullptr) const;
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
    status read_ids(int64_t r0, int64_t n, int32_t* const* ids, int32_t* const* offsets) const;
    status read_bin(int64_t r0, int64_t n, float* dense, int32_t* labels, int32_t* const* ids,
                    int32_t* const* offsets) const;
    bool id_bad(int64_t t, int32_t v) const;
    void repair_ids(int64_t n, int32_t* const* ids, int32_t* const* offsets) const;

    dataset_layout layout_ = dataset_layout::mlperf_multi_hot;
    int64_t rows_ = 0;
    int64_t num_dense_ = 13;
    std::vector<int32_t> bags_;
    std::vector<int64_t> table_rows_;
    std::vector<table_src> tables_;
    index_policy on_bad_ = index_policy::error;
    struct counters {
        std::atomic<int64_t> ids{0}, rows{0};
    };
    std::unique_ptr<counters> bad_ = std::make_unique<counters>();  // heap: the dataset stays movable

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

// libFuzzer target: the Criteo dataset reader (formats/criteo/criteo_dataset.cpp) in all three
// layouts, through criteo_dataset::open on real files as `dlrm run` uses it.
// Input: byte 0 picks the layout (mod 3: 0 = Facebook .bin, 1 = torchrec one-hot, 2 = MLPerf
// multi-hot), byte 1 the table sizes and index policy, then length-prefixed parts (fuzz_common.h):
//   .bin: the .bin file; one-hot: dense.npy, labels.npy, sparse.npy; multi-hot: dense.npy, labels.npy, npz.
// The dataset is opened without table sizes (dlrm info), then with sizes derived from byte 1, and
// every row is read in batches.
#include <algorithm>
#include <vector>

#include "formats/criteo/criteo_dataset.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

void read_all(const dlrm::criteo_dataset& d) {
    (void)d.describe();
    const int64_t rows = std::min<int64_t>(d.rows(), 4096);
    const int64_t batch = 61;  // odd on purpose: batches straddle every boundary
    std::vector<float> dense;
    std::vector<int32_t> labels;
    std::vector<std::vector<int32_t>> ids(size_t(d.num_tables()));
    std::vector<std::vector<int32_t>> offsets(size_t(d.num_tables()));
    std::vector<int32_t*> id_ptrs, off_ptrs;
    for (int64_t r0 = 0; r0 < rows; r0 += batch) {
        const int64_t n = std::min(batch, rows - r0);
        dense.assign(size_t(n * d.num_dense()), 0.0f);
        labels.assign(size_t(n), 0);
        id_ptrs.clear();
        off_ptrs.clear();
        for (int64_t t = 0; t < d.num_tables(); ++t) {
            ids[size_t(t)].assign(size_t(n * d.bag_size(t)), 0);
            offsets[size_t(t)].assign(size_t(n + 1), 0);
            id_ptrs.push_back(ids[size_t(t)].data());
            off_ptrs.push_back(offsets[size_t(t)].data());
        }
        if (!d.read_batch(r0, n, dense.data(), labels.data(), id_ptrs.data(), off_ptrs.data()).ok()) return;
        for (int32_t l : labels) if (l != 0 && l != 1) __builtin_trap();
        if (!d.table_rows().empty())
            for (int64_t t = 0; t < d.num_tables(); ++t) {
                // Every id handed to the engine is a valid row of its table; skip's offsets are sane.
                const bool var = d.on_bad_index() == dlrm::index_policy::skip;
                const int64_t count = var ? offsets[size_t(t)][size_t(n)] : n * d.bag_size(t);
                if (var && offsets[size_t(t)][0] != 0) __builtin_trap();
                for (int64_t i = 0; var && i < n; ++i)
                    if (offsets[size_t(t)][size_t(i + 1)] < offsets[size_t(t)][size_t(i)] ||
                        offsets[size_t(t)][size_t(i + 1)] - offsets[size_t(t)][size_t(i)] > d.bag_size(t))
                        __builtin_trap();
                for (int64_t i = 0; i < count; ++i) {
                    int32_t id = ids[size_t(t)][size_t(i)];
                    if (id < 0 || id >= d.table_rows()[size_t(t)]) __builtin_trap();
                }
            }
    }
    if (rows > 0) {
        labels.assign(size_t(rows), 0);
        (void)d.read_labels(0, rows, labels.data());
    }
    (void)d.read_batch(rows, 1, dense.data(), nullptr, id_ptrs.data());  // past the end: must fail cleanly
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const int layout = data[0] % 3;
    const uint8_t knob = data[1];
    dlrm_fuzz::parts in{data + 2, size - 2};
    static const char* names[3][3] = {{"day_0.bin", nullptr, nullptr},
                                      {"day_0_dense.npy", "day_0_labels.npy", "day_0_sparse.npy"},
                                      {"day_0_dense.npy", "day_0_labels.npy", "day_0_sparse_multi_hot.npz"}};
    for (int l = 0; l < 3; ++l)
        for (const char* n : names[l]) if (n) dlrm_fuzz::remove_file(n);
    for (const char* n : names[layout]) {
        if (!n) break;
        const uint8_t* b = nullptr;
        size_t len = 0;
        if (!in.next(b, len)) break;
        dlrm_fuzz::write_file(n, b, len);
    }
    auto d = dlrm::criteo_dataset::open(dlrm_fuzz::temp_dir(), 0, {});
    if (!d.ok()) return 0;
    read_all(*d);
    // Table sizes from the knob: tiny (ids go out of range), mixed, or ≥ 2^31 (no reduction).
    std::vector<int64_t> rows(size_t(d->num_tables()));
    for (size_t t = 0; t < rows.size(); ++t) {
        switch (knob & 3) {
            case 0: rows[t] = 1; break;
            case 1: rows[t] = 1 + int64_t((t * 7919u + knob) % 1000); break;
            case 2: rows[t] = int64_t(1) << 31; break;
            default: rows[t] = 40000000; break;
        }
    }
    static const dlrm::index_policy policies[] = {dlrm::index_policy::error, dlrm::index_policy::clamp,
                                                  dlrm::index_policy::skip, dlrm::index_policy::error};
    auto e = dlrm::criteo_dataset::open(dlrm_fuzz::temp_dir(), 0, rows, policies[(knob >> 2) & 3]);
    if (e.ok()) read_all(*e);
    return 0;
}

#include "formats/criteo/criteo_dataset.h"

#include <sys/stat.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

#include "formats/npy/npy.h"

namespace dlrm {

static_assert(std::endian::native == std::endian::little,
              "the Criteo files are little-endian and are read in place");

namespace {

__extension__ typedef unsigned __int128 u128;

constexpr int64_t k_bin_fields = 40;     // label, 13 dense, 26 categorical
constexpr int64_t k_bin_record = k_bin_fields * 4;
constexpr int64_t k_bin_dense = 13, k_bin_tables = 26;

int32_t ld_i32(const uint8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// a % d for 32-bit a and d ≥ 1 without a division (Lemire, Kaser, Kurz 2019): m = 2^64 / d rounded up.
uint64_t fastmod_m(uint32_t d) { return ~uint64_t(0) / d + 1; }
uint32_t fastmod(uint32_t a, uint64_t m, uint32_t d) {
    uint64_t low = m * a;
    return uint32_t((u128(low) * d) >> 64);
}

std::string s(int64_t v) { return std::to_string(v); }

bool is_file(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool is_dir(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool ends_with(const std::string& a, const std::string& b) {
    return a.size() >= b.size() && a.compare(a.size() - b.size(), b.size(), b) == 0;
}

std::string float_kind(float f) { return std::isnan(f) ? "NaN" : (f > 0 ? "+Inf" : "-Inf"); }

// Opens a .npy and keeps its map; the view's pointers stay valid after the map is moved.
status open_npy(const std::string& path, mapped_file& file, npy_view& view) {
    auto m = mapped_file::open(path);
    if (!m.ok()) return m.error();
    file = m.take();
    auto v = parse_npy(file.data(), file.size(), path);
    if (!v.ok()) return v.error();
    view = v.take();
    return {};
}

status expect_descr(const npy_view& v, const std::string& name, const char* descr, const char* what) {
    if (v.descr != descr)
        return status::error(name + ": dtype '" + v.descr + "': expected '" + descr + "' (" + what + ")");
    return {};
}

status expect_2d(const npy_view& v, const std::string& name, const char* expected) {
    if (v.shape.size() != 2 || v.shape[1] < 1)
        return status::error(name + ": shape " + v.shape_text() + ": expected " + expected);
    return {};
}

status same_rows(int64_t rows, const std::string& name, const std::string& ref_name, int64_t ref_rows) {
    if (rows != ref_rows)
        return status::error(name + ": " + s(rows) + " rows, but " + ref_name + " has " + s(ref_rows) +
                             ": every file of a day must have the same rows");
    return {};
}

}  // namespace

const char* dataset_layout_name(dataset_layout l) {
    switch (l) {
        case dataset_layout::mlperf_multi_hot: return "mlperf-multi-hot";
        case dataset_layout::torchrec_one_hot: return "torchrec-one-hot";
        case dataset_layout::facebook_bin: return "facebook-bin";
    }
    return "unknown";
}

const char* index_policy_name(index_policy p) {
    switch (p) {
        case index_policy::error: return "error";
        case index_policy::clamp: return "clamp";
        case index_policy::skip: return "skip";
    }
    return "unknown";
}

result<index_policy> parse_index_policy(const std::string& v) {
    if (v == "error") return index_policy::error;
    if (v == "clamp") return index_policy::clamp;
    if (v == "skip") return index_policy::skip;
    return status::error("--on-bad-index '" + v + "': expected error, clamp or skip");
}

bad_index_counts criteo_dataset::bad_indices() const {
    return {bad_->ids.load(std::memory_order_relaxed), bad_->rows.load(std::memory_order_relaxed)};
}

int64_t criteo_dataset::ids_per_row() const {
    int64_t n = 0;
    for (int32_t b : bags_) n += b;
    return n;
}

result<criteo_dataset> criteo_dataset::open(const std::string& path, int day, std::vector<int64_t> table_rows,
                                            index_policy on_bad) {
    criteo_dataset d;
    d.on_bad_ = on_bad;
    for (size_t t = 0; t < table_rows.size(); ++t)
        if (table_rows[t] < 1)
            return status::error("table " + s(int64_t(t)) + ": " + s(table_rows[t]) + " rows: a table needs at least one row");
    d.table_rows_ = std::move(table_rows);

    std::string dir, bin;
    if (is_dir(path)) {
        if (day < 0) return status::error("day " + s(day) + ": must be ≥ 0");
        dir = path + (ends_with(path, "/") ? "" : "/");
        std::string pre = dir + "day_" + s(day);
        if (is_file(pre + "_sparse_multi_hot.npz")) d.layout_ = dataset_layout::mlperf_multi_hot;
        else if (is_file(pre + "_sparse.npy")) d.layout_ = dataset_layout::torchrec_one_hot;
        else if (is_file(pre + ".bin")) d.layout_ = dataset_layout::facebook_bin, bin = pre + ".bin";
        else
            return status::error(path + ": no Criteo data for day " + s(day) + ": expected day_" + s(day) +
                                 "_sparse_multi_hot.npz (MLPerf multi-hot), day_" + s(day) +
                                 "_sparse.npy (torchrec one-hot) or day_" + s(day) + ".bin (Facebook DLRM)");
    } else if (is_file(path)) {
        if (!ends_with(path, ".bin"))
            return status::error(path + ": not a directory or a .bin file: expected a Criteo data directory "
                                 "(day_N_dense.npy, ...) or a Facebook DLRM .bin file");
        d.layout_ = dataset_layout::facebook_bin;
        bin = path;
    } else {
        return status::error(path + ": no such file or directory: expected a Criteo data directory or a .bin file");
    }

    if (d.layout_ == dataset_layout::facebook_bin) {
        auto m = mapped_file::open(bin);
        if (!m.ok()) return m.error();
        d.bin_file_ = m.take();
        d.sparse_name_ = bin;
        if (d.bin_file_.size() % uint64_t(k_bin_record) != 0)
            return status::error(bin + ": " + std::to_string(d.bin_file_.size()) +
                                 " bytes: not a multiple of the 160-byte record (label, 13 dense, 26 categorical int32)");
        d.rows_ = int64_t(d.bin_file_.size() / uint64_t(k_bin_record));
        d.num_dense_ = k_bin_dense;
        d.sparse_ = d.bin_file_.data();
        d.bags_.assign(size_t(k_bin_tables), 1);
        d.tables_.resize(size_t(k_bin_tables));
        for (int64_t t = 0; t < k_bin_tables; ++t) d.tables_[size_t(t)].name = bin;
    } else {
        std::string pre = dir + "day_" + s(day);
        npy_view dense, labels;
        d.dense_name_ = pre + "_dense.npy";
        d.labels_name_ = pre + "_labels.npy";
        DLRM_TRY(open_npy(d.dense_name_, d.dense_file_, dense));
        DLRM_TRY(expect_descr(dense, d.dense_name_, "<f4", "float32"));
        DLRM_TRY(expect_2d(dense, d.dense_name_, "(rows, dense features), e.g. (rows, 13)"));
        d.rows_ = dense.shape[0];
        d.num_dense_ = dense.shape[1];
        d.dense_ = dense.data;
        d.dense_descr_ = dense.descr;

        DLRM_TRY(open_npy(d.labels_name_, d.labels_file_, labels));
        if (labels.descr == "<i4") d.label_type_ = label_type::i4;
        else if (labels.descr == "<i8") d.label_type_ = label_type::i8;
        else if (labels.descr == "|u1") d.label_type_ = label_type::u1;
        else if (labels.descr == "|b1") d.label_type_ = label_type::b1;
        else if (labels.descr == "<f4") d.label_type_ = label_type::f4;
        else
            return status::error(d.labels_name_ + ": dtype '" + labels.descr +
                                 "': expected '<i4' (int32), '<i8', '|u1', '|b1' (bool) or '<f4' holding 0/1");
        if (!(labels.shape.size() == 1 || (labels.shape.size() == 2 && labels.shape[1] == 1)))
            return status::error(d.labels_name_ + ": shape " + labels.shape_text() + ": expected (rows,) or (rows, 1)");
        DLRM_TRY(same_rows(labels.shape[0], d.labels_name_, d.dense_name_, d.rows_));
        d.labels_ = labels.data;
        d.labels_descr_ = labels.descr;
        d.labels_shape_ = labels.shape_text();

        if (d.layout_ == dataset_layout::mlperf_multi_hot) {
            d.sparse_name_ = pre + "_sparse_multi_hot.npz";
            auto z = npz_file::open(d.sparse_name_);
            if (!z.ok()) return z.error();
            d.npz_ = z.take();
            const auto& members = d.npz_.zip().members();
            size_t tables = members.size();
            if (tables == 0) return status::error(d.sparse_name_ + ": no members: expected 0.npy, 1.npy, ... one per table");
            // Members are named by table index; they may appear in any order in the archive.
            for (const auto& m : members) {
                bool known = false;
                for (size_t t = 0; t < tables && !known; ++t) known = m.name == std::to_string(t) + ".npy";
                if (!known)
                    return status::error(d.sparse_name_ + ": member '" + m.name + "': expected only members 0.npy ... " +
                                         std::to_string(tables - 1) + ".npy, one per table");
            }
            d.bags_.resize(tables);
            d.tables_.resize(tables);
            for (size_t t = 0; t < tables; ++t) {
                std::string mname = std::to_string(t) + ".npy";
                std::string full = d.sparse_name_ + " member " + mname;
                auto v = d.npz_.member(mname);
                if (!v.ok()) return v.error();
                DLRM_TRY(expect_descr(*v, full, "<i4", "int32"));
                DLRM_TRY(expect_2d(*v, full, "(rows, ids per sample)"));
                DLRM_TRY(same_rows(v->shape[0], full, d.dense_name_, d.rows_));
                if (v->shape[1] > std::numeric_limits<int32_t>::max())
                    return status::error(full + ": shape " + v->shape_text() + ": bag size too large");
                d.bags_[t] = int32_t(v->shape[1]);
                d.tables_[t].data = v->data;
                d.tables_[t].name = full;
            }
            d.sparse_descr_ = "<i4";
        } else {
            d.sparse_name_ = pre + "_sparse.npy";
            npy_view sp;
            DLRM_TRY(open_npy(d.sparse_name_, d.sparse_file_, sp));
            DLRM_TRY(expect_descr(sp, d.sparse_name_, "<i4", "int32"));
            DLRM_TRY(expect_2d(sp, d.sparse_name_, "(rows, tables), e.g. (rows, 26)"));
            DLRM_TRY(same_rows(sp.shape[0], d.sparse_name_, d.dense_name_, d.rows_));
            d.sparse_ = sp.data;
            d.sparse_descr_ = sp.descr;
            d.bags_.assign(size_t(sp.shape[1]), 1);
            d.tables_.resize(size_t(sp.shape[1]));
            for (auto& t : d.tables_) t.name = d.sparse_name_;
        }
    }

    if (!d.table_rows_.empty()) {
        if (d.table_rows_.size() != d.bags_.size())
            return status::error(d.sparse_name_ + ": " + s(int64_t(d.bags_.size())) + " tables in the data: the model has " +
                                 s(int64_t(d.table_rows_.size())) + " tables: they must match");
        for (size_t t = 0; t < d.tables_.size(); ++t) {
            int64_t r = d.table_rows_[t];
            auto& ts = d.tables_[t];
            // Non-negative int32 ids are all < 2^31: a larger table needs no reduction or check.
            uint32_t capped = r >= (int64_t(1) << 31) ? uint32_t(1) << 31 : uint32_t(r);
            if (d.layout_ == dataset_layout::mlperf_multi_hot) {
                ts.limit = capped;
            } else if (r < (int64_t(1) << 31)) {
                ts.mod_d = uint32_t(r);
                ts.mod_m = fastmod_m(ts.mod_d);
            }
        }
    }
    return d;
}

std::string criteo_dataset::describe() const {
    std::string o = "layout: " + std::string(dataset_layout_name(layout_)) + "\n";
    o += "rows: " + s(rows_) + "\n";
    if (layout_ == dataset_layout::facebook_bin) {
        o += "file: " + sparse_name_ + " (160-byte records: int32 label, 13 int32 counts → ln(x + 1), 26 int32 ids)\n";
    } else {
        o += "dense: " + dense_name_ + " " + dense_descr_ + " (" + s(rows_) + ", " + s(num_dense_) + ")\n";
        o += "labels: " + labels_name_ + " " + labels_descr_ + " " + labels_shape_ + "\n";
        if (layout_ == dataset_layout::mlperf_multi_hot)
            o += "sparse: " + sparse_name_ + " " + s(num_tables()) + " stored members 0.npy ... " + s(num_tables() - 1) +
                 ".npy, " + sparse_descr_ + " (rows, bag size)\n";
        else
            o += "sparse: " + sparse_name_ + " " + sparse_descr_ + " (" + s(rows_) + ", " + s(num_tables()) + ")\n";
    }
    o += "tables: " + s(num_tables()) + ", bag sizes ";
    for (size_t t = 0; t < bags_.size(); ++t) {
        if (t) o += ",";
        o += std::to_string(bags_[t]);
    }
    o += " (" + s(ids_per_row()) + " ids per row)\n";
    if (table_rows_.empty()) o += "ids: not checked (table sizes unknown)\n";
    else if (layout_ == dataset_layout::mlperf_multi_hot) o += "ids: checked against the model's table sizes\n";
    else o += "ids: reduced modulo the model's table sizes\n";
    return o;
}

status criteo_dataset::check_rows(int64_t r0, int64_t n) const {
    if (r0 < 0 || n < 0 || r0 > rows_ || n > rows_ - r0)
        return status::error("rows [" + s(r0) + ", " + s(r0) + " + " + s(n) + "): outside the dataset's " + s(rows_) + " rows");
    return {};
}

status criteo_dataset::read_labels(int64_t r0, int64_t n, int32_t* labels) const {
    DLRM_TRY(check_rows(r0, n));
    if (n == 0) return {};
    if (layout_ == dataset_layout::facebook_bin) {
        uint32_t bad = 0;
        for (int64_t i = 0; i < n; ++i) {
            int32_t v = ld_i32(sparse_ + (r0 + i) * k_bin_record);
            labels[i] = v;
            bad |= uint32_t(v) > 1;
        }
        if (bad)
            for (int64_t i = 0; i < n; ++i)
                if (uint32_t(labels[i]) > 1)
                    return status::error(sparse_name_ + ": row " + s(r0 + i) + ": label " + s(labels[i]) + ": labels must be 0 or 1");
        return {};
    }
    uint32_t bad = 0;
    switch (label_type_) {
        case label_type::i4:
            std::memcpy(labels, labels_ + r0 * 4, size_t(n) * 4);
            for (int64_t i = 0; i < n; ++i) bad |= uint32_t(labels[i]) > 1;
            break;
        case label_type::i8:
            for (int64_t i = 0; i < n; ++i) {
                int64_t v;
                std::memcpy(&v, labels_ + (r0 + i) * 8, 8);
                bad |= uint64_t(v) > 1;
                labels[i] = int32_t(v);
            }
            break;
        case label_type::u1:
        case label_type::b1:
            for (int64_t i = 0; i < n; ++i) {
                uint8_t v = labels_[r0 + i];
                bad |= v > 1;
                labels[i] = v;
            }
            break;
        case label_type::f4:
            for (int64_t i = 0; i < n; ++i) {
                float v;
                std::memcpy(&v, labels_ + (r0 + i) * 4, 4);
                bad |= !(v == 0.0f || v == 1.0f);
                labels[i] = v == 1.0f ? 1 : 0;
            }
            break;
    }
    if (bad) {
        // Second pass only on failure, to name the first bad row with its value as stored.
        for (int64_t i = 0; i < n; ++i) {
            std::string val;
            int64_t r = r0 + i;
            if (label_type_ == label_type::i4) { int32_t v = ld_i32(labels_ + r * 4); if (uint32_t(v) > 1) val = s(v); }
            else if (label_type_ == label_type::i8) { int64_t v; std::memcpy(&v, labels_ + r * 8, 8); if (uint64_t(v) > 1) val = s(v); }
            else if (label_type_ == label_type::f4) {
                float v;
                std::memcpy(&v, labels_ + r * 4, 4);
                if (!(v == 0.0f || v == 1.0f)) { char b[32]; std::snprintf(b, sizeof b, "%.9g", double(v)); val = b; }
            } else if (labels_[r] > 1) val = s(labels_[r]);
            if (!val.empty())
                return status::error(labels_name_ + ": row " + s(r) + ": label " + val + ": labels must be 0 or 1");
        }
    }
    return {};
}

status criteo_dataset::read_dense(int64_t r0, int64_t n, float* dense) const {
    size_t count = size_t(n * num_dense_);
    std::memcpy(dense, dense_ + r0 * num_dense_ * 4, count * 4);
    // Exponent all ones = NaN or Inf. Integer test so the loop vectorises and ignores -ffast-math.
    uint32_t bad = 0;
    for (size_t i = 0; i < count; ++i) {
        uint32_t u;
        std::memcpy(&u, dense + i, 4);
        bad |= (u & 0x7f800000u) == 0x7f800000u;
    }
    if (bad)
        for (size_t i = 0; i < count; ++i) {
            uint32_t u;
            std::memcpy(&u, dense + i, 4);
            if ((u & 0x7f800000u) == 0x7f800000u)
                return status::error(dense_name_ + ": row " + s(r0 + int64_t(i) / num_dense_) + " column " +
                                     s(int64_t(i) % num_dense_) + ": " + float_kind(dense[i]) +
                                     ": dense features must be finite");
        }
    return {};
}

// True if id v of table t is one the index policy acts on (see index_policy).
bool criteo_dataset::id_bad(int64_t t, int32_t v) const {
    if (layout_ == dataset_layout::mlperf_multi_hot) {
        const uint32_t lim = tables_[size_t(t)].limit;
        return lim != 0 && uint32_t(v) >= lim;  // negatives wrap above lim
    }
    return v < 0;
}

// clamp / skip on a batch that holds bad ids (the rare path): counts them row-major, so a row with
// bad ids in several tables counts once, then clamps in place or packs the surviving ids of each
// table to the front and writes the bag boundaries.
void criteo_dataset::repair_ids(int64_t n, int32_t* const* ids, int32_t* const* offsets) const {
    const int64_t tables = num_tables();
    int64_t bad_ids = 0, bad_rows = 0;
    for (int64_t i = 0; i < n; ++i) {
        bool row_bad = false;
        for (int64_t t = 0; t < tables; ++t) {
            const int64_t bag = bags_[size_t(t)];
            int32_t* b = ids[t] + i * bag;
            for (int64_t j = 0; j < bag; ++j) {
                if (!id_bad(t, b[j])) continue;
                ++bad_ids;
                row_bad = true;
                // Only multi-hot ids can be too large, and only when the table has < 2^31 rows.
                if (on_bad_ == index_policy::clamp) b[j] = b[j] < 0 ? 0 : int32_t(table_rows_[size_t(t)] - 1);
            }
        }
        bad_rows += row_bad;
    }
    if (on_bad_ == index_policy::skip)
        for (int64_t t = 0; t < tables; ++t) {
            const int64_t bag = bags_[size_t(t)];
            int32_t* dst = ids[t];
            int32_t* off = offsets[t];
            int32_t w = 0;  // never passes the read position, so packing in place is safe
            off[0] = 0;
            for (int64_t i = 0; i < n; ++i) {
                for (int64_t j = 0; j < bag; ++j) {
                    const int32_t v = dst[i * bag + j];
                    if (!id_bad(t, v)) dst[w++] = v;
                }
                off[i + 1] = w;
            }
        }
    bad_->ids.fetch_add(bad_ids, std::memory_order_relaxed);
    bad_->rows.fetch_add(bad_rows, std::memory_order_relaxed);
}

status criteo_dataset::read_ids(int64_t r0, int64_t n, int32_t* const* ids, int32_t* const* offsets) const {
    const int64_t tables = num_tables();
    const bool skip = on_bad_ == index_policy::skip;
    if (skip) {
        if (!offsets) return status::error("read_batch: index policy 'skip' needs offsets (n + 1 per table)");
        for (int64_t t = 0; t < tables; ++t)
            if (n * bags_[size_t(t)] > std::numeric_limits<int32_t>::max())
                return status::error("read_batch: " + s(n) + " rows × bag size " + s(bags_[size_t(t)]) + " of table " +
                                     s(t) + ": more ids than int32 offsets can address; read smaller batches");
    }
    bool any_bad = false;
    if (layout_ == dataset_layout::mlperf_multi_hot) {
        for (int64_t t = 0; t < tables; ++t) {
            const table_src& ts = tables_[size_t(t)];
            const int64_t bag = bags_[size_t(t)];
            int32_t* dst = ids[t];
            size_t count = size_t(n * bag);
            std::memcpy(dst, ts.data + r0 * bag * 4, count * 4);  // member data is unaligned: memcpy
            if (ts.limit == 0) continue;
            const uint32_t lim = ts.limit;
            uint32_t bad = 0;
            for (size_t i = 0; i < count; ++i) bad |= uint32_t(dst[i]) >= lim;  // negatives wrap above lim
            if (!bad) continue;
            any_bad = true;
            if (on_bad_ == index_policy::error)
                for (size_t i = 0; i < count; ++i)
                    if (uint32_t(dst[i]) >= lim)
                        return status::error(ts.name + ": row " + s(r0 + int64_t(i) / bag) + ": id " + s(dst[i]) +
                                             " is out of range [0, " + s(table_rows_[size_t(t)]) + ") of table " + s(t));
        }
    } else {
        // One-hot (rows, T) or .bin records: gather column t of each row, refuse negatives, reduce.
        const bool bin = layout_ == dataset_layout::facebook_bin;
        const int64_t stride = bin ? k_bin_record : tables * 4;
        const int64_t first = bin ? (1 + k_bin_dense) * 4 : 0;
        int32_t neg = 0;
        for (int64_t i = 0; i < n; ++i) {
            const uint8_t* row = sparse_ + (r0 + i) * stride + first;
            for (int64_t t = 0; t < tables; ++t) {
                int32_t v = ld_i32(row + t * 4);
                neg |= v;
                ids[t][i] = v;
            }
        }
        if (neg < 0) {
            any_bad = true;
            if (on_bad_ == index_policy::error)
                for (int64_t i = 0; i < n; ++i)
                    for (int64_t t = 0; t < tables; ++t)
                        if (ids[t][i] < 0)
                            return status::error(sparse_name_ + ": row " + s(r0 + i) + " column " + s(t) + ": id " +
                                                 s(ids[t][i]) + " is negative: categorical ids must be ≥ 0 (they are "
                                                 "reduced modulo the table size)");
        }
    }
    if (any_bad) {
        repair_ids(n, ids, offsets);
    } else if (skip) {
        for (int64_t t = 0; t < tables; ++t)
            for (int64_t i = 0; i <= n; ++i) offsets[t][i] = int32_t(i * bags_[size_t(t)]);
    }
    if (layout_ == dataset_layout::mlperf_multi_hot) return {};
    for (int64_t t = 0; t < tables; ++t) {
        const table_src& ts = tables_[size_t(t)];
        if (ts.mod_d == 0) continue;
        int32_t* dst = ids[t];
        const uint64_t m = ts.mod_m;
        const uint32_t d = ts.mod_d;
        const int64_t count = skip ? offsets[t][n] : n;
        for (int64_t i = 0; i < count; ++i) dst[i] = int32_t(fastmod(uint32_t(dst[i]), m, d));
    }
    return {};
}

status criteo_dataset::read_bin(int64_t r0, int64_t n, float* dense, int32_t* labels, int32_t* const* ids,
                                int32_t* const* offsets) const {
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t* rec = sparse_ + (r0 + i) * k_bin_record + 4;
        float* out = dense + i * k_bin_dense;
        for (int64_t j = 0; j < k_bin_dense; ++j) {
            int32_t v = ld_i32(rec + j * 4);
            // Facebook's loader: negative counts clamp to 0, then log(float(x) + 1) in float32.
            out[j] = std::log(float(v < 0 ? 0 : v) + 1.0f);
        }
    }
    if (labels) DLRM_TRY(read_labels(r0, n, labels));
    return read_ids(r0, n, ids, offsets);
}

status criteo_dataset::read_batch(int64_t r0, int64_t n, float* dense, int32_t* labels, int32_t* const* ids,
                                  int32_t* const* offsets) const {
    DLRM_TRY(check_rows(r0, n));
    if (n == 0) {
        if (on_bad_ == index_policy::skip && offsets)
            for (int64_t t = 0; t < num_tables(); ++t) offsets[t][0] = 0;
        return {};
    }
    if (layout_ == dataset_layout::facebook_bin) return read_bin(r0, n, dense, labels, ids, offsets);
    DLRM_TRY(read_dense(r0, n, dense));
    if (labels) DLRM_TRY(read_labels(r0, n, labels));
    return read_ids(r0, n, ids, offsets);
}

}  // namespace dlrm

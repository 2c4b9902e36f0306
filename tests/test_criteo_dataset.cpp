// The Criteo dataset reader: the three layouts, their validation, and --rows parsing.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "formats/criteo/criteo_dataset.h"
#include "formats/criteo/row_range.h"
#include "formats/npy/npy.h"
#include "formats/zip/npz.h"
#include "tests/temp_dir.h"

using namespace dlrm;

namespace {

using dlrm::test::temp_dir;

bool have_numpy() {
    static const bool ok = std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
    return ok;
}

bool run_python(const temp_dir& dir, const std::string& code) {
    std::string script = dir / "script.py";
    std::ofstream(script) << "import numpy as np, os\nos.chdir(" << '"' << dir.path << '"' << ")\n" << code;
    std::string cmd = "/usr/bin/python3 " + script;
    return std::system(cmd.c_str()) == 0;
}

// A small MLPerf-layout day with knobs to break one thing at a time.
struct day_spec {
    int64_t rows = 50;
    std::vector<int32_t> bags = {2, 1, 4};
    std::vector<int64_t> id_mod = {100, 7, 1000};  // ids written are reduced by these
    std::string dense_descr = "<f4";
    int64_t dense_cols = 13;
    int64_t label_rows = -1;  // -1: rows
    std::vector<std::string> extra_members;
};

float dense_value(int64_t i, int64_t j) { return float(i * 13 + j) * 0.125f - 7.0f; }
int32_t id_value(int64_t i, int64_t t, int64_t j, int64_t mod) { return int32_t((i * 31 + t * 7 + j * 13) % mod); }

void write_day(const temp_dir& dir, const day_spec& s, int day = 0) {
    std::string pre = dir / ("day_" + std::to_string(day));
    if (s.dense_descr == "<f4") {
        std::vector<float> d(size_t(s.rows * s.dense_cols));
        for (int64_t i = 0; i < s.rows; ++i)
            for (int64_t j = 0; j < s.dense_cols; ++j) d[size_t(i * s.dense_cols + j)] = dense_value(i, j);
        REQUIRE(write_npy(pre + "_dense.npy", "<f4", {s.rows, s.dense_cols}, d.data()).ok());
    } else {
        std::vector<double> d(size_t(s.rows * s.dense_cols), 1.0);
        REQUIRE(write_npy(pre + "_dense.npy", s.dense_descr, {s.rows, s.dense_cols}, d.data()).ok());
    }
    int64_t lr = s.label_rows < 0 ? s.rows : s.label_rows;
    std::vector<int32_t> l(static_cast<size_t>(lr));
    for (int64_t i = 0; i < lr; ++i) l[size_t(i)] = int32_t(i % 3 == 0);
    REQUIRE(write_npy(pre + "_labels.npy", "<i4", {lr, 1}, l.data()).ok());
    auto w = npz_writer::create(pre + "_sparse_multi_hot.npz");
    REQUIRE(w.ok());
    for (size_t t = 0; t < s.bags.size(); ++t) {
        REQUIRE(w->begin_member(std::to_string(t) + ".npy", "<i4", {s.rows, s.bags[t]}).ok());
        for (int64_t i = 0; i < s.rows; ++i)
            for (int64_t j = 0; j < s.bags[t]; ++j) {
                int32_t v = id_value(i, int64_t(t), j, s.id_mod[t]);
                REQUIRE(w->write(&v, 4).ok());
            }
        REQUIRE(w->end_member().ok());
    }
    for (const auto& m : s.extra_members) {
        REQUIRE(w->begin_member(m, "<i4", {s.rows, 1}).ok());
        std::vector<int32_t> z(size_t(s.rows));
        REQUIRE(w->write(z.data(), z.size() * 4).ok());
        REQUIRE(w->end_member().ok());
    }
    REQUIRE(w->commit().ok());
}

// Buffers for one batch of a dataset.
struct batch {
    std::vector<float> dense;
    std::vector<int32_t> labels;
    std::vector<std::vector<int32_t>> ids;
    std::vector<int32_t*> ptrs;
    batch(const criteo_dataset& d, int64_t n) : dense(size_t(n * d.num_dense())), labels(size_t(n)) {
        for (int64_t t = 0; t < d.num_tables(); ++t) ids.emplace_back(size_t(n * d.bag_size(t)), -999);
        for (auto& v : ids) ptrs.push_back(v.data());
    }
    status read(const criteo_dataset& d, int64_t r0, int64_t n) {
        return d.read_batch(r0, n, dense.data(), labels.data(), ptrs.data());
    }
};

std::string open_error(const std::string& path, std::vector<int64_t> rows = {}) {
    auto d = criteo_dataset::open(path, 0, std::move(rows));
    return d.ok() ? "(opened)" : d.error().message();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// One Facebook .bin record: label, 13 counts, 26 ids.
void put_record(std::vector<int32_t>& out, int32_t label, const int32_t* dense13, const int32_t* ids26) {
    out.push_back(label);
    out.insert(out.end(), dense13, dense13 + 13);
    out.insert(out.end(), ids26, ids26 + 26);
}

void write_raw(const std::string& path, const void* p, size_t n) {
    std::ofstream f(path, std::ios::binary);
    f.write(static_cast<const char*>(p), std::streamsize(n));
}

}  // namespace

TEST_CASE("criteo: MLPerf multi-hot day, values and bag layout") {
    temp_dir dir;
    day_spec s;
    write_day(dir, s);
    auto d = criteo_dataset::open(dir.path, 0, s.id_mod);
    REQUIRE_MESSAGE(d.ok(), d.error().message());
    CHECK(d->layout() == dataset_layout::mlperf_multi_hot);
    CHECK(d->rows() == 50);
    CHECK(d->num_dense() == 13);
    CHECK(d->num_tables() == 3);
    CHECK(d->bag_size(0) == 2);
    CHECK(d->bag_size(2) == 4);
    CHECK(d->ids_per_row() == 7);
    CHECK(contains(d->describe(), "bag sizes 2,1,4 (7 ids per row)"));
    CHECK(contains(d->describe(), "day_0_sparse_multi_hot.npz"));

    batch b(*d, 20);
    REQUIRE(b.read(*d, 10, 20).ok());
    for (int64_t i = 0; i < 20; ++i) {
        for (int64_t j = 0; j < 13; ++j) CHECK(b.dense[size_t(i * 13 + j)] == dense_value(10 + i, j));
        CHECK(b.labels[size_t(i)] == int32_t((10 + i) % 3 == 0));
        for (int64_t t = 0; t < 3; ++t)
            for (int64_t j = 0; j < s.bags[size_t(t)]; ++j)
                CHECK(b.ids[size_t(t)][size_t(i * s.bags[size_t(t)] + j)] == id_value(10 + i, t, j, s.id_mod[size_t(t)]));
    }
    std::vector<int32_t> l(50);
    REQUIRE(d->read_labels(0, 50, l.data()).ok());
    CHECK(l[3] == 1);
    CHECK(l[4] == 0);
    // Null labels are allowed; zero rows is a no-op; ranges past the end are refused.
    CHECK(d->read_batch(0, 20, b.dense.data(), nullptr, b.ptrs.data()).ok());
    CHECK(d->read_batch(50, 0, b.dense.data(), nullptr, b.ptrs.data()).ok());
    status past = b.read(*d, 40, 20);
    REQUIRE_FALSE(past.ok());
    CHECK(past.message() == "rows [40, 40 + 20): outside the dataset's 50 rows");
    CHECK_FALSE(b.read(*d, -1, 1).ok());

    // Ids checked against the model: table 2 with only 5 rows.
    auto small = criteo_dataset::open(dir.path, 0, {100, 7, 5});
    REQUIRE(small.ok());
    status e = b.read(*small, 0, 20);
    REQUIRE_FALSE(e.ok());
    // First id ≥ 5 of table 2 in row order: row 0 holds 14, 27, 40, 53 (i·31 + t·7 + j·13).
    CHECK(e.message() == dir / "day_0_sparse_multi_hot.npz member 2.npy: row 0: id 14 is out of range [0, 5) of table 2");
    // Unknown table sizes: ids come back as stored.
    auto info = criteo_dataset::open(dir.path, 0, {});
    REQUIRE(info.ok());
    CHECK(b.read(*info, 0, 20).ok());
    CHECK(contains(info->describe(), "not checked"));
}

TEST_CASE("criteo: multi-hot validation messages") {
    SUBCASE("out of range id names the member, row, value and table") {
        temp_dir dir;
        day_spec s;
        write_day(dir, s);
        // Rewrite the ids: all zero but one, planted in table 2 at row 37, bag position 1.
        auto w = npz_writer::create(dir / "day_0_sparse_multi_hot.npz");
        REQUIRE(w.ok());
        for (int t = 0; t < 3; ++t) {
            REQUIRE(w->begin_member(std::to_string(t) + ".npy", "<i4", {50, s.bags[size_t(t)]}).ok());
            for (int64_t i = 0; i < 50 * s.bags[size_t(t)]; ++i) {
                int32_t v = (t == 2 && i == 37 * 4 + 1) ? 40000123 : 0;
                REQUIRE(w->write(&v, 4).ok());
            }
            REQUIRE(w->end_member().ok());
        }
        REQUIRE(w->commit().ok());
        auto d = criteo_dataset::open(dir.path, 0, {100, 7, 40000000});
        REQUIRE(d.ok());
        batch b(*d, 50);
        status e = b.read(*d, 0, 50);
        REQUIRE_FALSE(e.ok());
        CHECK(e.message() ==
              dir / "day_0_sparse_multi_hot.npz member 2.npy: row 37: id 40000123 is out of range [0, 40000000) of table 2");
        // Read in a later batch, the message gives the absolute row.
        CHECK(contains(b.read(*d, 30, 10).message(), "row 37: id 40000123"));
        CHECK(b.read(*d, 38, 10).ok());
        CHECK(b.read(*d, 0, 37).ok());
        auto roomy = criteo_dataset::open(dir.path, 0, {100, 7, 40000124});
        REQUIRE(roomy.ok());
        CHECK(b.read(*roomy, 0, 50).ok());
    }
    SUBCASE("wrong dense dtype") {
        temp_dir dir;
        day_spec s;
        s.dense_descr = "<f8";
        write_day(dir, s);
        CHECK(open_error(dir.path) == dir / "day_0_dense.npy: dtype '<f8': expected '<f4' (float32)");
    }
    SUBCASE("row counts differ between files") {
        temp_dir dir;
        day_spec s;
        s.label_rows = 49;
        write_day(dir, s);
        CHECK(open_error(dir.path) == dir / "day_0_labels.npy: 49 rows, but " + dir / "day_0_dense.npy has 50: every file of a day must have the same rows");
    }
    SUBCASE("table count differs from the model") {
        temp_dir dir;
        write_day(dir, day_spec{});
        CHECK(contains(open_error(dir.path, {100, 7}), "3 tables in the data: the model has 2 tables: they must match"));
        CHECK(contains(open_error(dir.path, {100, 0, 5}), "table 1: 0 rows"));
    }
    SUBCASE("unexpected member") {
        temp_dir dir;
        day_spec s;
        s.extra_members = {"x.npy"};
        write_day(dir, s);
        CHECK(contains(open_error(dir.path), "member 'x.npy': expected only members 0.npy ... 3.npy"));
    }
    SUBCASE("NaN and Inf in dense") {
        temp_dir dir;
        write_day(dir, day_spec{});
        std::vector<float> d(50 * 13, 1.0f);
        d[5 * 13 + 3] = std::nanf("");
        d[7 * 13 + 0] = -INFINITY;
        REQUIRE(write_npy(dir / "day_0_dense.npy", "<f4", {50, 13}, d.data()).ok());
        auto ds = criteo_dataset::open(dir.path, 0, {100, 7, 1000});
        REQUIRE(ds.ok());  // values are checked as batches are read, not at open
        batch b(*ds, 50);
        CHECK(b.read(*ds, 0, 50).message() == dir / "day_0_dense.npy: row 5 column 3: NaN: dense features must be finite");
        CHECK(b.read(*ds, 6, 10).message() == dir / "day_0_dense.npy: row 7 column 0: -Inf: dense features must be finite");
        CHECK(b.read(*ds, 8, 10).ok());
    }
    SUBCASE("labels not 0/1, wrong label shape") {
        temp_dir dir;
        write_day(dir, day_spec{});
        std::vector<int32_t> l(50, 0);
        l[17] = 2;
        REQUIRE(write_npy(dir / "day_0_labels.npy", "<i4", {50}, l.data()).ok());
        auto ds = criteo_dataset::open(dir.path, 0, {});
        REQUIRE(ds.ok());
        std::vector<int32_t> out(50);
        CHECK(ds->read_labels(0, 50, out.data()).message() == dir / "day_0_labels.npy: row 17: label 2: labels must be 0 or 1");
        REQUIRE(write_npy(dir / "day_0_labels.npy", "<i4", {50, 2}, std::vector<int32_t>(100).data()).ok());
        CHECK(open_error(dir.path) == dir / "day_0_labels.npy: shape (50, 2): expected (rows,) or (rows, 1)");
    }
    SUBCASE("truncated files") {
        temp_dir dir;
        write_day(dir, day_spec{});
        std::filesystem::resize_file(dir / "day_0_dense.npy", 128 + 50 * 13 * 4 - 3);
        CHECK(open_error(dir.path) == dir / "day_0_dense.npy: truncated: shape (50, 13) of <f4 needs 2600 data bytes "
                                      "after the 128-byte header, the file has 2597");
        write_day(dir, day_spec{});
        auto full = std::filesystem::file_size(dir / "day_0_sparse_multi_hot.npz");
        for (auto cut : {uintmax_t(0), uintmax_t(100), full / 2, full - 1}) {
            write_day(dir, day_spec{});
            std::filesystem::resize_file(dir / "day_0_sparse_multi_hot.npz", cut);
            std::string msg = open_error(dir.path);
            CHECK_MESSAGE(contains(msg, dir / "day_0_sparse_multi_hot.npz"), msg);
        }
    }
    SUBCASE("nothing there") {
        temp_dir dir;
        CHECK(contains(open_error(dir.path), "no Criteo data for day 0: expected day_0_sparse_multi_hot.npz"));
        CHECK(contains(open_error(dir / "nope"), "no such file or directory"));
        write_raw(dir / "a.txt", "x", 1);
        CHECK(contains(open_error(dir / "a.txt"), "not a directory or a .bin file"));
    }
}

TEST_CASE("criteo: torchrec one-hot ids are reduced modulo the table, negatives refused") {
    temp_dir dir;
    day_spec s;
    write_day(dir, s);
    std::filesystem::remove(dir / "day_0_sparse_multi_hot.npz");
    const int64_t rows = 50, T = 3;
    std::vector<int32_t> sp(size_t(rows * T));
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t t = 0; t < T; ++t) sp[size_t(i * T + t)] = int32_t(2147483647 - i * 1000 - t);
    REQUIRE(write_npy(dir / "day_0_sparse.npy", "<i4", {rows, T}, sp.data()).ok());
    std::vector<int64_t> table_rows = {40000000, 1, 3};
    auto d = criteo_dataset::open(dir.path, 0, table_rows);
    REQUIRE_MESSAGE(d.ok(), d.error().message());
    CHECK(d->layout() == dataset_layout::torchrec_one_hot);
    CHECK(d->bag_size(1) == 1);
    batch b(*d, rows);
    REQUIRE(b.read(*d, 0, rows).ok());
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t t = 0; t < T; ++t) CHECK(b.ids[size_t(t)][size_t(i)] == sp[size_t(i * T + t)] % table_rows[size_t(t)]);
    CHECK(b.dense[13 * 4 + 2] == dense_value(4, 2));
    // Unknown sizes: ids as stored.
    auto raw = criteo_dataset::open(dir.path, 0, {});
    REQUIRE(raw.ok());
    REQUIRE(b.read(*raw, 0, rows).ok());
    CHECK(b.ids[0][0] == 2147483647);

    sp[size_t(4 * T + 1)] = -7;
    REQUIRE(write_npy(dir / "day_0_sparse.npy", "<i4", {rows, T}, sp.data()).ok());
    auto neg = criteo_dataset::open(dir.path, 0, table_rows);
    REQUIRE(neg.ok());
    CHECK(b.read(*neg, 0, rows).message() ==
          dir / "day_0_sparse.npy: row 4 column 1: id -7 is negative: categorical ids must be ≥ 0 (they are reduced modulo the table size)");
    CHECK(b.read(*neg, 5, 10).ok());
    CHECK(contains(open_error(dir.path, {1, 2}), "3 tables in the data: the model has 2"));
}

TEST_CASE("criteo: Facebook .bin records, ln(x + 1) transform, modulo, size rule") {
    temp_dir dir;
    std::vector<int32_t> recs;
    std::vector<int32_t> counts = {0, -3, 1, 2, 9, 99, 1000, 16777216, 2147483647, 5, 7, 3, 100000};
    std::vector<int32_t> ids(26);
    for (int r = 0; r < 4; ++r) {
        for (int t = 0; t < 26; ++t) ids[size_t(t)] = 1000003 * (r + 1) + t;
        std::vector<int32_t> c = counts;
        c[12] += r;
        put_record(recs, r % 2, c.data(), ids.data());
    }
    write_raw(dir / "train.bin", recs.data(), recs.size() * 4);
    std::vector<int64_t> table_rows(26, 1000);
    table_rows[3] = 7;
    auto d = criteo_dataset::open(dir / "train.bin", 0, table_rows);
    REQUIRE_MESSAGE(d.ok(), d.error().message());
    CHECK(d->layout() == dataset_layout::facebook_bin);
    CHECK(d->rows() == 4);
    CHECK(d->num_dense() == 13);
    CHECK(d->num_tables() == 26);
    batch b(*d, 4);
    REQUIRE(b.read(*d, 0, 4).ok());
    CHECK(b.dense[0] == 0.0f);   // ln(0 + 1)
    CHECK(b.dense[1] == 0.0f);   // negative counts clamp to 0
    CHECK(b.dense[2] == 0.693147182f);  // ln 2 rounded to float32
    for (int r = 0; r < 4; ++r) {
        for (int j = 0; j < 13; ++j) {
            int32_t x = counts[size_t(j)] + (j == 12 ? r : 0);
            CHECK(b.dense[size_t(r * 13 + j)] == std::log(float(std::max(x, 0)) + 1.0f));
        }
        CHECK(b.labels[size_t(r)] == r % 2);
        for (int t = 0; t < 26; ++t) CHECK(b.ids[size_t(t)][size_t(r)] == (1000003 * (r + 1) + t) % table_rows[size_t(t)]);
    }
    // Found as DATA_DIR/day_N.bin as well.
    std::filesystem::copy_file(dir / "train.bin", dir / "day_3.bin");
    auto byday = criteo_dataset::open(dir.path, 3, {});
    REQUIRE(byday.ok());
    CHECK(byday->layout() == dataset_layout::facebook_bin);

    if (have_numpy()) {
        // numpy's float32 log of the same counts agrees to within one ulp (libm implementations differ
        // in the last bit at most).
        REQUIRE(run_python(dir, R"(
r = np.fromfile('train.bin', dtype='<i4').reshape(-1, 40)
np.save('ref.npy', np.log(np.maximum(r[:, 1:14], 0).astype(np.float32) + np.float32(1)))
)"));
        auto ref = npy_file::open(dir / "ref.npy");
        REQUIRE(ref.ok());
        for (size_t i = 0; i < 4 * 13; ++i) {
            float want;
            std::memcpy(&want, ref->view.data + 4 * i, 4);
            CHECK(std::fabs(b.dense[i] - want) <= std::nextafter(want, INFINITY) - want);
        }
    } else {
        MESSAGE("SKIPPED numpy cross-check: /usr/bin/python3 with numpy is missing");
    }

    recs[40 * 2] = 3;  // label of row 2
    recs[40 * 3 + 14 + 5] = -1;  // id of table 5, row 3
    write_raw(dir / "bad.bin", recs.data(), recs.size() * 4);
    auto bad = criteo_dataset::open(dir / "bad.bin", 0, table_rows);
    REQUIRE(bad.ok());
    CHECK(b.read(*bad, 0, 4).message() == dir / "bad.bin: row 2: label 3: labels must be 0 or 1");
    CHECK(d->read_batch(0, 4, b.dense.data(), nullptr, b.ptrs.data()).ok());
    CHECK(bad->read_batch(0, 4, b.dense.data(), nullptr, b.ptrs.data()).message() ==
          dir / "bad.bin: row 3 column 5: id -1 is negative: categorical ids must be ≥ 0 (they are reduced modulo the table size)");

    write_raw(dir / "odd.bin", recs.data(), 161);
    CHECK(open_error(dir / "odd.bin") == dir / "odd.bin: 161 bytes: not a multiple of the 160-byte record (label, 13 dense, 26 categorical int32)");
    CHECK(contains(open_error(dir / "train.bin", {1, 2, 3}), "26 tables in the data: the model has 3"));
}

TEST_CASE("criteo: layout priority in a directory") {
    temp_dir dir;
    write_day(dir, day_spec{});
    std::vector<int32_t> sp(50 * 3, 1);
    REQUIRE(write_npy(dir / "day_0_sparse.npy", "<i4", {50, 3}, sp.data()).ok());
    std::vector<int32_t> rec(40, 0);
    write_raw(dir / "day_0.bin", rec.data(), 160);
    auto a = criteo_dataset::open(dir.path, 0, {});
    REQUIRE(a.ok());
    CHECK(a->layout() == dataset_layout::mlperf_multi_hot);
    std::filesystem::remove(dir / "day_0_sparse_multi_hot.npz");
    auto b = criteo_dataset::open(dir.path, 0, {});
    REQUIRE(b.ok());
    CHECK(b->layout() == dataset_layout::torchrec_one_hot);
    std::filesystem::remove(dir / "day_0_sparse.npy");
    auto c = criteo_dataset::open(dir.path, 0, {});
    REQUIRE(c.ok());
    CHECK(c->layout() == dataset_layout::facebook_bin);
    CHECK(c->rows() == 1);
    CHECK(contains(open_error(dir.path + "/", {}), "(opened)"));
    auto neg = criteo_dataset::open(dir.path, -1, {});
    CHECK_FALSE(neg.ok());
}

TEST_CASE("criteo: files written by numpy (unaligned npz members, label dtypes)") {
    if (!have_numpy()) {
        MESSAGE("SKIPPED: /usr/bin/python3 with numpy is missing");
        return;
    }
    temp_dir dir;
    REQUIRE(run_python(dir, R"(
rows = 300
bags = [3, 2, 1, 7]
sizes = [1000, 39060, 3, 40000000]
rng = np.random.default_rng(7)
np.save('day_0_dense.npy', np.log(rng.integers(0, 1000, size=(rows, 13)).astype(np.float32) + 3))
np.save('day_0_labels.npy', (rng.random(rows) < 0.3).astype(np.int32).reshape(rows, 1))
sp = {str(k): rng.integers(0, sizes[k], size=(rows, bags[k])).astype(np.int32) for k in range(len(bags))}
np.savez('day_0_sparse_multi_hot.npz', **sp)
np.save('ids_ref.npy', np.concatenate([sp[str(k)].ravel() for k in range(len(bags))]))
np.save('dense_ref.npy', np.load('day_0_dense.npy'))
np.save('day_1_dense.npy', np.load('day_0_dense.npy'))
np.savez('day_1_sparse_multi_hot.npz', **sp)
np.save('day_1_labels.npy', np.load('day_0_labels.npy').ravel().astype(np.bool_))
np.save('day_2_dense.npy', np.load('day_0_dense.npy'))
np.savez('day_2_sparse_multi_hot.npz', **sp)
np.save('day_2_labels.npy', np.load('day_0_labels.npy').ravel().astype(np.float32) * 0.5)
np.save('day_3_dense.npy', np.load('day_0_dense.npy').astype(np.float64))
np.savez('day_3_sparse_multi_hot.npz', **sp)
np.save('day_3_labels.npy', np.load('day_0_labels.npy').astype(np.uint8))
)"));
    std::vector<int64_t> sizes = {1000, 39060, 3, 40000000};
    auto d = criteo_dataset::open(dir.path, 0, sizes);
    REQUIRE_MESSAGE(d.ok(), d.error().message());
    CHECK(d->rows() == 300);
    CHECK(d->ids_per_row() == 13);
    batch b(*d, 300);
    REQUIRE(b.read(*d, 0, 300).ok());
    auto ref = npy_file::open(dir / "ids_ref.npy");
    REQUIRE(ref.ok());
    size_t k = 0;
    bool ids_equal = true;
    for (int64_t t = 0; t < 4; ++t)
        for (int32_t v : b.ids[size_t(t)]) {
            int32_t want;
            std::memcpy(&want, ref->view.data + 4 * k++, 4);
            ids_equal = ids_equal && v == want;
        }
    CHECK(ids_equal);
    auto dref = npy_file::open(dir / "dense_ref.npy");
    REQUIRE(dref.ok());
    CHECK(std::memcmp(dref->view.data, b.dense.data(), 300 * 13 * 4) == 0);
    // Reading from an odd row offset exercises unaligned member data in a different phase.
    batch b2(*d, 7);
    REQUIRE(b2.read(*d, 101, 7).ok());
    CHECK(b2.ids[3][0] == b.ids[3][101 * 7]);

    auto bools = criteo_dataset::open(dir.path, 1, sizes);
    REQUIRE_MESSAGE(bools.ok(), bools.error().message());
    std::vector<int32_t> l1(300);
    REQUIRE(bools->read_labels(0, 300, l1.data()).ok());
    CHECK(l1 == b.labels);

    auto halves = criteo_dataset::open(dir.path, 2, sizes);
    REQUIRE(halves.ok());
    status e = halves->read_labels(0, 300, l1.data());
    CHECK(contains(e.message(), "day_2_labels.npy: row "));
    CHECK(contains(e.message(), ": label 0.5: labels must be 0 or 1"));

    CHECK(open_error(dir.path + "/day_3_dense.npy") != "(opened)");
    auto f8 = criteo_dataset::open(dir.path, 3, sizes);
    REQUIRE_FALSE(f8.ok());
    CHECK(f8.error().message() == dir / "day_3_dense.npy: dtype '<f8': expected '<f4' (float32)");
}

TEST_CASE("parse_row_range") {
    auto ok = [](const std::string& t, int64_t total, int64_t a, int64_t b) {
        auto r = parse_row_range(t, total);
        REQUIRE_MESSAGE(r.ok(), r.error().message());
        CHECK(r->first == a);
        CHECK(r->second == b);
    };
    ok("0:1000", 1000, 0, 1000);
    ok("5:7", 1000, 5, 7);
    ok(":300", 1000, 0, 300);
    ok("999:", 1000, 999, 1000);
    ok(":", 1000, 0, 1000);
    ok("0:89137319", 178274637, 0, 89137319);
    auto err = [](const std::string& t, int64_t total) {
        auto r = parse_row_range(t, total);
        return r.ok() ? std::string("(ok)") : r.error().message();
    };
    CHECK(err("5:3", 1000) == "--rows 5:3: empty range: need A < B ≤ 1000 rows");
    CHECK(err("5:5", 1000) == "--rows 5:5: empty range: need A < B ≤ 1000 rows");
    CHECK(err("1000:", 1000) == "--rows 1000:: empty range: need A < B ≤ 1000 rows");
    CHECK(err("0:1001", 1000) == "--rows 0:1001: row 1001 is past the end: need A < B ≤ 1000 rows");
    CHECK(err("-1:5", 1000) == "--rows -1:5: '-1' is not a row number: expected a non-negative integer");
    CHECK(err("1:2x", 1000) == "--rows 1:2x: '2x' is not a row number: expected a non-negative integer");
    CHECK(err("12", 1000) == "--rows 12: expected A:B (rows A to B-1; either side may be empty)");
    CHECK(err("1:2:3", 1000) == "--rows 1:2:3: expected A:B (rows A to B-1; either side may be empty)");
    CHECK(err("99999999999999999999:", 1000) != "(ok)");
    CHECK(err(":", 0) == "--rows :: empty range: need A < B ≤ 0 rows");
}

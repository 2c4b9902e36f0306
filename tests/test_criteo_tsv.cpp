// The Criteo TSV line parser, the .bin record decoder, the dense transforms and the id map, on
// hand-written input with every value checked; plus the fixed-size npy header the converter patches.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <stdlib.h>  // mkdtemp

#include "formats/criteo_tsv/criteo_convert.h"
#include "formats/criteo_tsv/criteo_tsv.h"
#include "formats/criteo_tsv/row_outputs.h"
#include "formats/npy/npy.h"
#include "formats/zip/npz.h"
#include "tests/temp_dir.h"

using namespace dlrm;

namespace {

// label, 13 ints, 26 hashes joined by tabs.
std::string line_of(const std::vector<std::string>& f) {
    std::string s;
    for (size_t i = 0; i < f.size(); ++i) s += (i ? "\t" : "") + f[i];
    return s;
}

std::vector<std::string> full_fields() {
    std::vector<std::string> f = {"1"};
    for (int i = 0; i < 13; ++i) f.push_back(std::to_string(i * 7 - 3));
    for (int i = 0; i < 26; ++i) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%08x", 0x10203040u * uint32_t(i + 1) + uint32_t(i));
        f.push_back(buf);
    }
    return f;
}

status parse(const std::string& s, criteo_raw_row& r) { return parse_criteo_tsv_line(s.data(), s.size(), r); }

}  // namespace

TEST_CASE("criteo tsv: a full line gives every value") {
    criteo_raw_row r;
    const std::string s = line_of(full_fields());
    REQUIRE(parse(s, r).ok());
    CHECK(r.label == 1);
    for (int i = 0; i < 13; ++i) CHECK(r.dense[i] == i * 7 - 3);
    for (int i = 0; i < 26; ++i) CHECK(r.sparse[i] == 0x10203040u * uint32_t(i + 1) + uint32_t(i));
}

TEST_CASE("criteo tsv: empty fields are 0, negatives and both hex cases parse") {
    std::vector<std::string> f(40, "");
    f[0] = "0";
    f[2] = "-1";            // I2
    f[3] = "-2147483648";   // I3: int32 minimum
    f[4] = "2147483647";    // I4: int32 maximum
    f[5] = "007";           // I5: leading zeros
    f[14] = "ffffffff";     // C1: largest hash
    f[15] = "DEADBEEF";     // C2: upper case
    f[16] = "a";            // C3: short hash
    f[39] = "68fd1e64";     // C26
    criteo_raw_row r;
    REQUIRE(parse(line_of(f), r).ok());
    CHECK(r.label == 0);
    const int32_t dense[13] = {0, -1, -2147483647 - 1, 2147483647, 7, 0, 0, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 13; ++i) CHECK(r.dense[i] == dense[i]);
    CHECK(r.sparse[0] == 0xffffffffu);
    CHECK(r.sparse[1] == 0xdeadbeefu);
    CHECK(r.sparse[2] == 0xau);
    for (int i = 3; i < 25; ++i) CHECK(r.sparse[i] == 0u);
    CHECK(r.sparse[25] == 0x68fd1e64u);
}

TEST_CASE("criteo tsv: all-empty features and a trailing \\r\\n") {
    std::vector<std::string> f(40, "");
    f[0] = "1";
    f[39] = "0000abcd";
    criteo_raw_row r;
    for (int i = 0; i < 13; ++i) r.dense[i] = 99;
    for (int i = 0; i < 26; ++i) r.sparse[i] = 99;
    const std::string s = line_of(f) + "\r";  // the converter cuts the '\n'; the '\r' stays
    REQUIRE(parse(s, r).ok());
    CHECK(r.label == 1);
    for (int i = 0; i < 13; ++i) CHECK(r.dense[i] == 0);
    for (int i = 0; i < 25; ++i) CHECK(r.sparse[i] == 0u);
    CHECK(r.sparse[25] == 0xabcdu);
}

TEST_CASE("criteo tsv: wrong field counts name the count") {
    criteo_raw_row r;
    auto f = full_fields();
    f.pop_back();
    status st = parse(line_of(f), r);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().rfind("39 fields: a Criteo line has 40", 0) == 0);

    f = full_fields();
    f.push_back("12");
    st = parse(line_of(f), r);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().rfind("41 fields:", 0) == 0);

    st = parse(line_of(full_fields()) + "\t", r);  // a trailing tab is an empty 41st field
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().rfind("41 fields:", 0) == 0);

    st = parse("1", r);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().rfind("1 field:", 0) == 0);

    st = parse("", r);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().rfind("empty line", 0) == 0);

    st = parse("\r", r);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().rfind("empty line", 0) == 0);

    // Spaces instead of tabs: the whole line is one field.
    std::string spaced = line_of(full_fields());
    for (char& c : spaced) if (c == '\t') c = ' ';
    st = parse(spaced, r);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message().rfind("1 field:", 0) == 0);
}

TEST_CASE("criteo tsv: bad values name the field, the text and the rule") {
    struct bad_case { int field; const char* text; const char* expect; };
    const bad_case cases[] = {
        {0, "2", "label '2': the label must be 0 or 1"},
        {0, "", "label '': the label must be 0 or 1"},
        {0, "01", "label '01': the label must be 0 or 1"},
        {0, "-1", "label '-1': the label must be 0 or 1"},
        {2, "1x", "I2 '1x': not a decimal integer"},
        {2, "-", "I2 '-': not a decimal integer"},
        {2, "+5", "I2 '+5': not a decimal integer"},
        {2, " 5", "I2 ' 5': not a decimal integer"},
        {2, "1.5", "I2 '1.5': not a decimal integer"},
        {13, "2147483648", "I13 '2147483648': out of the int32 range"},
        {13, "-2147483649", "I13 '-2147483649': out of the int32 range"},
        {1, "99999999999999999999999", "I1 '99999999999999999999999': out of the int32 range"},
        {1, "99999999999999x", "I1 '99999999999999x': not a decimal integer"},
        {14, "xyz", "C1 'xyz': not a hexadecimal hash"},
        {14, "0x12", "C1 '0x12': not a hexadecimal hash"},
        {39, "123456789", "C26 '123456789': more than 8 hex digits"},
        {20, "-1", "C7 '-1': not a hexadecimal hash"},
        {20, "ab\x01z", "C7 'ab\\x01z': not a hexadecimal hash"},
    };
    for (const bad_case& c : cases) {
        auto f = full_fields();
        f[size_t(c.field)] = c.text;
        criteo_raw_row r;
        status st = parse(line_of(f), r);
        INFO("field " << c.field << " text '" << c.text << "' gave: " << st.message());
        REQUIRE_FALSE(st.ok());
        CHECK(st.message().rfind(c.expect, 0) == 0);
    }
}

TEST_CASE("criteo tsv: a long bad field is shown shortened") {
    auto f = full_fields();
    f[1] = std::string(100, 'z');
    criteo_raw_row r;
    status st = parse(line_of(f), r);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message() == "I1 '" + std::string(24, 'z') + "...': not a decimal integer "
                          "(digits with an optional leading '-', or empty)");
}

TEST_CASE("criteo bin: records decode little-endian and refuse bad labels and negative ids") {
    uint8_t rec[160];
    auto put = [&](int i, int32_t v) {
        const uint32_t u = uint32_t(v);
        rec[4 * i] = uint8_t(u), rec[4 * i + 1] = uint8_t(u >> 8), rec[4 * i + 2] = uint8_t(u >> 16), rec[4 * i + 3] = uint8_t(u >> 24);
    };
    put(0, 1);
    for (int i = 0; i < 13; ++i) put(1 + i, i - 5);
    for (int i = 0; i < 26; ++i) put(14 + i, 1000003 * i);
    criteo_raw_row r;
    REQUIRE(parse_criteo_bin_record(rec, r).ok());
    CHECK(r.label == 1);
    for (int i = 0; i < 13; ++i) CHECK(r.dense[i] == i - 5);
    for (int i = 0; i < 26; ++i) CHECK(r.sparse[i] == uint32_t(1000003 * i));

    put(0, 2);
    status st = parse_criteo_bin_record(rec, r);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message() == "label 2: the label must be 0 or 1");
    put(0, 0);
    put(14 + 4, -7);
    st = parse_criteo_bin_record(rec, r);
    REQUIRE_FALSE(st.ok());
    CHECK(st.message() == "C5 id -7: negative: a .bin id is a non-negative int32");
}

TEST_CASE("criteo dense transforms: table and formula agree with double arithmetic") {
    const int32_t xs[] = {-2147483647 - 1, -1000, -4, -3, -2, -1, 0, 1, 2, 3, 10, 255, 65535, 65536, 65537,
                          1000000, 23159456, 2147483647};
    for (int32_t x : xs) {
        INFO("x = " << x);
        const double c3 = double(x < -2 ? -2 : x);
        const double c1 = double(x < 0 ? 0 : x);
        CHECK(transform_dense(x, dense_transform::log3) == float(std::log(c3 + 3.0)));
        CHECK(transform_dense(x, dense_transform::log1p) == float(std::log(c1 + 1.0)));
    }
    CHECK(transform_dense(-2, dense_transform::log3) == 0.0f);
    CHECK(transform_dense(-3, dense_transform::log3) == 0.0f);  // clamped: never -inf
    CHECK(transform_dense(-1, dense_transform::log1p) == 0.0f);
    CHECK(transform_dense(0, dense_transform::log1p) == 0.0f);
    // Every value of the table range, against the formula.
    for (int32_t x = -3; x < 70000; ++x) {
        if (transform_dense(x, dense_transform::log3) != float(std::log(double(x < -2 ? -2 : x) + 3.0))) {
            FAIL("log3 table differs at x = " << x);
        }
    }
}

TEST_CASE("criteo id map: hash % N, and hash % 2^31 without N") {
    const uint32_t hashes[] = {0u, 1u, 7u, 0x7fffffffu, 0x80000000u, 0xdeadbeefu, 0xfffffffeu, 0xffffffffu};
    const uint32_t ns[] = {1u, 2u, 3u, 7u, 1000u, 10000000u, 40000000u, 0x7fffffffu, 0x80000000u};
    for (uint32_t n : ns) {
        id_map m(n);
        for (uint32_t h : hashes) {
            INFO("hash " << h << " N " << n);
            CHECK(m(h) == int32_t(h % n));
        }
    }
    id_map none;
    CHECK(none(0xffffffffu) == 0x7fffffff);
    CHECK(none(0x80000000u) == 0);
    CHECK(none(0x12345678u) == 0x12345678);
    // A sweep of hashes against the division.
    id_map m(40000000u);
    for (uint64_t h = 0; h < (uint64_t(1) << 32); h += 65521) CHECK_EQ(m(uint32_t(h)), int32_t(uint32_t(h) % 40000000u));
}

TEST_CASE("npy header of a fixed size parses and keeps its length for any row count") {
    const size_t want = npy_header("<f4", {INT64_MAX, 13}, 0).size();
    CHECK(want % 64 == 0);
    for (int64_t rows : {int64_t(0), int64_t(1), int64_t(45840617), int64_t(4195197692), INT64_MAX}) {
        auto h = npy_header_of_size("<f4", {rows, 13}, want);
        REQUIRE(h.ok());
        CHECK(h->size() == want);
        // A header followed by no data parses as an empty array only for rows 0; check the dict via a
        // (0, 13) array and the length field directly.
        CHECK(uint8_t((*h)[8]) + 256 * uint8_t((*h)[9]) == want - 10);
        CHECK(h->back() == '\n');
        CHECK(h->find("'shape': (" + std::to_string(rows) + ", 13)") != std::string::npos);
    }
    auto h0 = npy_header_of_size("<i4", {0, 26}, 256);
    REQUIRE(h0.ok());
    auto v = parse_npy(reinterpret_cast<const uint8_t*>(h0->data()), h0->size(), "h0");
    REQUIRE(v.ok());
    CHECK(v->shape == std::vector<int64_t>{0, 26});
    CHECK(v->data_offset == 256);
    CHECK_FALSE(npy_header_of_size("<f4", {1, 13}, 64).ok());
}

// ---------------------------------------------------------------------------------------------------
// The converter end to end with tiny parse jobs (4 KiB) and tiny column blocks, so lines, records and
// blocks cross every boundary; checked value by value against the line parser, and against a run with
// one large job.

namespace {

using dlrm::test::temp_dir;

std::string read_all(const std::string& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Deterministic rows with empty fields, negatives and missing categoricals mixed in.
std::vector<std::string> synthetic_lines(int n) {
    std::mt19937 rng(11);
    std::vector<std::string> lines;
    for (int r = 0; r < n; ++r) {
        std::string s = std::to_string(rng() % 2);
        for (int i = 0; i < 13; ++i) {
            const uint32_t k = rng() % 10;
            s += '\t';
            if (k == 0) continue;  // empty
            s += std::to_string(k == 1 ? -int(rng() % 4) : int(rng() % (k < 5 ? 100 : 1000000)));
        }
        for (int i = 0; i < 26; ++i) {
            s += '\t';
            if (rng() % 7 == 0) continue;
            char buf[16];
            std::snprintf(buf, sizeof buf, "%08x", uint32_t(rng()));
            s += buf;
        }
        lines.push_back(s + (r % 13 == 0 ? "\r" : ""));
    }
    return lines;
}

}  // namespace

TEST_CASE("criteo convert: small jobs, every value, same bytes as one big job") {
    temp_dir t;
    REQUIRE_FALSE(t.path.empty());
    const auto lines = synthetic_lines(3000);
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    const std::string in = t.path + "/in.tsv";
    std::ofstream(in, std::ios::binary) << text;

    convert_options o;
    o.inputs = {in};
    o.out_dir = t.path + "/small";
    o.max_ind_range = 100000;
    o.chunk_bytes = 4096;
    o.parser_threads = 3;
    auto r = convert_criteo(o);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    CHECK(r->rows == 3000);
    CHECK(r->data_bytes == text.size());

    auto dense = npy_file::open(o.out_dir + "/day_0_dense.npy");
    auto labels = npy_file::open(o.out_dir + "/day_0_labels.npy");
    auto sparse = npy_file::open(o.out_dir + "/day_0_sparse.npy");
    REQUIRE(dense.ok());
    REQUIRE(labels.ok());
    REQUIRE(sparse.ok());
    CHECK(dense->view.shape == std::vector<int64_t>{3000, 13});
    CHECK(labels->view.shape == std::vector<int64_t>{3000, 1});
    CHECK(sparse->view.shape == std::vector<int64_t>{3000, 26});
    const id_map m(100000);
    int mismatches = 0;
    for (int i = 0; i < 3000; ++i) {
        criteo_raw_row raw;
        REQUIRE(parse_criteo_tsv_line(lines[size_t(i)].data(), lines[size_t(i)].size(), raw).ok());
        int32_t label;
        std::memcpy(&label, labels->view.data + 4 * i, 4);
        mismatches += label != raw.label;
        for (int k = 0; k < 13; ++k) {
            float d;
            std::memcpy(&d, dense->view.data + 4 * (13 * i + k), 4);
            mismatches += d != transform_dense(raw.dense[k], dense_transform::log3);
        }
        for (int k = 0; k < 26; ++k) {
            int32_t id;
            std::memcpy(&id, sparse->view.data + 4 * (26 * i + k), 4);
            mismatches += id != int32_t(raw.sparse[k] % 100000u);
        }
    }
    CHECK(mismatches == 0);

    convert_options big = o;
    big.out_dir = t.path + "/big";
    big.chunk_bytes = size_t(8) << 20;
    big.parser_threads = 1;
    REQUIRE(convert_criteo(big).ok());
    for (const char* f : {"/day_0_dense.npy", "/day_0_labels.npy", "/day_0_sparse.npy"})
        CHECK_MESSAGE(read_all(o.out_dir + f) == read_all(big.out_dir + f), f);

    // Multi-hot with 7-row column blocks: each member is that column of the one-hot file.
    convert_options mh = o;
    mh.out_dir = t.path + "/mh";
    mh.sparse = sparse_output::multi_hot;
    mh.multi_hot_block_rows = 7;
    REQUIRE(convert_criteo(mh).ok());
    auto npz = npz_file::open(mh.out_dir + "/day_0_sparse_multi_hot.npz");
    REQUIRE(npz.ok());
    mismatches = 0;
    for (int k = 0; k < 26; ++k) {
        auto v = npz->member(std::to_string(k) + ".npy");
        REQUIRE(v.ok());
        CHECK(v->shape == std::vector<int64_t>{3000, 1});
        for (int i = 0; i < 3000; ++i)
            mismatches += std::memcmp(v->data + 4 * i, sparse->view.data + 4 * (26 * i + k), 4) != 0;
    }
    CHECK(mismatches == 0);
    CHECK(read_all(mh.out_dir + "/day_0_dense.npy") == read_all(o.out_dir + "/day_0_dense.npy"));
}

TEST_CASE("criteo convert: a bad line deep in the file is reported with its own line number") {
    temp_dir t;
    REQUIRE_FALSE(t.path.empty());
    auto lines = synthetic_lines(2500);
    lines[2222] = "1\t2";  // line 2223
    lines[2400][0] = '7';  // line 2401: label 7
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    const std::string in = t.path + "/in.tsv";
    std::ofstream(in, std::ios::binary) << text;

    convert_options o;
    o.inputs = {in};
    o.out_dir = t.path + "/out";
    o.chunk_bytes = 4096;
    auto r = convert_criteo(o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find(in + ":2223: 2 fields") == 0);
    CHECK(std::filesystem::is_empty(o.out_dir));

    o.skip_bad_lines = true;
    r = convert_criteo(o);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    CHECK(r->rows == 2498);
    CHECK(r->bad_lines == 2);
    REQUIRE(r->first_bad.size() == 2);
    CHECK(r->first_bad[0].find(in + ":2223:") == 0);
    CHECK(r->first_bad[1].find(in + ":2401: label '7'") == 0);
}

TEST_CASE("criteo convert: .bin records split across reads") {
    temp_dir t;
    REQUIRE_FALSE(t.path.empty());
    const int n = 1000;  // 160,000 bytes: 4 KiB reads end mid-record
    std::vector<int32_t> rec(size_t(n) * 40);
    for (int i = 0; i < n; ++i) {
        rec[size_t(i) * 40] = i % 2;
        for (int k = 1; k < 14; ++k) rec[size_t(i) * 40 + size_t(k)] = i * 13 + k - 5;
        for (int k = 14; k < 40; ++k) rec[size_t(i) * 40 + size_t(k)] = i * 1000 + k;
    }
    const std::string in = t.path + "/day_0.bin";
    std::ofstream(in, std::ios::binary).write(reinterpret_cast<const char*>(rec.data()), std::streamsize(rec.size() * 4));
    convert_options o;
    o.from = criteo_input::bin;
    o.inputs = {in};
    o.out_dir = t.path + "/out";
    o.chunk_bytes = 4096;
    o.transform = dense_transform::log1p;
    auto r = convert_criteo(o);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    CHECK(r->rows == n);
    auto dense = npy_file::open(o.out_dir + "/day_0_dense.npy");
    auto sparse = npy_file::open(o.out_dir + "/day_0_sparse.npy");
    REQUIRE(dense.ok());
    REQUIRE(sparse.ok());
    int mismatches = 0;
    for (int i = 0; i < n; ++i) {
        for (int k = 0; k < 13; ++k) {
            float d;
            std::memcpy(&d, dense->view.data + 4 * (13 * i + k), 4);
            const int32_t x = i * 13 + k + 1 - 5;
            mismatches += d != float(std::log(double(x < 0 ? 0 : x) + 1.0));
        }
        for (int k = 0; k < 26; ++k) {
            int32_t id;
            std::memcpy(&id, sparse->view.data + 4 * (26 * i + k), 4);
            mismatches += id != i * 1000 + 14 + k;
        }
    }
    CHECK(mismatches == 0);
}

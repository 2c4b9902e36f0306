// .npy reader and writer: round trips, files written by numpy, hostile headers, truncation.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "formats/npy/npy.h"
#include "tests/temp_dir.h"

using namespace dlrm;

namespace {

using dlrm::test::temp_dir;

bool have_numpy() {
    static const bool ok = std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
    return ok;
}

// Runs a Python script (written to a file, so no shell quoting) in dir; true on exit status 0.
bool run_python(const temp_dir& dir, const std::string& code) {
    std::string script = dir / "script.py";
    std::ofstream(script) << "import numpy as np, os\nos.chdir(" << '"' << dir.path << '"' << ")\n" << code;
    std::string cmd = "/usr/bin/python3 " + script;
    return std::system(cmd.c_str()) == 0;
}

std::vector<uint8_t> read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// A .npy made by hand from a raw header dict (padded by us) and data bytes.
std::vector<uint8_t> make_npy(const std::string& dict, size_t data_bytes, uint8_t major = 1) {
    std::vector<uint8_t> b = {0x93, 'N', 'U', 'M', 'P', 'Y', major, 0};
    std::string h = dict;
    size_t prefix = major == 1 ? 10 : 12;
    while ((prefix + h.size() + 1) % 64) h += ' ';
    h += '\n';
    b.push_back(uint8_t(h.size() & 0xff));
    b.push_back(uint8_t(h.size() >> 8));
    if (major != 1) { b.push_back(0); b.push_back(0); }
    b.insert(b.end(), h.begin(), h.end());
    for (size_t i = 0; i < data_bytes; ++i) b.push_back(uint8_t(i));
    return b;
}

std::string parse_error(const std::vector<uint8_t>& b) {
    auto r = parse_npy(b.data(), b.size(), "x.npy");
    return r.ok() ? std::string("(parsed)") : r.error().message();
}

}  // namespace

TEST_CASE("npy: round trip through write_npy and npy_writer") {
    temp_dir dir;
    std::vector<float> v(7 * 13);
    for (size_t i = 0; i < v.size(); ++i) v[i] = float(i) * 0.5f - 3.0f;
    REQUIRE(write_npy(dir / "a.npy", "<f4", {7, 13}, v.data()).ok());
    auto f = npy_file::open(dir / "a.npy");
    REQUIRE_MESSAGE(f.ok(), f.error().message());
    CHECK(f->view.descr == "<f4");
    CHECK(f->view.shape == std::vector<int64_t>{7, 13});
    CHECK(f->view.shape_text() == "(7, 13)");
    CHECK(f->view.itemsize == 4);
    CHECK(f->view.bytes == v.size() * 4);
    CHECK(f->view.data_offset % 64 == 0);
    CHECK(std::memcmp(f->view.data, v.data(), v.size() * 4) == 0);

    // Streamed in odd-sized pieces.
    std::vector<int32_t> ids(1001);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(i * 7919);
    auto w = npy_writer::create(dir / "b.npy", "<i4", {1001});
    REQUIRE(w.ok());
    const uint8_t* p = reinterpret_cast<const uint8_t*>(ids.data());
    size_t left = ids.size() * 4, step = 37;
    while (left) {
        size_t n = std::min(step, left);
        REQUIRE(w->write(p, n).ok());
        p += n;
        left -= n;
    }
    REQUIRE(w->commit().ok());
    auto g = npy_file::open(dir / "b.npy");
    REQUIRE(g.ok());
    CHECK(g->view.shape_text() == "(1001,)");
    CHECK(std::memcmp(g->view.data, ids.data(), ids.size() * 4) == 0);

    // Scalars and empty arrays.
    double x = 2.5;
    REQUIRE(write_npy(dir / "s.npy", "<f8", {}, &x).ok());
    auto sc = npy_file::open(dir / "s.npy");
    REQUIRE(sc.ok());
    CHECK(sc->view.shape.empty());
    CHECK(sc->view.shape_text() == "()");
    CHECK(sc->view.elements() == 1);
    REQUIRE(write_npy(dir / "e.npy", "<f4", {0, 13}, nullptr).ok());
    auto e = npy_file::open(dir / "e.npy");
    REQUIRE(e.ok());
    CHECK(e->view.bytes == 0);
}

TEST_CASE("npy: the writer commits only exactly the bytes the shape needs") {
    temp_dir dir;
    std::vector<float> v(10);
    {
        auto w = npy_writer::create(dir / "short.npy", "<f4", {2, 5});
        REQUIRE(w.ok());
        REQUIRE(w->write(v.data(), 36).ok());
        status s = w->commit();
        CHECK_FALSE(s.ok());
        CHECK(s.message().find("36 data bytes written: the shape needs exactly 40") != std::string::npos);
    }
    CHECK_FALSE(std::filesystem::exists(dir / "short.npy"));
    {
        auto w = npy_writer::create(dir / "long.npy", "<f4", {2, 5});
        REQUIRE(w.ok());
        REQUIRE(w->write(v.data(), 40).ok());
        CHECK_FALSE(w->write(v.data(), 1).ok());
    }
    CHECK_FALSE(std::filesystem::exists(dir / "long.npy"));
    auto bad = npy_writer::create(dir / "x.npy", ">f4", {2});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message().find("big-endian") != std::string::npos);
}

TEST_CASE("npy: header dict parsing is strict") {
    // Accepted variations: key order, double quotes, Python 2 longs, version 2.0, no trailing comma.
    CHECK(parse_error(make_npy("{'shape': (2, 3), 'fortran_order': False, 'descr': '<i4'}", 24)) == "(parsed)");
    CHECK(parse_error(make_npy("{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2L, 3L), }", 24)) == "(parsed)");
    CHECK(parse_error(make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }", 24, 2)) == "(parsed)");
    CHECK(parse_error(make_npy("{'descr': '|b1', 'fortran_order': False, 'shape': (6,), }", 6, 3)) == "(parsed)");

    struct bad_case { std::string dict; size_t bytes; std::string expect; };
    std::vector<bad_case> cases = {
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "x.npy: dtype '>f4': big-endian data is not supported"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16, "fortran_order True"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (3), }", 24, "shape (3) is not a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", 8, "unexpected key 'extra'"},
        {"{'descr': '<f4', 'fortran_order': False}", 8, "key 'shape' is missing"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8, "key 'descr' appears twice"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", 8, "structured dtype"},
        {"{'descr': '<U4', 'fortran_order': False, 'shape': (2,)}", 32, "dtype '<U4': unsupported dtype"},
        {"{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}", 16, "dtype '<c8'"},
        {"{'descr': '|O', 'fortran_order': False, 'shape': (2,)}", 16, "dtype '|O'"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", 8, "fortran_order must be True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", 8, "expected a non-negative integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", 8, "unexpected text after the header dict"},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", 8, "expected ',' or '}' after the value of 'descr'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904)}", 8,
         "overflows 64 bits"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 8, "shape dimension too large"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2)}", 20,
         "x.npy: truncated: shape (3, 2) of <i4 needs 24 data bytes after the 128-byte header, the file has 20"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2)}", 28, "4 bytes after the data"},
    };
    for (const auto& c : cases) {
        std::string msg = parse_error(make_npy(c.dict, c.bytes));
        CHECK_MESSAGE(msg.find(c.expect) != std::string::npos, c.dict, " -> ", msg);
    }
    auto v4 = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 8);
    v4[6] = 4;
    CHECK(parse_error(v4).find("npy version 4.0: expected 1.0, 2.0 or 3.0") != std::string::npos);
    v4[0] = 'X';
    CHECK(parse_error(v4).find("magic") != std::string::npos);
}

TEST_CASE("npy: truncation at every offset is an error, never a crash") {
    temp_dir dir;
    std::vector<float> v(3 * 13, 1.0f);
    REQUIRE(write_npy(dir / "d.npy", "<f4", {3, 13}, v.data()).ok());
    std::vector<uint8_t> b = read_all(dir / "d.npy");
    REQUIRE(parse_npy(b.data(), b.size(), "d.npy").ok());
    for (size_t n = 0; n < b.size(); ++n) {
        // A fresh copy of exactly n bytes, so a read past the end would be caught by ASan.
        std::vector<uint8_t> cut(b.begin(), b.begin() + long(n));
        auto r = parse_npy(cut.data(), cut.size(), "d.npy");
        CHECK_FALSE(r.ok());
    }
    std::vector<uint8_t> cut(b.begin(), b.end() - 1);
    CHECK(parse_npy(cut.data(), cut.size(), "d.npy").error().message() ==
          "d.npy: truncated: shape (3, 13) of <f4 needs 156 data bytes after the 128-byte header, the file has 155");
    // Every single-byte corruption of the header either parses or fails cleanly.
    for (size_t i = 0; i < 128; ++i) {
        std::vector<uint8_t> c = b;
        c[i] ^= 0x5a;
        (void)parse_npy(c.data(), c.size(), "d.npy");
    }
}

TEST_CASE("npy: files written by numpy, and numpy reads ours") {
    if (!have_numpy()) {
        MESSAGE("SKIPPED: /usr/bin/python3 with numpy is missing");
        return;
    }
    temp_dir dir;
    REQUIRE(run_python(dir, R"(
d = (np.arange(5 * 13, dtype=np.float32) * 0.25 - 4).reshape(5, 13)
np.save('dense.npy', d)
np.save('labels.npy', (np.arange(5) % 2).astype(np.int32).reshape(5, 1))
np.save('bool.npy', np.array([True, False, True]))
np.save('u8.npy', np.arange(200, dtype=np.uint8))
np.save('f8.npy', np.ones((2, 3)))
np.save('big.npy', np.arange(4, dtype='>f4'))
np.save('fortran.npy', np.asfortranarray(np.ones((3, 4), dtype=np.float32)))
np.save('scalar.npy', np.float32(7))
np.save('huge_header.npy', np.zeros((1,) * 32, dtype=np.int16))
)"));
    auto d = npy_file::open(dir / "dense.npy");
    REQUIRE_MESSAGE(d.ok(), d.error().message());
    CHECK(d->view.descr == "<f4");
    CHECK(d->view.shape_text() == "(5, 13)");
    for (int i = 0; i < 5 * 13; ++i) {
        float x;
        std::memcpy(&x, d->view.data + 4 * i, 4);
        CHECK(x == float(i) * 0.25f - 4.0f);
    }
    auto l = npy_file::open(dir / "labels.npy");
    REQUIRE(l.ok());
    CHECK(l->view.descr == "<i4");
    CHECK(l->view.shape_text() == "(5, 1)");
    auto bo = npy_file::open(dir / "bool.npy");
    REQUIRE(bo.ok());
    CHECK(bo->view.descr == "|b1");
    CHECK(bo->view.data[0] == 1);
    CHECK(bo->view.data[1] == 0);
    auto u8 = npy_file::open(dir / "u8.npy");
    REQUIRE(u8.ok());
    CHECK(u8->view.data[199] == 199);
    auto f8 = npy_file::open(dir / "f8.npy");
    REQUIRE(f8.ok());
    CHECK(f8->view.descr == "<f8");
    auto sc = npy_file::open(dir / "scalar.npy");
    REQUIRE(sc.ok());
    CHECK(sc->view.shape.empty());
    auto hh = npy_file::open(dir / "huge_header.npy");
    REQUIRE_MESSAGE(hh.ok(), hh.error().message());
    CHECK(hh->view.shape.size() == 32);

    auto big = npy_file::open(dir / "big.npy");
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().message().find("big.npy: dtype '>f4': big-endian data is not supported") != std::string::npos);
    auto fo = npy_file::open(dir / "fortran.npy");
    REQUIRE_FALSE(fo.ok());
    CHECK(fo.error().message().find("fortran_order True") != std::string::npos);

    // numpy reads what we write, byte for byte the values we meant.
    std::vector<float> v(4 * 13);
    for (size_t i = 0; i < v.size(); ++i) v[i] = float(i) / 8.0f;
    REQUIRE(write_npy(dir / "ours.npy", "<f4", {4, 13}, v.data()).ok());
    std::vector<int64_t> big_ids = {int64_t(1) << 40, -5, 0};
    REQUIRE(write_npy(dir / "ours_i8.npy", "<i8", {3}, big_ids.data()).ok());
    uint8_t flags[3] = {1, 0, 1};
    REQUIRE(write_npy(dir / "ours_b1.npy", "|b1", {3}, flags).ok());
    CHECK(run_python(dir, R"(
a = np.load('ours.npy')
assert a.dtype == np.float32 and a.shape == (4, 13), (a.dtype, a.shape)
assert (a == (np.arange(52, dtype=np.float32) / 8).reshape(4, 13)).all()
b = np.load('ours_i8.npy')
assert b.dtype == np.int64 and list(b) == [1 << 40, -5, 0]
c = np.load('ours_b1.npy')
assert c.dtype == np.bool_ and list(c) == [True, False, True]
)"));
}

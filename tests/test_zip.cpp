// zip reader / writer and .npz: CRC-32, round trips, numpy interop both ways, zip64, hostile input.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "formats/zip/crc32.h"
#include "formats/zip/npz.h"
#include "formats/zip/zip_reader.h"
#include "formats/zip/zip_writer.h"
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
    std::ofstream(script) << "import numpy as np, os, zipfile\nos.chdir(" << '"' << dir.path << '"' << ")\n" << code;
    std::string cmd = "/usr/bin/python3 " + script;
    return std::system(cmd.c_str()) == 0;
}

std::vector<uint8_t> read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

uint32_t crc32_bitwise(const uint8_t* p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return ~c;
}

int32_t ld_i32(const uint8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// Writes the small two-member archive used by several tests: 0.npy int32 (rows, 3) = i*3+j,
// 1.npy float32 (rows,) = i / 2.
status write_sample_npz(const std::string& path, int64_t rows) {
    auto w = npz_writer::create(path);
    if (!w.ok()) return w.error();
    DLRM_TRY(w->begin_member("0.npy", "<i4", {rows, 3}));
    for (int64_t i = 0; i < rows; ++i) {
        int32_t r[3] = {int32_t(i * 3), int32_t(i * 3 + 1), int32_t(i * 3 + 2)};
        DLRM_TRY(w->write(r, sizeof r));
    }
    DLRM_TRY(w->end_member());
    DLRM_TRY(w->begin_member("1.npy", "<f4", {rows}));
    for (int64_t i = 0; i < rows; ++i) {
        float f = float(i) / 2.0f;
        DLRM_TRY(w->write(&f, 4));
    }
    DLRM_TRY(w->end_member());
    return w->commit();
}

}  // namespace

TEST_CASE("crc32: known values, slicing-by-8 equals the bitwise definition") {
    CHECK(crc32_update(0, "", 0) == 0u);
    CHECK(crc32_update(0, "123456789", 9) == 0xCBF43926u);
    CHECK(crc32_update(0, "The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u);
    std::mt19937 rng(1234);
    std::vector<uint8_t> buf(4099);
    for (auto& b : buf) b = uint8_t(rng());
    for (size_t off : {0, 1, 3, 7}) {
        for (size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4090}) {
            uint32_t want = crc32_bitwise(buf.data() + off, n);
            CHECK(crc32_update(0, buf.data() + off, n) == want);
            size_t cut = n / 3;  // incremental over two pieces
            CHECK(crc32_update(crc32_update(0, buf.data() + off, cut), buf.data() + off + cut, n - cut) == want);
        }
    }
}

TEST_CASE("npz: round trip through npz_writer, data aligned to 64, CRCs right") {
    temp_dir dir;
    REQUIRE(write_sample_npz(dir / "a.npz", 11).ok());
    auto f = npz_file::open(dir / "a.npz");
    REQUIRE_MESSAGE(f.ok(), f.error().message());
    REQUIRE(f->zip().members().size() == 2);
    for (const auto& m : f->zip().members()) {
        CHECK(m.method == 0);
        CHECK(f->zip().verify_crc(m).ok());
    }
    auto a = f->member("0.npy");
    REQUIRE_MESSAGE(a.ok(), a.error().message());
    CHECK(a->descr == "<i4");
    CHECK(a->shape_text() == "(11, 3)");
    CHECK((a->data - f->zip().members()[0].data + f->zip().members()[0].data_offset) % 64 == 0);
    for (int i = 0; i < 33; ++i) CHECK(ld_i32(a->data + 4 * i) == i);
    auto b = f->member("1.npy");
    REQUIRE(b.ok());
    float x;
    std::memcpy(&x, b->data + 4 * 9, 4);
    CHECK(x == 4.5f);
    auto missing = f->member("2.npy");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message().find("no member named 2.npy") != std::string::npos);
}

TEST_CASE("zip_writer: byte counts are enforced, nothing is left half-written") {
    temp_dir dir;
    {
        auto w = zip_writer::create(dir / "x.zip");
        REQUIRE(w.ok());
        REQUIRE(w->begin_member("a", 10).ok());
        REQUIRE(w->write("12345", 5).ok());
        status s = w->end_member();
        CHECK_FALSE(s.ok());
        CHECK(s.message().find("5 bytes written: the member was declared 10 bytes") != std::string::npos);
        CHECK_FALSE(w->write("123456", 6).ok());
        CHECK_FALSE(w->commit().ok());
    }
    CHECK_FALSE(std::filesystem::exists(dir / "x.zip"));
    auto w = zip_writer::create(dir / "y.zip");
    REQUIRE(w.ok());
    REQUIRE(w->begin_member("a", 0).ok());
    REQUIRE(w->end_member().ok());
    CHECK_FALSE(w->begin_member("a", 0).ok());  // duplicate name
    CHECK_FALSE(w->write("1", 1).ok());         // outside a member
}

TEST_CASE("npz: files written by numpy, numpy reads ours") {
    if (!have_numpy()) {
        MESSAGE("SKIPPED: /usr/bin/python3 with numpy is missing");
        return;
    }
    temp_dir dir;
    REQUIRE(write_sample_npz(dir / "ours.npz", 1000).ok());
    // np.load checks the CRC of each member it reads; testzip checks all of them.
    CHECK(run_python(dir, R"(
z = np.load('ours.npz')
assert sorted(z.files) == ['0', '1'], z.files
a, b = z['0'], z['1']
assert a.dtype == np.int32 and a.shape == (1000, 3) and (a.ravel() == np.arange(3000)).all()
assert b.dtype == np.float32 and (b == np.arange(1000, dtype=np.float32) / 2).all()
zf = zipfile.ZipFile('ours.npz')
assert zf.testzip() is None
for i in zf.infolist():
    assert i.compress_type == zipfile.ZIP_STORED
)"));

    REQUIRE(run_python(dir, R"(
rows = 7
np.savez('mlperf_like.npz', **{str(k): (np.arange(rows * (k + 1), dtype=np.int32) * 1000 + k).reshape(rows, k + 1) for k in range(3)})
np.savez_compressed('compressed.npz', **{'0': np.arange(6, dtype=np.int32), '1': np.arange(6, dtype=np.int32), '2': np.arange(6, dtype=np.int32), '3': np.arange(6, dtype=np.int32)})
# The code path of members beyond 4 GiB, with small data: lower zipfile's zip64 threshold so the
# central directory saturates sizes and offsets into zip64 extra fields and a zip64 end record
# is written, as for MLPerf's real 100+ GB files.
zipfile.ZIP64_LIMIT = 100
zipfile.ZIP_FILECOUNT_LIMIT = 1
np.savez('zip64.npz', **{'0': np.arange(1000, dtype=np.int32).reshape(500, 2), '1': np.arange(300, dtype=np.int32).reshape(100, 3)})
)"));
    {
        auto f = npz_file::open(dir / "mlperf_like.npz");
        REQUIRE_MESSAGE(f.ok(), f.error().message());
        REQUIRE(f->zip().members().size() == 3);
        // numpy's first member: 30-byte local header + "0.npy" + 20-byte zip64 extra + 128-byte
        // .npy header: the ints start at byte 183, not 4-byte aligned (FACTS.md §2).
        const zip_member* m0 = f->zip().find("0.npy");
        REQUIRE(m0 != nullptr);
        CHECK(m0->data_offset + 128 == 183);
        for (int k = 0; k < 3; ++k) {
            auto v = f->member(std::to_string(k) + ".npy");
            REQUIRE_MESSAGE(v.ok(), v.error().message());
            CHECK(v->shape == std::vector<int64_t>{7, k + 1});
            for (int i = 0; i < 7 * (k + 1); ++i) CHECK(ld_i32(v->data + 4 * i) == i * 1000 + k);
            CHECK(f->zip().verify_crc(*f->zip().find(std::to_string(k) + ".npy")).ok());
        }
    }
    {
        auto f = npz_file::open(dir / "compressed.npz");
        REQUIRE_MESSAGE(f.ok(), f.error().message());  // listing works; reading in place does not
        auto v = f->member("3.npy");
        REQUIRE_FALSE(v.ok());
        CHECK(v.error().message() == dir / "compressed.npz" +
              " member 3.npy: compression method 8 (deflate): only stored (uncompressed) members can be "
              "memory-mapped; re-save with numpy.savez");
    }
    {
        std::vector<uint8_t> b = read_all(dir / "zip64.npz");
        // The central directory really uses zip64: a saturated offset in the second entry, a locator.
        bool has_locator = false;
        for (size_t i = 0; i + 4 <= b.size(); ++i)
            if (b[i] == 0x50 && b[i + 1] == 0x4b && b[i + 2] == 6 && b[i + 3] == 7) has_locator = true;
        CHECK(has_locator);
        auto f = npz_file::open(dir / "zip64.npz");
        REQUIRE_MESSAGE(f.ok(), f.error().message());
        auto v0 = f->member("0.npy");
        auto v1 = f->member("1.npy");
        REQUIRE(v0.ok());
        REQUIRE(v1.ok());
        CHECK(v0->shape_text() == "(500, 2)");
        CHECK(ld_i32(v0->data + 4 * 999) == 999);
        CHECK(ld_i32(v1->data + 4 * 299) == 299);
        for (const auto& m : f->zip().members()) CHECK(f->zip().verify_crc(m).ok());
    }
}

TEST_CASE("zip: truncation and corruption are errors, never crashes") {
    temp_dir dir;
    REQUIRE(write_sample_npz(dir / "a.npz", 5).ok());
    std::vector<uint8_t> b = read_all(dir / "a.npz");
    REQUIRE(zip_reader::parse(b.data(), b.size(), "a.npz").ok());
    for (size_t n = 0; n < b.size(); ++n) {
        std::vector<uint8_t> cut(b.begin(), b.begin() + long(n));
        auto z = zip_reader::parse(cut.data(), cut.size(), "a.npz");
        CHECK_FALSE(z.ok());
    }
    // Every byte flipped in turn: parse and read whatever parses, with ASan watching.
    int parsed = 0;
    for (size_t i = 0; i < b.size(); ++i) {
        std::vector<uint8_t> c = b;
        c[i] ^= 0xa5;
        auto z = zip_reader::parse(c.data(), c.size(), "a.npz");
        if (!z.ok()) continue;
        ++parsed;
        for (const auto& m : z->members()) {
            if (!z->check_stored(m).ok()) continue;
            (void)z->verify_crc(m);
            (void)parse_npy(m.data, size_t(m.compressed_size), "m");
        }
    }
    CHECK(parsed > 0);  // flips inside data and npy headers leave the directory intact

    // A local header that disagrees with the central directory on the size.
    auto z = zip_reader::parse(b.data(), b.size(), "a.npz");
    REQUIRE(z.ok());
    uint64_t lo = z->members()[1].local_header_offset;
    std::vector<uint8_t> c = b;
    c[lo + 30 + 5 + 4] ^= 0x01;  // low byte of the local zip64 uncompressed size
    auto bad = zip_reader::parse(c.data(), c.size(), "a.npz");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message().find("a.npz member 1.npy: local header sizes") != std::string::npos);

    // Not a zip at all.
    std::string junk(100, 'x');
    auto j = zip_reader::parse(reinterpret_cast<const uint8_t*>(junk.data()), junk.size(), "junk.zip");
    REQUIRE_FALSE(j.ok());
    CHECK(j.error().message().find("junk.zip: no zip end-of-central-directory record") != std::string::npos);
}

// .dlrm weight files: XXH64 vectors, round trips, and every way a file can be damaged or hostile.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "formats/weights/weights_file.h"
#include "formats/weights/weights_header.h"
#include "formats/weights/xxhash64.h"
#include "tests/temp_dir.h"

namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using bytes_t = std::vector<uint8_t>;

// Little-endian stores into a byte buffer, bounds-checked (which also keeps GCC 12's
// -Wstringop-overflow from guessing the buffer is empty).
void set_le32(bytes_t& b, size_t off, uint32_t v) {
    if (b.size() < off + 4) FAIL("edit past the end of the file");
    for (int i = 0; i < 4; ++i) b[off + size_t(i)] = uint8_t(v >> (8 * i));
}
void set_le64(bytes_t& b, size_t off, uint64_t v) {
    if (b.size() < off + 8) FAIL("edit past the end of the file");
    for (int i = 0; i < 8; ++i) b[off + size_t(i)] = uint8_t(v >> (8 * i));
}

// A private directory per test case, removed afterwards.
using dlrm::test::temp_dir;

bytes_t read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return bytes_t((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
void write_all(const std::string& path, const bytes_t& b) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

bytes_t pattern(size_t n, uint32_t seed) {
    bytes_t b(n);
    std::mt19937 rng(seed);
    for (auto& x : b) x = uint8_t(rng());
    return b;
}

std::string open_error(const std::string& path, dlrm::verify_on_open v = dlrm::verify_on_open::all) {
    auto f = dlrm::weights_file::open(path, v);
    return f.ok() ? std::string("(opened)") : f.error().message();
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Re-signs a header after a test edited it, so checks after the header checksum are reached.
void resign_header(bytes_t& b) {
    set_le64(b, 56, dlrm::xxh64(b.data(), 56));
}

// Replaces the metadata block with `text`, fixing sizes and both checksums: a well-formed file
// whose metadata says whatever the test wants.
bytes_t with_metadata_text(const bytes_t& file, const std::string& text) {
    uint64_t off = dlrm::get_le64(file.data() + 16);
    bytes_t b(file.begin(), file.begin() + long(off));
    b.insert(b.end(), text.begin(), text.end());
    set_le64(b, 24, text.size());
    set_le64(b, 32, b.size());
    set_le64(b, 40, dlrm::xxh64(text.data(), text.size()));
    resign_header(b);
    return b;
}
json metadata_of(const bytes_t& file) {
    uint64_t off = dlrm::get_le64(file.data() + 16), n = dlrm::get_le64(file.data() + 24);
    return json::parse(file.begin() + long(off), file.begin() + long(off + n));
}
template <class F>
bytes_t with_metadata(const bytes_t& file, F edit) {
    json m = metadata_of(file);
    edit(m);
    return with_metadata_text(file, m.dump());
}

// A few small tensors of different types: the file most damage tests start from.
void write_small(const std::string& path) {
    auto w = dlrm::weights_writer::create(path);
    REQUIRE(w.ok());
    bytes_t a = pattern(4 * 300 * 17, 1), b = pattern(2 * 1000, 2), c = pattern(50 * (4 + 4), 3);
    REQUIRE(w->add_tensor("dense.weight", dlrm::dtype::f32, {300, 17}, a.data(), a.size()).ok());
    REQUIRE(w->add_tensor("dense.bias", dlrm::dtype::f16, {1000}, b.data(), b.size()).ok());
    REQUIRE(w->add_tensor("emb.0", dlrm::dtype::u4rw, {50, 7}, c.data(), c.size()).ok());
    REQUIRE(w->finish(json{{"arch", "test"}}).ok());
}
}  // namespace

TEST_CASE("xxh64 matches published and independently computed vectors") {
    // "", "a", "abc" and the 39-byte string are the xxHash project's own vectors; the rest were
    // computed with an independent Python implementation of doc/xxhash_spec.md.
    auto h = [](const std::string& s, uint64_t seed = 0) { return dlrm::xxh64(s.data(), s.size(), seed); };
    CHECK(h("") == 0xEF46DB3751D8E999ull);
    CHECK(h("a") == 0xD24EC4F1A98C6E5Bull);
    CHECK(h("abc") == 0x44BC2CF5AD770999ull);
    CHECK(h("Nobody inspects the spammish repetition") == 0xFBCEA83C8A378BF1ull);
    CHECK(h("message digest") == 0x066ED728FCEEB3BEull);
    CHECK(h("abc", 0x9E3779B185EBCA8Dull) == 0x7E49C9D7E85A4AB6ull);
    bytes_t b;
    for (int r = 0; r < 4; ++r)
        for (int i = 0; i < 256; ++i) b.push_back(uint8_t(i));
    for (int i = 0; i < 37; ++i) b.push_back(uint8_t(i));
    CHECK(dlrm::xxh64(b.data(), b.size()) == 0x993908AD297ACB7Cull);
    bytes_t p(100003);
    for (size_t i = 0; i < p.size(); ++i) p[i] = uint8_t((i * 131 + 7) & 255);
    CHECK(dlrm::xxh64(p.data(), p.size()) == 0xB50AD3CD166FE52Bull);

    SUBCASE("streaming equals one-shot for any split") {
        std::mt19937 rng(42);
        for (int trial = 0; trial < 50; ++trial) {
            dlrm::xxh64_state st;
            size_t pos = 0;
            while (pos < p.size()) {
                size_t n = std::min<size_t>(p.size() - pos, rng() % (trial < 25 ? 40 : 5000));
                st.update(p.data() + pos, n);
                pos += n;
                if (n == 0) st.update(nullptr, 0);
            }
            CHECK(st.digest() == 0xB50AD3CD166FE52Bull);
        }
        for (size_t n = 0; n <= 100; ++n) {  // every tail length, byte by byte
            dlrm::xxh64_state st;
            for (size_t i = 0; i < n; ++i) st.update(p.data() + i, 1);
            CHECK(st.digest() == dlrm::xxh64(p.data(), n));
        }
    }
}

TEST_CASE("dtype names and sizes") {
    using dlrm::dtype;
    for (dtype t : {dtype::f32, dtype::f16, dtype::bf16, dtype::i8, dtype::u8, dtype::i32, dtype::i64, dtype::u4rw,
                    dtype::i8rw}) {
        auto back = dlrm::parse_dtype(dlrm::dtype_name(t));
        REQUIRE(back.ok());
        CHECK(back.value() == t);
    }
    CHECK(has(dlrm::parse_dtype("f64").error().message(), "'f64'"));
    CHECK(dlrm::tensor_bytes(dtype::f32, {3, 4}).value() == 48);
    CHECK(dlrm::tensor_bytes(dtype::i64, {}).value() == 8);  // a scalar
    CHECK(dlrm::tensor_bytes(dtype::bf16, {0, 5}).value() == 0);
    CHECK(dlrm::tensor_bytes(dtype::u4rw, {3, 5}).value() == 3 * (3 + 4));   // ceil(5/2) + fp16 scale, bias
    CHECK(dlrm::tensor_bytes(dtype::u4rw, {3, 8}).value() == 3 * (4 + 4));
    CHECK(dlrm::tensor_bytes(dtype::i8rw, {3, 5}).value() == 3 * (5 + 8));   // + fp32 scale, bias
    CHECK(has(dlrm::tensor_bytes(dtype::u4rw, {3}).error().message(), "[rows, dim]"));
    CHECK(has(dlrm::tensor_bytes(dtype::f32, {2, -1}).error().message(), ">= 0"));
    CHECK(has(dlrm::tensor_bytes(dtype::f32, {int64_t(1) << 62, 4}).error().message(), "overflow"));
    CHECK(has(dlrm::tensor_bytes(dtype::u4rw, {4, INT64_MAX}).error().message(), "overflow"));
    CHECK(has(dlrm::tensor_bytes(dtype::i8rw, {int64_t(1) << 60, 100}).error().message(), "overflow"));
}

TEST_CASE("round trip: every dtype, a streamed 40 MiB tensor, alignment, padding, model metadata") {
    temp_dir d;
    const std::string path = d / "model.dlrm";
    struct item {
        std::string name;
        dlrm::dtype type;
        std::vector<int64_t> shape;
        bytes_t data;
    };
    std::vector<item> items = {
        {"bot_l.0.weight", dlrm::dtype::f32, {13, 7}, pattern(13 * 7 * 4, 10)},
        {"bot_l.0.bias", dlrm::dtype::f16, {7}, pattern(14, 11)},
        {"top.bf16", dlrm::dtype::bf16, {3, 3, 3}, pattern(54, 12)},
        {"q.i8", dlrm::dtype::i8, {5, 1}, pattern(5, 13)},
        {"q.u8", dlrm::dtype::u8, {129}, pattern(129, 14)},
        {"empty.i32", dlrm::dtype::i32, {0, 16}, {}},
        {"scalar.i64", dlrm::dtype::i64, {}, pattern(8, 15)},
        {"emb.0", dlrm::dtype::u4rw, {100, 7}, pattern(100 * (4 + 4), 16)},
        {"emb.1", dlrm::dtype::i8rw, {64, 3}, pattern(64 * (3 + 8), 17)},
    };
    const size_t big_bytes = size_t(40) << 20;
    const bytes_t big = pattern(big_bytes, 99);
    json model = {{"arch", {{"name", "dlrm"}, {"emb_dim", 16}, {"tables", {100, 64}}}},
                  {"precision", {{"emb.0", "u4rw"}}},
                  {"provenance", "unit test \xc3\xa9"}};
    {
        auto w = dlrm::weights_writer::create(path);
        REQUIRE(w.ok());
        for (size_t i = 0; i < 5; ++i)
            REQUIRE(w->add_tensor(items[i].name, items[i].type, items[i].shape, items[i].data.data(), items[i].data.size()).ok());
        // The big one in the middle, streamed in odd-sized pieces.
        REQUIRE(w->begin_tensor("emb.big", dlrm::dtype::f32, {int64_t(big_bytes / 64), 16}).ok());
        size_t pos = 0, step = 1;
        while (pos < big_bytes) {
            size_t n = std::min(big_bytes - pos, step);
            REQUIRE(w->write(big.data() + pos, n).ok());
            pos += n;
            step = step * 3 + 1;
        }
        REQUIRE(w->end_tensor().ok());
        for (size_t i = 5; i < items.size(); ++i)
            REQUIRE(w->add_tensor(items[i].name, items[i].type, items[i].shape, items[i].data.data(), items[i].data.size()).ok());
        CHECK(!fs::exists(path));  // nothing appears before finish()
        REQUIRE(w->finish(model).ok());
    }
    auto f = dlrm::weights_file::open(path);
    REQUIRE_MESSAGE(f.ok(), f.error().message());
    CHECK(f->model() == model);
    CHECK(f->file_bytes() == fs::file_size(path));
    CHECK(f->path() == path);
    REQUIRE(f->tensors().size() == items.size() + 1);
    CHECK(f->find("nope") == nullptr);
    for (const item& it : items) {
        const dlrm::tensor_info* t = f->find(it.name);
        REQUIRE(t != nullptr);
        CHECK(t->type == it.type);
        CHECK(t->shape == it.shape);
        CHECK(t->bytes == it.data.size());
        CHECK(t->offset % 64 == 0);
        CHECK(t->xxh64 == dlrm::xxh64(it.data.data(), it.data.size()));
        if (!it.data.empty()) CHECK(std::memcmp(f->data(*t), it.data.data(), it.data.size()) == 0);
    }
    const dlrm::tensor_info* t = f->find("emb.big");
    REQUIRE(t != nullptr);
    CHECK(t->bytes == big_bytes);
    CHECK(t->offset % (uint64_t(2) << 20) == 0);
    CHECK(std::memcmp(f->data(*t), big.data(), big_bytes) == 0);
    CHECK(f->tensors()[5].name == "emb.big");  // table keeps the writing order

    // Every byte that is not header, tensor or metadata is zero padding.
    bytes_t raw = read_all(path);
    std::vector<bool> used(raw.size(), false);
    for (size_t i = 0; i < 64; ++i) used[i] = true;
    for (const auto& ti : f->tensors())
        for (uint64_t i = 0; i < ti.bytes; ++i) used[ti.offset + i] = true;
    uint64_t meta_off = dlrm::get_le64(raw.data() + 16);
    CHECK(meta_off % 64 == 0);
    CHECK(meta_off + dlrm::get_le64(raw.data() + 24) == raw.size());
    for (size_t i = meta_off; i < raw.size(); ++i) used[i] = true;
    size_t nonzero_padding = 0;
    for (size_t i = 0; i < raw.size(); ++i)
        if (!used[i] && raw[i] != 0) ++nonzero_padding;
    CHECK(nonzero_padding == 0);
    CHECK(std::memcmp(raw.data(), "DLRMWGT\0\x04\x03\x02\x01\x01\x00\x00\x00", 16) == 0);

    uint64_t last = 0, calls = 0, total = 0;
    bool monotonic = true;
    CHECK(f->verify_all([&](uint64_t done, uint64_t all) {
        monotonic = monotonic && done >= last;
        last = done;
        total = all;
        ++calls;
    }).ok());
    CHECK(monotonic);
    CHECK(calls >= f->tensors().size() - 1);  // the empty tensor reports nothing
    CHECK(last == total);
    CHECK(total == raw.size() - 64 - dlrm::get_le64(raw.data() + 24) - [&] {
              size_t pad = 0;
              for (size_t i = 0; i < raw.size(); ++i) pad += !used[i];
              return pad;
          }());

    SUBCASE("a flipped byte in the big tensor is caught on open (file <= 1 GiB) and by verify_all") {
        bytes_t b = raw;
        b[t->offset + big_bytes / 2] ^= 0x20;
        write_all(path, b);
        std::string e = open_error(path, dlrm::verify_on_open::small_tensors);
        CHECK(has(e, "tensor emb.big: checksum"));
        CHECK(has(e, "the file is corrupt"));
        auto lazy = dlrm::weights_file::open(path, dlrm::verify_on_open::none);
        REQUIRE(lazy.ok());
        CHECK(has(lazy->verify_all().message(), "tensor emb.big: checksum"));
    }
}

TEST_CASE("writer misuse is reported and leaves no file") {
    temp_dir d;
    const std::string path = d / "w.dlrm";
    float x[4] = {1, 2, 3, 4};
    SUBCASE("destroyed without finish") {
        {
            auto w = dlrm::weights_writer::create(path);
            REQUIRE(w.ok());
            REQUIRE(w->add_tensor("a", dlrm::dtype::f32, {4}, x, sizeof x).ok());
        }
        CHECK(!fs::exists(path));
    }
    SUBCASE("errors") {
        {
            auto w = dlrm::weights_writer::create(path);
            REQUIRE(w.ok());
            REQUIRE(w->add_tensor("a", dlrm::dtype::f32, {4}, x, sizeof x).ok());
            CHECK(has(w->add_tensor("a", dlrm::dtype::f32, {4}, x, sizeof x).message(), "tensor a: name already used"));
            CHECK(has(w->finish(json::object()).message(), "earlier error"));  // poisoned
        }
        CHECK(!fs::exists(path));
        auto w = dlrm::weights_writer::create(path);
        REQUIRE(w.ok());
        REQUIRE(w->begin_tensor("b", dlrm::dtype::f32, {4}).ok());
        REQUIRE(w->write(x, 8).ok());
        CHECK(has(w->end_tensor().message(), "tensor b: 8 bytes written: its shape needs 16"));
    }
    SUBCASE("overlong write") {
        auto w = dlrm::weights_writer::create(path);
        REQUIRE(w->begin_tensor("b", dlrm::dtype::f32, {2}).ok());
        CHECK(has(w->write(x, 16).message(), "its shape holds 8 bytes"));
    }
    SUBCASE("bad arguments") {
        auto w = dlrm::weights_writer::create(path);
        CHECK(has(w->add_tensor("", dlrm::dtype::f32, {4}, x, sizeof x).message(), "must not be empty"));
        w = dlrm::weights_writer::create(path);
        CHECK(has(w->add_tensor("bad\xff", dlrm::dtype::f32, {4}, x, sizeof x).message(), "UTF-8"));
        w = dlrm::weights_writer::create(path);
        CHECK(has(w->add_tensor("neg", dlrm::dtype::f32, {-4}, x, sizeof x).message(), "tensor neg: shape dimension 0 is -4"));
        w = dlrm::weights_writer::create(path);
        CHECK(has(w->finish(json::array()).message(), "must be an object"));
        w = dlrm::weights_writer::create(path);
        CHECK(has(w->finish(json{{"k", "bad\xff"}}).message(), "UTF-8"));
        w = dlrm::weights_writer::create(path);
        REQUIRE(w->begin_tensor("open", dlrm::dtype::f32, {0}).ok());
        CHECK(has(w->finish(json::object()).message(), "open is open"));
        w = dlrm::weights_writer::create(path);
        CHECK(has(w->write(x, 4).message(), "outside a tensor"));
    }
    CHECK(!fs::exists(path));
    size_t leftovers = 0;
    for (const auto& e : fs::directory_iterator(d.path)) leftovers += !e.path().empty();
    CHECK(leftovers == 0);  // no temporaries either
}

TEST_CASE("an empty model file round-trips") {
    temp_dir d;
    auto w = dlrm::weights_writer::create(d / "e.dlrm");
    REQUIRE(w->finish(json::object()).ok());
    auto f = dlrm::weights_file::open(d / "e.dlrm");
    REQUIRE(f.ok());
    CHECK(f->tensors().empty());
    CHECK(f->model() == json::object());
}

TEST_CASE("truncated files are rejected with both sizes") {
    temp_dir d;
    const std::string good = d / "good.dlrm", cut = d / "cut.dlrm";
    write_small(good);
    const bytes_t raw = read_all(good);
    std::vector<size_t> lengths;
    for (size_t k = 0; k < 50; ++k) lengths.push_back(raw.size() * k / 50);
    for (size_t n = 0; n <= 70; ++n) lengths.push_back(n);
    lengths.push_back(raw.size() - 1);
    for (size_t n : lengths) {
        CAPTURE(n);
        write_all(cut, bytes_t(raw.begin(), raw.begin() + long(n)));
        std::string e = open_error(cut);
        if (n < 64) {
            CHECK(has(e, "cut.dlrm: file of " + std::to_string(n) + " bytes: shorter than the 64-byte header"));
        } else {
            CHECK(has(e, "cut.dlrm: file has " + std::to_string(n) + " bytes: the header records " +
                             std::to_string(raw.size()) + ": the file is truncated"));
        }
    }
    bytes_t longer = raw;
    longer.push_back(0);
    write_all(cut, longer);
    CHECK(has(open_error(cut), "unexpected bytes after the end"));
}

TEST_CASE("flipped bytes: each tensor, the metadata, every header byte") {
    temp_dir d;
    const std::string path = d / "m.dlrm";
    write_small(path);
    const bytes_t raw = read_all(path);
    auto f = dlrm::weights_file::open(path);
    REQUIRE(f.ok());
    const std::vector<dlrm::tensor_info> tensors = f->tensors();
    for (const auto& t : tensors) {
        for (uint64_t at : {t.offset, t.offset + t.bytes / 2, t.offset + t.bytes - 1}) {
            bytes_t b = raw;
            b[at] ^= 1;
            write_all(path, b);
            std::string e = open_error(path);
            CHECK(has(e, "m.dlrm: tensor " + t.name + ": checksum 0x"));
            CHECK(has(e, "!= recorded 0x" + dlrm::hex64(t.xxh64).substr(2) + ": the file is corrupt"));
        }
    }
    uint64_t meta = dlrm::get_le64(raw.data() + 16);
    for (uint64_t at = meta; at < raw.size(); at += 97) {
        bytes_t b = raw;
        b[at] ^= 0x40;
        write_all(path, b);
        CHECK(has(open_error(path), "m.dlrm: metadata checksum"));
    }
    for (size_t at = 0; at < 64; ++at) {
        CAPTURE(at);
        bytes_t b = raw;
        b[at] ^= 0x10;
        write_all(path, b);
        std::string e = open_error(path);
        if (at < 8) CHECK(has(e, "magic"));
        else if (at < 12) CHECK(has(e, "endianness marker"));
        else if (at < 16) CHECK(has(e, "version"));
        else CHECK(has(e, "header checksum"));
    }
}

TEST_CASE("header rules: magic, big-endian, version, reserved, metadata range") {
    temp_dir d;
    const std::string path = d / "h.dlrm";
    write_small(path);
    const bytes_t raw = read_all(path);
    auto edit = [&](auto f) {
        bytes_t b = raw;
        f(b);
        resign_header(b);
        write_all(path, b);
        return open_error(path);
    };
    CHECK(has(edit([](bytes_t& b) { std::memcpy(b.data(), "GGUF\3\0\0\0", 8); }),
              "h.dlrm: magic 'GGUF\\x03\\x00\\x00\\x00': expected 'DLRMWGT\\x00': not a .dlrm weight file"));
    CHECK(has(edit([](bytes_t& b) { set_le32(b, 8, 0x04030201u); }), "big-endian file: unsupported"));
    CHECK(has(edit([](bytes_t& b) { set_le32(b, 8, 0x01020305u); }), "marker 0x01020305"));
    CHECK(has(edit([](bytes_t& b) { set_le32(b, 12, 2); }),
              "h.dlrm: version 2: this dlrm reads version 1; upgrade dlrm"));
    CHECK(has(edit([](bytes_t& b) { set_le32(b, 12, 0); }), "version 0"));
    CHECK(has(edit([](bytes_t& b) { b[50] = 7; }), "header byte 50 is 7: reserved"));
    const uint64_t meta_off = dlrm::get_le64(raw.data() + 16), meta_bytes = dlrm::get_le64(raw.data() + 24);
    CHECK(has(edit([](bytes_t& b) { set_le64(b, 16, 32); }), "metadata offset 32"));
    CHECK(has(edit([](bytes_t& b) { set_le64(b, 16, 100); }), "metadata offset 100"));
    CHECK(has(edit([&](bytes_t& b) { set_le64(b, 16, meta_off + 64); }), "must end exactly"));
    CHECK(has(edit([&](bytes_t& b) { set_le64(b, 16, UINT64_MAX - 63); }), "must end exactly"));
    CHECK(has(edit([&](bytes_t& b) { set_le64(b, 24, meta_bytes - 1); }), "must end exactly"));
    CHECK(has(edit([&](bytes_t& b) { set_le64(b, 24, UINT64_MAX); }), "must end exactly"));
    CHECK(has(edit([&](bytes_t& b) { set_le64(b, 32, UINT64_MAX); }), "the file is truncated"));
    CHECK(has(edit([&](bytes_t& b) { b[40] ^= 1; }), "metadata checksum"));
    CHECK(edit([](bytes_t&) {}) == "(opened)");  // the re-signing itself is sound
}

TEST_CASE("crafted metadata: every table rule") {
    temp_dir d;
    const std::string path = d / "c.dlrm";
    write_small(path);
    const bytes_t raw = read_all(path);
    const uint64_t meta_off = dlrm::get_le64(raw.data() + 16);
    auto try_json = [&](auto f) {
        write_all(path, with_metadata(raw, f));
        return open_error(path);
    };
    auto try_text = [&](const std::string& text) {
        write_all(path, with_metadata_text(raw, text));
        return open_error(path);
    };
    auto& T = "tensors";
    CHECK(try_json([](json&) {}) == "(opened)");

    // Offsets: overlap, alignment, header, past the metadata, and 2 MiB for large tensors.
    CHECK(has(try_json([&](json& m) { m[T][1]["offset"] = m[T][0]["offset"].get<uint64_t>() + 64; }),
              "c.dlrm: tensor dense.bias: offset"));
    CHECK(has(try_json([&](json& m) { m[T][1]["offset"] = m[T][0]["offset"].get<uint64_t>() + 64; }),
              "overlaps tensor dense.weight"));
    CHECK(has(try_json([&](json& m) { m[T][2]["offset"] = m[T][2]["offset"].get<uint64_t>() + 8; }),
              "tensor emb.0: offset " ));
    CHECK(has(try_json([&](json& m) { m[T][2]["offset"] = m[T][2]["offset"].get<uint64_t>() + 8; }),
              "not a multiple of 64"));
    CHECK(has(try_json([&](json& m) { m[T][0]["offset"] = 0; }), "tensor dense.weight: offset 0: inside the 64-byte header"));
    CHECK(has(try_json([&](json& m) { m[T][2]["offset"] = meta_off; }), "past the start of the metadata"));
    CHECK(has(try_json([&](json& m) { m[T][2]["offset"] = (UINT64_MAX / 64) * 64; }), "past the start of the metadata"));
    CHECK(has(try_json([&](json& m) {
              m[T][0]["shape"] = {16 << 20};
              m[T][0]["dtype"] = "u8";
              m[T][0]["bytes"] = 16 << 20;
          }),
              "offset 64: not a multiple of 2097152 (tensors of >= 16 MiB are 2 MiB aligned)"));
    CHECK(has(try_json([&](json& m) {
              m[T][0]["shape"] = {16 << 20};
              m[T][0]["dtype"] = "u8";
              m[T][0]["bytes"] = 16 << 20;
              m[T][0]["offset"] = 2 << 20;
          }),
              "past the start of the metadata"));
    // An empty tensor owns no bytes, so sitting on another tensor's offset is allowed.
    CHECK(try_json([&](json& m) {
              m[T].push_back({{"name", "nothing"}, {"dtype", "f32"}, {"shape", {0}}, {"offset", 64},
                              {"bytes", 0}, {"xxh64", "ef46db3751d8e999"}});
          }) == "(opened)");

    // Sizes, types and names.
    CHECK(has(try_json([&](json& m) { m[T][0]["bytes"] = 4 * 300 * 17 - 4; }),
              "tensor dense.weight: bytes 20396: dtype f32 with shape [300, 17] needs 20400"));
    CHECK(has(try_json([&](json& m) { m[T][2]["shape"] = {50, 9}; }), "tensor emb.0: bytes 400: dtype u4rw with shape [50, 9] needs 450"));
    CHECK(has(try_json([&](json& m) { m[T][2]["shape"] = {600}; }), "row-wise types need shape [rows, dim]"));
    CHECK(has(try_json([&](json& m) { m[T][0]["dtype"] = "f64"; }), "tensor dense.weight: dtype 'f64': unknown"));
    CHECK(has(try_json([&](json& m) { m[T][0]["dtype"] = 3; }), "\"dtype\" is a JSON number"));
    CHECK(has(try_json([&](json& m) { m[T][0]["shape"] = {-300, -17}; }), "shape dimension 0 is -300: dimensions must be >= 0"));
    CHECK(has(try_json([&](json& m) { m[T][0]["shape"] = {300, 17.0}; }), "shape dimension 17.0"));
    CHECK(has(try_json([&](json& m) { m[T][0]["shape"] = {UINT64_MAX, 1}; }), "expected an integer in [0, 2^63)"));
    CHECK(has(try_json([&](json& m) { m[T][0]["shape"] = {int64_t(1) << 40, int64_t(1) << 40}; }), "overflows 64 bits"));
    CHECK(has(try_json([&](json& m) { m[T][0]["shape"] = json::array({1, 1, 1, 1, 1, 1, 1, 1, 1}); }), "rank 9"));
    CHECK(has(try_json([&](json& m) { m[T][0]["shape"] = "300x17"; }), "\"shape\" is a JSON string"));
    CHECK(has(try_json([&](json& m) { m[T][0]["offset"] = -64; }), "\"offset\" is -64"));
    CHECK(has(try_json([&](json& m) { m[T][0]["bytes"] = 20400.0; }), "\"bytes\" is 20400.0"));
    CHECK(has(try_json([&](json& m) { m[T][1]["name"] = "dense.weight"; }), "tensor dense.weight: name appears twice"));
    CHECK(has(try_json([&](json& m) { m[T][1]["name"] = ""; }), "tensor #1: name '': names must not be empty"));
    CHECK(has(try_json([&](json& m) { m[T][1]["name"] = 5; }), "tensor #1: \"name\" is a JSON number"));
    CHECK(has(try_json([&](json& m) { m[T][0]["xxh64"] = "EF46DB3751D8E999"; }), "16 lowercase hex digits"));
    CHECK(has(try_json([&](json& m) { m[T][0]["xxh64"] = "ef46db"; }), "16 lowercase hex digits"));
    CHECK(has(try_json([&](json& m) { m[T][0]["xxh64"] = 1; }), "\"xxh64\" is a JSON number"));
    CHECK(has(try_json([&](json& m) { m[T][0]["xxh64"] = "0000000000000000"; }),
              "tensor dense.weight: checksum"));
    CHECK(has(try_json([&](json& m) { m[T][0]["extra"] = 1; }), "key \"extra\": unknown in version 1 tensor entries"));
    CHECK(has(try_json([&](json& m) { m[T][0].erase("xxh64"); }), "tensor #0: key \"xxh64\" missing"));
    CHECK(has(try_json([&](json& m) { m[T][0] = json::array(); }), "tensor #0: a JSON array: expected an object"));

    // The top level.
    CHECK(has(try_json([&](json& m) { m["format"] = "gguf"; }), "\"format\" is \"gguf\": expected \"dlrm\""));
    CHECK(has(try_json([&](json& m) { m[T] = json::object(); }), "\"tensors\" is a JSON object: expected an array"));
    CHECK(has(try_json([&](json& m) { m["model"] = "x"; }), "\"model\" is a JSON string: expected an object"));
    CHECK(has(try_json([&](json& m) { m.erase("model"); }), "metadata key \"model\" missing"));
    CHECK(has(try_json([&](json& m) { m["version"] = 1; }), "metadata key \"version\": unknown in version 1"));
    CHECK(has(try_text("[]"), "metadata is a JSON array: expected an object"));
    CHECK(has(try_text(""), "metadata JSON"));
    CHECK(has(try_text("{\"format\":\"dlrm\","), "metadata JSON"));
    CHECK(has(try_text("{\"format\":\"dlrm\",\"tensors\":[],\"model\":{},\"model\":{}}"), "key 'model' appears twice"));
    CHECK(has(try_text("{\"format\":\"dlrm\",\"tensors\":[],\"model\":{\"a\":\"\xff\"}}"), "metadata JSON"));
    CHECK(has(try_text(std::string(10000, '[') + std::string(10000, ']')), "nesting depth"));
    CHECK(try_text("{\"format\":\"dlrm\",\"tensors\":[],\"model\":{}}") == "(opened)");
}

TEST_CASE("random damage to a valid file never crashes the reader") {
    // A small in-test fuzzer: mutate metadata text or header fields, re-sign so the damage reaches
    // the parser and the table checks, and require a clean error or a clean open.
    temp_dir d;
    const std::string path = d / "f.dlrm";
    write_small(path);
    const bytes_t raw = read_all(path);
    const uint64_t meta_off = dlrm::get_le64(raw.data() + 16);
    const std::string text(raw.begin() + long(meta_off), raw.end());
    std::mt19937 rng(1234);
    int opened = 0, rejected = 0;
    for (int iter = 0; iter < 400; ++iter) {
        CAPTURE(iter);
        bytes_t b;
        if (iter % 4 == 0) {  // header field damage
            b = raw;
            size_t at = 16 + rng() % 40;
            b[at] = uint8_t(rng());
            resign_header(b);
        } else {  // metadata text damage: replace, insert or delete a few characters
            std::string t = text;
            int edits = 1 + int(rng() % 3);
            for (int e = 0; e < edits && !t.empty(); ++e) {
                size_t at = rng() % t.size();
                static const char alphabet[] = "0123456789-.e\"[]{},:aftrnu\\ \xff";
                char c = alphabet[rng() % (sizeof alphabet - 1)];
                switch (rng() % 3) {
                    case 0: t[at] = c; break;
                    case 1: t.insert(t.begin() + long(at), c); break;
                    default: t.erase(t.begin() + long(at)); break;
                }
            }
            b = with_metadata_text(raw, t);
        }
        write_all(path, b);
        auto f = dlrm::weights_file::open(path);
        if (f.ok()) {
            ++opened;
            for (const auto& t : f->tensors()) CHECK(t.offset + t.bytes <= f->file_bytes());
        } else {
            ++rejected;
            CHECK(has(f.error().message(), "f.dlrm: "));
        }
    }
    CHECK(rejected > 300);
    MESSAGE("fuzz: " << opened << " opened, " << rejected << " rejected");
}

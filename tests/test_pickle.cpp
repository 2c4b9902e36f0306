// The safe pickle machine (formats/torch/pickle_reader.h): hand-assembled opcode streams that must be
// accepted with the right values, streams that must be refused with the right message, and hostile
// input (truncation at every offset, random mutations, memo cycles) that must never crash.
#include <doctest/doctest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "formats/torch/pickle_reader.h"
#include "tests/torch_pickle_builder.h"

using namespace dlrm;
using dlrm::test::pickle_builder;

namespace {

result<pickle_document> run(const std::vector<uint8_t>& b) { return read_pickle(b.data(), b.size(), "t.pt: data.pkl"); }

// The value under a string key of a dict (the last equal key wins, as in Python).
const pickle_value* lookup(const pickle_document& d, const pickle_value& dict, const std::string& key) {
    const pickle_value* out = nullptr;
    for (size_t i = 0; i + 1 < dict.items.size(); i += 2)
        if (d.at(dict.items[i]).kind == pickle_kind::string && d.at(dict.items[i]).s == key) out = &d.at(dict.items[i + 1]);
    return out;
}

std::string error_of(const std::vector<uint8_t>& b) {
    auto r = run(b);
    return r.ok() ? std::string("(accepted)") : r.error().message();
}

}  // namespace

TEST_CASE("pickle: scalars, containers, memo") {
    pickle_builder p;
    p.proto().op('}').put(0).mark();
    p.str("small").int1(200);
    p.str("mid").int2(60000);
    p.str("neg").int4(-5);
    p.str("long").op(0x8a).u8(2).le(0xff38, 2);  // LONG1 -200
    p.str("big").op(0x8a).u8(8).le(0x0102030405060708ull, 8);
    p.str("float").op('G').le(0, 0);
    for (uint8_t c : {0x3f, 0xf8, 0, 0, 0, 0, 0, 0}) p.u8(c);  // 1.5, big-endian
    p.str("t").int1(1).int1(2).op(0x86);
    p.str("list").op(']').put(1).mark().int1(1).int1(2).int1(3).op('e');
    p.str("again").get(1);
    p.str("flags").op(0x88).op(0x89).op('N').op(0x87);
    p.str("bytes").op('C').u8(3).u8('a').u8('b').u8('c');
    p.op('u').stop();
    auto r = run(p.b);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    const pickle_document& d = *r;
    const pickle_value& root = d.at(d.root);
    REQUIRE(root.kind == pickle_kind::dict);
    CHECK(lookup(d, root, "small")->i == 200);
    CHECK(lookup(d, root, "mid")->i == 60000);
    CHECK(lookup(d, root, "neg")->i == -5);
    CHECK(lookup(d, root, "long")->i == -200);
    CHECK(lookup(d, root, "big")->i == 0x0102030405060708ll);
    CHECK(lookup(d, root, "float")->f == 1.5);
    CHECK(lookup(d, root, "t")->items.size() == 2);
    CHECK(lookup(d, root, "list")->items.size() == 3);
    CHECK(lookup(d, root, "again") == lookup(d, root, "list"));  // the memo hands out the same object
    const pickle_value* flags = lookup(d, root, "flags");
    REQUIRE(flags->items.size() == 3);
    CHECK(d.at(flags->items[0]).kind == pickle_kind::boolean);
    CHECK(d.at(flags->items[0]).i == 1);
    CHECK(d.at(flags->items[2]).kind == pickle_kind::none);
    CHECK(lookup(d, root, "bytes")->s == "abc");
    CHECK(pickle_repr(d, d.root).find("'small': 200") != std::string::npos);
}

TEST_CASE("pickle: a torch state_dict with a rebuilt tensor") {
    auto b = dlrm::test::state_dict_pickle({{"w", "HalfStorage", "0", 12, 2, {2, 3}, {1, 2}}}, "state_dict");
    auto r = run(b);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    const pickle_document& d = *r;
    const pickle_value* sd = lookup(d, d.at(d.root), "state_dict");
    REQUIRE(sd != nullptr);
    const pickle_value* w = lookup(d, *sd, "w");
    REQUIRE(w != nullptr);
    REQUIRE(w->kind == pickle_kind::tensor);
    CHECK(w->tensor.size == std::vector<int64_t>{2, 3});
    CHECK(w->tensor.stride == std::vector<int64_t>{1, 2});
    CHECK(w->tensor.offset == 2);
    const pickle_value& st = d.at(w->tensor.storage);
    CHECK(st.kind == pickle_kind::storage);
    CHECK(st.storage_type == torch_dtype::f16);
    CHECK(st.s == "0");
    CHECK(st.i == 12);
    CHECK(lookup(d, d.at(d.root), "epoch")->i == 7);
}

TEST_CASE("pickle: protocol 4 spellings (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL)") {
    pickle_builder p;
    p.proto(4).op(0x95).le(0, 8);  // a frame of length 0 then more bytes: a length hint only
    p.short_str("collections").op(0x94).short_str("OrderedDict").op(0x94).op(0x93).op(0x94).op(')').op('R').op(0x94);
    p.short_str("k").op(0x94).int1(1).op('s').stop();
    auto r = run(p.b);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    CHECK(r->at(r->root).kind == pickle_kind::dict);
    CHECK(lookup(*r, r->at(r->root), "k")->i == 1);
}

TEST_CASE("pickle: Facebook's numpy scalars are inert values") {
    // train_acc: numpy.core.multiarray.scalar(numpy.dtype('f8', False, True) + BUILD state, _codecs.encode(...))
    pickle_builder p;
    p.proto().op('}').mark().str("train_acc");
    p.global("numpy.core.multiarray", "scalar");
    p.global("numpy", "dtype").str("f8").op(0x89).op(0x88).op(0x87).op('R');
    p.mark().int1(3).str("<").op('N').op('N').op('N').int4(-1).int4(-1).int1(0).op('t').op('b');
    p.global("_codecs", "encode").str(std::string("\0\0\0\0\0\0\xc3\xa0?", 9)).str("latin1").op(0x86).op('R');
    p.op(0x86).op('R').op('u').stop();
    auto r = run(p.b);
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    const pickle_value* v = lookup(*r, r->at(r->root), "train_acc");
    REQUIRE(v != nullptr);
    CHECK(v->kind == pickle_kind::opaque);
}

TEST_CASE("pickle: forbidden globals are refused by name, nothing is called") {
    pickle_builder p;
    p.proto().global("posix", "system").str("touch /tmp/x").op(0x85).op('R').stop();
    CHECK(error_of(p.b) ==
          "t.pt: data.pkl: global 'posix system' is not allowed: a checkpoint may only reference tensor and "
          "container types; refusing to load it");
    pickle_builder q;  // the same through STACK_GLOBAL
    q.proto(4).short_str("builtins").short_str("eval").op(0x93).stop();
    CHECK(error_of(q.b).find("global 'builtins eval' is not allowed") != std::string::npos);
    for (const char* g : {"torch load", "torch.storage _load_from_bytes", "collections defaultdict", "numpy.core.multiarray _reconstruct",
                          "torch._utils _rebuild_tensor", "torch Tensor"}) {
        std::string s = g;
        pickle_builder x;
        x.proto().global(s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)).stop();
        CHECK_MESSAGE(error_of(x.b).find("global '" + s + "' is not allowed") != std::string::npos, s);
    }
    pickle_builder nl;  // a control character in the name is shown escaped
    nl.proto().global("os\x01", "system").stop();
    CHECK(error_of(nl.b).find("'os\\x01 system'") != std::string::npos);
}

TEST_CASE("pickle: structurally bad streams are refused with the offset and the opcode") {
    CHECK(error_of({}).find("empty") != std::string::npos);
    CHECK(error_of({0x80, 2}).find("ends before its STOP") != std::string::npos);
    CHECK(error_of({0x80, 2, '.'}).find("STOP with 0 values") != std::string::npos);
    CHECK(error_of({0x80, 2, 'N', 'N', '.'}).find("STOP with 2 values") != std::string::npos);
    CHECK(error_of({0x80, 9, 'N', '.'}).find("protocol 9") != std::string::npos);
    CHECK(error_of({0x80, 2, 'h', 5, '.'}).find("memo key 5 was never stored") != std::string::npos);
    CHECK(error_of({0x80, 2, 'a', '.'}).find("stack is empty") != std::string::npos);
    CHECK(error_of({0x80, 2, '}', 'N', 'a', '.'}).find("appending to a dict") != std::string::npos);
    CHECK(error_of({0x80, 2, ']', 'N', 'N', 's', '.'}).find("setting items of a list") != std::string::npos);
    CHECK(error_of({0x80, 2, 'N', 't', '.'}).find("no MARK") != std::string::npos);
    CHECK(error_of({0x80, 2, 0x8a, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, '.'}).find("larger than 64 bits") != std::string::npos);
    CHECK(error_of({0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f, 'a', '.'}).find("truncated") != std::string::npos);
    // Object construction opcodes are not part of a state_dict: refused whatever the class.
    CHECK(error_of({0x80, 2, 'N', ')', 0x81, '.'}).find("offset 4: opcode 0x81 (NEWOBJ): not supported") != std::string::npos);
    CHECK(error_of({0x80, 2, 'i', 'o', 's', '\n', 's', '\n', '.'}).find("(INST): not supported") != std::string::npos);
    CHECK(error_of({0x80, 2, 0xff, '.'}).find("opcode 0xff (unknown)") != std::string::npos);
    // Allowed globals used the wrong way.
    pickle_builder s;
    s.proto().global("torch", "FloatStorage").op(')').op('R').stop();
    CHECK(error_of(s.b).find("cannot be called") != std::string::npos);
    pickle_builder o;
    o.proto().global("collections", "OrderedDict").int1(1).op(0x85).op('R').stop();
    CHECK(error_of(o.b).find("built empty") != std::string::npos);
    pickle_builder bad_pid;
    bad_pid.proto().mark().str("storage").str("not a type").str("0").str("cpu").int1(4).op('t').op('Q').stop();
    CHECK(error_of(bad_pid.b).find("torch.*Storage type") != std::string::npos);
    pickle_builder neg_size;
    neg_size.proto().tensor("FloatStorage", "0", 4, 0, {-1, 2}, {2, 1}).stop();
    CHECK(error_of(neg_size.b).find("size: -1: must not be negative") != std::string::npos);
    pickle_builder rank;
    rank.proto().global("torch._utils", "_rebuild_tensor_v2").mark();
    rank.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").int1(1).op('t').op('Q').int1(0);
    rank.mark();
    for (int i = 0; i < 9; ++i) rank.int1(1);
    rank.op('t').mark();
    for (int i = 0; i < 9; ++i) rank.int1(1);
    rank.op('t').op(0x89).op('N').op('t').op('R').stop();
    CHECK(error_of(rank.b).find("9 dimensions") != std::string::npos);
    pickle_builder build;
    build.proto().op(']').op('}').op('b').stop();
    CHECK(error_of(build.b).find("setting the state of a list") != std::string::npos);
}

TEST_CASE("pickle: a list that contains itself is held without recursion") {
    // l = []; l.append(l): through the memo. repr must stay bounded.
    pickle_builder p;
    p.proto().op(']').put(0).get(0).op('a').stop();
    auto r = run(p.b);
    REQUIRE(r.ok());
    const std::string s = pickle_repr(*r, r->root, 60);
    CHECK(s.size() <= 63);
}

TEST_CASE("pickle: truncation at every offset and random mutations never crash") {
    auto good = dlrm::test::state_dict_pickle({{"emb_l.0.weight", "FloatStorage", "0", 12, 0, {3, 4}, {4, 1}},
                                               {"bot_l.0.bias", "BFloat16Storage", "1", 3, 0, {3}, {1}}},
                                              "state_dict");
    REQUIRE(run(good).ok());
    for (size_t n = 0; n < good.size(); ++n) {
        auto r = read_pickle(good.data(), n, "cut");
        CHECK_MESSAGE(!r.ok(), "prefix of " << n << " bytes accepted");
    }
    std::mt19937_64 rng(12345);
    int accepted = 0;
    for (int it = 0; it < 20000; ++it) {
        std::vector<uint8_t> m = good;
        const int flips = 1 + int(rng() % 4);
        for (int f = 0; f < flips; ++f) m[rng() % m.size()] = uint8_t(rng());
        auto r = run(m);
        accepted += r.ok();
        if (!r.ok()) CHECK(r.error().message().rfind("t.pt: data.pkl: ", 0) == 0);
    }
    MESSAGE("seed 12345: " << accepted << " of 20000 mutated pickles were still well-formed");
}

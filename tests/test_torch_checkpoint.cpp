// torch.save archives and the import mapping: tensor views over storages (strides, offsets, bounds),
// streaming with conversion, archives built here with zip_writer (byteorder, missing records,
// compressed-looking input), and plan_import's naming schemes, inference and cross-checks.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/import_checkpoint.h"
#include "engine/model.h"
#include "formats/torch/torch_checkpoint.h"
#include "formats/zip/zip_writer.h"
#include "tests/torch_pickle_builder.h"
#include "tests/temp_dir.h"

using namespace dlrm;

namespace {

using dlrm::test::temp_dir;

std::vector<float> stream_f32(const torch_tensor& t) {
    auto r = torch_tensor_to_f32(t, "t");
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    return *r;
}

// Writes an archive "ck/..." with the given records (name → bytes).
void write_archive(const std::string& path, const std::vector<std::pair<std::string, std::vector<uint8_t>>>& records) {
    auto z = zip_writer::create(path);
    REQUIRE_MESSAGE(z.ok(), z.error().message());
    for (const auto& [name, bytes] : records) {
        REQUIRE(z->begin_member(name, bytes.size()).ok());
        REQUIRE(z->write(bytes.data(), bytes.size()).ok());
        REQUIRE(z->end_member().ok());
    }
    REQUIRE(z->commit().ok());
}

template <class T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
    std::vector<uint8_t> b(v.size() * sizeof(T));
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

std::vector<uint8_t> text(const std::string& s) { return {s.begin(), s.end()}; }

// In-memory tensors for plan_import: only shapes and dtypes matter there.
std::pair<std::string, torch_tensor> fake(const std::string& name, std::vector<int64_t> size,
                                         torch_dtype t = torch_dtype::f32) {
    torch_tensor x;
    x.type = t;
    x.size = size;
    x.stride.assign(size.size(), 1);
    for (size_t i = size.size(); i-- > 1;) x.stride[i - 1] = x.stride[i] * size[i];
    return {name, x};
}

std::vector<std::pair<std::string, torch_tensor>> facebook_model(int64_t top_in) {
    return {fake("emb_l.0.weight", {10, 4}),  fake("emb_l.1.weight", {7, 4}),  fake("emb_l.2.weight", {5, 4}),
            fake("bot_l.0.weight", {8, 13}),  fake("bot_l.0.bias", {8}),        fake("bot_l.2.weight", {4, 8}),
            fake("bot_l.2.bias", {4}),        fake("top_l.0.weight", {6, top_in}), fake("top_l.0.bias", {6}),
            fake("top_l.2.weight", {1, 6}),   fake("top_l.2.bias", {1})};
}

std::string plan_error(const std::vector<std::pair<std::string, torch_tensor>>& ts, import_options o = {}) {
    auto r = plan_import(ts, o, "m.pt");
    return r.ok() ? "(accepted)" : r.error().message();
}

}  // namespace

TEST_CASE("torch tensor views: contiguity, strides, offsets, bounds") {
    std::vector<float> st(24);
    for (size_t i = 0; i < st.size(); ++i) st[i] = float(i);
    const uint8_t* p = reinterpret_cast<const uint8_t*>(st.data());

    auto c = make_torch_tensor(torch_dtype::f32, {2, 3}, {3, 1}, 0, p, 24, "c");
    REQUIRE(c.ok());
    CHECK(c->contiguous());
    CHECK(stream_f32(*c) == std::vector<float>{0, 1, 2, 3, 4, 5});

    auto tr = make_torch_tensor(torch_dtype::f32, {3, 2}, {1, 3}, 0, p, 24, "tr");  // a transpose
    REQUIRE(tr.ok());
    CHECK(!tr->contiguous());
    CHECK(stream_f32(*tr) == std::vector<float>{0, 3, 1, 4, 2, 5});

    auto off = make_torch_tensor(torch_dtype::f32, {2, 2}, {4, 2}, 5, p, 24, "off");  // offset, every 2nd column
    REQUIRE(off.ok());
    CHECK(stream_f32(*off) == std::vector<float>{5, 7, 9, 11});

    auto bcast = make_torch_tensor(torch_dtype::f32, {2, 3}, {0, 1}, 1, p, 24, "b");  // stride 0: repeated rows
    REQUIRE(bcast.ok());
    CHECK(stream_f32(*bcast) == std::vector<float>{1, 2, 3, 1, 2, 3});

    auto three = make_torch_tensor(torch_dtype::f32, {2, 2, 2}, {1, 8, 4}, 0, p, 24, "3d");
    REQUIRE(three.ok());
    CHECK(stream_f32(*three) == std::vector<float>{0, 4, 8, 12, 1, 5, 9, 13});

    auto scalar = make_torch_tensor(torch_dtype::f32, {}, {}, 23, p, 24, "s");
    REQUIRE(scalar.ok());
    CHECK(stream_f32(*scalar) == std::vector<float>{23});

    auto empty = make_torch_tensor(torch_dtype::f32, {0, 5}, {5, 1}, 1000, p, 24, "e");  // reaches nothing
    REQUIRE(empty.ok());
    CHECK(stream_f32(*empty).empty());

    // The last reachable element must lie inside the storage.
    CHECK(make_torch_tensor(torch_dtype::f32, {2, 3}, {3, 1}, 18, p, 24, "x").ok());
    auto past = make_torch_tensor(torch_dtype::f32, {2, 3}, {3, 1}, 19, p, 24, "x");
    REQUIRE(!past.ok());
    CHECK(past.error().message() == "x: size (2, 3), stride (3, 1), offset 19: reaches element 24 of a storage of 24 elements");
    CHECK(!make_torch_tensor(torch_dtype::f32, {3, 2}, {1, 22}, 0, p, 24, "x").ok());
    CHECK(!make_torch_tensor(torch_dtype::f32, {2}, {-1}, 5, p, 24, "x").ok());
    CHECK(!make_torch_tensor(torch_dtype::f32, {2}, {1}, -1, p, 24, "x").ok());
    auto huge = make_torch_tensor(torch_dtype::f32, {int64_t(1) << 40, int64_t(1) << 40}, {1, 1}, 0, p, 24, "x");
    REQUIRE(!huge.ok());
    CHECK(huge.error().message().find("overflows") != std::string::npos);
    auto far = make_torch_tensor(torch_dtype::f32, {2, 2}, {int64_t(1) << 62, int64_t(1) << 62}, 0, p, 24, "x");
    REQUIRE(!far.ok());
    CHECK(far.error().message().find("overflows") != std::string::npos);
}

TEST_CASE("torch tensor streaming: conversions to f32 and same-type copies") {
    // f16: 1.0, -2.5, 65504 (max), 2^-24 (smallest subnormal), inf
    std::vector<uint16_t> h = {0x3c00, 0xc100, 0x7bff, 0x0001, 0x7c00, 0};
    auto th = make_torch_tensor(torch_dtype::f16, {5}, {1}, 0, reinterpret_cast<const uint8_t*>(h.data()), 6, "h");
    REQUIRE(th.ok());
    auto fh = stream_f32(*th);
    CHECK(fh[0] == 1.0f);
    CHECK(fh[1] == -2.5f);
    CHECK(fh[2] == 65504.0f);
    CHECK(fh[3] == std::ldexp(1.0f, -24));
    CHECK(std::isinf(fh[4]));
    std::vector<uint16_t> b = {0x3f80, 0xc020, 0x0000};  // bf16: 1, -2.5, 0
    auto tb = make_torch_tensor(torch_dtype::bf16, {3}, {1}, 0, reinterpret_cast<const uint8_t*>(b.data()), 3, "b");
    REQUIRE(tb.ok());
    CHECK(stream_f32(*tb) == std::vector<float>{1.0f, -2.5f, 0.0f});
    std::vector<double> d = {0.1, -3.0, 1e30, 7.0};
    auto td = make_torch_tensor(torch_dtype::f64, {2, 2}, {1, 2}, 0, reinterpret_cast<const uint8_t*>(d.data()), 4, "d");
    REQUIRE(td.ok());
    CHECK(stream_f32(*td) == std::vector<float>{0.1f, 1e30f, -3.0f, 7.0f});
    // A non-contiguous half tensor copied as half (a table kept in f16).
    std::vector<uint8_t> got;
    auto thc = make_torch_tensor(torch_dtype::f16, {2, 2}, {1, 2}, 0, reinterpret_cast<const uint8_t*>(h.data()), 6, "h");
    REQUIRE(thc.ok());
    REQUIRE(stream_torch_tensor(*thc, torch_dtype::f16, "h", [&](const void* p, size_t n) {
                got.insert(got.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
                return status{};
            }).ok());
    std::vector<uint16_t> want = {h[0], h[2], h[1], h[3]};
    CHECK(got == bytes_of(want));
    // A contiguous tensor is handed over in place, without a copy.
    const void* seen = nullptr;
    REQUIRE(stream_torch_tensor(*th, torch_dtype::f16, "h", [&](const void* p, size_t) { seen = p; return status{}; }).ok());
    CHECK(seen == h.data());
    // Integers do not become floats; a sink error stops the stream.
    std::vector<int64_t> ints = {1, 2};
    auto ti = make_torch_tensor(torch_dtype::i64, {2}, {1}, 0, reinterpret_cast<const uint8_t*>(ints.data()), 2, "m.pt: tensor 'i'");
    REQUIRE(ti.ok());
    auto bad = torch_tensor_to_f32(*ti, "m.pt: tensor 'i'");
    REQUIRE(!bad.ok());
    CHECK(bad.error().message() == "m.pt: tensor 'i': dtype int64: cannot be converted to float32 (only float16, bfloat16 and float64 convert to float32)");
    CHECK(stream_torch_tensor(*th, torch_dtype::f32, "h", [](const void*, size_t) { return status::error("disk full"); })
              .message() == "disk full");
    // Large non-contiguous tensors cross the 4 MiB buffer boundary correctly.
    const int64_t R = 1500, C = 1000;
    std::vector<float> big(size_t(R * C));
    for (size_t i = 0; i < big.size(); ++i) big[i] = float(i % 65521);
    auto tbig = make_torch_tensor(torch_dtype::f32, {C, R}, {1, C}, 0, reinterpret_cast<const uint8_t*>(big.data()), uint64_t(R * C), "big");
    REQUIRE(tbig.ok());
    auto fb = stream_f32(*tbig);
    REQUIRE(fb.size() == big.size());
    bool same = true;
    for (int64_t i = 0; i < C && same; ++i)
        for (int64_t j = 0; j < R; ++j) same = same && fb[size_t(i * R + j)] == big[size_t(j * C + i)];
    CHECK(same);
}

TEST_CASE("torch checkpoint archives built by hand") {
    temp_dir dir;
    std::vector<float> w = {1, 2, 3, 4, 5, 6, 7, 8};
    auto pkl = dlrm::test::state_dict_pickle({{"a.weight", "FloatStorage", "0", 8, 2, {3, 2}, {1, 3}}}, "state_dict");
    const std::string ok_path = dir / "ok.pt";
    write_archive(ok_path, {{"ck/data.pkl", pkl}, {"ck/byteorder", text("little")}, {"ck/data/0", bytes_of(w)}, {"ck/version", text("3\n")}});
    auto ck = torch_checkpoint::open(ok_path);
    REQUIRE_MESSAGE(ck.ok(), ck.error().message());
    CHECK(ck->archive_prefix() == "ck");
    CHECK(ck->state_dict_key() == "state_dict");
    CHECK(ck->format_version() == "3");
    REQUIRE(ck->tensors().size() == 1);
    CHECK(ck->tensors()[0].first == "a.weight");
    CHECK(stream_f32(ck->tensors()[0].second) == std::vector<float>{3, 6, 4, 7, 5, 8});

    auto refused = [&](const std::string& name, const std::vector<std::pair<std::string, std::vector<uint8_t>>>& recs) {
        write_archive(dir / name, recs);
        auto r = torch_checkpoint::open(dir / name);
        REQUIRE(!r.ok());
        return r.error().message();
    };
    CHECK(refused("big.pt", {{"ck/data.pkl", pkl}, {"ck/byteorder", text("big")}, {"ck/data/0", bytes_of(w)}})
              .find("byteorder 'big': only little-endian") != std::string::npos);
    CHECK(refused("nodata.pt", {{"ck/data.pkl", pkl}}).find("storage record 'ck/data/0' is missing") != std::string::npos);
    std::vector<float> short_w = {1, 2, 3};
    CHECK(refused("short.pt", {{"ck/data.pkl", pkl}, {"ck/data/0", bytes_of(short_w)}}).find("needs 32 bytes: the record has 12") != std::string::npos);
    auto pkl_far = dlrm::test::state_dict_pickle({{"a.weight", "FloatStorage", "0", 8, 3, {3, 2}, {1, 3}}});
    CHECK(refused("far.pt", {{"ck/data.pkl", pkl_far}, {"ck/data/0", bytes_of(w)}}).find("reaches element 8 of a storage of 8") != std::string::npos);
    CHECK(refused("nopkl.pt", {{"ck/data/0", bytes_of(w)}}).find("no <name>/data.pkl") != std::string::npos);
    CHECK(refused("script.pt", {{"ck/constants.pkl", pkl}}).find("TorchScript") != std::string::npos);
    dlrm::test::pickle_builder list;
    list.proto().op(']').stop();
    CHECK(refused("list.pt", {{"ck/data.pkl", list.b}}).find("expected a state_dict") != std::string::npos);

    // The legacy format: protocol 2 pickle of the magic number first.
    const std::string legacy = dir / "legacy.pt";
    {
        const uint8_t magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};
        FILE* f = std::fopen(legacy.c_str(), "wb");
        REQUIRE(f);
        std::fwrite(magic, 1, sizeof magic, f);
        std::fclose(f);
    }
    auto lg = torch_checkpoint::open(legacy);
    REQUIRE(!lg.ok());
    CHECK(lg.error().message().find("pre-1.6 torch.save format") != std::string::npos);
    CHECK(lg.error().message().find("_use_new_zipfile_serialization=True") != std::string::npos);

    // Every truncation of the good archive is refused cleanly.
    std::vector<uint8_t> all;
    {
        auto m = mapped_file::open(ok_path);
        REQUIRE(m.ok());
        all.assign(m->data(), m->data() + m->size());
    }
    for (size_t n = 0; n < all.size(); n += 7) {
        const std::string cut = dir / "cut.pt";
        FILE* f = std::fopen(cut.c_str(), "wb");
        REQUIRE(f);
        std::fwrite(all.data(), 1, n, f);
        std::fclose(f);
        CHECK_MESSAGE(!torch_checkpoint::open(cut).ok(), "truncated to " << n << " bytes");
    }
}

TEST_CASE("import plan: Facebook names, interaction inferred from the top MLP's input width") {
    // 4 vectors of dim 4: dot 4 + 6 = 10, with the diagonal 14, cat 16.
    auto dot = plan_import(facebook_model(10), {}, "m.pt");
    REQUIRE_MESSAGE(dot.ok(), dot.error().message());
    CHECK(dot->scheme == naming_scheme::facebook);
    CHECK(dot->config.inter == interaction::dot);
    CHECK(!dot->config.dot_diag);
    CHECK(dot->config.dense_features == 13);
    CHECK(dot->config.bottom == std::vector<int64_t>{8, 4});
    CHECK(dot->config.top == std::vector<int64_t>{6, 1});
    CHECK(dot->config.tables.size() == 3);
    CHECK(dot->config.tables[1].rows == 7);
    CHECK(dot->config.tables[1].bag_size == 1);
    REQUIRE(dot->tensors.size() == tensor_specs(dot->config).size());
    CHECK(dot->tensors[2].ours == "bottom.1.weight");
    CHECK(dot->tensors[2].theirs == "bot_l.2.weight");
    CHECK(dot->tensors.back().theirs == "emb_l.2.weight");
    CHECK(dot->top0_columns.empty());

    auto diag = plan_import(facebook_model(14), {}, "m.pt");
    REQUIRE(diag.ok());
    CHECK(diag->config.dot_diag);
    auto cat = plan_import(facebook_model(16), {}, "m.pt");
    REQUIRE(cat.ok());
    CHECK(cat->config.inter == interaction::cat);

    import_options forced;
    forced.diagonal = true;
    CHECK(plan_error(facebook_model(10), forced) ==
          "m.pt: tensor 'top_l.0.weight': shape (6, 10): expected (6, 14) (4 vectors of dim 4 give dot 10, dot with "
          "the diagonal 14, cat 16; it fits dot without the diagonal: drop --interaction-diagonal)");
    CHECK(plan_error(facebook_model(11)).find("input width 11 fits no interaction") != std::string::npos);
    import_options dcn;
    dcn.arch = import_arch::dcn;
    CHECK(plan_error(facebook_model(10), dcn).find("--arch dcn: the checkpoint has no cross-net tensors") != std::string::npos);

    // Ambiguity: 2 tables of dim 1 (f = 3): dot 1 + 3 = 4, cat 3 · 1 = 3, diag 1 + 6 = 7; dim 2, f = 4:
    // dot 2 + 6 = 8 = cat 4 · 2. The message says how to choose.
    std::vector<std::pair<std::string, torch_tensor>> amb = {
        fake("emb_l.0.weight", {5, 2}), fake("emb_l.1.weight", {5, 2}), fake("emb_l.2.weight", {5, 2}),
        fake("bot_l.0.weight", {2, 13}), fake("bot_l.0.bias", {2}), fake("top_l.0.weight", {1, 8}), fake("top_l.0.bias", {1})};
    CHECK(plan_error(amb).find("fits both dot and cat") != std::string::npos);
    import_options as_cat;
    as_cat.arch = import_arch::cat;
    CHECK(plan_import(amb, as_cat, "m.pt").ok());

    // Cross-checks name the tensor and the expected shape.
    auto m = facebook_model(10);
    m[5] = fake("bot_l.2.weight", {4, 9});
    CHECK(plan_error(m) == "m.pt: tensor 'bot_l.2.weight': shape (4, 9): expected (4, 8) (Linear weights are (out, in); "
                           "the bottom MLP's previous width is 8)");
    m = facebook_model(10);
    m[5] = fake("bot_l.2.weight", {5, 8});
    m[6] = fake("bot_l.2.bias", {5});
    CHECK(plan_error(m).find("its width must be the embedding dim 4") != std::string::npos);
    m = facebook_model(10);
    m[9] = fake("top_l.2.weight", {2, 6});
    m[10] = fake("top_l.2.bias", {2});
    CHECK(plan_error(m).find("the top MLP ends in one logit") != std::string::npos);
    m = facebook_model(10);
    m.push_back(fake("extra.weight", {3}));
    CHECK(plan_error(m).find("tensor 'extra.weight' (3,): not part of any DLRM naming scheme") != std::string::npos);
    m = facebook_model(10);
    m.push_back(fake("dense_arch.model._mlp.0._linear.weight", {3, 13}));
    CHECK(plan_error(m).find("one checkpoint must use one naming scheme") != std::string::npos);
    m = facebook_model(10);
    m[0].second.type = torch_dtype::i64;
    CHECK(plan_error(m).find("dtype int64: expected a floating-point type") != std::string::npos);
}

TEST_CASE("import plan: torchrec DLRM_DCN with the model. prefix, MLPerf names, MLPerf bag sizes") {
    const int64_t dim = 4, rank = 3, width = 3 * dim;  // 2 tables
    std::vector<std::pair<std::string, torch_tensor>> tr = {
        fake("model.sparse_arch.embedding_bag_collection.embedding_bags.t_cat_0.weight", {9, dim}, torch_dtype::f16),
        fake("model.sparse_arch.embedding_bag_collection.embedding_bags.t_cat_1.weight", {4, dim}, torch_dtype::f16),
        fake("model.dense_arch.model._mlp.0._linear.weight", {dim, 13}),
        fake("model.dense_arch.model._mlp.0._linear.bias", {dim}),
        fake("model.inter_arch.crossnet.V_kernels.0", {rank, width}),
        fake("model.inter_arch.crossnet.W_kernels.0", {width, rank}),
        fake("model.inter_arch.crossnet.bias.0", {width}),
        fake("model.inter_arch.crossnet.V_kernels.1", {rank, width}),
        fake("model.inter_arch.crossnet.W_kernels.1", {width, rank}),
        fake("model.inter_arch.crossnet.bias.1", {width}),
        fake("model.over_arch.model.0._mlp.0._linear.weight", {5, width}),
        fake("model.over_arch.model.0._mlp.0._linear.bias", {5}),
        fake("model.over_arch.model.1.weight", {1, 5}),
        fake("model.over_arch.model.1.bias", {1}),
    };
    auto p = plan_import(tr, {}, "m.pt");
    REQUIRE_MESSAGE(p.ok(), p.error().message());
    CHECK(p->scheme == naming_scheme::torchrec);
    CHECK(p->stripped_prefix == "model.");
    CHECK(p->config.inter == interaction::dcn);
    CHECK(p->config.dcn_layers == 2);
    CHECK(p->config.dcn_rank == rank);
    CHECK(p->config.top == std::vector<int64_t>{5, 1});
    CHECK(p->config.tables[0].type == kernels::row_type::f16);
    CHECK(p->tensors[3].ours == "dcn.0.W");
    CHECK(p->tensors[3].theirs == "model.inter_arch.crossnet.W_kernels.0");

    auto bad = tr;
    bad[7] = fake("model.inter_arch.crossnet.V_kernels.1", {rank, width + 1});
    CHECK(plan_error(bad).find("'model.inter_arch.crossnet.V_kernels.1': shape (3, 13): expected (3, 12)") != std::string::npos);
    bad = tr;
    bad.erase(bad.begin() + 9);
    CHECK(plan_error(bad).find("cross-net layer 1 has no bias") != std::string::npos);
    import_options as_dot;
    as_dot.arch = import_arch::dot;
    CHECK(plan_error(tr, as_dot).find("it is a DCN model") != std::string::npos);

    // torchrec's dot interaction: pairs in torch.triu_indices order are reordered to ours.
    std::vector<std::pair<std::string, torch_tensor>> trdot = {tr[0], tr[1], tr[2], tr[3],
        fake("over_arch.model.0._mlp.0._linear.weight", {5, dim + 3}), fake("over_arch.model.0._mlp.0._linear.bias", {5}),
        tr[12], tr[13]};
    for (auto& e : trdot)
        if (e.first.rfind("model.", 0) == 0) e.first = e.first.substr(6);
    auto pd = plan_import(trdot, {}, "m.pt");
    REQUIRE_MESSAGE(pd.ok(), pd.error().message());
    // f = 3. theirs (triu): (0,1) (0,2) (1,2); ours (lower): (1,0) (2,0) (2,1): the same order here.
    CHECK(pd->top0_columns == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6});
    trdot.insert(trdot.begin() + 2, fake("sparse_arch.embedding_bag_collection.embedding_bags.t_cat_2.weight", {3, dim}));
    trdot[5] = fake("over_arch.model.0._mlp.0._linear.weight", {5, dim + 6});
    auto pd4 = plan_import(trdot, {}, "m.pt");
    REQUIRE_MESSAGE(pd4.ok(), pd4.error().message());
    // f = 4. theirs: (0,1) (0,2) (0,3) (1,2) (1,3) (2,3) → ours (1,0)=0 (2,0)=1 (3,0)=3 (2,1)=2 (3,1)=4 (3,2)=5.
    CHECK(pd4->top0_columns == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 7, 6, 8, 9});

    // The MLPerf v2 table shapes → its multi-hot bag sizes; MLPerf single-file names.
    const model_config v2 = mlperf_v2_config();
    std::vector<std::pair<std::string, torch_tensor>> ml;
    for (size_t t = 0; t < v2.tables.size(); ++t)
        ml.push_back(fake("sparse_arch.embedding_bag_collection.embedding_bags." + std::to_string(t) + ".weight", {v2.tables[t].rows, 2}));
    const int64_t w2 = 27 * 2;
    ml.push_back(fake("dense_arch.model._mlp.0.weight", {2, 13}));
    ml.push_back(fake("dense_arch.model._mlp.0.bias", {2}));
    ml.push_back(fake("inter_arch.crossnet.MLPs.V0.weight", {3, w2}));
    ml.push_back(fake("inter_arch.crossnet.MLPs.W0.weight", {w2, 3}));
    ml.push_back(fake("inter_arch.crossnet.MLPs.W0.bias", {w2}));
    ml.push_back(fake("over_arch.model._mlp.0.weight", {1, w2}));
    ml.push_back(fake("over_arch.model._mlp.0.bias", {1}));
    auto pm = plan_import(ml, {}, "m.pt");
    REQUIRE_MESSAGE(pm.ok(), pm.error().message());
    CHECK(pm->scheme == naming_scheme::mlperf);
    CHECK(pm->mlperf_bag_sizes);
    CHECK(pm->config.tables[20].bag_size == 100);
    CHECK(pm->config.dcn_rank == 3);
}

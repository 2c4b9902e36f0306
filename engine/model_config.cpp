#include "engine/model_config.h"

#include <string>

namespace dlrm {

const char* interaction_name(interaction i) {
    switch (i) {
        case interaction::dot: return "dot";
        case interaction::cat: return "cat";
        case interaction::dcn: return "dcn";
    }
    return "?";
}

int64_t model_config::interaction_out_width() const {
    const int64_t f = num_features();
    switch (inter) {
        case interaction::dot: return dim + f * (f - 1) / 2 + (dot_diag ? f : 0);
        case interaction::cat:
        case interaction::dcn: return f * dim;
    }
    return 0;
}

int64_t model_config::macs_per_sample() const {
    int64_t macs = 0, in = dense_features;
    for (int64_t w : bottom) { macs += in * w; in = w; }
    const int64_t width = interaction_in_width();
    if (inter == interaction::dot) {
        const int64_t f = num_features();
        macs += (f * (f - 1) / 2 + (dot_diag ? f : 0)) * dim;
    } else if (inter == interaction::dcn) {
        macs += dcn_layers * 2 * width * dcn_rank;
    }
    in = interaction_out_width();
    for (int64_t w : top) { macs += in * w; in = w; }
    return macs;
}

status model_config::validate() const {
    auto bad = [](const std::string& what, int64_t v, const std::string& rule) {
        return status::error("model: " + what + ": " + std::to_string(v) + ": " + rule);
    };
    if (dense_features < 1 || dense_features > 4096) return bad("dense features", dense_features, "need 1..4096");
    if (dim < 1 || dim > 4096) return bad("embedding dim", dim, "need 1..4096");
    if (tables.empty() || tables.size() > 1024) return bad("tables", int64_t(tables.size()), "need 1..1024");
    for (size_t t = 0; t < tables.size(); ++t) {
        if (tables[t].rows < 1) return bad("table " + std::to_string(t) + " rows", tables[t].rows, "need ≥ 1");
        if (tables[t].bag_size < 0 || tables[t].bag_size > 65536)
            return bad("table " + std::to_string(t) + " bag size", tables[t].bag_size, "need 0 (variable) .. 65536");
    }
    if (bottom.empty()) return bad("bottom MLP layers", 0, "need at least one Linear");
    for (int64_t w : bottom) if (w < 1 || w > 65536) return bad("bottom MLP width", w, "need 1..65536");
    if (bottom.back() != dim)
        return bad("bottom MLP output width", bottom.back(),
                   "must equal the embedding dim " + std::to_string(dim) + " (it is the first interaction vector)");
    if (top.empty()) return bad("top MLP layers", 0, "need at least one Linear");
    for (int64_t w : top) if (w < 1 || w > 65536) return bad("top MLP width", w, "need 1..65536");
    if (top.back() != 1) return bad("top MLP output width", top.back(), "must be 1 (one logit)");
    if (inter == interaction::dcn) {
        if (dcn_layers < 1 || dcn_layers > 64) return bad("dcn layers", dcn_layers, "need 1..64");
        if (dcn_rank < 1 || dcn_rank > 65536) return bad("dcn rank", dcn_rank, "need 1..65536");
    }
    return {};
}

namespace {
model_config mlperf_common() {
    model_config c;
    c.dense_features = 13;
    c.dim = 128;
    c.bottom = {512, 256, 128};
    c.top = {1024, 1024, 512, 256, 1};
    return c;
}
}  // namespace

model_config mlperf_v1_config() {
    // Criteo Terabyte with --max-ind-range=40000000 (MLPerf v1 training reference, dlrm_s_pytorch.py).
    static const int64_t rows[26] = {39884406, 39043, 17289, 7420, 20263, 3, 7120, 1543, 63,
                                     38532951, 2953546, 403346, 10, 2208, 11938, 155, 4, 976,
                                     14, 39979771, 25641295, 39664984, 585935, 12972, 108, 36};
    model_config c = mlperf_common();
    c.inter = interaction::dot;
    c.dot_diag = false;
    for (int64_t r : rows) c.tables.push_back({r, 1, kernels::row_type::f32});
    return c;
}

model_config mlperf_v2_config() {
    // FACTS.md §1: MLPerf inference dlrm-v2 (DCNv2), multi-hot Criteo 1TB.
    static const int64_t rows[26] = {40000000, 39060, 17295, 7424, 20265, 3, 7122, 1543, 63,
                                     40000000, 3067956, 405282, 10, 2209, 11938, 155, 4, 976,
                                     14, 40000000, 40000000, 40000000, 590152, 12973, 108, 36};
    static const int32_t bags[26] = {3, 2, 1, 2, 6, 1, 1, 1, 1, 7, 3, 8, 1, 6, 9, 5, 1, 1, 1, 12, 100, 27, 10, 3, 1, 1};
    model_config c = mlperf_common();
    c.inter = interaction::dcn;
    c.dcn_layers = 3;
    c.dcn_rank = 512;
    for (int t = 0; t < 26; ++t) c.tables.push_back({rows[t], bags[t], kernels::row_type::f32});
    return c;
}

model_config small_config() {
    // Kaggle-like layout at a size that builds and runs in seconds: 26 tables, dim 16, dot interaction.
    model_config c;
    c.dense_features = 13;
    c.dim = 16;
    c.bottom = {64, 32, 16};
    c.top = {64, 32, 1};
    c.inter = interaction::dot;
    static const int64_t rows[26] = {1460, 583, 10131, 2202, 305, 24, 12517, 633, 3, 93145, 5683, 8351, 3194,
                                     27, 14992, 5461, 10, 5652, 2173, 4, 7046, 18, 15, 28656, 105, 14243};
    static const int32_t bags[26] = {1, 1, 2, 1, 1, 1, 3, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 4, 1, 1, 2, 1, 1};
    for (int t = 0; t < 26; ++t) c.tables.push_back({rows[t], bags[t], kernels::row_type::f32});
    return c;
}

}  // namespace dlrm

#include "engine/quant/equalize.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "engine/executor.h"

namespace dlrm {

bool can_equalize(const model& m) {
    const model_config& c = m.config();
    if (c.inter != interaction::dcn || m.bottom().empty() || m.dcn().empty() || m.top().empty()) return false;
    for (const auto& v : m.bottom()) if (v.type != qtype::fp32) return false;
    for (const auto& d : m.dcn()) if (d.v.type != qtype::fp32 || d.w.type != qtype::fp32) return false;
    return m.top()[0].type == qtype::fp32;
}

result<std::vector<float>> equalization_scales(const model& fp32, const criteo_dataset& ds,
                                               const kernels::kernel_table& k, int64_t r0, int64_t r1,
                                               const run_setup& rs) {
    if (!can_equalize(fp32)) return status::error(fp32.path() + ": equalization needs a DCN model with fp32 layers");
    DLRM_TRY(check_rows(ds, r0, r1, "equalization"));
    const model_config& c = fp32.config();
    const int64_t D = c.dim, G = c.num_features();
    auto ex = make_executor(fp32, precision::fp32, ds, k, rs);
    if (!ex.ok()) return ex.error();
    const size_t x0_layer = fp32.bottom().size();  // execution order: bottom, dcn.0.V (its input is x0), …
    std::vector<std::vector<double>> sq(size_t((*ex)->threads()), std::vector<double>(size_t(G), 0.0));
    (*ex)->set_hook([&](int tid, size_t l, int64_t m, const float* src, int64_t lda, const float*, int64_t) {
        if (l != x0_layer) return;
        std::vector<double>& acc = sq[size_t(tid)];
        for (int64_t r = 0; r < m; ++r)
            for (int64_t g = 0; g < G; ++g) {
                const float* x = src + r * lda + g * D;
                double s = 0;
                for (int64_t d = 0; d < D; ++d) s += double(x[d]) * double(x[d]);
                acc[size_t(g)] += s;
            }
    });
    std::vector<float> preds(size_t(r1 - r0));
    DLRM_TRY((*ex)->run(ds, r0, r1, preds.data()));
    std::vector<double> rms(size_t(G), 0.0);
    for (int64_t g = 0; g < G; ++g) {
        for (const auto& t : sq) rms[size_t(g)] += t[size_t(g)];
        rms[size_t(g)] = std::sqrt(rms[size_t(g)] / double((r1 - r0) * D));
    }
    const double top = *std::max_element(rms.begin(), rms.end());
    std::vector<float> s(size_t(G), 1.0f);
    for (int64_t g = 0; g < G; ++g) {
        const bool stored_f32 = g == 0 || c.tables[size_t(g - 1)].type == kernels::row_type::f32;
        if (stored_f32 && rms[size_t(g)] > 0 && std::isfinite(rms[size_t(g)]) && top > 0)
            s[size_t(g)] = float(std::sqrt(top / rms[size_t(g)]));
    }
    return s;
}

uint64_t equalized_table_bytes(const model_config& c, const std::vector<float>& s) {
    uint64_t n = 0;
    for (size_t t = 0; t < c.tables.size() && t + 1 < s.size(); ++t)
        if (s[t + 1] != 1.0f) n += uint64_t(c.tables[t].rows) * uint64_t(c.dim) * 4;
    return n;
}

int limit_equalized_bytes(const model_config& c, std::vector<float>& s, uint64_t budget) {
    int reset = 0;
    while (equalized_table_bytes(c, s) > budget) {
        size_t largest = 0;
        for (size_t t = 0; t < c.tables.size(); ++t)
            if (s[t + 1] != 1.0f && (s[largest + 1] == 1.0f || c.tables[t].rows > c.tables[largest].rows)) largest = t;
        s[largest + 1] = 1.0f;
        ++reset;
    }
    return reset;
}

namespace {

// An owned copy of the `n` floats at p, each multiplied by `factor`.
std::shared_ptr<std::vector<uint8_t>> scaled_copy(const float* p, size_t n, float factor) {
    auto b = std::make_shared<std::vector<uint8_t>>(n * sizeof(float));
    float* d = reinterpret_cast<float*>(b->data());
    for (size_t i = 0; i < n; ++i) d[i] = p[i] * factor;
    return b;
}

}  // namespace

result<model> equalized_model(const model& src, const std::vector<float>& s) {
    if (!can_equalize(src)) return status::error(src.path() + ": equalization needs a DCN model with fp32 layers");
    const model_config& c = src.config();
    const int64_t D = c.dim, G = c.num_features(), width = c.interaction_in_width();
    if (int64_t(s.size()) != G)
        return status::error(src.path() + ": equalization: " + std::to_string(s.size()) + " group scales for " +
                             std::to_string(G) + " feature groups");
    for (size_t g = 0; g < s.size(); ++g)
        if (!(s[g] > 0) || !std::isfinite(s[g]))
            return status::error(src.path() + ": equalization scale " + std::to_string(g) + " = " + std::to_string(s[g]) +
                                 ": must be finite and > 0");
    for (size_t t = 0; t < c.tables.size(); ++t)
        if (s[t + 1] != 1.0f && c.tables[t].type != kernels::row_type::f32)
            return status::error(src.path() + ": equalization: table " + std::to_string(t) + " is not stored as f32");
    const std::string last_bottom = src.bottom().back().name;
    std::vector<memory_tensor> out;
    for (const tensor_info& t : src.file().tensors()) {
        memory_tensor m{t.name, t.type, t.shape, src.file().data(t), nullptr};
        const float* w = reinterpret_cast<const float*>(m.data);
        std::shared_ptr<std::vector<uint8_t>> b;
        const size_t n = size_t(t.bytes / 4);
        if (t.name == last_bottom + ".weight" || t.name == last_bottom + ".bias") {  // rows of group 0
            b = scaled_copy(w, n, s[0]);
        } else if (t.name.rfind("emb.", 0) == 0) {
            const size_t g = size_t(std::stoll(t.name.substr(4))) + 1;
            if (s[g] != 1.0f) b = scaled_copy(w, n, s[g]);
        } else if ((t.name.rfind("dcn.", 0) == 0 && t.name.size() > 2 && t.name.substr(t.name.size() - 2) == ".V") ||
                   t.name == src.top()[0].name + ".weight") {  // columns of x_l, in groups of D
            const int64_t rows = t.shape[0], cols = t.shape[1];
            if (cols != width) return status::error(src.path() + ": tensor " + t.name + " is not " + std::to_string(width) + " wide");
            b = scaled_copy(w, n, 1.0f);
            float* p = reinterpret_cast<float*>(b->data());
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t col = 0; col < cols; ++col) p[r * cols + col] /= s[size_t(col / D)];
        }
        if (b) {
            m.data = b->data();
            m.owned = b;
        }
        out.push_back(std::move(m));
    }
    return model::from_memory(src.path(), src.metadata(), std::move(out));
}

}  // namespace dlrm

#include "engine/quant/plan.h"

#include <algorithm>
#include <cmath>

namespace dlrm {

const char* qtype_name(qtype t) {
    switch (t) {
        case qtype::fp32: return "fp32";
        case qtype::bf16: return "bf16";
        case qtype::fp16: return "fp16";
        case qtype::int8: return "int8";
        case qtype::uint4: return "uint4";
    }
    return "?";
}

result<qtype> parse_qtype(const std::string& s) {
    for (qtype t : {qtype::fp32, qtype::bf16, qtype::fp16, qtype::int8, qtype::uint4})
        if (s == qtype_name(t)) return t;
    return status::error("dtype '" + s + "': expected one of fp32, bf16, fp16, int8, uint4");
}

act_qparams qparams_for_range(float lo, float hi) {
    lo = std::min(lo, 0.0f);
    hi = std::max(hi, 0.0f);
    act_qparams q;
    const float range = hi - lo;
    if (!(range > 0) || !std::isfinite(range)) return q;  // all zeros: any scale is exact
    q.scale = range / 255.0f;
    const float zp = std::nearbyint(-lo / q.scale);
    q.zero_point = int32_t(std::clamp(zp, 0.0f, 255.0f));
    return q;
}

std::vector<std::string> linear_names(const model_config& c) {
    std::vector<std::string> n;
    for (size_t i = 0; i < c.bottom.size(); ++i) n.push_back("bottom." + std::to_string(i));
    if (c.inter == interaction::dcn)
        for (int64_t l = 0; l < c.dcn_layers; ++l) {
            n.push_back("dcn." + std::to_string(l) + ".V");
            n.push_back("dcn." + std::to_string(l) + ".W");
        }
    for (size_t i = 0; i < c.top.size(); ++i) n.push_back("top." + std::to_string(i));
    return n;
}

std::vector<std::string> table_names(const model_config& c) {
    std::vector<std::string> n;
    for (size_t t = 0; t < c.tables.size(); ++t) n.push_back("emb." + std::to_string(t));
    return n;
}

bool is_table_name(const std::string& name) { return name.rfind("emb.", 0) == 0; }

quant_plan default_plan(const model_config& c) {
    quant_plan p;
    for (const auto& n : linear_names(c)) p.layers[n] = qtype::int8;
    for (size_t t = 0; t < c.tables.size(); ++t) {
        const int64_t f32_bytes = c.tables[t].rows * int64_t(kernels::row_bytes(kernels::row_type::f32, c.dim));
        const bool smaller = kernels::row_bytes(kernels::row_type::u4rw, c.dim) < kernels::row_bytes(kernels::row_type::f32, c.dim);
        p.layers["emb." + std::to_string(t)] = (f32_bytes <= k_tiny_table_bytes || !smaller) ? qtype::fp32 : qtype::uint4;
    }
    return p;
}

kernels::row_type table_row_type(qtype t) {
    switch (t) {
        case qtype::fp32: return kernels::row_type::f32;
        case qtype::bf16: return kernels::row_type::bf16;
        case qtype::fp16: return kernels::row_type::f16;
        case qtype::int8: return kernels::row_type::i8rw;
        case qtype::uint4: return kernels::row_type::u4rw;
    }
    return kernels::row_type::f32;
}

namespace {

std::string valid_names(const model_config& c) {
    std::string s;
    for (const auto& n : linear_names(c)) s += (s.empty() ? "" : ", ") + n;
    const auto t = table_names(c);
    if (!t.empty()) s += ", " + t.front() + " … " + t.back();
    return s;
}

status check_name(const model_config& c, const std::string& name, qtype t, const std::string& where) {
    const auto lin = linear_names(c);
    const auto tab = table_names(c);
    const bool is_lin = std::find(lin.begin(), lin.end(), name) != lin.end();
    const bool is_tab = std::find(tab.begin(), tab.end(), name) != tab.end();
    if (!is_lin && !is_tab)
        return status::error(where + ": '" + name + "': no such layer or table in this model: valid names are " +
                             valid_names(c) + " (as `dlrm info MODEL` prints them, without .weight/.bias)");
    if (is_lin && t == qtype::uint4)
        return status::error(where + ": '" + name + "': uint4: a Linear layer takes fp32, bf16, fp16 or int8 (uint4 is for tables)");
    return {};
}

}  // namespace

status apply_plan_overrides(const model_config& c, const nlohmann::json& j0, const std::string& file, quant_plan& p) {
    const nlohmann::json* j = &j0;
    if (j->is_object() && j->contains("plan") && (*j)["plan"].is_object()) j = &(*j)["plan"];
    if (!j->is_object()) return status::error(file + ": not a JSON object: expected {\"layer or table\": \"dtype\", ...}");
    for (auto it = j->begin(); it != j->end(); ++it) {
        if (!it.value().is_string())
            return status::error(file + ": '" + it.key() + "': " + it.value().dump() + ": expected a dtype string (fp32, bf16, fp16, int8, uint4)");
        auto t = parse_qtype(it.value().get<std::string>());
        if (!t.ok()) return status(t.error()).prefix(file + ": '" + it.key() + "'");
        DLRM_TRY(check_name(c, it.key(), *t, file));
        p.layers[it.key()] = *t;
    }
    return {};
}

nlohmann::json plan_to_json(const quant_plan& p) {
    nlohmann::json plan = nlohmann::json::object(), acts = nlohmann::json::object();
    for (const auto& [n, t] : p.layers) plan[n] = qtype_name(t);
    for (const auto& [n, a] : p.acts) acts[n] = {{"scale", a.scale}, {"zero_point", a.zero_point}};
    return {{"plan", plan}, {"activations", acts}, {"calibration", p.calibration}};
}

result<quant_plan> plan_from_json(const model_config& c, const nlohmann::json& j, const std::string& where) {
    if (!j.is_object() || !j.contains("plan") || !j["plan"].is_object())
        return status::error(where + ": quantization.plan: missing or not an object");
    quant_plan p;
    DLRM_TRY(apply_plan_overrides(c, j["plan"], where + ": quantization.plan", p));
    for (const auto& n : linear_names(c))
        if (!p.layers.count(n)) return status::error(where + ": quantization.plan: '" + n + "': missing: the plan must name every layer and table");
    for (size_t t = 0; t < c.tables.size(); ++t) {
        const std::string n = "emb." + std::to_string(t);
        if (!p.layers.count(n)) return status::error(where + ": quantization.plan: '" + n + "': missing: the plan must name every layer and table");
        if (table_row_type(p.layers[n]) != c.tables[t].type)
            return status::error(where + ": quantization.plan: '" + n + "': " + qtype_name(p.layers[n]) +
                                 ": the architecture stores the table as " + kernels::row_type_name(c.tables[t].type));
    }
    auto acts = j.find("activations");
    if (acts != j.end() && !acts->is_object()) return status::error(where + ": quantization.activations: not an object");
    for (const auto& [n, t] : p.layers) {
        if (t != qtype::int8 || is_table_name(n)) continue;
        const std::string w = where + ": quantization.activations." + n;
        if (acts == j.end() || !acts->contains(n)) return status::error(w + ": missing: an int8 layer needs its input's scale and zero point");
        const auto& a = (*acts)[n];
        if (!a.is_object() || !a.contains("scale") || !a["scale"].is_number() || !a.contains("zero_point") ||
            !a["zero_point"].is_number_integer())
            return status::error(w + ": " + a.dump() + ": expected {\"scale\": number, \"zero_point\": integer}");
        act_qparams q;
        q.scale = a["scale"].get<float>();
        const int64_t zp = a["zero_point"].get<int64_t>();
        if (!(q.scale > 0) || !std::isfinite(q.scale)) return status::error(w + ".scale: " + a["scale"].dump() + ": must be finite and > 0");
        if (zp < 0 || zp > 255) return status::error(w + ".zero_point: " + std::to_string(zp) + ": must be in [0, 255]");
        q.zero_point = int32_t(zp);
        p.acts[n] = q;
    }
    if (j.contains("calibration")) p.calibration = j["calibration"];
    return p;
}

}  // namespace dlrm

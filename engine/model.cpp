#include "engine/model.h"

#include <string>

namespace dlrm {

namespace {

std::string shape_text(const std::vector<int64_t>& s) {
    std::string out = "(";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + ")";
}

result<kernels::row_type> parse_row_type(const std::string& s) {
    using kernels::row_type;
    for (row_type t : {row_type::f32, row_type::f16, row_type::bf16, row_type::i8rw, row_type::u4rw})
        if (s == kernels::row_type_name(t)) return t;
    return status::error("table type '" + s + "': expected one of f32, f16, bf16, i8rw, u4rw");
}

result<interaction> parse_interaction(const std::string& s) {
    for (interaction i : {interaction::dot, interaction::cat, interaction::dcn})
        if (s == interaction_name(i)) return i;
    return status::error("interaction '" + s + "': expected one of dot, cat, dcn");
}

}  // namespace

dtype table_dtype(kernels::row_type t) {
    switch (t) {
        case kernels::row_type::f32: return dtype::f32;
        case kernels::row_type::f16: return dtype::f16;
        case kernels::row_type::bf16: return dtype::bf16;
        case kernels::row_type::i8rw: return dtype::i8rw;
        case kernels::row_type::u4rw: return dtype::u4rw;
    }
    return dtype::f32;
}

nlohmann::json config_to_json(const model_config& c) {
    nlohmann::json tables = nlohmann::json::array();
    for (const auto& t : c.tables)
        tables.push_back({{"rows", t.rows}, {"bag_size", t.bag_size}, {"type", kernels::row_type_name(t.type)}});
    nlohmann::json j = {{"dense_features", c.dense_features},
                        {"dim", c.dim},
                        {"bottom", c.bottom},
                        {"top", c.top},
                        {"interaction", interaction_name(c.inter)},
                        {"tables", tables}};
    if (c.inter == interaction::dot) j["dot_diag"] = c.dot_diag;
    if (c.inter == interaction::dcn) {
        j["dcn_layers"] = c.dcn_layers;
        j["dcn_rank"] = c.dcn_rank;
    }
    return j;
}

result<model_config> config_from_json(const nlohmann::json& j) {
    // Every field is type-checked: the metadata comes from a file and may be hostile.
    auto int_field = [&](const nlohmann::json& o, const char* key, int64_t& out) -> status {
        auto it = o.find(key);
        if (it == o.end() || !it->is_number_integer())
            return status::error(std::string("architecture.") + key + ": missing or not an integer");
        out = it->get<int64_t>();
        return {};
    };
    auto int_list = [&](const char* key, std::vector<int64_t>& out) -> status {
        auto it = j.find(key);
        if (it == j.end() || !it->is_array())
            return status::error(std::string("architecture.") + key + ": missing or not a list");
        for (const auto& v : *it) {
            if (!v.is_number_integer())
                return status::error(std::string("architecture.") + key + ": " + v.dump() + ": not an integer");
            out.push_back(v.get<int64_t>());
        }
        return {};
    };
    if (!j.is_object()) return status::error("architecture: not a JSON object");
    model_config c;
    DLRM_TRY(int_field(j, "dense_features", c.dense_features));
    DLRM_TRY(int_field(j, "dim", c.dim));
    DLRM_TRY(int_list("bottom", c.bottom));
    DLRM_TRY(int_list("top", c.top));
    auto inter = j.find("interaction");
    if (inter == j.end() || !inter->is_string()) return status::error("architecture.interaction: missing or not a string");
    auto ip = parse_interaction(inter->get<std::string>());
    if (!ip.ok()) return ip.error();
    c.inter = *ip;
    if (c.inter == interaction::dot) {
        auto d = j.find("dot_diag");
        if (d != j.end()) {
            if (!d->is_boolean()) return status::error("architecture.dot_diag: not a boolean");
            c.dot_diag = d->get<bool>();
        }
    }
    if (c.inter == interaction::dcn) {
        DLRM_TRY(int_field(j, "dcn_layers", c.dcn_layers));
        DLRM_TRY(int_field(j, "dcn_rank", c.dcn_rank));
    }
    auto tables = j.find("tables");
    if (tables == j.end() || !tables->is_array()) return status::error("architecture.tables: missing or not a list");
    for (const auto& t : *tables) {
        if (!t.is_object()) return status::error("architecture.tables: an entry is not an object");
        table_config tc;
        int64_t bag = 0;
        DLRM_TRY(int_field(t, "rows", tc.rows));
        DLRM_TRY(int_field(t, "bag_size", bag));
        if (bag < 0 || bag > (1 << 30)) return status::error("architecture.tables: bag_size " + std::to_string(bag) + ": out of range");
        tc.bag_size = int32_t(bag);
        auto ty = t.find("type");
        if (ty == t.end() || !ty->is_string()) return status::error("architecture.tables: type missing or not a string");
        auto rt = parse_row_type(ty->get<std::string>());
        if (!rt.ok()) return rt.error();
        tc.type = *rt;
        c.tables.push_back(tc);
    }
    DLRM_TRY(c.validate());
    return c;
}

dtype linear_weight_dtype(qtype t) {
    switch (t) {
        case qtype::bf16: return dtype::bf16;
        case qtype::fp16: return dtype::f16;
        case qtype::int8: return dtype::i8;
        default: return dtype::f32;
    }
}

std::vector<tensor_spec> tensor_specs(const model_config& c) { return tensor_specs(c, quant_plan{}); }

std::vector<tensor_spec> tensor_specs(const model_config& c, const quant_plan& p) {
    std::vector<tensor_spec> s;
    auto linear = [&](const std::string& n, const std::string& wname, int64_t out, int64_t in, const std::string& bias) {
        auto it = p.layers.find(n);
        const qtype t = it == p.layers.end() ? qtype::fp32 : it->second;
        s.push_back({wname, linear_weight_dtype(t), {out, in}});
        if (t == qtype::int8) s.push_back({wname + "_scale", dtype::f32, {out}});
        if (!bias.empty()) s.push_back({bias, dtype::f32, {out}});
    };
    int64_t in = c.dense_features;
    for (size_t i = 0; i < c.bottom.size(); ++i) {
        const std::string n = "bottom." + std::to_string(i);
        linear(n, n + ".weight", c.bottom[i], in, n + ".bias");
        in = c.bottom[i];
    }
    if (c.inter == interaction::dcn) {
        const int64_t width = c.interaction_in_width();
        for (int64_t l = 0; l < c.dcn_layers; ++l) {
            const std::string n = "dcn." + std::to_string(l);
            // The DCN tensors are named V / W themselves; an int8 one gains "<name>_scale".
            linear(n + ".V", n + ".V", c.dcn_rank, width, "");
            linear(n + ".W", n + ".W", width, c.dcn_rank, n + ".bias");
        }
    }
    in = c.interaction_out_width();
    for (size_t i = 0; i < c.top.size(); ++i) {
        const std::string n = "top." + std::to_string(i);
        linear(n, n + ".weight", c.top[i], in, n + ".bias");
        in = c.top[i];
    }
    for (size_t t = 0; t < c.tables.size(); ++t)
        s.push_back({"emb." + std::to_string(t), table_dtype(c.tables[t].type), {c.tables[t].rows, c.dim}});
    return s;
}

std::vector<int64_t> model::table_rows() const {
    std::vector<int64_t> r;
    for (const auto& t : config_.tables) r.push_back(t.rows);
    return r;
}

result<model> model::open(const std::string& path, verify_on_open verify) {
    auto f = weights_file::open(path, verify);
    if (!f.ok()) return f.error();
    model m;
    m.file_ = f.take();
    m.label_ = path;
    DLRM_TRY(m.init(m.file_.model()));
    return m;
}

result<model> model::from_memory(const std::string& label, const nlohmann::json& metadata,
                                 std::vector<memory_tensor> tensors) {
    model m;
    m.label_ = label;
    m.in_memory_ = true;
    m.memory_ = std::move(tensors);
    DLRM_TRY(m.init(metadata));
    return m;
}

status model::init(const nlohmann::json& meta) {
    const std::string& path = label_;
    metadata_ = meta;
    auto arch = meta.is_object() ? meta.find("architecture") : meta.end();
    if (!meta.is_object() || arch == meta.end())
        return status::error(path + ": metadata has no 'architecture': not a dlrm model file (made by dlrm synth/import?)");
    auto cfg = config_from_json(*arch);
    if (!cfg.ok()) return status(cfg.error()).prefix(path);
    config_ = cfg.take();
    auto q = meta.find("quantization");
    if (q != meta.end()) {
        auto p = plan_from_json(config_, *q, path);
        if (!p.ok()) return p.error();
        plan_ = p.take();
    }
    DLRM_TRY(bind().prefix(path));
    return {};
}

result<model::found> model::lookup(const std::string& name) const {
    if (!in_memory_) {
        const tensor_info* t = file_.find(name);
        if (!t) return status::error("tensor " + name + ": missing");
        return found{t->type, &t->shape, file_.data(*t)};
    }
    for (const auto& t : memory_) {
        if (t.name != name) continue;
        auto bytes = tensor_bytes(t.type, t.shape);
        if (!bytes.ok()) return status(bytes.error()).prefix("tensor " + name);
        if (!t.data || (t.owned && t.owned->size() != *bytes))
            return status::error("tensor " + name + ": in-memory buffer does not hold " + std::to_string(*bytes) + " bytes");
        return found{t.type, &t.shape, t.data};
    }
    return status::error("tensor " + name + ": missing");
}

status model::bind() {
    const model_config& c = config_;
    auto get = [&](const tensor_spec& spec, const uint8_t*& out) -> status {
        auto t = lookup(spec.name);
        if (!t.ok()) return status::error("tensor " + spec.name + ": missing: the architecture needs it with shape " + shape_text(spec.shape));
        if (t->type != spec.type)
            return status::error("tensor " + spec.name + ": dtype " + dtype_name(t->type) + ": expected " + dtype_name(spec.type));
        if (*t->shape != spec.shape)
            return status::error("tensor " + spec.name + ": shape " + shape_text(*t->shape) + ": expected " + shape_text(spec.shape));
        out = t->data;
        return {};
    };
    std::vector<tensor_spec> specs = tensor_specs(c, plan_);
    size_t k = 0;
    auto linear = [&](const std::string& name, bool has_bias) -> result<linear_view> {
        linear_view v;
        v.name = name;
        auto pt = plan_.layers.find(name);
        v.type = pt == plan_.layers.end() ? qtype::fp32 : pt->second;
        const uint8_t* p = nullptr;
        const tensor_spec& ws = specs[k++];
        DLRM_TRY(get(ws, p));
        v.weight_raw = p;
        if (v.type == qtype::fp32) v.weight = reinterpret_cast<const float*>(p);
        v.out = ws.shape[0];
        v.in = ws.shape[1];
        if (v.type == qtype::int8) {
            DLRM_TRY(get(specs[k++], p));
            v.w_scale = reinterpret_cast<const float*>(p);
            v.act = plan_.acts.at(name);  // plan_from_json checked it is there
        }
        if (has_bias) {
            DLRM_TRY(get(specs[k++], p));
            v.bias = reinterpret_cast<const float*>(p);
        }
        return v;
    };
    for (size_t i = 0; i < c.bottom.size(); ++i) {
        auto v = linear("bottom." + std::to_string(i), true);
        if (!v.ok()) return v.error();
        bottom_.push_back(*v);
    }
    if (c.inter == interaction::dcn) {
        for (int64_t l = 0; l < c.dcn_layers; ++l) {
            const std::string n = "dcn." + std::to_string(l);
            auto v = linear(n + ".V", false);
            if (!v.ok()) return v.error();
            auto w = linear(n + ".W", true);
            if (!w.ok()) return w.error();
            dcn_.push_back({*v, *w});
        }
    }
    for (size_t i = 0; i < c.top.size(); ++i) {
        auto v = linear("top." + std::to_string(i), true);
        if (!v.ok()) return v.error();
        top_.push_back(*v);
    }
    for (size_t t = 0; t < c.tables.size(); ++t) {
        table_view tv;
        tv.name = "emb." + std::to_string(t);
        tv.rows = c.tables[t].rows;
        tv.type = c.tables[t].type;
        DLRM_TRY(get(specs[k++], tv.data));
        tables_.push_back(tv);
    }
    return {};
}

}  // namespace dlrm

#include "engine/import_checkpoint.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "engine/model.h"
#include "formats/weights/weights_file.h"
#include "formats/weights/xxhash64.h"

namespace dlrm {

namespace {

std::string shape_text(const std::vector<int64_t>& s) {
    std::string out = "(";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + (s.size() == 1 ? ",)" : ")");
}

// What a checkpoint tensor is, in our terms.
enum class role : uint8_t { table, bottom_weight, bottom_bias, top_weight, top_bias, dcn_v, dcn_w, dcn_bias };

struct pattern {
    naming_scheme scheme;
    const char* text;  // dot-separated tokens; '#' = a decimal number; "V#" = the letter V then a number
    role r;
    int64_t order_base = 0;  // added to the number: orders torchrec's final over_arch Linear last
};

// FACTS.md §1: the three naming schemes seen in the wild.
const pattern k_patterns[] = {
    {naming_scheme::facebook, "emb_l.#.weight", role::table},
    {naming_scheme::facebook, "bot_l.#.weight", role::bottom_weight},
    {naming_scheme::facebook, "bot_l.#.bias", role::bottom_bias},
    {naming_scheme::facebook, "top_l.#.weight", role::top_weight},
    {naming_scheme::facebook, "top_l.#.bias", role::top_bias},
    {naming_scheme::torchrec, "sparse_arch.embedding_bag_collection.embedding_bags.t_cat_#.weight", role::table},
    {naming_scheme::torchrec, "dense_arch.model._mlp.#._linear.weight", role::bottom_weight},
    {naming_scheme::torchrec, "dense_arch.model._mlp.#._linear.bias", role::bottom_bias},
    {naming_scheme::torchrec, "inter_arch.crossnet.V_kernels.#", role::dcn_v},
    {naming_scheme::torchrec, "inter_arch.crossnet.W_kernels.#", role::dcn_w},
    {naming_scheme::torchrec, "inter_arch.crossnet.bias.#", role::dcn_bias},
    {naming_scheme::torchrec, "over_arch.model.0._mlp.#._linear.weight", role::top_weight},
    {naming_scheme::torchrec, "over_arch.model.0._mlp.#._linear.bias", role::top_bias},
    {naming_scheme::torchrec, "over_arch.model.#.weight", role::top_weight, int64_t(1) << 40},
    {naming_scheme::torchrec, "over_arch.model.#.bias", role::top_bias, int64_t(1) << 40},
    {naming_scheme::mlperf, "sparse_arch.embedding_bag_collection.embedding_bags.#.weight", role::table},
    {naming_scheme::mlperf, "dense_arch.model._mlp.#.weight", role::bottom_weight},
    {naming_scheme::mlperf, "dense_arch.model._mlp.#.bias", role::bottom_bias},
    {naming_scheme::mlperf, "inter_arch.crossnet.MLPs.V#.weight", role::dcn_v},
    {naming_scheme::mlperf, "inter_arch.crossnet.MLPs.W#.weight", role::dcn_w},
    {naming_scheme::mlperf, "inter_arch.crossnet.MLPs.W#.bias", role::dcn_bias},
    {naming_scheme::mlperf, "over_arch.model._mlp.#.weight", role::top_weight},
    {naming_scheme::mlperf, "over_arch.model._mlp.#.bias", role::top_bias},
};

std::vector<std::string> split_dots(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        const size_t d = s.find('.', start);
        out.push_back(s.substr(start, d == std::string::npos ? std::string::npos : d - start));
        if (d == std::string::npos) return out;
        start = d + 1;
    }
}

// A token of decimal digits (no sign, no leading '+', at most 9 digits) → its value.
std::optional<int64_t> number(const std::string& s) {
    if (s.empty() || s.size() > 9) return std::nullopt;
    int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

// Matches a name against a pattern; the number the '#' stood for on success.
std::optional<int64_t> match(const std::string& name, const char* pat) {
    const auto a = split_dots(name), b = split_dots(pat);
    if (a.size() != b.size()) return std::nullopt;
    std::optional<int64_t> n;
    for (size_t i = 0; i < a.size(); ++i) {
        const size_t hash = b[i].find('#');
        if (hash == std::string::npos) {
            if (a[i] != b[i]) return std::nullopt;
            continue;
        }
        const std::string lead = b[i].substr(0, hash);
        if (a[i].compare(0, lead.size(), lead) != 0) return std::nullopt;
        auto v = number(a[i].substr(lead.size()));
        if (!v) return std::nullopt;
        n = v;
    }
    return n;
}

struct linear_src {
    const std::pair<std::string, torch_tensor>* weight = nullptr;
    const std::pair<std::string, torch_tensor>* bias = nullptr;
    int64_t number = 0;
};
struct dcn_src {
    const std::pair<std::string, torch_tensor>* v = nullptr;
    const std::pair<std::string, torch_tensor>* w = nullptr;
    const std::pair<std::string, torch_tensor>* bias = nullptr;
};

bool is_float(torch_dtype t) {
    return t == torch_dtype::f32 || t == torch_dtype::f16 || t == torch_dtype::bf16 || t == torch_dtype::f64;
}

}  // namespace

const char* naming_scheme_name(naming_scheme s) {
    switch (s) {
        case naming_scheme::facebook: return "facebook";
        case naming_scheme::torchrec: return "torchrec";
        case naming_scheme::mlperf: return "mlperf";
    }
    return "?";
}

result<import_arch> parse_import_arch(const std::string& s) {
    if (s == "auto") return import_arch::auto_detect;
    if (s == "dot") return import_arch::dot;
    if (s == "cat") return import_arch::cat;
    if (s == "dcn") return import_arch::dcn;
    return status::error("--arch '" + s + "': expected auto, dot, cat or dcn");
}

result<import_plan> plan_import(const std::vector<std::pair<std::string, torch_tensor>>& tensors,
                                const import_options& o, const std::string& where) {
    using entry = std::pair<std::string, torch_tensor>;
    if (tensors.empty()) return status::error(where + ": the state_dict holds no tensors");
    import_plan plan;

    // Wrappers add a prefix to every name: DataParallel "module.", torchrec's training wrapper "model.".
    for (const char* prefix : {"module.", "model."}) {
        const std::string p = prefix;
        const bool all = std::all_of(tensors.begin(), tensors.end(),
                                     [&](const entry& e) { return e.first.compare(0, p.size(), p) == 0; });
        if (all) plan.stripped_prefix += p;
    }
    auto local = [&](const std::string& name) {
        std::string n = name;
        for (const char* prefix : {"module.", "model."}) {
            const std::string p = prefix;
            if (plan.stripped_prefix.find(p) != std::string::npos && n.compare(0, p.size(), p) == 0) n = n.substr(p.size());
        }
        return n;
    };

    std::map<int64_t, const entry*> tables;
    std::map<int64_t, linear_src> bottom, top;
    std::map<int64_t, dcn_src> dcn;
    std::optional<naming_scheme> scheme;
    std::string scheme_witness;
    for (const entry& e : tensors) {
        const std::string n = local(e.first);
        const pattern* hit = nullptr;
        int64_t num = 0;
        for (const pattern& p : k_patterns) {
            if (auto v = match(n, p.text)) {
                hit = &p;
                num = *v + p.order_base;
                break;
            }
        }
        if (!hit)
            return status::error(where + ": tensor '" + e.first + "' " + shape_text(e.second.size) +
                                 ": not part of any DLRM naming scheme dlrm knows (Facebook dlrm_s_pytorch emb_l/bot_l/top_l, "
                                 "torchrec DLRM/DLRM_DCN, MLPerf single-file v2): dlrm cannot import a model with it");
        if (scheme && *scheme != hit->scheme)
            return status::error(where + ": tensor '" + e.first + "' is named as in the " + naming_scheme_name(hit->scheme) +
                                 " scheme, but '" + scheme_witness + "' as in the " + naming_scheme_name(*scheme) +
                                 " scheme: one checkpoint must use one naming scheme");
        if (!scheme) {
            scheme = hit->scheme;
            scheme_witness = e.first;
        }
        const entry* pe = &e;
        auto dup = [&](const entry* prev) {
            return status::error(where + ": tensors '" + prev->first + "' and '" + e.first + "' map to the same layer");
        };
        switch (hit->r) {
            case role::table:
                if (tables.count(num)) return dup(tables[num]);
                tables[num] = pe;
                break;
            case role::bottom_weight:
            case role::bottom_bias:
            case role::top_weight:
            case role::top_bias: {
                auto& m = (hit->r == role::bottom_weight || hit->r == role::bottom_bias) ? bottom : top;
                linear_src& l = m[num];
                l.number = num;
                const entry*& slot = (hit->r == role::bottom_weight || hit->r == role::top_weight) ? l.weight : l.bias;
                if (slot) return dup(slot);
                slot = pe;
                break;
            }
            case role::dcn_v:
            case role::dcn_w:
            case role::dcn_bias: {
                dcn_src& d = dcn[num];
                const entry*& slot = hit->r == role::dcn_v ? d.v : hit->r == role::dcn_w ? d.w : d.bias;
                if (slot) return dup(slot);
                slot = pe;
                break;
            }
        }
    }
    plan.scheme = *scheme;
    const std::string sname = naming_scheme_name(plan.scheme);

    // Structure: every part present, numbered without gaps where numbers are positions.
    if (tables.empty()) return status::error(where + ": no embedding tables (" + sname + " scheme): a DLRM has at least one");
    if (bottom.empty()) return status::error(where + ": no bottom MLP Linear layers (" + sname + " scheme)");
    if (top.empty()) return status::error(where + ": no top MLP Linear layers (" + sname + " scheme)");
    {
        int64_t k = 0;
        for (const auto& [num, e] : tables) {
            if (num != k)
                return status::error(where + ": table " + std::to_string(k) + " is missing (the next is '" + e->first +
                                     "'): tables must be numbered 0, 1, 2, ... without gaps");
            ++k;
        }
    }
    for (auto* m : {&bottom, &top}) {
        for (const auto& [num, l] : *m) {
            const entry* have = l.weight ? l.weight : l.bias;
            if (!l.weight || !l.bias) {
                std::string name = have->first;
                const std::string from = l.weight ? ".weight" : ".bias", to = l.weight ? ".bias" : ".weight";
                name = name.substr(0, name.size() - from.size()) + to;
                return status::error(where + ": tensor '" + name + "' is missing: '" + have->first +
                                     "' is a Linear layer, which has a weight and a bias");
            }
        }
    }
    {
        int64_t k = 0;
        for (const auto& [num, d] : dcn) {
            if (num != k) return status::error(where + ": cross-net layer " + std::to_string(k) + " is missing: layers must be numbered 0, 1, 2, ...");
            const char* part = !d.v ? "V" : !d.w ? "W" : !d.bias ? "bias" : nullptr;
            if (part)
                return status::error(where + ": cross-net layer " + std::to_string(k) + " has no " + part +
                                     " tensor: each layer needs V (rank, width), W (width, rank) and a bias (width)");
            ++k;
        }
    }

    // Shapes: the tables fix the dim; the bottom MLP's input is the dense feature count.
    auto need_shape = [&](const entry* e, const std::vector<int64_t>& want, const std::string& why) -> status {
        if (e->second.size != want)
            return status::error(where + ": tensor '" + e->first + "': shape " + shape_text(e->second.size) + ": expected " +
                                 shape_text(want) + " (" + why + ")");
        if (!is_float(e->second.type))
            return status::error(where + ": tensor '" + e->first + "': dtype " + torch_dtype_name(e->second.type) +
                                 ": expected a floating-point type (float32, float16, bfloat16 or float64)");
        return {};
    };
    const entry* t0 = tables.begin()->second;
    if (t0->second.size.size() != 2 || t0->second.size[0] < 1 || t0->second.size[1] < 1)
        return status::error(where + ": tensor '" + t0->first + "': shape " + shape_text(t0->second.size) +
                             ": an embedding table is (rows, dim)");
    model_config& c = plan.config;
    c.dim = t0->second.size[1];
    for (const auto& [num, e] : tables) {
        const auto& s = e->second.size;
        if (s.size() != 2 || s[0] < 1)
            return status::error(where + ": tensor '" + e->first + "': shape " + shape_text(s) + ": an embedding table is (rows, dim)");
        DLRM_TRY(need_shape(e, {s[0], c.dim}, "every table has the dim of '" + t0->first + "'"));
        table_config tc;
        tc.rows = s[0];
        switch (e->second.type) {
            case torch_dtype::f16: tc.type = kernels::row_type::f16; break;
            case torch_dtype::bf16: tc.type = kernels::row_type::bf16; break;
            default: tc.type = kernels::row_type::f32; break;  // f32, and f64 converted
        }
        c.tables.push_back(tc);
    }
    // Bag sizes are not in a checkpoint (FACTS.md §1): MLPerf v2's when its tables are these.
    {
        const model_config v2 = mlperf_v2_config();
        bool same = c.tables.size() == v2.tables.size();
        for (size_t t = 0; same && t < c.tables.size(); ++t) same = c.tables[t].rows == v2.tables[t].rows;
        plan.mlperf_bag_sizes = same;
        for (size_t t = 0; t < c.tables.size(); ++t) c.tables[t].bag_size = same ? v2.tables[t].bag_size : 1;
    }

    const entry* b0 = bottom.begin()->second.weight;
    if (b0->second.size.size() != 2)
        return status::error(where + ": tensor '" + b0->first + "': shape " + shape_text(b0->second.size) +
                             ": a Linear weight is (out_features, in_features)");
    c.dense_features = b0->second.size[1];
    auto chain = [&](const std::map<int64_t, linear_src>& m, int64_t in, const char* mlp, std::vector<int64_t>& widths) -> status {
        for (const auto& [num, l] : m) {
            const auto& ws = l.weight->second.size;
            if (ws.size() != 2 || ws[0] < 1)
                return status::error(where + ": tensor '" + l.weight->first + "': shape " + shape_text(ws) +
                                     ": a Linear weight is (out_features, in_features)");
            DLRM_TRY(need_shape(l.weight, {ws[0], in},
                                std::string("Linear weights are (out, in); the ") + mlp + " MLP's previous width is " + std::to_string(in)));
            DLRM_TRY(need_shape(l.bias, {ws[0]}, "one bias per output of '" + l.weight->first + "'"));
            widths.push_back(ws[0]);
            in = ws[0];
        }
        return {};
    };
    DLRM_TRY(chain(bottom, c.dense_features, "bottom", c.bottom));
    if (c.bottom.back() != c.dim) {
        const linear_src& last = bottom.rbegin()->second;
        return status::error(where + ": tensor '" + last.weight->first + "': shape " + shape_text(last.weight->second.size) +
                             ": expected (" + std::to_string(c.dim) + ", " + std::to_string(last.weight->second.size[1]) +
                             "): the bottom MLP's output is the first interaction vector, so its width must be the "
                             "embedding dim " + std::to_string(c.dim) + " of '" + t0->first + "'");
    }

    // The interaction: DCN if there are cross-net tensors; otherwise from the top MLP's input width.
    const int64_t f = int64_t(c.tables.size()) + 1, width = f * c.dim;
    const int64_t w_dot = c.dim + f * (f - 1) / 2, w_diag = c.dim + f * (f + 1) / 2, w_cat = width;
    const entry* top0 = top.begin()->second.weight;
    if (top0->second.size.size() != 2)
        return status::error(where + ": tensor '" + top0->first + "': shape " + shape_text(top0->second.size) +
                             ": a Linear weight is (out_features, in_features)");
    const int64_t top_in = top0->second.size[1], top_out = top0->second.size[0];
    if (o.diagonal && (o.arch == import_arch::cat || o.arch == import_arch::dcn || !dcn.empty()))
        return status::error(where + ": --interaction-diagonal: applies to the dot interaction only");
    if (!dcn.empty()) {
        if (o.arch == import_arch::dot || o.arch == import_arch::cat)
            return status::error(where + ": --arch " + std::string(o.arch == import_arch::dot ? "dot" : "cat") +
                                 ": the checkpoint has DCN cross-net tensors ('" + dcn.begin()->second.v->first +
                                 "'): it is a DCN model (--arch dcn or auto)");
        c.inter = interaction::dcn;
        c.dcn_layers = int64_t(dcn.size());
        const auto& vs = dcn.begin()->second.v->second.size;
        if (vs.size() != 2 || vs[0] < 1)
            return status::error(where + ": tensor '" + dcn.begin()->second.v->first + "': shape " + shape_text(vs) +
                                 ": expected (rank, " + std::to_string(width) + ")");
        c.dcn_rank = vs[0];
        const std::string why = "the cross net of " + std::to_string(f) + " vectors of dim " + std::to_string(c.dim) +
                                " is " + std::to_string(width) + " wide, rank " + std::to_string(c.dcn_rank) + " from '" +
                                dcn.begin()->second.v->first + "'";
        for (const auto& [l, d] : dcn) {
            DLRM_TRY(need_shape(d.v, {c.dcn_rank, width}, why));
            DLRM_TRY(need_shape(d.w, {width, c.dcn_rank}, why));
            DLRM_TRY(need_shape(d.bias, {width}, why));
        }
        DLRM_TRY(need_shape(top0, {top_out, width}, "the top MLP reads the cross net's output, " + std::to_string(width) + " wide"));
    } else {
        if (o.arch == import_arch::dcn)
            return status::error(where + ": --arch dcn: the checkpoint has no cross-net tensors (" + sname +
                                 " scheme): it is a dot or cat model");
        const std::string widths = std::to_string(f) + " vectors of dim " + std::to_string(c.dim) + " give dot " +
                                   std::to_string(w_dot) + ", dot with the diagonal " + std::to_string(w_diag) + ", cat " +
                                   std::to_string(w_cat);
        if (o.arch == import_arch::dot || o.diagonal) {
            c.inter = interaction::dot;
            c.dot_diag = o.diagonal;
            const int64_t want = o.diagonal ? w_diag : w_dot;
            if (top_in != want) {
                std::string hint = !o.diagonal && top_in == w_diag ? "; it fits dot with the diagonal: add --interaction-diagonal"
                                 : o.diagonal && top_in == w_dot   ? "; it fits dot without the diagonal: drop --interaction-diagonal"
                                 : top_in == w_cat                 ? "; it fits cat: --arch cat"
                                                                   : "";
                return status::error(where + ": tensor '" + top0->first + "': shape " + shape_text(top0->second.size) +
                                     ": expected " + shape_text({top_out, want}) + " (" + widths + hint + ")");
            }
        } else if (o.arch == import_arch::cat) {
            c.inter = interaction::cat;
            if (top_in != w_cat)
                return status::error(where + ": tensor '" + top0->first + "': shape " + shape_text(top0->second.size) +
                                     ": expected " + shape_text({top_out, w_cat}) + " (" + widths + ")");
        } else {
            std::vector<std::string> fits;
            if (top_in == w_dot) fits.push_back("dot");
            if (top_in == w_diag) fits.push_back("dot with the diagonal");
            if (top_in == w_cat) fits.push_back("cat");
            if (fits.empty())
                return status::error(where + ": tensor '" + top0->first + "': shape " + shape_text(top0->second.size) +
                                     ": the top MLP's input width " + std::to_string(top_in) + " fits no interaction (" +
                                     widths + ")");
            if (fits.size() > 1)
                return status::error(where + ": the top MLP's input width " + std::to_string(top_in) + " fits both " +
                                     fits[0] + " and " + fits[1] + " (" + widths + "): pass --arch dot" +
                                     (top_in == w_diag ? " --interaction-diagonal" : "") + " or --arch cat");
            c.inter = top_in == w_cat ? interaction::cat : interaction::dot;
            c.dot_diag = top_in == w_diag;
        }
    }
    DLRM_TRY(chain(top, c.interaction_out_width(), "top", c.top));
    if (c.top.back() != 1) {
        const linear_src& last = top.rbegin()->second;
        return status::error(where + ": tensor '" + last.weight->first + "': shape " + shape_text(last.weight->second.size) +
                             ": expected (1, " + std::to_string(last.weight->second.size[1]) + "): the top MLP ends in one logit");
    }
    if (status s = c.validate(); !s.ok()) return status(s).prefix(where);
    if (plan.scheme == naming_scheme::torchrec && c.inter == interaction::dot) {
        const int64_t off = c.dot_diag ? 1 : 0;  // ours: j < i + off;  theirs: b ≥ a + 1 − off
        plan.top0_columns.resize(size_t(c.interaction_out_width()));
        for (int64_t k = 0; k < c.dim; ++k) plan.top0_columns[size_t(k)] = k;
        int64_t theirs = c.dim;
        for (int64_t a = 0; a < f; ++a)
            for (int64_t b = a + 1 - off; b < f; ++b) {
                const int64_t ours = c.dim + (c.dot_diag ? b * (b + 1) / 2 : b * (b - 1) / 2) + a;
                plan.top0_columns[size_t(ours)] = theirs++;
            }
    }

    // Our tensors, in file order, each with its source.
    std::map<std::string, const entry*> src;
    {
        size_t i = 0;
        for (const auto& [n, l] : bottom) {
            src["bottom." + std::to_string(i) + ".weight"] = l.weight;
            src["bottom." + std::to_string(i++) + ".bias"] = l.bias;
        }
        i = 0;
        for (const auto& [n, l] : top) {
            src["top." + std::to_string(i) + ".weight"] = l.weight;
            src["top." + std::to_string(i++) + ".bias"] = l.bias;
        }
        for (const auto& [l, d] : dcn) {
            src["dcn." + std::to_string(l) + ".V"] = d.v;
            src["dcn." + std::to_string(l) + ".W"] = d.w;
            src["dcn." + std::to_string(l) + ".bias"] = d.bias;
        }
        for (const auto& [k, e] : tables) src["emb." + std::to_string(k)] = e;
    }
    for (const tensor_spec& s : tensor_specs(c)) {
        auto it = src.find(s.name);
        if (it == src.end()) return status::error(where + ": internal: no source for tensor " + s.name);
        plan.tensors.push_back({s.name, it->second->first, &it->second->second});
    }
    return plan;
}

result<import_plan> import_checkpoint(const std::string& ckpt_path, const std::string& out_path, const import_options& o,
                                      const std::function<void(const std::string&)>& log) {
    {
        std::error_code ec;
        if (std::filesystem::exists(out_path, ec) && std::filesystem::equivalent(ckpt_path, out_path, ec))
            return status::error(out_path + ": is the checkpoint itself: choose another output path");
    }
    auto ck = torch_checkpoint::open(ckpt_path);
    if (!ck.ok()) return ck.error();
    auto plan_r = plan_import(ck->tensors(), o, ckpt_path);
    if (!plan_r.ok()) return plan_r.error();
    import_plan& plan = *plan_r;
    const model_config& c = plan.config;

    auto w = weights_writer::create(out_path);
    if (!w.ok()) return w.error();
    nlohmann::json names = nlohmann::json::object();
    const std::vector<tensor_spec> specs = tensor_specs(c);
    for (size_t i = 0; i < specs.size(); ++i) {
        const tensor_spec& s = specs[i];
        const import_plan::source& from = plan.tensors[i];
        names[s.name] = from.theirs;
        const torch_dtype out = s.type == dtype::f16 ? torch_dtype::f16 : s.type == dtype::bf16 ? torch_dtype::bf16 : torch_dtype::f32;
        const std::string what = ckpt_path + ": tensor '" + from.theirs + "'";
        if (s.name == "top.0.weight" && !plan.top0_columns.empty()) {
            auto src = torch_tensor_to_f32(*from.tensor, what);
            if (!src.ok()) return src.error();
            const size_t in = size_t(s.shape[1]);
            std::vector<float> dst(src->size());
            for (size_t r = 0; r < size_t(s.shape[0]); ++r)
                for (size_t col = 0; col < in; ++col) dst[r * in + col] = (*src)[r * in + size_t(plan.top0_columns[col])];
            DLRM_TRY(w->add_tensor(s.name, s.type, s.shape, dst.data(), dst.size() * 4));
            continue;
        }
        DLRM_TRY(w->begin_tensor(s.name, s.type, s.shape));
        DLRM_TRY(stream_torch_tensor(*from.tensor, out, what, [&](const void* p, size_t n) { return w->write(p, n); }));
        DLRM_TRY(w->end_tensor());
        if (log && from.tensor->bytes() >= (uint64_t(256) << 20))
            log("  " + s.name + " <- " + from.theirs + ": " + std::to_string(from.tensor->bytes() >> 20) + " MiB");
    }

    char hash[32];
    std::snprintf(hash, sizeof hash, "%016llx",
                  static_cast<unsigned long long>(xxh64(ck->file().data(), ck->file().size())));
    std::string tables = kernels::row_type_name(c.tables[0].type);
    for (const auto& t : c.tables)
        if (t.type != c.tables[0].type) tables = "mixed";
    nlohmann::json meta = {
        {"architecture", config_to_json(c)},
        {"provenance",
         {{"tool", "dlrm import"},
          {"source", ckpt_path},
          {"source_bytes", ck->file().size()},
          {"source_xxh64", hash},
          {"naming_scheme", naming_scheme_name(plan.scheme)},
          {"stripped_prefix", plan.stripped_prefix},
          {"state_dict_key", ck->state_dict_key()},
          {"torch_archive_version", ck->format_version()},
          {"bag_sizes", plan.mlperf_bag_sizes ? "MLPerf DLRM v2 multi-hot sizes (the tables match its 26 row counts)"
                                              : "1 per table: a checkpoint does not record bag sizes; the dataset gives them at run time"},
          {"tensor_names", names}}},
        {"precision", {{"linear", "fp32"}, {"tables", tables}}},
    };
    if (!plan.top0_columns.empty())
        meta["provenance"]["top0_columns"] = "reordered from torchrec's pair order (torch.triu_indices) to dlrm's lower triangle";
    DLRM_TRY(w->finish(meta));
    for (auto& t : plan.tensors) t.tensor = nullptr;  // they pointed into the checkpoint, closed now
    return plan_r;
}

}  // namespace dlrm

// dlrm info [MODEL|DATA] [--day N] [--json]
// Without a path: the CPU, the kernel table chosen for it and every kernel variant with its
// availability. With a .dlrm file: its architecture, tensors, precision and provenance. With a
// dataset folder or .bin file: what it holds.
#include <filesystem>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/model.h"
#include "formats/criteo/criteo_dataset.h"
#include "kernels/dispatch.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace dlrm::cli {

namespace {

std::string shape_text(const std::vector<int64_t>& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) out += (i ? "×" : "") + std::to_string(s[i]);
    return out.empty() ? "scalar" : out;
}

void cpu_info(bool json) {
    const auto& f = kernels::cpu();
    auto active = kernels::active();
    nlohmann::json variants = nlohmann::json::array();
    const kernels::kernel_table* t = active.ok() ? *active : nullptr;
    auto chosen = [&](const kernels::variant& v) {
        if (!t) return false;
        switch (v.fam) {
            case kernels::family::gemm_f32: return std::string(v.name) == t->gemm_f32.name;
            case kernels::family::gemm_bf16: return std::string(v.name) == t->gemm_bf16.name;
            case kernels::family::gemm_u8s8: return std::string(v.name) == t->gemm_u8s8.name;
            case kernels::family::embbag: return std::string(v.name) == t->embbag.name;
            case kernels::family::interact_dot: return std::string(v.name) == t->interact_dot.name;
            case kernels::family::dcn_cross: return std::string(v.name) == t->dcn_cross.name;
            case kernels::family::sigmoid: return std::string(v.name) == t->sigmoid.name;
            case kernels::family::convert: return std::string(v.name) == t->convert.name;
        }
        return false;
    };
    for (const auto& v : kernels::registry())
        variants.push_back({{"name", v.name}, {"family", kernels::family_name(v.fam)}, {"isa", kernels::isa_name(v.level)},
                            {"available", v.available(f)}, {"active", chosen(v)}});
    nlohmann::json levels = nlohmann::json::array();
    for (auto l : kernels::available_levels()) levels.push_back(kernels::isa_name(l));
    if (json) {
        nlohmann::json j = {{"cpu", {{"arch", f.arch}, {"brand", f.brand}, {"features", kernels::cpu_feature_list(f)}}},
                            {"kernel_table", t ? nlohmann::json(kernels::isa_name(t->level)) : nlohmann::json(nullptr)},
                            {"available_tables", levels},
                            {"variants", variants}};
        if (!active.ok()) j["error"] = active.error().message();
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        std::printf("cpu:           %s (%s)\n", f.brand.c_str(), f.arch.c_str());
        std::printf("features:      %s\n", kernels::cpu_feature_list(f).c_str());
        std::string lv;
        for (auto& l : levels) lv += (lv.empty() ? "" : " ") + l.get<std::string>();
        std::printf("tables:        %s (DLRM_ISA forces one)\n", lv.c_str());
        if (t)
            std::printf("kernel table:  %s\n", kernels::isa_name(t->level));
        else
            std::printf("kernel table:  none: %s\n", active.error().message().c_str());
        std::printf("\n%-14s %-40s %-8s %-10s %s\n", "family", "variant", "isa", "available", "active");
        for (const auto& v : variants)
            std::printf("%-14s %-40s %-8s %-10s %s\n", v["family"].get<std::string>().c_str(),
                        v["name"].get<std::string>().c_str(), v["isa"].get<std::string>().c_str(),
                        v["available"].get<bool>() ? "yes" : "no", v["active"].get<bool>() ? "*" : "");
    }
    if (!active.ok()) exit_code() = 1;
}

void model_info(const std::string& path, bool json) {
    auto m = model::open(path, verify_on_open::none);
    if (!m.ok()) { fail(m.error()); return; }
    const model_config& c = m->config();
    if (json) {
        nlohmann::json tensors = nlohmann::json::array();
        for (const auto& t : m->file().tensors())
            tensors.push_back({{"name", t.name}, {"dtype", dtype_name(t.type)}, {"shape", t.shape}, {"bytes", t.bytes}});
        nlohmann::json j = {{"file", path}, {"bytes", m->file().file_bytes()}, {"metadata", m->file().model()},
                            {"macs_per_sample", c.macs_per_sample()}, {"tensors", tensors}};
        std::printf("%s\n", j.dump(2).c_str());
        return;
    }
    std::printf("model:        %s (%s bytes)\n", path.c_str(), with_commas(static_cast<long long>(m->file().file_bytes())).c_str());
    std::printf("interaction:  %s", interaction_name(c.inter));
    if (c.inter == interaction::dot) std::printf("%s", c.dot_diag ? " (with diagonal)" : " (strict lower triangle)");
    if (c.inter == interaction::dcn) std::printf(" (%lld layers, rank %lld)", static_cast<long long>(c.dcn_layers), static_cast<long long>(c.dcn_rank));
    std::printf("\ndense:        %lld features, dim %lld\n", static_cast<long long>(c.dense_features), static_cast<long long>(c.dim));
    auto widths = [](int64_t in, const std::vector<int64_t>& v) {
        std::string s = std::to_string(in);
        for (int64_t w : v) s += "-" + std::to_string(w);
        return s;
    };
    std::printf("bottom MLP:   %s\n", widths(c.dense_features, c.bottom).c_str());
    std::printf("top MLP:      %s\n", widths(c.interaction_out_width(), c.top).c_str());
    int64_t rows = 0;
    for (const auto& t : c.tables) rows += t.rows;
    std::printf("tables:       %zu, %s rows in all\n", c.tables.size(), with_commas(rows).c_str());
    std::printf("MACs/sample:  %s\n", with_commas(c.macs_per_sample()).c_str());
    auto prov = m->file().model().find("provenance");
    if (prov != m->file().model().end()) std::printf("provenance:   %s\n", prov->dump().c_str());
    std::printf("\n%-16s %-6s %-18s %14s\n", "tensor", "dtype", "shape", "bytes");
    for (const auto& t : m->file().tensors())
        std::printf("%-16s %-6s %-18s %14s\n", t.name.c_str(), dtype_name(t.type), shape_text(t.shape).c_str(),
                    with_commas(static_cast<long long>(t.bytes)).c_str());
}

void data_info(const std::string& path, int day, bool json) {
    auto ds = criteo_dataset::open(path, day, {});
    if (!ds.ok()) { fail(ds.error()); return; }
    if (json) {
        nlohmann::json bags = nlohmann::json::array();
        for (int64_t t = 0; t < ds->num_tables(); ++t) bags.push_back(ds->bag_size(t));
        static const char* names[] = {"mlperf_multi_hot", "torchrec_one_hot", "facebook_bin"};
        nlohmann::json j = {{"path", path}, {"layout", names[int(ds->layout())]}, {"rows", ds->rows()},
                            {"dense_features", ds->num_dense()}, {"tables", ds->num_tables()}, {"bag_sizes", bags}};
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        std::printf("%s\n", ds->describe().c_str());
    }
}

}  // namespace

void add_info(CLI::App& app) {
    auto* cmd = app.add_subcommand("info", "CPU features and kernels, or what a model or dataset holds");
    auto path = std::make_shared<std::string>();
    auto day = std::make_shared<int>(0);
    auto json = std::make_shared<bool>(false);
    cmd->add_option("PATH", *path, "a .dlrm model, a dataset folder or a .bin file");
    cmd->add_option("--day", *day, "N in day_N_* (datasets)")->capture_default_str();
    cmd->add_flag("--json", *json, "machine-readable output");
    cmd->callback([path, day, json] {
        namespace fs = std::filesystem;
        if (path->empty()) return cpu_info(*json);
        std::error_code ec;
        if (fs::is_directory(*path, ec) || (path->size() > 4 && path->substr(path->size() - 4) == ".bin"))
            return data_info(*path, *day, *json);
        if (!fs::exists(*path, ec)) { fail(*path + ": no such file or folder"); return; }
        model_info(*path, *json);
    });
}

}  // namespace dlrm::cli

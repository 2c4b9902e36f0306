// dlrm requantize NEW_FP32.dlrm --like OUT.dlrm -o NEW_OUT.dlrm
// Quantizes updated weights of the same architecture with OUT.dlrm's plan and activation ranges, without
// calibration data (weights retrained daily, calibration kept). engine/quant/README.md "requantize".
#include <cstdio>
#include <optional>

#include "engine/model.h"
#include "engine/quant/equalize.h"
#include "engine/quant/quantizer.h"
#include "kernels/dispatch.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace dlrm::cli {

namespace {

struct requantize_args {
    std::string model, like, out;
};

// The first difference between two architectures, ignoring the tables' row types (the plan sets them).
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b, const std::string& path) {
    if (a.type() != b.type()) return path + ": " + a.dump() + " vs " + b.dump();
    if (a.is_object()) {
        for (auto it = a.begin(); it != a.end(); ++it) {
            if (it.key() == "type" && path.find("tables") != std::string::npos) continue;
            if (!b.contains(it.key())) return path + "." + it.key() + ": " + it.value().dump() + " vs (absent)";
            std::string d = first_difference(it.value(), b[it.key()], path + "." + it.key());
            if (!d.empty()) return d;
        }
        for (auto it = b.begin(); it != b.end(); ++it)
            if (!a.contains(it.key())) return path + "." + it.key() + ": (absent) vs " + it.value().dump();
        return "";
    }
    if (a.is_array()) {
        if (a.size() != b.size())
            return path + ": " + std::to_string(a.size()) + " entries vs " + std::to_string(b.size());
        for (size_t i = 0; i < a.size(); ++i) {
            std::string d = first_difference(a[i], b[i], path + "[" + std::to_string(i) + "]");
            if (!d.empty()) return d;
        }
        return "";
    }
    return a == b ? "" : path + ": " + a.dump() + " vs " + b.dump();
}

void requantize(const requantize_args& a) {
    auto k = kernels::active();
    if (!k.ok()) { fail(k.error()); return; }
    auto src = model::open(a.model);
    if (!src.ok()) { fail(src.error()); return; }
    auto like = model::open(a.like, verify_on_open::none);
    if (!like.ok()) { fail(like.error()); return; }
    if (!like->plan()) {
        fail(a.like + ": --like: has no quantization plan: pass a model written by `dlrm calibrate`");
        return;
    }
    const std::string diff = first_difference(config_to_json(src->config()), config_to_json(like->config()), "architecture");
    if (!diff.empty()) {
        fail(a.model + " vs " + a.like + ": architectures differ at " + diff +
             ": requantize reuses the plan and activation ranges of a model of the same architecture");
        return;
    }
    quant_plan plan = *like->plan();
    plan.calibration["requantized_from"] = a.model;
    plan.calibration["plan_from"] = a.like;
    // A plan calibrated on the equalized network (engine/quant/equalize.h) needs the same group scales
    // applied to the new weights, or its activation ranges would not fit them.
    std::optional<model> equalized;
    if (plan.calibration.contains("equalization")) {
        std::vector<float> s;
        try {
            s = plan.calibration["equalization"].at("scales").get<std::vector<float>>();
        } catch (const std::exception&) {
            fail(a.like + ": --like: its calibration's equalization has no list of scales");
            return;
        }
        auto e = equalized_model(*src, s);
        if (!e.ok()) { fail(status(e.error()).prefix("requantize")); return; }
        equalized.emplace(e.take());
    }
    tensor_builder b(equalized ? *equalized : *src, **k);
    auto tensors = b.build(plan);
    if (!tensors.ok()) { fail(tensors.error()); return; }
    status st = write_model(a.out, *tensors, b.metadata(plan));
    if (!st.ok()) { fail(st); return; }
    int changed = 0;
    for (const auto& [n, t] : plan.layers) changed += t != qtype::fp32;
    std::printf("wrote %s: %d layers and tables quantized with the plan and activation ranges of %s\n", a.out.c_str(),
                changed, a.like.c_str());
}

}  // namespace

void add_requantize(CLI::App& app) {
    auto* cmd = app.add_subcommand("requantize", "quantize updated fp32 weights with an existing model's plan and ranges");
    auto a = std::make_shared<requantize_args>();
    cmd->add_option("MODEL", a->model, "the new fp32 model .dlrm")->required();
    cmd->add_option("--like", a->like, "a model written by dlrm calibrate (same architecture)")->required();
    cmd->add_option("-o,--out", a->out, "quantized model to write")->required();
    cmd->callback([a] { requantize(*a); });
}

}  // namespace dlrm::cli

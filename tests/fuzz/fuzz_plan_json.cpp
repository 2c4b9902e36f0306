// libFuzzer target: calibration plans (engine/quant/plan.cpp): a `--plan PLAN.json` file applied with
// apply_plan_overrides, and the "quantization" metadata object of a .dlrm read back by
// plan_from_json, both against the small and the MLPerf v2 architectures. Neither may crash, and a
// plan either reader accepts must survive plan_to_json → plan_from_json unchanged.
#include <nlohmann/json.hpp>

#include "engine/quant/plan.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
    if (j.is_discarded()) return 0;
    for (const dlrm::model_config& c : {dlrm::small_config(), dlrm::mlperf_v2_config()}) {
        dlrm::quant_plan p = dlrm::default_plan(c);
        if (dlrm::apply_plan_overrides(c, j, "fuzz.json", p).ok()) {
            // Every int8 Linear needs ranges before the plan can be stored; give them, then round-trip.
            // and store the tables in the plan's row types, as the quantized model's architecture does.
            dlrm::model_config qc = c;
            for (const auto& [name, t] : p.layers)
                if (t == dlrm::qtype::int8 && !dlrm::is_table_name(name)) p.acts[name] = {0.5f, 7};
            for (size_t t = 0; t < qc.tables.size(); ++t)
                qc.tables[t].type = dlrm::table_row_type(p.layers.at("emb." + std::to_string(t)));
            auto back = dlrm::plan_from_json(qc, dlrm::plan_to_json(p), "round trip");
            if (!back.ok() || back->layers != p.layers) __builtin_trap();
        }
        auto q = dlrm::plan_from_json(c, j, "fuzz.dlrm");
        if (q.ok()) {
            auto again = dlrm::plan_from_json(c, dlrm::plan_to_json(*q), "round trip");
            if (!again.ok() || again->layers != q->layers) __builtin_trap();
            for (const auto& [name, a] : q->acts)
                if (!(a.scale > 0) || a.zero_point < 0 || a.zero_point > 255) __builtin_trap();
        }
    }
    return 0;
}

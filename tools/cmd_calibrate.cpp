// dlrm calibrate MODEL DATA_DIR [--day N] [--rows A:B] [--method minmax|histogram|percentile|entropy]
//                [--percentile P] [--plan PLAN.json] [--max-auc-drop X --eval-rows A:B] -o OUT.dlrm
//                [--report REPORT.json] [--threads N] [--batch N]
// engine/quant/README.md is the spec.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "engine/model.h"
#include "engine/quant/calibrate.h"
#include "engine/quant/equalize.h"
#include "engine/quant/quantizer.h"
#include "engine/quant/tuner.h"
#include "formats/criteo/criteo_dataset.h"
#include "formats/criteo/row_range.h"
#include "formats/mapped_file.h"
#include "formats/weights/xxhash64.h"
#include "kernels/dispatch.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace dlrm::cli {

namespace {

struct calibrate_args {
    std::string model, data, rows, method = "histogram", plan, eval_rows, out, report, equalize = "auto";
    int day = 0;
    double percentile = 99.99;
    double max_auc_drop = -1;
    int threads = 0;
    int64_t batch = 0;
};

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

nlohmann::json num_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

// A checksum of the model's content: its tensor names and per-tensor XXH64s (metadata-independent).
std::string content_checksum(const model& m) {
    std::string s;
    for (const auto& t : m.file().tensors()) s += t.name + ":" + std::to_string(t.xxh64) + ";";
    char b[32];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(xxh64(s.data(), s.size())));
    return b;
}

std::string utc_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

uint64_t tensors_bytes(const std::vector<memory_tensor>& ts) {
    uint64_t n = 0;
    for (const auto& t : ts) n += *tensor_bytes(t.type, t.shape);
    return n;
}

void calibrate(const calibrate_args& a) {
    auto k = kernels::active();
    if (!k.ok()) { fail(k.error()); return; }
    auto method = parse_range_method(a.method);
    if (!method.ok()) { fail(method.error()); return; }
    if (!(a.percentile > 50 && a.percentile <= 100)) { fail("--percentile " + fmt("%g", a.percentile) + ": must be in (50, 100]"); return; }
    if (a.equalize != "auto" && a.equalize != "off") { fail("--equalize " + a.equalize + ": must be auto or off"); return; }
    const bool tune = a.max_auc_drop >= 0;
    if (tune && a.eval_rows.empty()) { fail("--max-auc-drop needs --eval-rows A:B (the rows the AUC is measured on)"); return; }
    auto m = model::open(a.model);
    if (!m.ok()) { fail(m.error()); return; }
    auto ds = criteo_dataset::open(a.data, a.day, m->table_rows());
    if (!ds.ok()) { fail(ds.error()); return; }
    if (ds->num_tables() != int64_t(m->config().tables.size()) || ds->num_dense() != m->config().dense_features) {
        fail(a.data + ": " + std::to_string(ds->num_dense()) + " dense and " + std::to_string(ds->num_tables()) +
             " sparse features: the model " + a.model + " takes " + std::to_string(m->config().dense_features) + " and " +
             std::to_string(m->config().tables.size()));
        return;
    }
    auto range = parse_row_range(a.rows.empty() ? "0:" + std::to_string(std::min<int64_t>(128000, ds->rows())) : a.rows, ds->rows());
    if (!range.ok()) { fail(status(range.error()).prefix("--rows")); return; }
    const auto [r0, r1] = *range;
    if (r1 <= r0) { fail("--rows " + a.rows + ": empty calibration range (" + std::to_string(r1 - r0) + " rows): calibration needs at least one row"); return; }
    int64_t e0 = 0, e1 = 0;
    if (!a.eval_rows.empty()) {
        auto er = parse_row_range(a.eval_rows, ds->rows());
        if (!er.ok()) { fail(status(er.error()).prefix("--eval-rows")); return; }
        std::tie(e0, e1) = *er;
        if (e1 <= e0) { fail("--eval-rows " + a.eval_rows + ": empty: the AUC needs rows"); return; }
    }
    const run_setup rs{a.threads, a.batch};

    // The plan: defaults, tables already stored quantized keep their type, then the user's overrides.
    const model_config& c = m->config();
    quant_plan plan = default_plan(c);
    for (size_t t = 0; t < c.tables.size(); ++t)
        if (c.tables[t].type != kernels::row_type::f32)
            for (qtype q : {qtype::bf16, qtype::fp16, qtype::int8, qtype::uint4})
                if (table_row_type(q) == c.tables[t].type) plan.layers["emb." + std::to_string(t)] = q;
    if (!a.plan.empty()) {
        std::ifstream f(a.plan);
        if (!f) { fail(a.plan + ": cannot open the plan file"); return; }
        nlohmann::json j = nlohmann::json::parse(f, nullptr, false);
        if (j.is_discarded()) { fail(a.plan + ": not valid JSON: expected {\"layer or table\": \"dtype\", ...}"); return; }
        status st = apply_plan_overrides(c, j, a.plan, plan);
        if (!st.ok()) { fail(st); return; }
    }
    // Feature-group equalization (engine/quant/equalize.h), by default for DCN models: from here on the
    // equalized network is the source; the provenance still names and checksums the file given.
    std::optional<model> equalized;
    std::vector<float> eq_scales;
    if (a.equalize == "auto" && can_equalize(*m)) {
        std::fprintf(stderr, "calibrate: equalizing the %lld feature groups of the DCN input over the calibration rows\n",
                     static_cast<long long>(c.num_features()));
        auto s = equalization_scales(*m, *ds, **k, r0, r1, rs);
        if (!s.ok()) { fail(s.error()); return; }
        eq_scales = s.take();
        // The scaled fp32 tables are held in memory: at most a quarter of the machine's memory
        // (DLRM_EQUALIZE_MAX_BYTES overrides); the largest tables beyond that stay unscaled.
        uint64_t budget = uint64_t(sysconf(_SC_PHYS_PAGES)) * uint64_t(sysconf(_SC_PAGESIZE)) / 4;
        if (const char* e = std::getenv("DLRM_EQUALIZE_MAX_BYTES")) budget = std::strtoull(e, nullptr, 10);
        if (int n = limit_equalized_bytes(c, eq_scales, budget))
            std::fprintf(stderr, "calibrate: equalization leaves the %d largest tables unscaled: their scaled fp32 copies "
                                 "would exceed %s bytes of memory\n", n, with_commas(static_cast<long long>(budget)).c_str());
        auto e = equalized_model(*m, eq_scales);
        if (!e.ok()) { fail(e.error()); return; }
        equalized.emplace(e.take());
    }
    const model& src = equalized ? *equalized : *m;
    tensor_builder builder(src, **k);
    if (status st = builder.check_plan([&] { quant_plan p = plan; for (auto& [n, t] : p.layers) if (t == qtype::int8 && !is_table_name(n)) p.acts[n] = {}; return p; }()); !st.ok()) {
        fail(st);
        return;
    }

    // Observe.
    const auto t0 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "calibrate: observing %lld rows [%lld, %lld) of %s with %s ranges\n", static_cast<long long>(r1 - r0),
                 static_cast<long long>(r0), static_cast<long long>(r1), a.data.c_str(), a.method.c_str());
    auto ranges = observe_ranges(src, *ds, **k, r0, r1, *method, a.percentile, rs);
    if (!ranges.ok()) { fail(ranges.error()); return; }
    const double t_obs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& r : *ranges) plan.acts[r.name] = r.q;
    plan.calibration = {{"rows", {r0, r1}}, {"day", a.day}, {"data", a.data}, {"method", a.method},
                        {"date", utc_now()}, {"source_model", a.model},
                        {"source_xxh64", content_checksum(*m)}, {"dlrm_version", "0.1.0"},
                        {"observe_seconds", t_obs}};
    if (*method == range_method::percentile) plan.calibration["percentile"] = a.percentile;
    if (equalized) plan.calibration["equalization"] = {{"scales", eq_scales}, {"alpha", 0.5}, {"statistic", "rms"}};

    // AUC before / after and the fallback loop.
    double auc_fp32 = NAN, auc_q = NAN;
    std::vector<tune_trial> trials;
    if (!a.eval_rows.empty()) {
        auto f = measure_auc(*m, precision::fp32, *ds, **k, e0, e1, rs);  // the file as given
        if (!f.ok()) { fail(f.error()); return; }
        auc_fp32 = *f;
        auto q = plan_auc(builder, plan, *ds, **k, e0, e1, rs);
        if (!q.ok()) { fail(q.error()); return; }
        auc_q = *q;
        std::fprintf(stderr, "calibrate: AUC on rows [%lld, %lld): fp32 %.6f, quantized %.6f (drop %.6f)\n",
                     static_cast<long long>(e0), static_cast<long long>(e1), auc_fp32, auc_q, auc_fp32 - auc_q);
        if (tune) {
            auto tuned = tune_plan(builder, plan, auc_fp32, auc_q, a.max_auc_drop, *ds, **k, e0, e1, rs,
                                   [](const tune_trial& t) {
                                       std::fprintf(stderr, "  trial %-40s AUC %.6f drop %+.6f %s\n", t.what.c_str(), t.auc,
                                                    t.drop, t.meets ? "meets the budget" : "");
                                   }, &trials);
            if (!tuned.ok()) { fail(tuned.error()); return; }
            plan = tuned.take();
            auc_q = trials.back().auc;
            plan.calibration["max_auc_drop"] = a.max_auc_drop;
        }
        plan.calibration["eval_rows"] = {e0, e1};
        plan.calibration["auc_fp32"] = auc_fp32;
        plan.calibration["auc_quantized"] = auc_q;
    }

    // The final model, SQNR and the report.
    auto tensors = builder.build(plan);
    if (!tensors.ok()) { fail(tensors.error()); return; }
    const nlohmann::json meta = builder.metadata(plan);
    auto qm = model::from_memory(a.out, meta, *tensors);
    if (!qm.ok()) { fail(qm.error()); return; }
    const int64_t s1 = std::min(r1, r0 + 16384);  // layer SQNR: the first 16,384 calibration rows
    auto sq = layer_sqnr(src, *qm, *ds, **k, r0, s1, rs);
    if (!sq.ok()) { fail(sq.error()); return; }
    // The report's temporary file is opened before the model is written, so an unwritable report
    // path fails the command with nothing written.
    std::optional<atomic_output> report_out;
    if (!a.report.empty()) {
        auto o = atomic_output::create(a.report);
        if (!o.ok()) { fail(o.error()); return; }
        report_out.emplace(o.take());
    }
    status ws = write_model(a.out, *tensors, meta);
    if (!ws.ok()) { fail(ws); return; }

    uint64_t src_bytes = 0;
    for (const auto& t : m->file().tensors()) src_bytes += t.bytes;
    const uint64_t q_bytes = tensors_bytes(*tensors);
    nlohmann::json layers = nlohmann::json::array();
    std::fprintf(stderr, "\n%-12s %-6s %12s %12s %10s %5s %9s\n", "layer", "dtype", "observed min", "max", "scale", "zp", "SQNR dB");
    for (const auto& r : *ranges) {
        const qtype t = plan.layers.at(r.name);
        const double s = sq->count(r.name) ? sq->at(r.name) : INFINITY;
        nlohmann::json j = {{"name", r.name}, {"dtype", qtype_name(t)}, {"observed_min", r.min}, {"observed_max", r.max},
                            {"sqnr_db", num_or_null(s)}};
        if (t == qtype::int8) {
            j["scale"] = r.q.scale;
            j["zero_point"] = r.q.zero_point;
            j["clip_min"] = r.clip.lo;
            j["clip_max"] = r.clip.hi;
        }
        layers.push_back(j);
        std::fprintf(stderr, "%-12s %-6s %12.5g %12.5g %10.4g %5s %9s\n", r.name.c_str(), qtype_name(t), r.min, r.max,
                     t == qtype::int8 ? double(r.q.scale) : NAN, t == qtype::int8 ? std::to_string(r.q.zero_point).c_str() : "-",
                     std::isfinite(s) ? fmt("%.2f", s).c_str() : "exact");
    }
    nlohmann::json tables = nlohmann::json::array();
    for (size_t t = 0; t < c.tables.size(); ++t) {
        const std::string n = "emb." + std::to_string(t);
        const auto& ts = builder.table_sqnr();
        const double s = ts.count(n) ? ts.at(n) : INFINITY;
        tables.push_back({{"name", n}, {"dtype", qtype_name(plan.layers.at(n))}, {"rows", c.tables[t].rows}, {"sqnr_db", num_or_null(s)}});
    }
    std::fprintf(stderr, "tables: ");
    std::map<std::string, int> counts;
    for (const auto& j : tables) counts[j["dtype"].get<std::string>()]++;
    for (const auto& [d, n] : counts) std::fprintf(stderr, "%d %s  ", n, d.c_str());
    std::fprintf(stderr, "\nmodel bytes: %s source → %s quantized (%.2f×)\n", with_commas(static_cast<long long>(src_bytes)).c_str(),
                 with_commas(static_cast<long long>(q_bytes)).c_str(), double(src_bytes) / double(q_bytes));
    if (!a.eval_rows.empty())
        std::fprintf(stderr, "AUC: fp32 %.6f, quantized %.6f, drop %.6f\n", auc_fp32, auc_q, auc_fp32 - auc_q);
    std::printf("wrote %s (%s bytes of tensors; %s calibration rows, %s ranges)\n", a.out.c_str(),
                with_commas(static_cast<long long>(q_bytes)).c_str(), with_commas(r1 - r0).c_str(), a.method.c_str());
    if (!a.report.empty()) {
        nlohmann::json tr = nlohmann::json::array();
        for (const auto& t : trials) tr.push_back({{"what", t.what}, {"auc", t.auc}, {"drop", t.drop}, {"meets", t.meets}});
        nlohmann::json rep = {{"model", a.model}, {"out", a.out}, {"calibration", plan.calibration}, {"layers", layers},
                              {"tables", tables}, {"bytes_fp32", src_bytes}, {"bytes_quantized", q_bytes},
                              {"auc_fp32", num_or_null(auc_fp32)}, {"auc_quantized", num_or_null(auc_q)}, {"trials", tr}};
        const std::string text = rep.dump(2) + "\n";
        status st = report_out->write(text.data(), text.size());
        if (st.ok()) st = report_out->commit();
        if (!st.ok()) { fail(st); return; }
    }
}

}  // namespace

void add_calibrate(CLI::App& app) {
    auto* cmd = app.add_subcommand("calibrate", "quantize a model: observe activation ranges, write a self-contained int8/uint4 .dlrm");
    auto a = std::make_shared<calibrate_args>();
    cmd->add_option("MODEL", a->model, "fp32 model .dlrm")->required();
    cmd->add_option("DATA", a->data, "dataset folder (MLPerf / torchrec layout) or Facebook .bin file")->required();
    cmd->add_option("--day", a->day, "N in day_N_*")->capture_default_str();
    cmd->add_option("--rows", a->rows, "calibration rows A:B (default: the first 128,000)");
    cmd->add_option("--method", a->method, "minmax | histogram | percentile | entropy")->capture_default_str();
    cmd->add_option("--percentile", a->percentile, "P for --method percentile")->capture_default_str();
    cmd->add_option("--plan", a->plan, "JSON {\"name\": \"fp32|bf16|fp16|int8|uint4\"} overriding the default plan");
    cmd->add_option("--max-auc-drop", a->max_auc_drop, "fall back layers/tables until the AUC drop on --eval-rows is ≤ X");
    cmd->add_option("--eval-rows", a->eval_rows, "rows A:B the AUC is measured on");
    cmd->add_option("-o,--out", a->out, "quantized model to write")->required();
    cmd->add_option("--report", a->report, "write the report as JSON here");
    cmd->add_option("--equalize", a->equalize, "auto: equalize the DCN input's feature groups before quantizing (DCN models) | off")
        ->capture_default_str();
    cmd->add_option("--threads", a->threads, "threads (0 = all cores)");
    cmd->add_option("--batch", a->batch, "rows in flight across all threads (0 = 512 per thread)");
    cmd->callback([a] { calibrate(*a); });
}

}  // namespace dlrm::cli

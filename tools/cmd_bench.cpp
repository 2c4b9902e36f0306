// dlrm bench MODEL [--fp32] [--bf16] [--int8] [--batch N] [--threads N] [--rows N] [--seconds S]
//                  [--latency] [--layers] [--json]
// End-to-end throughput on synthetic rows shaped for the model (written once to a temporary folder
// and read through the same dataset path as `dlrm run`), side by side across precisions in one run,
// with the time per stage and per Linear layer; optionally per-batch latency percentiles at one thread.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/executor.h"
#include "engine/machine_peaks.h"
#include "engine/model.h"
#include "engine/synth.h"
#include "formats/criteo/criteo_dataset.h"
#include "kernels/dispatch.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace dlrm::cli {

namespace {

struct bench_args {
    std::string model;
    bool fp32 = false, bf16 = false, int8 = false, latency = false, json = false, layers = false;
    int64_t batch = 0, rows = 65536;
    int threads = 0;
    double seconds = 3.0;
};

using clock_type = std::chrono::steady_clock;

double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

// Removes the temporary data folder however the command ends.
struct temp_dir {
    std::string path;
    ~temp_dir() {
        std::error_code ec;
        if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
};

nlohmann::json throughput(const model& m, const kernels::kernel_table& k, const criteo_dataset& ds,
                          const std::vector<int32_t>& bags, precision p, const bench_args& a, std::string& error) {
    executor_options eo;
    eo.prec = p;
    eo.batch = a.batch;
    eo.threads = a.threads;
    auto ex = executor::create(m, k, eo, bags);
    if (!ex.ok()) {
        error = ex.error().message();
        return nullptr;
    }
    const int64_t n = ds.rows();
    std::vector<float> preds(static_cast<size_t>(n));
    // Warm-up: page in the tables and weights this run touches.
    if (status st = (*ex)->run(ds, 0, std::min<int64_t>(n, (*ex)->batch() * 4), preds.data()); !st.ok()) {
        error = st.message();
        return nullptr;
    }
    stage_times times;
    int64_t scored = 0;
    const auto t0 = clock_type::now();
    do {
        if (status st = (*ex)->run(ds, 0, n, preds.data(), {}, &times); !st.ok()) {
            error = st.message();
            return nullptr;
        }
        scored += n;
    } while (since(t0) < a.seconds);
    const double secs = since(t0);
    const double total = times.read + times.bottom + times.embbag + times.interaction + times.top;
    const double rps = double(scored) / secs;
    // The ceiling of the precision's multiply-add instruction, measured now on as many threads.
    const peak_kind pk = p == precision::int8 ? peak_kind::vnni : p == precision::bf16 ? peak_kind::bf16 : peak_kind::fma;
    const machine_peak& peak = measure_peak(pk, (*ex)->threads());
    const double ops = rps * 2.0 * double(m.config().macs_per_sample());
    nlohmann::json peak_j = {{"instruction", peak_kind_name(pk)}};
    if (peak.per_core > 0) {
        peak_j["per_core_gops"] = peak.per_core / 1e9;
        peak_j["fraction"] = ops / (peak.per_core * (*ex)->threads());
    } else {
        peak_j["absent"] = peak.why_absent;
    }
    // Per Linear layer: its share of the run's thread time and its rate per core, against the same peak.
    nlohmann::json layers_j = nlohmann::json::array();
    const auto& descs = (*ex)->layers();
    for (size_t i = 0; i < descs.size() && i < times.layer.size(); ++i) {
        const double secs_i = times.layer[i];
        const double ops_i = 2.0 * double(scored) * double(descs[i].in) * double(descs[i].out);
        nlohmann::json l = {{"name", descs[i].name}, {"in", descs[i].in}, {"out", descs[i].out}, {"seconds", secs_i},
                            {"time_fraction", total > 0 ? secs_i / total : 0.0},
                            {"gops_per_core", secs_i > 0 ? ops_i / secs_i / 1e9 : 0.0}};
        if (peak.per_core > 0 && secs_i > 0) l["peak_fraction"] = ops_i / secs_i / peak.per_core;
        layers_j.push_back(l);
    }
    return {{"precision", precision_name(p)},
            {"peak", peak_j},
            {"layers", layers_j},
            {"rows_per_s", rps},
            {"rows", scored},
            {"seconds", secs},
            {"threads", (*ex)->threads()},
            {"batch", (*ex)->batch()},
            {"gflops", rps * 2.0 * double(m.config().macs_per_sample()) / 1e9},
            {"stage_fraction",
             {{"read", times.read / total}, {"bottom_mlp", times.bottom / total}, {"embedding_bag", times.embbag / total},
              {"interaction", times.interaction / total}, {"top_mlp", times.top / total}}}};
}

// p50 / p99 of the time to score one batch of `size` rows at one thread.
nlohmann::json latency(const model& m, const kernels::kernel_table& k, const criteo_dataset& ds,
                       const std::vector<int32_t>& bags, precision p, int64_t size, std::string& error) {
    executor_options eo;
    eo.prec = p;
    eo.batch = size;
    eo.threads = 1;
    auto ex = executor::create(m, k, eo, bags);
    if (!ex.ok()) {
        error = ex.error().message();
        return nullptr;
    }
    std::vector<float> preds(static_cast<size_t>(size));
    std::vector<double> us;
    const int64_t n = ds.rows();
    int64_t row = 0;
    const auto t_all = clock_type::now();
    while ((us.size() < 200 || since(t_all) < 1.0) && us.size() < 20000) {
        if (row + size > n) row = 0;
        const auto t0 = clock_type::now();
        if (status st = (*ex)->run(ds, row, row + size, preds.data()); !st.ok()) {
            error = st.message();
            return nullptr;
        }
        us.push_back(since(t0) * 1e6);
        row += size;
    }
    std::sort(us.begin(), us.end());
    auto pct = [&](double q) { return us[std::min(us.size() - 1, size_t(q * double(us.size())))]; };
    return {{"precision", precision_name(p)}, {"batch", size}, {"p50_us", pct(0.50)}, {"p99_us", pct(0.99)},
            {"samples", us.size()}};
}

void bench(const bench_args& a) {
    auto k = kernels::active();
    if (!k.ok()) { fail(k.error()); return; }
    auto m = model::open(a.model);
    if (!m.ok()) { fail(m.error()); return; }
    if (a.rows < 1) { fail("--rows " + std::to_string(a.rows) + ": must be ≥ 1"); return; }
    std::vector<precision> precs;
    if (a.fp32) precs.push_back(precision::fp32);
    if (a.bf16) precs.push_back(precision::bf16);
    if (a.int8) precs.push_back(precision::int8);
    const bool all = precs.empty();
    if (all) precs = {precision::fp32, precision::bf16, precision::int8};

    temp_dir tmp;
    std::string templ = (std::getenv("TMPDIR") ? std::string(std::getenv("TMPDIR")) : std::string("/tmp")) +
                        "/dlrm-bench-XXXXXX";
    if (!::mkdtemp(templ.data())) { fail(templ + ": cannot create a temporary folder"); return; }
    tmp.path = templ;
    if (!a.json) std::fprintf(stderr, "bench: writing %lld synthetic rows to %s\n", static_cast<long long>(a.rows), tmp.path.c_str());
    if (status st = write_synthetic_inputs(tmp.path, m->config(), 0, a.rows, 12345); !st.ok()) { fail(st); return; }
    auto ds = criteo_dataset::open(tmp.path, 0, m->table_rows());
    if (!ds.ok()) { fail(ds.error()); return; }
    std::vector<int32_t> bags;
    for (int64_t t = 0; t < ds->num_tables(); ++t) bags.push_back(ds->bag_size(t));

    nlohmann::json results = nlohmann::json::array(), lat = nlohmann::json::array(), skipped = nlohmann::json::array();
    for (precision p : precs) {
        std::string err;
        nlohmann::json r = throughput(*m, **k, *ds, bags, p, a, err);
        if (r.is_null()) {
            if (!all) { fail(err); return; }
            skipped.push_back({{"precision", precision_name(p)}, {"reason", err}});
            continue;
        }
        results.push_back(r);
        if (a.latency)
            for (int64_t size : {1, 64, 270}) {
                nlohmann::json l = latency(*m, **k, *ds, bags, p, size, err);
                if (l.is_null()) { fail(err); return; }
                lat.push_back(l);
            }
    }
    nlohmann::json out = {{"model", a.model}, {"kernels", kernels::isa_name((*k)->level)},
                          {"macs_per_sample", m->config().macs_per_sample()}, {"throughput", results}};
    if (a.latency) out["latency"] = lat;
    if (!skipped.empty()) out["skipped"] = skipped;
    if (a.json) {
        std::printf("%s\n", out.dump(2).c_str());
        return;
    }
    std::printf("%s: %s MACs/row, %s kernels\n", a.model.c_str(), with_commas(m->config().macs_per_sample()).c_str(),
                kernels::isa_name((*k)->level));
    std::printf("%-6s %12s %9s %11s %8s %7s   %6s %6s %6s %6s %6s\n", "prec", "rows/s", "GFLOP/s", "of peak", "threads",
                "batch", "read", "bottom", "embbag", "inter", "top");
    for (const auto& r : results) {
        const auto& f = r["stage_fraction"];
        const auto& pk = r["peak"];
        char of_peak[32] = "-";
        if (pk.contains("fraction"))
            std::snprintf(of_peak, sizeof of_peak, "%.1f%% %s", 100 * pk["fraction"].get<double>(),
                          pk["instruction"].get<std::string>().c_str());
        std::printf("%-6s %12s %9.1f %11s %8d %7lld   %5.1f%% %5.1f%% %5.1f%% %5.1f%% %5.1f%%\n",
                    r["precision"].get<std::string>().c_str(),
                    with_commas(static_cast<long long>(r["rows_per_s"].get<double>())).c_str(), r["gflops"].get<double>(),
                    of_peak,
                    r["threads"].get<int>(), static_cast<long long>(r["batch"].get<int64_t>()),
                    100 * f["read"].get<double>(), 100 * f["bottom_mlp"].get<double>(),
                    100 * f["embedding_bag"].get<double>(), 100 * f["interaction"].get<double>(),
                    100 * f["top_mlp"].get<double>());
    }
    for (const auto& s : skipped)
        std::printf("%-6s skipped: %s\n", s["precision"].get<std::string>().c_str(), s["reason"].get<std::string>().c_str());
    if (a.layers)
        for (const auto& r : results) {
            std::printf("\n%s per layer (the share of the run's thread time; the rate per core and its fraction of the "
                        "%s peak)\n%-12s %6s %6s %7s %9s %8s\n",
                        r["precision"].get<std::string>().c_str(), r["peak"]["instruction"].get<std::string>().c_str(),
                        "layer", "in", "out", "time", "Gop/s", "of peak");
            for (const auto& l : r["layers"]) {
                char of_peak[16] = "-";
                if (l.contains("peak_fraction"))
                    std::snprintf(of_peak, sizeof of_peak, "%.1f%%", 100 * l["peak_fraction"].get<double>());
                std::printf("%-12s %6lld %6lld %6.1f%% %9.1f %8s\n", l["name"].get<std::string>().c_str(),
                            static_cast<long long>(l["in"].get<int64_t>()), static_cast<long long>(l["out"].get<int64_t>()),
                            100 * l["time_fraction"].get<double>(), l["gops_per_core"].get<double>(), of_peak);
            }
        }
    if (a.latency) {
        std::printf("\nlatency at 1 thread (µs per batch)\n%-6s %6s %10s %10s\n", "prec", "batch", "p50", "p99");
        for (const auto& l : lat)
            std::printf("%-6s %6lld %10.1f %10.1f\n", l["precision"].get<std::string>().c_str(),
                        static_cast<long long>(l["batch"].get<int64_t>()), l["p50_us"].get<double>(),
                        l["p99_us"].get<double>());
    }
}

}  // namespace

void add_bench(CLI::App& app) {
    auto* cmd = app.add_subcommand("bench", "end-to-end rows/s of a model across precisions, per-stage time, latency");
    auto a = std::make_shared<bench_args>();
    cmd->add_option("MODEL", a->model, "model .dlrm file")->required();
    cmd->add_flag("--fp32", a->fp32, "measure fp32 (default: every precision the model supports)");
    cmd->add_flag("--bf16", a->bf16, "measure bf16 Linear layers");
    cmd->add_flag("--int8", a->int8, "measure the calibrated int8 plan");
    cmd->add_option("--batch", a->batch, "rows in flight across all threads (0 = default)");
    cmd->add_option("--threads", a->threads, "threads (0 = all cores)");
    cmd->add_option("--rows", a->rows, "synthetic rows scored per pass")->capture_default_str();
    cmd->add_option("--seconds", a->seconds, "minimum timed seconds per precision")->capture_default_str();
    cmd->add_flag("--latency", a->latency, "also p50/p99 per batch of 1, 64 and 270 rows at one thread");
    cmd->add_flag("--layers", a->layers, "also the time and fraction of peak of every Linear layer (always in --json)");
    cmd->add_flag("--json", a->json, "machine-readable result on stdout");
    cmd->callback([a] { bench(*a); });
}

}  // namespace dlrm::cli

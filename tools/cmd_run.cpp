// dlrm run MODEL DATA_DIR [--day N] [--rows A:B] [--fp32|--bf16|--int8|--simulate] [--batch N] [--threads N]
//          [--out PRED.npy] [--json]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/executor.h"
#include "engine/model.h"
#include "formats/criteo/criteo_dataset.h"
#include "formats/criteo/row_range.h"
#include "formats/npy/npy.h"
#include "kernels/dispatch.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace dlrm::cli {

namespace {

struct run_args {
    std::string model, data, rows, out;
    std::string on_bad_index = "error";  // index_policy: error | clamp | skip
    int day = 0;
    bool fp32 = false, bf16 = false, int8 = false, simulate = false, json = false;
    int64_t batch = 0;
    int threads = 0;
};

// Progress on stderr for runs that take more than a moment: in place on a terminal, a line every
// 10 s otherwise (logs stay readable).
class progress_printer {
public:
    explicit progress_printer(int64_t total) : total_(total), tty_(::isatty(2)), t0_(clock::now()), last_(t0_) {}
    void operator()(int64_t done) {
        const auto now = clock::now();
        const double s = std::chrono::duration<double>(now - t0_).count();
        if (s < 2.0) return;
        if (!tty_ && now - last_ < std::chrono::seconds(10) && done < total_) return;
        last_ = now;
        std::fprintf(stderr, "%s  %s / %s rows (%.0f %%), %.0f rows/s%s", tty_ ? "\r" : "",
                     with_commas(done).c_str(), with_commas(total_).c_str(), 100.0 * double(done) / double(total_),
                     double(done) / s, tty_ ? "" : "\n");
        shown_ = true;
    }
    ~progress_printer() {
        if (shown_ && tty_) std::fprintf(stderr, "\n");
    }

private:
    using clock = std::chrono::steady_clock;
    int64_t total_;
    bool tty_, shown_ = false;
    clock::time_point t0_, last_;
};

void run(const run_args& a) {
    if (int(a.fp32) + int(a.bf16) + int(a.int8) + int(a.simulate) > 1) {
        fail("--fp32, --bf16, --int8, --simulate: choose one precision");
        return;
    }
    executor_options eo;
    eo.prec = a.bf16 ? precision::bf16 : a.int8 ? precision::int8 : a.simulate ? precision::simulate : precision::fp32;
    eo.batch = a.batch;
    eo.threads = a.threads;
    auto k = kernels::active();
    if (!k.ok()) { fail(k.error()); return; }
    const auto t_open = std::chrono::steady_clock::now();
    auto m = model::open(a.model);
    const double open_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_open).count();
    if (!m.ok()) { fail(m.error()); return; }
    // A calibrated model runs its plan unless a precision was asked for (then the executor checks it).
    if (!a.fp32 && !a.bf16 && !a.simulate && m->plan()) eo.prec = precision::int8;
    auto policy = parse_index_policy(a.on_bad_index);
    if (!policy.ok()) { fail(policy.error()); return; }
    auto ds = criteo_dataset::open(a.data, a.day, m->table_rows(), *policy);
    if (!ds.ok()) { fail(ds.error()); return; }
    if (ds->num_tables() != int64_t(m->config().tables.size())) {
        fail(a.data + ": " + std::to_string(ds->num_tables()) + " sparse features: the model " + a.model + " has " +
             std::to_string(m->config().tables.size()) + " tables");
        return;
    }
    if (ds->num_dense() != m->config().dense_features) {
        const std::string dense_file = ds->layout() == dataset_layout::facebook_bin
                                           ? a.data
                                           : a.data + "/day_" + std::to_string(a.day) + "_dense.npy";
        fail(dense_file + ": " + std::to_string(ds->num_dense()) + " dense features: the model " + a.model +
             " takes " + std::to_string(m->config().dense_features));
        return;
    }
    auto range = parse_row_range(a.rows.empty() ? ":" : a.rows, ds->rows());
    if (!range.ok()) { fail(range.error()); return; }
    const auto [r0, r1] = *range;
    std::vector<int32_t> bags;
    for (int64_t t = 0; t < ds->num_tables(); ++t) bags.push_back(ds->bag_size(t));
    const auto t_setup = std::chrono::steady_clock::now();
    auto ex = executor::create(*m, **k, eo, bags);
    const double setup_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_setup).count();
    if (!ex.ok()) { fail(ex.error()); return; }

    // Open the output before the long part, so an unwritable path fails at once.
    std::optional<npy_writer> out;
    if (!a.out.empty()) {
        auto w = npy_writer::create(a.out, "<f4", {r1 - r0});
        if (!w.ok()) { fail(w.error()); return; }
        out.emplace(w.take());
    }
    std::vector<float> preds(size_t(r1 - r0));
    progress_printer progress(r1 - r0);
    const auto t0 = std::chrono::steady_clock::now();
    stage_times times;
    status st = (*ex)->run(*ds, r0, r1, preds.data(), [&](int64_t d) { progress(d); }, &times);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!st.ok()) { fail(st); return; }
    if (out) {
        status ws = out->write(preds.data(), preds.size() * 4);
        if (ws.ok()) ws = out->commit();
        if (!ws.ok()) { fail(ws); return; }
    }
    const double rps = double(r1 - r0) / secs;
    const char* table = kernels::isa_name((*k)->level);
    if (a.json) {
        nlohmann::json j = {{"rows", r1 - r0}, {"first_row", r0}, {"seconds", secs}, {"rows_per_s", rps},
                            {"open_seconds", open_secs}, {"setup_seconds", setup_secs},
                            {"precision", precision_name(eo.prec)}, {"kernels", table},
                            {"threads", (*ex)->threads()}, {"batch", (*ex)->batch()},
                            {"out", a.out.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.out)},
                            {"stage_thread_seconds", {{"read", times.read}, {"bottom_mlp", times.bottom},
                                                      {"embedding_bag", times.embbag},
                                                      {"interaction", times.interaction}, {"top_mlp", times.top}}}};
        const bad_index_counts bad = ds->bad_indices();
        j["bad_index"] = {{"policy", index_policy_name(*policy)}, {"ids", bad.ids}, {"rows", bad.rows}};
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        std::printf("scored %s rows [%lld, %lld) in %.3f s: %s rows/s (%s, %s kernels, %d threads, batch %lld)\n",
                    with_commas(r1 - r0).c_str(), static_cast<long long>(r0), static_cast<long long>(r1), secs,
                    with_commas(static_cast<long long>(rps)).c_str(), precision_name(eo.prec), table,
                    (*ex)->threads(), static_cast<long long>((*ex)->batch()));
        if (!a.out.empty())
            std::printf("predictions: %s (float32, %lld rows)\n", a.out.c_str(), static_cast<long long>(r1 - r0));
        else
            std::printf("predictions not saved (pass --out PRED.npy to keep them)\n");
        if (*policy != index_policy::error) {
            const bad_index_counts bad = ds->bad_indices();
            std::printf("bad ids (--on-bad-index %s): %s ids in %s rows %s\n", index_policy_name(*policy),
                        with_commas(bad.ids).c_str(), with_commas(bad.rows).c_str(),
                        *policy == index_policy::clamp ? "clamped to [0, rows - 1]" : "skipped (left out of their bags)");
        }
    }
}

}  // namespace

void add_run(CLI::App& app) {
    auto* cmd = app.add_subcommand("run", "score a dataset with a model; predictions as float32 .npy");
    auto a = std::make_shared<run_args>();
    cmd->add_option("MODEL", a->model, "model .dlrm file")->required();
    cmd->add_option("DATA", a->data, "dataset folder (MLPerf / torchrec layout) or Facebook .bin file")->required();
    cmd->add_option("--day", a->day, "N in day_N_*")->capture_default_str();
    cmd->add_option("--rows", a->rows, "row range A:B (either side may be empty)");
    cmd->add_flag("--fp32", a->fp32, "fp32 everywhere (default)");
    cmd->add_flag("--bf16", a->bf16, "bf16 Linear layers, fp32 accumulation");
    cmd->add_flag("--int8", a->int8, "the calibrated int8 plan stored in the model (dlrm calibrate; the default for such models)");
    cmd->add_flag("--simulate", a->simulate, "the stored plan emulated in fp32 (dequantized weights, fake-quantized inputs)");
    cmd->add_option("--batch", a->batch, "rows in flight across all threads (0 = 512 per thread)");
    cmd->add_option("--threads", a->threads, "threads (0 = all cores)");
    cmd->add_option("--out", a->out, "write predictions here (float32 .npy, one per row)");
    cmd->add_flag("--json", a->json, "machine-readable result on stdout");
    cmd->add_option("--on-bad-index", a->on_bad_index,
                    "an id outside its table: error (default), clamp (to 0 / rows - 1) or skip (left out of its bag); "
                    "counted and reported")
        ->capture_default_str();
    cmd->callback([a] { run(*a); });
}

}  // namespace dlrm::cli

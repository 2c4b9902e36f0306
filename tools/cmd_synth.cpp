// dlrm synth [--shape small|mlperf-v1|mlperf-v2] [--rows-cap N] [--samples N] [--seed S]
//            [--tables f32|f16|bf16|i8rw|u4rw] [--day N] --out DIR
#include <chrono>
#include <cstdio>

#include "engine/synth.h"
#include "kernels/dispatch.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace dlrm::cli {

void add_synth(CLI::App& app) {
    auto* cmd = app.add_subcommand("synth", "write a planted-teacher model and an MLPerf-layout dataset");
    auto o = std::make_shared<synth_options>();
    auto tables = std::make_shared<std::string>("f32");
    cmd->add_option("--shape", o->shape, "small | mlperf-v1 | mlperf-v2")->capture_default_str();
    cmd->add_option("--rows-cap", o->rows_cap, "cap on rows per table (0 = the real row counts)")->capture_default_str();
    cmd->add_option("--samples", o->samples, "dataset rows")->capture_default_str();
    cmd->add_option("--seed", o->seed, "random seed (same seed, same bytes)")->capture_default_str();
    cmd->add_option("--tables", *tables, "row type of the tables: f32 | f16 | bf16 | i8rw | u4rw")->capture_default_str();
    cmd->add_option("--day", o->day, "N in day_N_*")->capture_default_str();
    cmd->add_option("--out", o->out_dir, "output folder")->required();
    cmd->callback([o, tables] {
        auto k = kernels::active();
        if (!k.ok()) { fail(k.error()); return; }
        auto rt = parse_row_type_option("--tables", *tables);
        if (!rt.ok()) { fail(rt.error()); return; }
        o->table_type = *rt;
        const auto t0 = std::chrono::steady_clock::now();
        status st = synthesize(*o, **k, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
        if (!st.ok()) { fail(st); return; }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("wrote %s/model.dlrm, day_%d_dense.npy, day_%d_labels.npy, day_%d_sparse_multi_hot.npz "
                    "(%lld rows) in %.1f s\n",
                    o->out_dir.c_str(), o->day, o->day, o->day, static_cast<long long>(o->samples), s);
    });
}

}  // namespace dlrm::cli

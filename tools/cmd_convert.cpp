// dlrm convert --from tsv|bin INPUT... --out DIR [--day N] [--max-ind-range N]
//              [--dense-transform log3|log1p] [--sparse one-hot|multi-hot] [--skip-bad-lines]
#include <cstdio>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "formats/criteo_tsv/criteo_convert.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace dlrm::cli {

namespace {

struct convert_args {
    std::string from, transform = "log3", sparse = "one-hot";
    std::vector<std::string> inputs;
    std::string out;
    int day = 0;
    int64_t max_ind_range = 0;
    int threads = 0;
    bool skip_bad_lines = false;
};

double mb(uint64_t bytes) { return double(bytes) / 1e6; }

// After the first 2 s: on a terminal one line rewritten in place every second; in a log a line every 10 s.
void show_progress(const convert_progress& p, bool tty, double& last_line) {
    if (p.seconds < 2.0 || (!tty && p.seconds - last_line < 10.0)) return;  // short runs stay quiet
    last_line = p.seconds;
    std::string pct;
    if (p.total_file_bytes > 0)
        pct = " (" + std::to_string(int(100.0 * double(p.file_bytes) / double(p.total_file_bytes))) + " % of input)";
    const double sec = p.seconds > 0 ? p.seconds : 1e-9;
    std::fprintf(stderr, "%sconvert: %s rows%s, %.0f MB/s, %.2f M rows/s%s", tty ? "\r" : "",
                 with_commas(p.rows).c_str(), pct.c_str(), mb(p.data_bytes) / sec, double(p.rows) / sec / 1e6,
                 tty ? "   " : "\n");
    std::fflush(stderr);
}

}  // namespace

void add_convert(CLI::App& app) {
    auto* cmd = app.add_subcommand("convert", "raw Criteo TSV (plain or gzip) or Facebook .bin → MLPerf/torchrec npy files");
    auto a = std::make_shared<convert_args>();
    cmd->add_option("--from", a->from, "input format: tsv (label, I1..I13, C1..C26; gzip detected) | bin (160-byte records)")
        ->required()->check(CLI::IsMember({"tsv", "bin"}));
    cmd->add_option("inputs", a->inputs, "input files, concatenated in order into one day")->required();
    cmd->add_option("--out", a->out, "output folder (created if missing)")->required();
    cmd->add_option("--day", a->day, "N in day_N_*")->capture_default_str();
    cmd->add_option("--max-ind-range", a->max_ind_range,
                    "id = hash % N (Facebook's / MLPerf v1's rule); 0 = hash % 2^31")->capture_default_str();
    cmd->add_option("--dense-transform", a->transform, "log3 = ln(max(x,-2)+3) (MLPerf) | log1p = ln(max(x,0)+1) (Facebook)")
        ->capture_default_str()->check(CLI::IsMember({"log3", "log1p"}));
    cmd->add_option("--sparse", a->sparse, "one-hot: day_N_sparse.npy (rows, 26) | multi-hot: day_N_sparse_multi_hot.npz")
        ->capture_default_str()->check(CLI::IsMember({"one-hot", "multi-hot"}));
    cmd->add_flag("--skip-bad-lines", a->skip_bad_lines, "count and skip malformed lines instead of stopping at the first");
    cmd->add_option("--threads", a->threads, "parser threads (0 = one per core)")->capture_default_str();
    cmd->callback([a] {
        if (a->max_ind_range < 0 || a->max_ind_range > (int64_t(1) << 31)) {
            fail("--max-ind-range " + std::to_string(a->max_ind_range) + ": must be in [0, 2^31]");
            return;
        }
        convert_options o;
        o.from = a->from == "bin" ? criteo_input::bin : criteo_input::tsv;
        o.inputs = a->inputs;
        o.out_dir = a->out;
        o.day = a->day;
        o.max_ind_range = uint32_t(a->max_ind_range);
        o.transform = a->transform == "log1p" ? dense_transform::log1p : dense_transform::log3;
        o.sparse = a->sparse == "multi-hot" ? sparse_output::multi_hot : sparse_output::one_hot;
        o.skip_bad_lines = a->skip_bad_lines;
        o.parser_threads = a->threads;
        const bool tty = ::isatty(2) != 0;
        bool shown = false;
        double last_line = -1e9;
        o.on_progress = [&](const convert_progress& p) {
            show_progress(p, tty, last_line);
            shown = last_line >= 0;
        };
        auto r = convert_criteo(o);
        if (shown && tty) std::fputc('\n', stderr);
        if (!r.ok()) { fail(r.error()); return; }
        if (r->bad_lines > 0) {
            std::fprintf(stderr, "convert: skipped %s bad %s; the first:\n", with_commas(r->bad_lines).c_str(),
                         r->bad_lines == 1 ? "line" : "lines");
            for (const std::string& b : r->first_bad) std::fprintf(stderr, "  %s\n", b.c_str());
        }
        const double sec = r->seconds > 0 ? r->seconds : 1e-9;
        std::printf("wrote");
        for (size_t i = 0; i < r->outputs.size(); ++i) std::printf("%s %s", i ? "," : "", r->outputs[i].c_str());
        std::printf("\n%s rows (%s dense, %s ids), %.1f MB in %.1f s: %.0f MB/s, %.2f M rows/s\n",
                    with_commas(r->rows).c_str(), dense_transform_name(o.transform),
                    o.max_ind_range ? ("hash % " + std::to_string(o.max_ind_range)).c_str() : "hash % 2^31",
                    mb(r->data_bytes), r->seconds, mb(r->data_bytes) / sec, double(r->rows) / sec / 1e6);
    });
}

}  // namespace dlrm::cli

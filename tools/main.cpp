// dlrm: one binary, one subcommand per file (tools/commands.h lists them).
#include <csignal>
#include <cstdio>
#include <unistd.h>

#include "formats/mapped_file.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace {
// Ctrl-C or a kill during a long run must not leave partial outputs behind.
void on_signal(int sig) {
    dlrm::remove_pending_outputs_from_signal_handler();
    ::_exit(128 + sig);
}
}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGHUP, on_signal);
    // Past a file-size limit (ulimit -f) write() must fail with EFBIG, so the error path removes the
    // temporary output; the default SIGXFSZ action would kill us and leave it behind.
    std::signal(SIGXFSZ, SIG_IGN);

    CLI::App app{"dlrm: a standalone inference engine for DLRM click-through-rate models"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "dlrm 0.1.0");
    dlrm::cli::add_synth(app);
    dlrm::cli::add_run(app);
    dlrm::cli::add_calibrate(app);
    dlrm::cli::add_requantize(app);
    dlrm::cli::add_auc(app);
    dlrm::cli::add_info(app);
    dlrm::cli::add_verify(app);
    dlrm::cli::add_bench(app);
    dlrm::cli::add_import(app);
    dlrm::cli::add_convert(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() != 0) {
            std::fprintf(stderr, "dlrm: error: %s\n", e.what());
            std::fprintf(stderr, "run 'dlrm --help' (or 'dlrm <command> --help') for usage\n");
            return 2;
        }
        return app.exit(e);
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "dlrm: error: out of memory\n");
        return 1;
    }
    return dlrm::cli::exit_code();
}

// dlrm verify MODEL: checks every tensor's checksum (opening checks only the small ones).
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "formats/weights/weights_file.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace dlrm::cli {

void add_verify(CLI::App& app) {
    auto* cmd = app.add_subcommand("verify", "check every checksum of a .dlrm file");
    auto path = std::make_shared<std::string>();
    cmd->add_option("MODEL", *path, "model .dlrm file")->required();
    cmd->callback([path] {
        const auto t0 = std::chrono::steady_clock::now();
        auto f = weights_file::open(*path, verify_on_open::none);
        if (!f.ok()) { fail(f.error()); return; }
        const bool tty = ::isatty(2);
        auto last = t0;
        status st = f->verify_all([&](uint64_t done, uint64_t total) {
            auto now = std::chrono::steady_clock::now();
            if (total < (uint64_t(1) << 30) || now - last < std::chrono::seconds(tty ? 1 : 10)) return;
            last = now;
            std::fprintf(stderr, "%s  verified %.1f / %.1f GB%s", tty ? "\r" : "", double(done) / 1e9, double(total) / 1e9,
                         tty ? "" : "\n");
        });
        if (tty && f->file_bytes() >= (uint64_t(1) << 30)) std::fprintf(stderr, "\n");
        if (!st.ok()) { fail(st); return; }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("%s: OK: %zu tensors, %s bytes, every checksum matches (%.2f s)\n", path->c_str(),
                    f->tensors().size(), with_commas(static_cast<long long>(f->file_bytes())).c_str(), s);
    });
}

}  // namespace dlrm::cli

// dlrm import CKPT.pt -o MODEL.dlrm [--arch auto|dot|cat|dcn] [--interaction-diagonal]
#include <chrono>
#include <cstdio>

#include "engine/import_checkpoint.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace dlrm::cli {

namespace {

struct import_args {
    std::string ckpt, out, arch = "auto";
    bool diagonal = false;
};

std::string widths(int64_t first, const std::vector<int64_t>& w) {
    std::string s = std::to_string(first);
    for (int64_t x : w) s += "-" + std::to_string(x);
    return s;
}

void run_import(const import_args& a) {
    auto arch = parse_import_arch(a.arch);
    if (!arch.ok()) { fail(arch.error()); return; }
    import_options o;
    o.arch = *arch;
    o.diagonal = a.diagonal;
    const auto t0 = std::chrono::steady_clock::now();
    auto plan = import_checkpoint(a.ckpt, a.out, o, [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
    if (!plan.ok()) { fail(plan.error()); return; }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const model_config& c = plan->config;
    long long rows = 0;
    for (const auto& t : c.tables) rows += t.rows;
    std::string inter = interaction_name(c.inter);
    if (c.inter == interaction::dot) inter += c.dot_diag ? " (with the diagonal)" : " (no diagonal)";
    if (c.inter == interaction::dcn)
        inter += " (" + std::to_string(c.dcn_layers) + " layers, rank " + std::to_string(c.dcn_rank) + ")";
    std::printf("imported %s (%s naming%s) in %.1f s\n", a.ckpt.c_str(), naming_scheme_name(plan->scheme),
                plan->stripped_prefix.empty() ? "" : (", prefix '" + plan->stripped_prefix + "' removed").c_str(), s);
    std::printf("  tables: %zu x dim %lld, %s rows, %s\n", c.tables.size(), static_cast<long long>(c.dim),
                with_commas(rows).c_str(), kernels::row_type_name(c.tables[0].type));
    std::printf("  bottom MLP %s, interaction %s, top MLP %s\n", widths(c.dense_features, c.bottom).c_str(),
                inter.c_str(), widths(c.interaction_out_width(), c.top).c_str());
    std::printf("  bag sizes: %s\n", plan->mlperf_bag_sizes ? "MLPerf DLRM v2 multi-hot sizes (tables match)"
                                                            : "1 (not stored in checkpoints; the dataset decides)");
    std::printf("wrote %s\n", a.out.c_str());
}

}  // namespace

void add_import(CLI::App& app) {
    auto* cmd = app.add_subcommand("import", "convert a PyTorch checkpoint (Facebook DLRM, torchrec DLRM_DCN, MLPerf) to .dlrm");
    auto a = std::make_shared<import_args>();
    cmd->add_option("CKPT", a->ckpt, "torch.save file (PyTorch >= 1.6 zip archive)")->required();
    cmd->add_option("-o,--out", a->out, "output .dlrm model file")->required();
    cmd->add_option("--arch", a->arch, "interaction: auto (inferred from shapes) | dot | cat | dcn")->capture_default_str();
    cmd->add_flag("--interaction-diagonal", a->diagonal, "dot interaction keeps the Gram diagonal (Facebook arch_interaction_itself)");
    cmd->callback([a] { run_import(*a); });
}

}  // namespace dlrm::cli

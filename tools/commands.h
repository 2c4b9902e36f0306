// Every subcommand of `dlrm`, once. main.cpp registers them in this order (it is the help order).
#pragma once
#include <CLI/CLI.hpp>

namespace dlrm::cli {
void add_synth(CLI::App& app);
void add_run(CLI::App& app);
void add_calibrate(CLI::App& app);
void add_requantize(CLI::App& app);
void add_auc(CLI::App& app);
void add_info(CLI::App& app);
void add_verify(CLI::App& app);
void add_bench(CLI::App& app);
void add_import(CLI::App& app);
void add_convert(CLI::App& app);
}  // namespace dlrm::cli

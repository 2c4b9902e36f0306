// Shared pieces of the dlrm command line. Each subcommand lives in its own tools/cmd_<name>.cpp and
// defines one add_<name>() that registers it; tools/main.cpp calls them all (tools/commands.h).
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "engine/status.h"

namespace dlrm::cli {

// Prints "dlrm: error: <message>" to stderr and returns the exit code to use (1).
int fail(const status& s);
int fail(const std::string& message);

// Subcommand callbacks store their exit code here; main() returns it.
int& exit_code();

}  // namespace dlrm::cli

// Option values shared by several subcommands, parsed one way everywhere.
#pragma once
#include <string>

#include "engine/executor.h"
#include "engine/status.h"
#include "kernels/api.h"

namespace dlrm::cli {

result<kernels::row_type> parse_row_type_option(const std::string& option, const std::string& value);

// "1234567" → "1,234,567" for human-readable counts.
std::string with_commas(long long v);

}  // namespace dlrm::cli

// The --rows A:B option: a half-open row range [A, B) of a dataset.
#pragma once
#include <cstdint>
#include <string>
#include <utility>

#include "engine/status.h"

namespace dlrm {

// "A:B" with non-negative decimal integers; either side may be empty (":B" from row 0, "A:" to the
// end, ":" everything). Needs A < B ≤ total_rows. Errors quote the option as "--rows <text>".
result<std::pair<int64_t, int64_t>> parse_row_range(const std::string& text, int64_t total_rows);

}  // namespace dlrm

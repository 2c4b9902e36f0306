#include "formats/criteo/row_range.h"

#include <limits>

namespace dlrm {

namespace {

// Parses an unsigned decimal; false on anything else or overflow.
bool parse_count(const std::string& t, int64_t& v) {
    if (t.empty()) return false;
    uint64_t x = 0;
    for (char c : t) {
        if (c < '0' || c > '9') return false;
        x = x * 10 + uint64_t(c - '0');
        if (x > uint64_t(std::numeric_limits<int64_t>::max())) return false;
    }
    v = int64_t(x);
    return true;
}

}  // namespace

result<std::pair<int64_t, int64_t>> parse_row_range(const std::string& text, int64_t total_rows) {
    const std::string opt = "--rows " + text;
    size_t colon = text.find(':');
    if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos)
        return status::error(opt + ": expected A:B (rows A to B-1; either side may be empty)");
    std::string a_text = text.substr(0, colon), b_text = text.substr(colon + 1);
    int64_t a = 0, b = total_rows;
    if (!a_text.empty() && !parse_count(a_text, a))
        return status::error(opt + ": '" + a_text + "' is not a row number: expected a non-negative integer");
    if (!b_text.empty() && !parse_count(b_text, b))
        return status::error(opt + ": '" + b_text + "' is not a row number: expected a non-negative integer");
    if (b > total_rows)
        return status::error(opt + ": row " + std::to_string(b) + " is past the end: need A < B ≤ " +
                             std::to_string(total_rows) + " rows");
    if (a >= b)
        return status::error(opt + ": empty range: need A < B ≤ " + std::to_string(total_rows) + " rows");
    return std::pair<int64_t, int64_t>{a, b};
}

}  // namespace dlrm

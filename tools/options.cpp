#include "tools/options.h"

namespace dlrm::cli {

result<kernels::row_type> parse_row_type_option(const std::string& option, const std::string& value) {
    using kernels::row_type;
    for (row_type t : {row_type::f32, row_type::f16, row_type::bf16, row_type::i8rw, row_type::u4rw})
        if (value == kernels::row_type_name(t)) return t;
    return status::error(option + " " + value + ": unknown row type: expected f32, f16, bf16, i8rw or u4rw");
}

std::string with_commas(long long v) {
    std::string s = std::to_string(v < 0 ? -v : v), out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (i && (s.size() - i) % 3 == 0) out += ',';
        out += s[i];
    }
    return v < 0 ? "-" + out : out;
}

}  // namespace dlrm::cli

#include "tools/cli.h"

#include <cstdio>

namespace dlrm::cli {

int& exit_code() {
    static int code = 0;
    return code;
}

int fail(const std::string& message) {
    std::fprintf(stderr, "dlrm: error: %s\n", message.c_str());
    exit_code() = 1;
    return 1;
}

int fail(const status& s) { return fail(s.message()); }

}  // namespace dlrm::cli

// doctest main for dlrm_tests. Prints the active kernel table first, so every log says which
// table a run tested (DLRM_ISA forces one; tests/run_all.sh runs the suite once per table).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "kernels/dispatch.h"

int main(int argc, char** argv) {
    auto t = dlrm::kernels::active();
    if (!t.ok()) {
        std::fprintf(stderr, "dlrm_tests: error: %s\n", t.error().message().c_str());
        return 2;
    }
    std::printf("dlrm_tests: kernel table %s\n", dlrm::kernels::isa_name(t.value()->level));
    doctest::Context ctx(argc, argv);
    return ctx.run();
}

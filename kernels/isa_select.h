// The rules behind dispatch.h's table_for() / active(), as pure functions of a CPU description and
// a registry, so tests can check each rule and message with made-up CPUs.
#pragma once
#include <string>
#include <vector>

#include "kernels/dispatch.h"

namespace dlrm::kernels {

// The features `level` needs that `f` lacks, space-separated; empty if the CPU can run the level.
std::string missing_features(isa level, const cpu_features& f);
// The levels `f` can run, worst first: ref, generic, then avx2, avx512 (x86) or neon (Arm).
std::vector<isa> levels_for(const cpu_features& f);
// The table for `level`: per family the first available registry line of that level, else of the
// next lower level in avx512 → avx2 → generic → ref (x86) or neon → generic → ref (Arm).
result<kernel_table> build_table(isa level, const cpu_features& f, const std::vector<variant>& reg);
// The level a DLRM_ISA value selects (null or empty: the best level of the CPU), or the error
// "DLRM_ISA=<value>: <why>: <what to choose instead>".
result<isa> choose_isa(const char* dlrm_isa, const cpu_features& f);

}  // namespace dlrm::kernels

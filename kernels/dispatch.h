// Kernel dispatch: one CPU probe, one registry of every variant, one table chosen and kept.
//
// DESIGN.md decision 2. The CPU is probed once (cpuid + xgetbv on x86, HWCAP on Arm). The table is
// chosen on first use: DLRM_ISA=ref|generic|avx2|avx512|neon forces one (an unknown or unsupported
// value is an error, never a silent fallback); otherwise the best the CPU supports.
#pragma once
#include <string>
#include <vector>

#include "engine/status.h"
#include "kernels/api.h"

namespace dlrm::kernels {

// Instruction-set levels, best last within an architecture. Stored as names, never as numbers.
enum class isa : uint8_t { ref, generic, avx2, avx512, neon };
const char* isa_name(isa i);

struct cpu_features {
    std::string arch;    // "x86_64" | "aarch64" | other
    std::string brand;   // cpuid brand string or /proc/cpuinfo model, may be empty
    // x86 (each already AND-ed with OS support of the registers, via xgetbv)
    bool sse42 = false, avx2 = false, fma = false, f16c = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
    bool avx512vnni = false, avx512bf16 = false, avx512vbmi = false;
    // Arm
    bool neon = false, dotprod = false, arm_bf16 = false, arm_fp16 = false;
};
const cpu_features& cpu();  // probed once
// Space-separated list of the features above that are present, e.g. "avx2 fma f16c avx512f ...".
std::string cpu_feature_list(const cpu_features& f);

// One kernel family's entry points, with the variant's name (op__isa_tile, see kernels/README.md).
struct gemm_f32_kernel { const char* name; gemm_f32_packed_bytes_fn packed_bytes; gemm_f32_pack_fn pack; gemm_f32_fn run; };
struct gemm_bf16_kernel { const char* name; gemm_bf16_packed_bytes_fn packed_bytes; gemm_bf16_pack_fn pack; gemm_bf16_fn run; };
struct gemm_u8s8_kernel { const char* name; gemm_u8s8_packed_bytes_fn packed_bytes; gemm_u8s8_pack_fn pack; gemm_u8s8_fn run; };
struct embbag_kernel { const char* name; embbag_fn run; };
struct interact_dot_kernel { const char* name; interact_dot_fn run; };
struct dcn_cross_kernel { const char* name; dcn_cross_fn run; };
struct sigmoid_kernel { const char* name; sigmoid_fn run; };
struct convert_kernel {
    const char* name;
    f32_to_bf16_fn f32_to_bf16; bf16_to_f32_fn bf16_to_f32;
    f32_to_f16_fn f32_to_f16; f16_to_f32_fn f16_to_f32;
    quantize_u8_fn quantize_u8;
};

// The table the engine calls through.
struct kernel_table {
    isa level;
    gemm_f32_kernel gemm_f32;
    gemm_bf16_kernel gemm_bf16;
    gemm_u8s8_kernel gemm_u8s8;
    embbag_kernel embbag;
    interact_dot_kernel interact_dot;
    dcn_cross_kernel dcn_cross;
    sigmoid_kernel sigmoid;
    convert_kernel convert;
};

enum class family : uint8_t { gemm_f32, gemm_bf16, gemm_u8s8, embbag, interact_dot, dcn_cross, sigmoid, convert };
const char* family_name(family f);

// One line of the registry (kernels/registry.cpp lists every variant exactly once; tests and
// benchmarks iterate over it, so a new variant is covered by adding that line).
struct variant {
    family fam;
    isa level;
    const char* name;
    bool (*available)(const cpu_features&);  // can this CPU run it?
    const void* kernel;                       // points to the family's *_kernel struct
};
const std::vector<variant>& registry();

// The table for a level: for each family the variant of that level, else the best lower level
// that the CPU supports (e.g. avx512 takes generic's sigmoid if it has none of its own), else ref.
// Fails if the CPU cannot run the level.
result<kernel_table> table_for(isa level);
// The levels this CPU can run, worst first (always starts with ref).
std::vector<isa> available_levels();
// Parses "ref", "generic", "avx2", "avx512", "neon".
result<isa> parse_isa(const std::string& name);

// The active table: chosen on first call from DLRM_ISA or the probe. If DLRM_ISA names an
// unknown or unsupported level, active() fails with a message naming the value and the rule.
result<const kernel_table*> active();
// For tests and benchmarks: make `level` the active table (fails if unsupported).
status force(isa level);

}  // namespace dlrm::kernels

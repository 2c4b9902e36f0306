// The one list of kernel variants (DESIGN.md decision 2, STYLE.md "one registry").
//
// Adding a variant: declare it in its folder's header, add one line below. Tests (tests/test_*.cpp)
// and benchmarks iterate over this list, and table_for() picks from it: per family the first line
// of the requested level whose `available` accepts the CPU, else the next lower level. So for one
// family and level, list the most demanding variant first (e.g. an avx512vnni GEMM before a plain
// avx512 one) and its fallback after it.
#include "kernels/dispatch.h"
#include "kernels/generic/generic_kernels.h"
#include "kernels/ref/ref_kernels.h"
#if defined(__x86_64__)
#include "kernels/x86/avx512/avx512_gemm.h"
#include "kernels/x86/avx512/avx512_misc.h"
#endif
#if defined(__aarch64__)
#include "kernels/arm/neon/neon_kernels.h"
#endif

namespace dlrm::kernels {
namespace {

// What a variant needs beyond its level. The level's own requirements are in dispatch.cpp
// (missing_features); these predicates repeat them so a line is correct on its own.
bool any_cpu(const cpu_features&) { return true; }
[[maybe_unused]] bool cpu_avx2(const cpu_features& f) { return f.avx2 && f.fma && f.f16c; }
[[maybe_unused]] bool cpu_avx512(const cpu_features& f) {
    return cpu_avx2(f) && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
}
[[maybe_unused]] bool cpu_avx512vnni(const cpu_features& f) { return cpu_avx512(f) && f.avx512vnni; }
[[maybe_unused]] bool cpu_avx512bf16(const cpu_features& f) { return cpu_avx512(f) && f.avx512bf16; }
[[maybe_unused]] bool cpu_avx512vbmi(const cpu_features& f) { return cpu_avx512(f) && f.avx512vbmi; }
[[maybe_unused]] bool cpu_neon(const cpu_features& f) { return f.neon; }
[[maybe_unused]] bool cpu_neon_dotprod(const cpu_features& f) { return f.neon && f.dotprod; }
[[maybe_unused]] bool cpu_neon_bf16(const cpu_features& f) { return f.neon && f.arm_bf16; }

// The name comes from the kernel struct, so the two can never disagree.
template <class K>
variant line(family fam, isa level, bool (*available)(const cpu_features&), const K& k) {
    return variant{fam, level, k.name, available, &k};
}

}  // namespace

const std::vector<variant>& registry() {
    static const std::vector<variant> all = {
        // ref: the scalar oracle, one per family, runs everywhere.
        line(family::gemm_f32, isa::ref, any_cpu, gemm_f32__ref),
        line(family::gemm_bf16, isa::ref, any_cpu, gemm_bf16__ref),
        line(family::gemm_u8s8, isa::ref, any_cpu, gemm_u8s8s32__ref),
        line(family::embbag, isa::ref, any_cpu, embbag_sum__ref),
        line(family::interact_dot, isa::ref, any_cpu, interact_dot_f32__ref),
        line(family::dcn_cross, isa::ref, any_cpu, dcn_cross_f32__ref),
        line(family::sigmoid, isa::ref, any_cpu, sigmoid_f32__ref),
        line(family::convert, isa::ref, any_cpu, convert__ref),
        // generic (kernels/generic/): xsimd for the baseline ISA (SSE2 / NEON), runs everywhere.
        line(family::gemm_f32, isa::generic, any_cpu, gemm_f32__generic_6x8),
        line(family::gemm_bf16, isa::generic, any_cpu, gemm_bf16__generic_6x8),
        line(family::gemm_u8s8, isa::generic, any_cpu, gemm_u8s8s32__generic_4x8),
        line(family::embbag, isa::generic, any_cpu, embbag_sum__generic),
        line(family::interact_dot, isa::generic, any_cpu, interact_dot_f32__generic),
        line(family::dcn_cross, isa::generic, any_cpu, dcn_cross_f32__generic),
        line(family::sigmoid, isa::generic, any_cpu, sigmoid_f32__generic),
        line(family::convert, isa::generic, any_cpu, convert__generic),
#if defined(__x86_64__)
        // avx2 (kernels/generic/ built with -mavx2 -mfma -mf16c): needs avx2 fma f16c only.
        line(family::gemm_f32, isa::avx2, cpu_avx2, gemm_f32__avx2_6x16),
        line(family::gemm_bf16, isa::avx2, cpu_avx2, gemm_bf16__avx2_6x16),
        line(family::gemm_u8s8, isa::avx2, cpu_avx2, gemm_u8s8s32__avx2_4x16),
        line(family::embbag, isa::avx2, cpu_avx2, embbag_sum__avx2),
        line(family::interact_dot, isa::avx2, cpu_avx2, interact_dot_f32__avx2),
        line(family::dcn_cross, isa::avx2, cpu_avx2, dcn_cross_f32__avx2),
        line(family::sigmoid, isa::avx2, cpu_avx2, sigmoid_f32__avx2),
        line(family::convert, isa::avx2, cpu_avx2, convert__avx2),
        // avx512 (kernels/x86/avx512/): hand-written intrinsics.
        line(family::gemm_f32, isa::avx512, cpu_avx512, gemm_f32__avx512_14x32),
        line(family::gemm_bf16, isa::avx512, cpu_avx512bf16, gemm_bf16__avx512bf16_14x32),
        line(family::gemm_bf16, isa::avx512, cpu_avx512, gemm_bf16__avx512_14x32),
        line(family::gemm_u8s8, isa::avx512, cpu_avx512vnni, gemm_u8s8s32__avx512vnni_14x32),
        line(family::embbag, isa::avx512, cpu_avx512vbmi, embbag_sum__avx512vbmi),
        line(family::embbag, isa::avx512, cpu_avx512, embbag_sum__avx512),
        line(family::interact_dot, isa::avx512, cpu_avx512, interact_dot_f32__avx512),
        line(family::dcn_cross, isa::avx512, cpu_avx512, dcn_cross_f32__avx512),
        line(family::sigmoid, isa::avx512, cpu_avx512, sigmoid_f32__avx512),
        line(family::convert, isa::avx512, cpu_avx512, convert__avx512),
#endif
#if defined(__aarch64__)
        // neon (kernels/arm/neon/): hand-written intrinsics; the dotprod GEMM first, its plain-NEON
        // fallback after it.
        line(family::gemm_f32, isa::neon, cpu_neon, gemm_f32__neon_6x16),
        line(family::gemm_bf16, isa::neon, cpu_neon, gemm_bf16__neon_6x16),
        line(family::gemm_u8s8, isa::neon, cpu_neon_dotprod, gemm_u8s8s32__neondot_4x16),
        line(family::gemm_u8s8, isa::neon, cpu_neon, gemm_u8s8s32__neon_4x16),
        line(family::embbag, isa::neon, cpu_neon, embbag_sum__neon),
        line(family::interact_dot, isa::neon, cpu_neon, interact_dot_f32__neon),
        line(family::dcn_cross, isa::neon, cpu_neon, dcn_cross_f32__neon),
        line(family::sigmoid, isa::neon, cpu_neon, sigmoid_f32__neon),
        line(family::convert, isa::neon, cpu_neon, convert__neon),
#endif
    };
    return all;
}

}  // namespace dlrm::kernels

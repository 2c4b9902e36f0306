// The CPU probe: which instruction sets this CPU has and the OS has enabled (DESIGN.md decision 2).
//
// On x86 a feature counts only if cpuid reports it AND the OS saves the registers it needs
// (xgetbv: XMM/YMM state for AVX, opmask/ZMM state for AVX-512); a kernel using ZMM registers on
// an OS that does not save them would corrupt other threads' state.
#include <string>
#include <utility>

#include "kernels/dispatch.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>

#include <fstream>
#endif

namespace dlrm::kernels {
namespace {

#if defined(__x86_64__) || defined(__i386__)

bool bit(unsigned reg, int n) { return (reg >> n) & 1u; }

// xgetbv without -mxsave (this file is built for the baseline ISA).
uint64_t xcr0() {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t(hi) << 32) | lo;
}

std::string brand_string() {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) || eax < 0x80000004u) return {};
    char buf[49] = {};
    for (unsigned leaf = 0; leaf < 3; ++leaf) {
        unsigned r[4] = {0, 0, 0, 0};
        __get_cpuid(0x80000002u + leaf, &r[0], &r[1], &r[2], &r[3]);
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) buf[leaf * 16 + i * 4 + j] = char((r[i] >> (8 * j)) & 0xFF);
    }
    std::string s(buf);
    const auto first = s.find_first_not_of(' ');  // Intel pads the brand string on the left
    const auto last = s.find_last_not_of(' ');
    return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

cpu_features probe() {
    cpu_features f;
#if defined(__x86_64__)
    f.arch = "x86_64";
#else
    f.arch = "x86";
#endif
    f.brand = brand_string();
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
    f.sse42 = bit(ecx, 20);
    const bool osxsave = bit(ecx, 27), avx = bit(ecx, 28);
    const uint64_t xcr = osxsave ? xcr0() : 0;
    const bool ymm_os = avx && (xcr & 0x6) == 0x6;             // XMM and YMM state
    const bool zmm_os = ymm_os && (xcr & 0xE0) == 0xE0;        // opmask, ZMM_Hi256, Hi16_ZMM
    f.fma = ymm_os && bit(ecx, 12);
    f.f16c = ymm_os && bit(ecx, 29);

    unsigned max_leaf = __get_cpuid_max(0, nullptr);
    if (max_leaf < 7) return f;
    unsigned max_sub = 0;
    __cpuid_count(7, 0, max_sub, ebx, ecx, edx);
    f.avx2 = ymm_os && bit(ebx, 5);
    f.avx512f = zmm_os && bit(ebx, 16);
    f.avx512dq = f.avx512f && bit(ebx, 17);
    f.avx512bw = f.avx512f && bit(ebx, 30);
    f.avx512vl = f.avx512f && bit(ebx, 31);
    f.avx512vnni = f.avx512f && bit(ecx, 11);
    f.avx512vbmi = f.avx512f && bit(ecx, 1);
    if (max_sub >= 1) {
        __cpuid_count(7, 1, eax, ebx, ecx, edx);
        f.avx512bf16 = f.avx512f && bit(eax, 5);
    }
    return f;
}

#elif defined(__aarch64__) && defined(__linux__)

// Linux HWCAP bits (asm/hwcap.h), spelled out for older headers.
constexpr unsigned long hwcap_fphp = 1ul << 9, hwcap_asimdhp = 1ul << 10, hwcap_asimd = 1ul << 1,
                        hwcap_asimddp = 1ul << 20, hwcap2_bf16 = 1ul << 14;

std::string cpuinfo_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0 || line.rfind("Hardware", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
        }
    }
    return {};
}

cpu_features probe() {
    cpu_features f;
    f.arch = "aarch64";
    f.brand = cpuinfo_model();
    const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    f.neon = hw & hwcap_asimd;
    f.dotprod = f.neon && (hw & hwcap_asimddp);
    f.arm_fp16 = f.neon && (hw & hwcap_fphp) && (hw & hwcap_asimdhp);
    f.arm_bf16 = f.neon && (hw2 & hwcap2_bf16);
    return f;
}

#else

cpu_features probe() {
    cpu_features f;
    f.arch = "other";
    return f;
}

#endif

}  // namespace

const cpu_features& cpu() {
    static const cpu_features f = probe();  // thread-safe one-time init
    return f;
}

std::string cpu_feature_list(const cpu_features& f) {
    const std::pair<bool, const char*> all[] = {
        {f.sse42, "sse42"},       {f.avx2, "avx2"},         {f.fma, "fma"},
        {f.f16c, "f16c"},         {f.avx512f, "avx512f"},   {f.avx512bw, "avx512bw"},
        {f.avx512vl, "avx512vl"}, {f.avx512dq, "avx512dq"}, {f.avx512vnni, "avx512vnni"}, {f.avx512vbmi, "avx512vbmi"},
        {f.avx512bf16, "avx512bf16"}, {f.neon, "neon"},     {f.dotprod, "dotprod"},
        {f.arm_bf16, "arm_bf16"}, {f.arm_fp16, "arm_fp16"},
    };
    std::string s;
    for (const auto& [present, name] : all) {
        if (!present) continue;
        if (!s.empty()) s += ' ';
        s += name;
    }
    return s;
}

}  // namespace dlrm::kernels

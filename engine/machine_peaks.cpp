#include "engine/machine_peaks.h"

#include <omp.h>
#include <time.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include "kernels/dispatch.h"

namespace dlrm {
namespace {

double thread_cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// One timed loop of `iters` iterations on the calling thread; returns its CPU seconds.
using loop_fn = double (*)(long iters);

#if defined(__x86_64__)
// The loops are inline asm, so this file needs no AVX-512 compiler flags (it is baseline code; the
// instructions run only after the CPU probe said they exist). 14 accumulators zmm0..zmm13: the
// FMA/VNNI latency (4-5 cycles) × 2 ports needs at least 10 independent chains. Sources zmm14/15
// are zero, so no value ever becomes a denormal or overflows.
#define DLRM_REP14(op) op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) op(8) op(9) op(10) op(11) op(12) op(13)
#define DLRM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", \
                      "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc"
#define DLRM_PEAK_LOOP(fname, insn)                                                                \
    double fname(long iters) {                                                                     \
        const double t0 = thread_cpu_seconds();                                                      \
        long n = iters;                                                                            \
        __asm__ volatile("vpxord %%zmm14, %%zmm14, %%zmm14\n\t"                                     \
                         "vpxord %%zmm15, %%zmm15, %%zmm15\n\t"                                     \
                         DLRM_REP14(DLRM_ZERO)                                                     \
                         "1:\n\t" DLRM_REP14(insn) "dec %0\n\tjnz 1b\n\t"                          \
                         : "+r"(n)::DLRM_CLOBBERS);                                                \
        return thread_cpu_seconds() - t0;                                                            \
    }
#define DLRM_ZERO(i) "vpxord %%zmm" #i ", %%zmm" #i ", %%zmm" #i "\n\t"
#define DLRM_FMA(i) "vfmadd231ps %%zmm14, %%zmm15, %%zmm" #i "\n\t"
#define DLRM_VNNI(i) "vpdpbusd %%zmm14, %%zmm15, %%zmm" #i "\n\t"
#define DLRM_BF16(i) "vdpbf16ps %%zmm14, %%zmm15, %%zmm" #i "\n\t"
DLRM_PEAK_LOOP(fma_loop, DLRM_FMA)
DLRM_PEAK_LOOP(vnni_loop, DLRM_VNNI)
DLRM_PEAK_LOOP(bf16_loop, DLRM_BF16)
constexpr double insns_per_iter = 14;
constexpr double fma_ops = 32, vnni_ops = 128, bf16_ops = 64;  // per zmm instruction
#elif defined(__aarch64__)
// NEON: 14 independent fmla chains on 4 floats (8 FLOP per instruction).
#define DLRM_REP14(op) op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) op(8) op(9) op(10) op(11) op(12) op(13)
#define DLRM_FMLA(i) "fmla v" #i ".4s, v30.4s, v31.4s\n\t"
#define DLRM_MOVI(i) "movi v" #i ".4s, #0\n\t"
double fma_loop(long iters) {
    const double t0 = thread_cpu_seconds();
    long n = iters;
    __asm__ volatile("movi v30.4s, #0\n\tmovi v31.4s, #0\n\t" DLRM_REP14(DLRM_MOVI)
                     "1:\n\t" DLRM_REP14(DLRM_FMLA) "subs %0, %0, #1\n\tb.ne 1b\n\t"
                     : "+r"(n)::"v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11",
                       "v12", "v13", "v30", "v31", "cc");
    return thread_cpu_seconds() - t0;
}
constexpr double insns_per_iter = 14;
constexpr double fma_ops = 8;
#endif

// Per-core op/s of `loop` on `threads` threads at once: best of 5 runs per thread, mean over threads.
double measure(loop_fn loop, double ops_per_insn, int threads) {
    const long iters = 20'000'000;  // ≈ 50 ms per run at 2 instructions per cycle, 3 GHz
    std::vector<double> best(size_t(threads), 1e30);
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num();
        loop(iters / 10);  // wake the vector unit and settle the clock
        for (int r = 0; r < 5; ++r) best[size_t(t)] = std::min(best[size_t(t)], loop(iters));
    }
    double sum = 0;
    for (double s : best) sum += double(iters) * insns_per_iter * ops_per_insn / s;
    return sum / threads;
}


machine_peak compute(peak_kind k, int threads) {
    machine_peak p;
    [[maybe_unused]] const auto& f = kernels::cpu();
#if defined(__x86_64__)
    switch (k) {
        case peak_kind::fma:
            if (f.avx512f) p.per_core = measure(fma_loop, fma_ops, threads);
            else p.why_absent = "this CPU lacks avx512f";
            break;
        case peak_kind::vnni:
            if (f.avx512f && f.avx512vnni) p.per_core = measure(vnni_loop, vnni_ops, threads);
            else p.why_absent = "this CPU lacks avx512_vnni";
            break;
        case peak_kind::bf16:
            if (f.avx512f && f.avx512bf16) p.per_core = measure(bf16_loop, bf16_ops, threads);
            else p.why_absent = "this CPU lacks avx512_bf16";
            break;
    }
#elif defined(__aarch64__)
    if (k == peak_kind::fma) p.per_core = measure(fma_loop, fma_ops, threads);
    else p.why_absent = "not measured on aarch64";
#else
    p.why_absent = "no peak loop for this architecture";
#endif
    return p;
}

}  // namespace

const char* peak_kind_name(peak_kind k) {
    switch (k) {
        case peak_kind::fma: return "fma";
        case peak_kind::vnni: return "vnni";
        case peak_kind::bf16: return "bf16";
    }
    return "?";
}

const machine_peak& measure_peak(peak_kind k, int threads) {
    static std::mutex mu;
    static std::map<std::pair<peak_kind, int>, machine_peak> done;
    std::lock_guard<std::mutex> g(mu);
    auto it = done.find({k, threads});
    if (it != done.end()) return it->second;
    return done.emplace(std::make_pair(k, threads), compute(k, threads)).first->second;
}

}  // namespace dlrm

// Dot-interaction benchmarks (DLRM v1): every runnable registry variant of interact_dot, F = 27
// vectors (bottom output + 26 pooled embeddings) of D = 128 per sample, strict lower triangle
// (351 dots) after the 128-wide bottom output: 479 outputs per sample. 512 samples per call.
//   hot     the same sub-batch every call (the engine's case: embbag just wrote it; 7 MB, in L3)
//   stream  a fresh sub-batch every call from 10 per thread (70 MB ≫ L3: from memory)
// FLOP/s counts 2·D per dot (351·128·2 = 89,856 per sample), as a fraction of the FMA peak.
// Before timing, the first call is compared bit for bit with interact_dot_f32__ref (inputs are
// multiples of 1/4, so every dot is exact in any summation order).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/peaks.h"
#include "kernels/dispatch.h"
#include "kernels/ref/ref_kernels.h"

using namespace dlrm;
using namespace dlrm::bench;

namespace {

constexpr int64_t F = 27, D = 128, sub_batch = 512;
constexpr int64_t out_w = D + F * (F - 1) / 2;  // 479

void run(benchmark::State& state, const kernels::interact_dot_kernel* k, bool stream) {
    const int64_t batches = stream ? 10 : 1;
    std::vector<float> src(size_t(batches * sub_batch * F * D)), dst(size_t(sub_batch * out_w));
    splitmix rng{uint64_t(state.thread_index()) + 5};
    for (auto& v : src) v = float(int(rng.next() % 7) - 3) * 0.25f;
    auto args = [&](int64_t i) {
        return kernels::interact_dot_args{sub_batch, F, D, src.data() + (i % batches) * sub_batch * F * D, F * D,
                                          dst.data(), out_w, false};
    };
    std::vector<float> want(dst.size());
    auto r = args(0);
    r.dst = want.data();
    kernels::interact_dot_f32__ref.run(r);
    k->run(args(0));
    if (std::memcmp(want.data(), dst.data(), dst.size() * 4) != 0) {
        mismatch(state, "with interact_dot_f32__ref");
        return;
    }
    const double flop = double(sub_batch) * double(F * (F - 1) / 2) * double(D) * 2;
    const double bytes = double(sub_batch) * double(F * D + out_w) * 4;
    int64_t i = 1;
    const double t0 = cpu_seconds(false);
    for (auto _ : state) k->run(args(i++));
    const double secs = cpu_seconds(false) - t0;
    const double rate = flop * double(state.iterations()) / secs;
    const peak& pk = fma_peak(state.threads());
    state.counters["FLOP/s"] = per_core(flop, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["bytes/s"] = per_core(bytes, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["ns_per_sample"] = per_core(secs * 1e9 / double(state.iterations() * sub_batch));
    state.counters["frac_fma_peak"] = per_core(pk.per_core > 0 ? rate / pk.per_core : 0);
}

}  // namespace

int main(int argc, char** argv) {
    return run_benchmarks(argc, argv, "bench_interact", [] {
        benchmark::AddCustomContext("interact", "F=27 D=128, 512 samples per call; rates per core; "
                                                "threads:2 = 2 threads each on its own sub-batches");
        for (const kernels::variant* v : runnable_variants(kernels::family::interact_dot)) {
            const auto* k = static_cast<const kernels::interact_dot_kernel*>(v->kernel);
            for (bool stream : {false, true})
                for (int threads : thread_counts()) {
                    const std::string name = std::string("interact_dot/") + v->name + "/F27_D128/" + (stream ? "stream" : "hot");
                    benchmark::RegisterBenchmark(name.c_str(), run, k, stream)->Threads(threads)->Unit(benchmark::kMicrosecond);
                }
        }
    });
}

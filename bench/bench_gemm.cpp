// GEMM benchmarks: every runnable registry variant of gemm_f32 / gemm_bf16 / gemm_u8s8 and oneDNN's
// matmul side by side, on every Linear layer of DLRM v1 and v2 (bench/shapes/mlperf_v*_layers.txt),
// on 1 and 2 threads, each as a fraction of the machine's peak measured first in the same run.
//
// Threads: the engine parallelises over sub-batches (each thread takes its own rows through the whole
// model, no barrier per layer), so 2 threads are two benchmark threads, each calling the kernel in a
// loop on its own M/2 rows with the shared packed weights; oneDNN likewise, one single-threaded
// primitive per thread. Rates and fractions are per core: each thread's work over its own CPU time.
// (An OpenMP fork/join per call was tried first: on this shared, loaded machine the thread that
// waited at the join spun for milliseconds, which measured the load, not the kernel.)
//
// Before timing, the output of one timed call is compared with the scalar reference on rows at
// the start, middle (the thread split) and end: inputs are small multiples of 1/4 (f32, bf16) and
// scales powers of two (u8s8), so every variant must match bit for bit; a peer may differ by one
// u8 step (its own rounding order). A mismatch stops the benchmark with an error and the exit code.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/peaks.h"
#include "bench/peers/onednn_gemm.h"
#include "kernels/dispatch.h"
#include "kernels/ref/ref_kernels.h"

using namespace dlrm;
using namespace dlrm::bench;
using kernels::family;

namespace {


// One layer's inputs, deterministic from the shape. Built once per shape; benchmarks of one shape
// are registered together, so only the current shape's data is kept.
struct problem {
    int64_t M, N, K;
    std::vector<float> src, w, bias;      // f32 / bf16: multiples of 1/4 in [−0.75, 0.75]
    std::vector<uint8_t> qsrc;            // u8s8
    std::vector<int8_t> qw;
    std::vector<float> w_scale;
    std::vector<int32_t> comp;
    float src_scale = 1.0f / 64, dst_scale = 1;
    int32_t src_zp = 128;

    problem(int64_t m, int64_t n, int64_t k) : M(m), N(n), K(k) {
        splitmix rng{uint64_t(m * 1000003 + n * 1009 + k)};
        auto quarter = [&] { return float(int(rng.next() % 7) - 3) * 0.25f; };
        src.resize(size_t(M * K));
        w.resize(size_t(N * K));
        bias.resize(size_t(N));
        for (auto& v : src) v = quarter();
        for (auto& v : w) v = quarter();
        for (auto& v : bias) v = quarter();
        qsrc.resize(size_t(M * K));
        qw.resize(size_t(N * K));
        for (auto& v : qsrc) v = uint8_t(rng.next());
        for (auto& v : qw) v = int8_t(int(rng.next() % 255) - 127);
        w_scale.resize(size_t(N));
        comp.resize(size_t(N));
        for (int64_t j = 0; j < N; ++j) {
            w_scale[size_t(j)] = std::ldexp(1.0f, -8 - int(j % 3));
            int64_t s = 0;
            for (int64_t i = 0; i < K; ++i) s += qw[size_t(j * K + i)];
            comp[size_t(j)] = int32_t(src_zp * s);
        }
        // Accumulators spread like sqrt(K)·74·73; put about ±3σ into the u8 range after ReLU.
        const double sigma = std::sqrt(double(K)) * 74 * 73 * src_scale * std::ldexp(1.0, -9);
        dst_scale = std::ldexp(1.0f, int(std::ceil(std::log2(3 * sigma / 255))));
    }
};

std::map<std::tuple<int64_t, int64_t, int64_t>, std::shared_ptr<problem>> g_problems;
std::shared_ptr<problem> get_problem(int64_t M, int64_t N, int64_t K) {
    const auto key = std::make_tuple(M, N, K);
    auto it = g_problems.find(key);
    if (it != g_problems.end()) return it->second;
    g_problems.clear();  // keep one shape's data at a time
    return g_problems[key] = std::make_shared<problem>(M, N, K);
}

enum class gemm_type { f32, bf16, u8s8 };
const char* type_name(gemm_type t) { return t == gemm_type::f32 ? "f32" : t == gemm_type::bf16 ? "bf16" : "u8s8"; }

// Rows of a thread's slice checked against the reference: its first and last 8.
std::vector<int64_t> check_rows(int64_t m0, int64_t rows) {
    std::set<int64_t> out;
    for (int64_t r = 0; r < std::min<int64_t>(rows, 8); ++r) out.insert(m0 + r), out.insert(m0 + rows - 1 - r);
    return {out.begin(), out.end()};
}

// The reference output of row r (N values), f32 (as float bits) or u8.
std::vector<float> ref_row_f32(const problem& p, gemm_type t, int64_t r) {
    std::vector<float> out(size_t(p.N));
    if (t == gemm_type::f32) {
        const auto& k = kernels::gemm_f32__ref;
        std::vector<uint8_t> pk(k.packed_bytes(p.N, p.K));
        k.pack(p.w.data(), p.N, p.K, pk.data());
        k.run({1, p.N, p.K, p.src.data() + r * p.K, p.K, pk.data(), p.bias.data(), out.data(), p.N, kernels::epilogue::relu});
    } else {
        const auto& k = kernels::gemm_bf16__ref;
        std::vector<uint8_t> pk(k.packed_bytes(p.N, p.K));
        k.pack(p.w.data(), p.N, p.K, pk.data());
        k.run({1, p.N, p.K, p.src.data() + r * p.K, p.K, pk.data(), p.bias.data(), out.data(), p.N, kernels::epilogue::relu});
    }
    return out;
}
std::vector<uint8_t> ref_row_u8(const problem& p, int64_t r) {
    const auto& k = kernels::gemm_u8s8s32__ref;
    std::vector<uint8_t> pk(k.packed_bytes(p.N, p.K)), out(size_t(p.N));
    k.pack(p.qw.data(), p.N, p.K, pk.data());
    kernels::gemm_u8s8_args a{1, p.N, p.K, p.qsrc.data() + r * p.K, p.K, p.src_scale, p.src_zp, pk.data(),
                              p.w_scale.data(), p.comp.data(), p.bias.data(), nullptr, out.data(), p.dst_scale, 0,
                              p.N, kernels::epilogue::relu};
    k.run(a);
    return out;
}

// Compares the checked rows of `dst` with the reference; "" if they match within `u8_tol` steps.
// This thread's rows of the M-row batch: [m0, m0 + rows).
struct slice {
    int64_t m0, rows;
};

std::string check(const problem& p, gemm_type t, const void* dst, const slice& my, int u8_tol) {
    for (int64_t r : check_rows(my.m0, my.rows)) {
        if (t == gemm_type::u8s8) {
            const auto want = ref_row_u8(p, r);
            const uint8_t* got = static_cast<const uint8_t*>(dst) + r * p.N;
            for (int64_t n = 0; n < p.N; ++n)
                if (std::abs(int(got[n]) - int(want[size_t(n)])) > u8_tol)
                    return "dst[" + std::to_string(r) + "][" + std::to_string(n) + "] = " + std::to_string(got[n]) +
                           ", reference " + std::to_string(want[size_t(n)]);
        } else {
            const auto want = ref_row_f32(p, t, r);
            const float* got = static_cast<const float*>(dst) + r * p.N;
            for (int64_t n = 0; n < p.N; ++n)
                if (std::memcmp(&got[n], &want[size_t(n)], 4) != 0)
                    return "dst[" + std::to_string(r) + "][" + std::to_string(n) + "] = " + std::to_string(got[n]) +
                           ", reference " + std::to_string(want[size_t(n)]);
        }
    }
    return "";
}

// Times `one` (this thread's call) and sets the rate and fraction counters. Counters are summed
// over the benchmark's threads, the fraction averaged; CPU time is per thread, so rates are per core.
template <class One>
void timed_loop(benchmark::State& state, gemm_type t, double ops, One&& one) {
    const peak& pk = t == gemm_type::u8s8 ? vnni_peak(state.threads()) : fma_peak(state.threads());
    const double t0 = cpu_seconds(false);
    for (auto _ : state) one();
    const double secs = cpu_seconds(false) - t0;
    const double rate = ops * double(state.iterations()) / secs;
    state.counters[t == gemm_type::u8s8 ? "op/s" : "FLOP/s"] = per_core(ops, benchmark::Counter::kIsIterationInvariantRate);
    state.counters[t == gemm_type::u8s8 ? "frac_vnni_peak" : "frac_fma_peak"] = per_core(pk.per_core > 0 ? rate / pk.per_core : 0);
}

slice my_rows(const benchmark::State& state, int64_t M) {
    const int64_t t = state.thread_index(), n = state.threads();
    return {M * t / n, M * (t + 1) / n - M * t / n};
}

// Weights are packed once per shape and variant and shared by the threads, as the engine does.
std::mutex g_mu;
std::map<std::pair<const void*, std::tuple<int64_t, int64_t, int64_t>>, std::shared_ptr<uint8_t>> g_packed;
std::shared_ptr<uint8_t> packed_for(const kernels::variant* v, gemm_type t, const problem& p) {
    std::lock_guard<std::mutex> g(g_mu);
    const auto key = std::make_pair(v->kernel, std::make_tuple(p.M, p.N, p.K));
    if (auto it = g_packed.find(key); it != g_packed.end()) return it->second;
    if (g_packed.size() > 8) g_packed.clear();
    size_t bytes = 0;
    if (t == gemm_type::u8s8) bytes = static_cast<const kernels::gemm_u8s8_kernel*>(v->kernel)->packed_bytes(p.N, p.K);
    else if (t == gemm_type::f32) bytes = static_cast<const kernels::gemm_f32_kernel*>(v->kernel)->packed_bytes(p.N, p.K);
    else bytes = static_cast<const kernels::gemm_bf16_kernel*>(v->kernel)->packed_bytes(p.N, p.K);
    std::shared_ptr<uint8_t> buf(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64)), std::free);
    if (t == gemm_type::u8s8) static_cast<const kernels::gemm_u8s8_kernel*>(v->kernel)->pack(p.qw.data(), p.N, p.K, buf.get());
    else if (t == gemm_type::f32) static_cast<const kernels::gemm_f32_kernel*>(v->kernel)->pack(p.w.data(), p.N, p.K, buf.get());
    else static_cast<const kernels::gemm_bf16_kernel*>(v->kernel)->pack(p.w.data(), p.N, p.K, buf.get());
    return g_packed[key] = buf;
}

std::shared_ptr<problem> shared_problem(const gemm_shape& s) {
    std::lock_guard<std::mutex> g(g_mu);
    return get_problem(s.M, s.N, s.K);
}

void bench_ours(benchmark::State& state, gemm_type t, const kernels::variant* v, gemm_shape s) {
    const auto p = shared_problem(s);
    const auto pk = packed_for(v, t, *p);
    const slice my = my_rows(state, s.M);
    const double ops = 2.0 * double(my.rows) * double(s.N) * double(s.K);
    std::vector<float> dst_f(t == gemm_type::u8s8 ? 0 : size_t(s.M * s.N));
    std::vector<uint8_t> dst_u(t == gemm_type::u8s8 ? size_t(s.M * s.N) : 0);
    std::function<void()> one;
    if (t == gemm_type::u8s8) {
        const auto& k = *static_cast<const kernels::gemm_u8s8_kernel*>(v->kernel);
        const kernels::gemm_u8s8_args a{my.rows, s.N, s.K, p->qsrc.data() + my.m0 * s.K, s.K, p->src_scale, p->src_zp,
                                        pk.get(), p->w_scale.data(), p->comp.data(), p->bias.data(), nullptr,
                                        dst_u.data() + my.m0 * s.N, p->dst_scale, 0, s.N, kernels::epilogue::relu};
        one = [&k, a] { k.run(a); };
    } else {
        const kernels::gemm_f32_fn run = t == gemm_type::f32 ? static_cast<const kernels::gemm_f32_kernel*>(v->kernel)->run
                                                             : static_cast<const kernels::gemm_bf16_kernel*>(v->kernel)->run;
        const kernels::gemm_f32_args a{my.rows, s.N, s.K, p->src.data() + my.m0 * s.K, s.K, pk.get(), p->bias.data(),
                                       dst_f.data() + my.m0 * s.N, s.N, kernels::epilogue::relu};
        one = [run, a] { run(a); };
    }
    one();
    const void* dst = t == gemm_type::u8s8 ? static_cast<const void*>(dst_u.data()) : dst_f.data();
    if (auto e = check(*p, t, dst, my, 0); !e.empty()) return mismatch(state, "with the reference: " + e);
    timed_loop(state, t, ops, one);
}

uint16_t bf16_bits(float f) {  // the values are multiples of 1/4: exact in bf16
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return uint16_t(u >> 16);
}

void bench_onednn(benchmark::State& state, gemm_type t, gemm_shape s) {
    if (t == gemm_type::bf16 && !kernels::cpu().avx512bf16) {
        state.SkipWithError("skipped: this CPU lacks avx512_bf16 (oneDNN bf16 would be emulated)");
        return;
    }
    omp_set_num_threads(1);  // one call per thread, as ours: oneDNN must not fork its own team
    const auto p = shared_problem(s);
    const slice my = my_rows(state, s.M);
    const double ops = 2.0 * double(my.rows) * double(s.N) * double(s.K);
    const onednn_kind kind = t == gemm_type::f32 ? onednn_kind::f32 : t == gemm_type::bf16 ? onednn_kind::bf16 : onednn_kind::u8s8;
    const onednn_u8s8_params q{p->src_scale, p->src_zp, p->w_scale.data(), p->dst_scale};
    // Each thread its own primitive for its rows (oneDNN reorders the weights into its own copy).
    onednn_gemm prim(kind, my.rows, s.N, s.K, t == gemm_type::u8s8 ? static_cast<const void*>(p->qw.data()) : p->w.data(),
                     p->bias.data(), true, t == gemm_type::u8s8 ? &q : nullptr);
    if (!prim.error().empty()) {
        state.SkipWithError(prim.error().c_str());
        return;
    }
    state.SetLabel(prim.impl());
    std::vector<uint16_t> src_bf16;
    if (t == gemm_type::bf16) {
        src_bf16.resize(p->src.size());
        for (size_t i = 0; i < src_bf16.size(); ++i) src_bf16[i] = bf16_bits(p->src[i]);
    }
    std::vector<float> dst_f(t == gemm_type::u8s8 ? 0 : size_t(s.M * s.N));
    std::vector<uint8_t> dst_u(t == gemm_type::u8s8 ? size_t(s.M * s.N) : 0);
    const void* src = t == gemm_type::u8s8 ? static_cast<const void*>(p->qsrc.data() + my.m0 * s.K)
                      : t == gemm_type::bf16 ? static_cast<const void*>(src_bf16.data() + my.m0 * s.K)
                                             : static_cast<const void*>(p->src.data() + my.m0 * s.K);
    void* dst = t == gemm_type::u8s8 ? static_cast<void*>(dst_u.data() + my.m0 * s.N) : dst_f.data() + my.m0 * s.N;
    auto one = [&] { prim.run(src, dst); };
    one();
    const void* full = t == gemm_type::u8s8 ? static_cast<const void*>(dst_u.data()) : dst_f.data();
    if (auto e = check(*p, t, full, my, 1); !e.empty()) return mismatch(state, "with the reference: " + e);
    timed_loop(state, t, ops, one);
}

family fam_of(gemm_type t) {
    return t == gemm_type::f32 ? family::gemm_f32 : t == gemm_type::bf16 ? family::gemm_bf16 : family::gemm_u8s8;
}

}  // namespace

int main(int argc, char** argv) {
    return run_benchmarks(argc, argv, "bench_gemm", [] {
        benchmark::AddCustomContext("onednn", onednn_version());
        benchmark::AddCustomContext("gemm_threads", "threads:2 = 2 threads, each calling on its own M/2 rows; rates per core");

        // Every layer of both models; a shape that occurs more than once is benchmarked once, named
        // after all its layers.
        std::vector<gemm_shape> layers = read_layers(shapes_dir() + "/mlperf_v1_layers.txt", "v1");
        for (auto& s : read_layers(shapes_dir() + "/mlperf_v2_layers.txt", "v2")) layers.push_back(s);
        std::vector<std::pair<gemm_shape, std::string>> shapes;
        for (const auto& s : layers) {
            bool found = false;
            for (auto& [u, names] : shapes)
                if (u.M == s.M && u.N == s.N && u.K == s.K) {
                    const std::string n = s.model + "." + s.layer;
                    if (names.find(s.model + "." + s.layer.substr(0, s.layer.size() - 1)) == std::string::npos)
                        names += "," + n;
                    found = true;
                }
            if (!found) shapes.emplace_back(s, s.model + "." + s.layer);
        }

        std::map<gemm_type, std::vector<const kernels::variant*>> variants;
        for (gemm_type t : {gemm_type::f32, gemm_type::bf16, gemm_type::u8s8}) variants[t] = runnable_variants(fam_of(t));
        for (const auto& [s, names] : shapes) {
            const std::string shape = names + "/M" + std::to_string(s.M) + "_N" + std::to_string(s.N) + "_K" + std::to_string(s.K);
            for (gemm_type t : {gemm_type::f32, gemm_type::bf16, gemm_type::u8s8}) {
                for (int threads : thread_counts()) {
                    const std::string tail = "/" + shape;
                    for (const kernels::variant* v : variants[t]) {
                        auto* b = benchmark::RegisterBenchmark((std::string("gemm_") + type_name(t) + "/" + v->name + tail).c_str(),
                                                               bench_ours, t, v, s);
                        b->Unit(benchmark::kMicrosecond)->Threads(threads);
                    }
                    auto* b = benchmark::RegisterBenchmark((std::string("peer/onednn_") + type_name(t) + tail).c_str(),
                                                           bench_onednn, t, s);
                    b->Unit(benchmark::kMicrosecond)->Threads(threads);
                }
            }
        }
    });
}

// Shared pieces of the kernel benchmarks: CPU-time clocks, run modes, the shapes files, id streams,
// aligned buffers, and the "check against the reference before timing" habit (FBGEMM).
#pragma once
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/dispatch.h"

namespace dlrm::bench {

// CPU seconds of this thread, or of the whole process (every thread). Per-core rates divide work by
// these, so time slices that other processes take on the shared cores are not charged to a kernel
// (their cache pollution still is).
double cpu_seconds(bool whole_process);

// DLRM_BENCH_FULL=1: the long run (scalar reference variants, 4K-page fused-table mix, longer
// ceilings). Default: the run `make bench` does in a few minutes.
bool full_mode();

// Thread counts every kernel runs with: 1, and 2 (see per_core below).
inline const std::vector<int>& thread_counts() {
    static const std::vector<int> t = {1, 2};
    return t;
}

// Registry variants of one family that this CPU can run, in registry order. The scalar reference
// (isa::ref) is the oracle every variant is checked against; it is timed only in full mode.
std::vector<const kernels::variant*> runnable_variants(kernels::family fam);

// Every binary checks each kernel against the reference before timing it (FBGEMM's habit). A
// failed check ends that benchmark with "ERROR OCCURRED: 'MISMATCH <what>'" and makes the binary
// exit 1 (run_benchmarks); the other benchmarks still run.
void mismatch(benchmark::State& state, const std::string& what);

// main() of a kernel benchmark binary: Google Benchmark's flags, the machine's ceilings into the
// report's context (report_peaks), then `register_all` (the binary's own context lines and
// benchmarks), the run, and the exit code: 1 after a mismatch or on unrecognized arguments.
int run_benchmarks(int argc, char** argv, const char* binary, const std::function<void()>& register_all);

// A line of bench/shapes/*_layers.txt.
struct gemm_shape {
    std::string model, layer;  // e.g. "v2", "dcn_w0"
    int64_t M, N, K;
};
// A line of bench/shapes/*_tables.txt.
struct table_shape {
    std::string name;
    int64_t rows;
    int32_t pooling;
};
// The folder of the shapes files: $DLRM_BENCH_SHAPES, else the source tree's bench/shapes.
std::string shapes_dir();
// Reads "name M N K" lines ('#' starts a comment). Exits with a message on a malformed file: the
// benchmark cannot run without its shapes.
std::vector<gemm_shape> read_layers(const std::string& path, const std::string& model);
std::vector<table_shape> read_tables(const std::string& path);

// Ids in [0, rows): uniform, or Zipf(s = 1.05) over ranks whose hot ranks are scattered over the
// table by a multiplicative hash (a popular row is not next to the other popular rows).
enum class id_dist { uniform, zipf };
const char* id_dist_name(id_dist d);
void fill_ids(int32_t* ids, int64_t n, int64_t rows, id_dist dist, uint64_t seed);

// A fast deterministic generator for filling large buffers.
struct splitmix {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

// 64-byte aligned storage.
struct aligned_free {
    void operator()(void* p) const { std::free(p); }
};
template <class T>
using aligned_ptr = std::unique_ptr<T[], aligned_free>;
template <class T>
aligned_ptr<T> aligned_array(size_t n) {
    void* p = std::aligned_alloc(64, (n * sizeof(T) + 63) / 64 * 64 + 64);
    if (!p) std::abort();
    return aligned_ptr<T>(static_cast<T*>(p));
}

// Threads: the engine parallelises over sub-batches (each thread takes its own rows through the
// whole model, no barrier per kernel), so a benchmark with threads:2 is two Google Benchmark threads,
// each calling the kernel in a loop on its own part of the work. Each thread times itself in its own
// CPU time, so every rate and fraction is per core; counters are averaged over the threads.
inline benchmark::Counter per_core(double v, benchmark::Counter::Flags extra = benchmark::Counter::kDefaults) {
    return benchmark::Counter(v, benchmark::Counter::Flags(extra | benchmark::Counter::kAvgThreads));
}

}  // namespace dlrm::bench

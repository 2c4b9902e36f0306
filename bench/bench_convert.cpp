// Activation quantization benchmarks: every runnable registry variant of convert's quantize_u8
// (fp32 → u8 with a scale and zero point), the pass an int8 layer runs over an fp32 input that no
// previous layer wrote as codes: DLRM v1's top.0 (479 wide, the dot interaction's output) and
// DLRM v2's dcn.0.V (3456 wide, x0 = bottom output + 26 pooled embeddings). One call is one row,
// as the executor calls it; each timed pass covers a whole block of rows.
//   hot     32 rows again and again (L2-resident: 77 KB at 479, 553 KB at 3456, input and output)
//   stream  an engine sub-batch of 1024 rows, a fresh one per pass from 8 per thread (≥ 15 MB, so
//           at 3456 wide 113 MB ≫ L3: from memory)
// The ceiling, measured in the same run on the same buffers: the same bytes moved with plain
// vector loads and stores and one xor per 64 values (read n floats, write n bytes per row; the
// n % 64 tail in masked 16-value steps). Each
// variant reports values/s and its fraction of that ceiling (frac_copy_ceiling).
// Before timing, every row of the first block is compared bit for bit with convert__ref.
// GCC 12 warns about the intrinsics' own self-initialised "undefined" vectors once they are inlined
// (GCC bug 105593, fixed in 12.3); the pragma must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <benchmark/benchmark.h>

#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/peaks.h"
#include "kernels/dispatch.h"
#include "kernels/ref/ref_kernels.h"

using namespace dlrm;
using namespace dlrm::bench;

namespace {

constexpr float scale = 0.0123f;
constexpr int32_t zero_point = 7;

struct block_set {
    int64_t width, rows, blocks;
    aligned_ptr<float> src;
    aligned_ptr<uint8_t> dst;
    block_set(int64_t w, bool stream, uint64_t seed)
        : width(w), rows(stream ? 1024 : 32), blocks(stream ? 8 : 1),
          src(aligned_array<float>(size_t(w * rows * blocks))), dst(aligned_array<uint8_t>(size_t(w * rows))) {
        splitmix rng{seed};
        // Mostly in range, some clamped on either side, as calibrated ranges leave them.
        for (int64_t i = 0; i < w * rows * blocks; ++i) src[size_t(i)] = (float(rng.next() % 4000) - 500.0f) * 0.001f;
    }
    const float* block(int64_t b) const { return src.get() + (b % blocks) * width * rows; }
};

// The ceiling's loop, compiled for AVX-512 only where this function is (the binary may run on a
// CPU without it: then the ceiling is reported as absent and the fraction is 0).
__attribute__((target("avx512f,avx512bw,avx512vl"))) void copy_pass(const float* src, int64_t n, int64_t rows, uint8_t* dst) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* s = src + r * n;
        uint8_t* d = dst + r * n;
        int64_t i = 0;
        for (; i + 64 <= n; i += 64) {
            const __m512i a = _mm512_xor_si512(_mm512_castps_si512(_mm512_loadu_ps(s + i)), _mm512_castps_si512(_mm512_loadu_ps(s + i + 16)));
            const __m512i b = _mm512_xor_si512(_mm512_castps_si512(_mm512_loadu_ps(s + i + 32)), _mm512_castps_si512(_mm512_loadu_ps(s + i + 48)));
            _mm512_storeu_si512(d + i, _mm512_xor_si512(a, b));
        }
        for (; i < n; i += 16) {  // the tail as 16-value masked steps, as a kernel would
            const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
            _mm_mask_storeu_epi8(d + i, m, _mm512_cvtepi32_epi8(_mm512_castps_si512(_mm512_maskz_loadu_ps(m, s + i))));
        }
    }
}

// Best of 3 passes over every block of the set, in values per second of this thread's CPU time.
double copy_ceiling(const block_set& bs) {
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl")) return 0;
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        const double t0 = cpu_seconds(false);
        int64_t passes = 0;
        do {  // the clock is read once per 8 block sets: a read can cost as much as a short pass
            for (int64_t p = 0; p < 8 * bs.blocks; ++p, ++passes) {
                copy_pass(bs.block(passes), bs.width, bs.rows, bs.dst.get());
                benchmark::ClobberMemory();
            }
        } while (cpu_seconds(false) - t0 < 0.05);
        best = std::max(best, double(passes * bs.rows * bs.width) / (cpu_seconds(false) - t0));
    }
    return best;
}

void run(benchmark::State& state, const kernels::convert_kernel* k, int64_t width, bool stream) {
    block_set bs(width, stream, uint64_t(state.thread_index()) + 11);
    std::vector<uint8_t> want(static_cast<size_t>(width));
    for (int64_t r = 0; r < bs.rows; ++r) {
        const float* x = bs.block(0) + r * width;
        kernels::convert__ref.quantize_u8(width, x, scale, zero_point, want.data());
        k->quantize_u8(width, x, scale, zero_point, bs.dst.get() + r * width);
        if (std::memcmp(want.data(), bs.dst.get() + r * width, size_t(width)) != 0) {
            mismatch(state, "with convert__ref.quantize_u8 in row " + std::to_string(r));
            return;
        }
    }
    const double ceiling = copy_ceiling(bs);
    int64_t b = 1;
    const double t0 = cpu_seconds(false);
    for (auto _ : state) {
        const float* x = bs.block(b++);
        for (int64_t r = 0; r < bs.rows; ++r) k->quantize_u8(width, x + r * width, scale, zero_point, bs.dst.get() + r * width);
        benchmark::ClobberMemory();
    }
    const double secs = cpu_seconds(false) - t0;
    const double values = double(bs.rows * width);
    const double rate = values * double(state.iterations()) / secs;
    state.counters["values/s"] = per_core(values, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["bytes/s"] = per_core(values * 5, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["ns_per_row"] = per_core(secs * 1e9 / double(state.iterations() * bs.rows));
    state.counters["ceiling_values/s"] = per_core(ceiling);
    state.counters["frac_copy_ceiling"] = per_core(ceiling > 0 ? rate / ceiling : 0);
}

}  // namespace

int main(int argc, char** argv) {
    return run_benchmarks(argc, argv, "bench_convert", [] {
        benchmark::AddCustomContext("convert", "quantize_u8 one row per call; hot = 32 rows, stream = 1024-row sub-batches "
                                               "from 8 per thread; rates per core; ceiling = plain copy of the same bytes");
        for (const kernels::variant* v : runnable_variants(kernels::family::convert)) {
            const auto* k = static_cast<const kernels::convert_kernel*>(v->kernel);
            for (int64_t width : {479, 3456})
                for (bool stream : {false, true})
                    for (int threads : thread_counts()) {
                        const std::string name = std::string("quantize_u8/") + v->name + "/W" + std::to_string(width) + "/" +
                                                 (stream ? "stream" : "hot");
                        benchmark::RegisterBenchmark(name.c_str(), run, k, width, stream)->Threads(threads)->Unit(benchmark::kMicrosecond);
                    }
        }
    });
}

// The GEMM-only bound of a whole DLRM forward pass, measured with oneDNN on this machine: every
// Linear of the model (bench/shapes/mlperf_v{1,2}_layers.txt) as one oneDNN matmul per thread on
// its own rows, run back to back, with nothing else (no embedding bag, interaction, quantization
// passes or DCN element-wise work). rows/s = rows in flight / time of one pass over the layers.
// The same threads layout as the engine: each thread scores its own sub-batch.
//
//   build/bench/onednn_model_bound [v1|v2] [--rows-per-thread M] [--threads T] [--seconds S] [--json]
//
// Prints rows/s for f32, bf16 and u8s8 (the bf16 line is skipped on CPUs without avx512_bf16).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/peers/onednn_gemm.h"
#include "kernels/dispatch.h"

using namespace dlrm::bench;

namespace {

struct layer_bufs {
    std::unique_ptr<onednn_gemm> g;
    std::vector<uint8_t> src, dst;
};

// Seconds of one pass over the layers on every thread at once (best of repeated passes).
double pass_seconds(onednn_kind kind, const std::vector<gemm_shape>& layers, int64_t M, int threads, double seconds,
                    std::string& error) {
    std::vector<double> best(size_t(threads), 1e30);
    std::string err;
#pragma omp parallel num_threads(threads)
    {
        omp_set_num_threads(1);  // each primitive runs on its own thread, as ours
        std::mt19937 rng(unsigned(omp_get_thread_num()) + 1);
        std::vector<layer_bufs> L;
        std::vector<float> w_scale, bias;
        for (const auto& s : layers) {
            layer_bufs b;
            std::vector<float> wf(size_t(s.N * s.K));
            std::vector<int8_t> wq(size_t(s.N * s.K));
            for (auto& v : wf) v = float(int(rng() % 7) - 3) / 4;
            for (auto& v : wq) v = int8_t(int(rng() % 255) - 127);
            w_scale.assign(size_t(s.N), 1.0f / 512);
            bias.assign(size_t(s.N), 0.25f);
            const onednn_u8s8_params q{1.0f / 64, 3, w_scale.data(), 0.5f};
            b.g = std::make_unique<onednn_gemm>(kind, M, s.N, s.K,
                                                kind == onednn_kind::u8s8 ? static_cast<const void*>(wq.data()) : wf.data(),
                                                bias.data(), true, kind == onednn_kind::u8s8 ? &q : nullptr);
            if (!b.g->error().empty()) {
#pragma omp critical
                err = b.g->error();
            }
            const size_t in_bytes = kind == onednn_kind::u8s8 ? 1 : kind == onednn_kind::bf16 ? 2 : 4;
            const size_t out_bytes = kind == onednn_kind::u8s8 ? 1 : 4;
            b.src.assign(size_t(M * s.K) * in_bytes, 0);
            for (size_t i = 0; i < b.src.size(); ++i) b.src[i] = uint8_t(kind == onednn_kind::f32 ? 0 : rng());
            b.dst.assign(size_t(M * s.N) * out_bytes, 0);
            L.push_back(std::move(b));
        }
#pragma omp barrier
        if (err.empty()) {
            double& mine = best[size_t(omp_get_thread_num())];
            const auto t_end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
            int passes = 0;
            do {
                const double t0 = cpu_seconds(false);
                for (auto& b : L) b.g->run(b.src.data(), b.dst.data());
                mine = std::min(mine, cpu_seconds(false) - t0);
                ++passes;
            } while (passes < 3 || std::chrono::steady_clock::now() < t_end);
        }
    }
    error = err;
    return *std::max_element(best.begin(), best.end());
}

}  // namespace

int main(int argc, char** argv) {
    std::string model = "v2";
    int64_t M = 1024;
    int threads = omp_get_max_threads();
    double seconds = 2.0;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "v1" || a == "v2") model = a;
        else if (a == "--rows-per-thread" && i + 1 < argc) M = std::atoll(argv[++i]);
        else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
        else if (a == "--seconds" && i + 1 < argc) seconds = std::atof(argv[++i]);
        else if (a == "--json") json = true;
        else {
            std::fprintf(stderr, "usage: onednn_model_bound [v1|v2] [--rows-per-thread M] [--threads T] [--seconds S] [--json]\n");
            return 2;
        }
    }
    const auto layers = read_layers(shapes_dir() + "/mlperf_" + model + "_layers.txt", model);
    std::string out = "{\"model\": \"" + model + "\", \"onednn\": \"" + onednn_version() + "\", \"rows_per_thread\": " +
                      std::to_string(M) + ", \"threads\": " + std::to_string(threads) + ", \"layers\": " +
                      std::to_string(layers.size());
    if (!json)
        std::printf("oneDNN %s GEMM-only bound, DLRM %s (%zu Linear layers), %lld rows per thread, %d threads\n",
                    onednn_version().c_str(), model.c_str(), layers.size(), static_cast<long long>(M), threads);
    for (auto [kind, name] : {std::pair{onednn_kind::f32, "f32"}, {onednn_kind::bf16, "bf16"}, {onednn_kind::u8s8, "u8s8"}}) {
        if (kind == onednn_kind::bf16 && !dlrm::kernels::cpu().avx512bf16) {
            if (!json) std::printf("%-5s skipped: this CPU lacks avx512_bf16\n", name);
            continue;
        }
        std::string err;
        const double s = pass_seconds(kind, layers, M, threads, seconds, err);
        if (!err.empty()) {
            std::fprintf(stderr, "onednn_model_bound: %s: %s\n", name, err.c_str());
            return 1;
        }
        const double rps = double(M) * threads / s;
        out += std::string(", \"") + name + "_rows_per_s\": " + std::to_string(rps);
        if (!json) std::printf("%-5s %12.0f rows/s   (one pass %.3f ms per thread)\n", name, rps, s * 1e3);
    }
    if (json) std::printf("%s}\n", out.c_str());
    return 0;
}

#include "bench/bench_util.h"

#include <time.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bench/peaks.h"

namespace dlrm::bench {

namespace {
std::atomic<bool> g_mismatch{false};  // benchmark threads may report at once
}  // namespace

void mismatch(benchmark::State& state, const std::string& what) {
    g_mismatch = true;
    state.SkipWithError(("MISMATCH " + what).c_str());
}

int run_benchmarks(int argc, char** argv, const char* binary, const std::function<void()>& register_all) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    report_peaks();
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (g_mismatch) std::fprintf(stderr, "%s: a kernel's output did not match the reference (see ERROR lines)\n", binary);
    return g_mismatch ? 1 : 0;
}

double cpu_seconds(bool whole_process) {
    timespec ts;
    clock_gettime(whole_process ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

bool full_mode() {
    const char* v = std::getenv("DLRM_BENCH_FULL");
    return v && *v && std::string(v) != "0";
}

std::vector<const kernels::variant*> runnable_variants(kernels::family fam) {
    std::vector<const kernels::variant*> out;
    for (const kernels::variant& v : kernels::registry()) {
        if (v.fam != fam) continue;
        if (!v.available(kernels::cpu())) {
            std::fprintf(stderr, "skipped %s: this CPU cannot run it\n", v.name);
            continue;
        }
        if (v.level == kernels::isa::ref && !full_mode()) continue;
        out.push_back(&v);
    }
    return out;
}

std::string shapes_dir() {
    if (const char* d = std::getenv("DLRM_BENCH_SHAPES"); d && *d) return d;
    return std::string(DLRM_SOURCE_DIR) + "/bench/shapes";
}

namespace {

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "bench: error: %s\n", msg.c_str());
    std::exit(2);
}

// The non-comment, non-blank lines of a shapes file, with their line numbers.
std::vector<std::pair<int, std::string>> data_lines(const std::string& path) {
    std::ifstream in(path);
    if (!in) die(path + ": cannot open: set DLRM_BENCH_SHAPES to the bench/shapes folder");
    std::vector<std::pair<int, std::string>> out;
    std::string line;
    for (int no = 1; std::getline(in, line); ++no) {
        if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        out.emplace_back(no, line);
    }
    return out;
}

}  // namespace

std::vector<gemm_shape> read_layers(const std::string& path, const std::string& model) {
    std::vector<gemm_shape> out;
    for (const auto& [no, line] : data_lines(path)) {
        std::istringstream ss(line);
        gemm_shape s{model, "", 0, 0, 0};
        std::string extra;
        if (!(ss >> s.layer >> s.M >> s.N >> s.K) || (ss >> extra) || s.M <= 0 || s.N <= 0 || s.K <= 0)
            die(path + ":" + std::to_string(no) + ": '" + line + "': expected 'name M N K' with positive sizes");
        out.push_back(s);
    }
    return out;
}

std::vector<table_shape> read_tables(const std::string& path) {
    std::vector<table_shape> out;
    for (const auto& [no, line] : data_lines(path)) {
        std::istringstream ss(line);
        table_shape t{"", 0, 0};
        std::string extra;
        if (!(ss >> t.name >> t.rows >> t.pooling) || (ss >> extra) || t.rows <= 0 || t.rows > INT32_MAX ||
            t.pooling < 0)
            die(path + ":" + std::to_string(no) + ": '" + line +
                "': expected 'name rows pooling' with 0 < rows < 2^31 and pooling >= 0");
        out.push_back(t);
    }
    return out;
}

const char* id_dist_name(id_dist d) { return d == id_dist::uniform ? "uniform" : "zipf"; }

void fill_ids(int32_t* ids, int64_t n, int64_t rows, id_dist dist, uint64_t seed) {
    splitmix rng{seed};
    if (dist == id_dist::uniform) {
        for (int64_t i = 0; i < n; ++i) ids[i] = int32_t(rng.next() % uint64_t(rows));
        return;
    }
    // Inverse CDF of the continuous Zipf(s) on [1, rows+1): rank k has weight ~ k^-s.
    const double s = 1.05, a = std::pow(double(rows) + 1, 1 - s) - 1;
    for (int64_t i = 0; i < n; ++i) {
        const double u = double(rng.next() >> 11) * 0x1.0p-53;
        const double k = std::pow(a * u + 1, 1 / (1 - s)) - 1;  // rank in [0, rows)
        const uint64_t rank = std::min<uint64_t>(uint64_t(k), uint64_t(rows - 1));
        ids[i] = int32_t(rank * 2654435761ull % uint64_t(rows));
    }
}

}  // namespace dlrm::bench

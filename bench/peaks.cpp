#include "bench/peaks.h"

#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <cstdio>

#include "bench/bench_util.h"
#include "engine/machine_peaks.h"
#include "kernels/dispatch.h"

namespace dlrm::bench {
const peak& fma_peak(int threads) { return measure_peak(peak_kind::fma, threads); }
const peak& vnni_peak(int threads) { return measure_peak(peak_kind::vnni, threads); }
const peak& bf16_peak(int threads) { return measure_peak(peak_kind::bf16, threads); }

void report_peaks() {
    const auto show = [](const char* name, const char* unit, const peak& (*fn)(int)) {
        for (int t : thread_counts()) {
            const peak& p = fn(t);
            char key[64], val[160];
            std::snprintf(key, sizeof key, "peak_%s_%dthread", name, t);
            if (p.per_core > 0)
                std::snprintf(val, sizeof val, "%.1f G%s per core", p.per_core / 1e9, unit);
            else
                std::snprintf(val, sizeof val, "absent: %s", p.why_absent.c_str());
            std::fprintf(stderr, "%-24s %s\n", key, val);
            benchmark::AddCustomContext(key, val);
        }
    };
    std::fprintf(stderr, "CPU: %s [%s]\n", kernels::cpu().brand.c_str(),
                 kernels::cpu_feature_list(kernels::cpu()).c_str());
    show("fma_f32", "FLOP/s", fma_peak);
    show("vnni_u8s8", "op/s", vnni_peak);
    show("bf16_dot", "FLOP/s", bf16_peak);
}

uint64_t gather_rows(const kernels::embbag_args& a, int distance) {
    uint64_t sum = 0;
    for (int64_t t = 0; t < a.num_tables; ++t) {
        const kernels::embbag_table_args& tab = a.tables[t];
        const size_t stride = kernels::row_bytes(tab.type, a.dim);
        const int64_t n = tab.offsets ? tab.offsets[a.batch] : a.batch * int64_t(tab.bag_size);
        const int64_t first = tab.offsets ? tab.offsets[0] : 0;
        for (int64_t j = first; j < n; ++j) {
            if (distance > 0 && j + distance < n) {
                const uint8_t* q = tab.rows + size_t(tab.ids[j + distance]) * stride;
                for (size_t off = 0; off < stride; off += 64) __builtin_prefetch(q + off, 0, 3);
                __builtin_prefetch(q + stride - 1, 0, 3);
            }
            const uint8_t* p = tab.rows + size_t(tab.ids[j]) * stride;
            for (size_t off = 0; off < stride; off += 64) sum += p[off];
            sum += p[stride - 1];
        }
    }
    return sum;
}

}  // namespace dlrm::bench

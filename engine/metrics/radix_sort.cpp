#include "engine/metrics/radix_sort.h"

#include <omp.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace dlrm {

namespace {
constexpr int k_max_digit_bits = 11;
// Below this many values a second thread costs more (wake-up, barriers) than it saves.
constexpr int64_t k_min_rows_per_thread = 1 << 16;
}  // namespace

uint32_t* radix_sort_u32(uint32_t* a, uint32_t* b, int64_t n, int key_bits) {
    if (n <= 1) return a;
    key_bits = std::clamp(key_bits, 1, 32);
    const int passes = (key_bits + k_max_digit_bits - 1) / k_max_digit_bits;
    const int digit_bits = (key_bits + passes - 1) / passes;  // balanced: 31 bits -> 11, 11, 11 (last uses 9)
    const int64_t buckets = int64_t(1) << digit_bits;

    int threads = int(std::min<int64_t>(omp_get_max_threads(), std::max<int64_t>(1, n / k_min_rows_per_thread)));
    // hist[t * buckets + d]: count of digit d in thread t's slice, then turned into its write offset.
    std::vector<int64_t> hist(size_t(threads) * size_t(buckets));
    uint32_t* src = a;
    uint32_t* dst = b;
    bool skip = false;

#pragma omp parallel num_threads(threads)
    {
        const int nt = omp_get_num_threads();
        const int t = omp_get_thread_num();
        const int64_t begin = n * t / nt;
        const int64_t end = n * (t + 1) / nt;
        int64_t* mine = hist.data() + size_t(t) * size_t(buckets);

        for (int pass = 0; pass < passes; ++pass) {
            const int shift = pass * digit_bits;
            const uint32_t mask = uint32_t(buckets - 1);
            std::fill(mine, mine + buckets, 0);
            // Read both pointers before the first barrier of the pass: the swap at its end may run
            // on one thread while another is still scattering.
            const uint32_t* s = src;
            uint32_t* d = dst;
            for (int64_t i = begin; i < end; ++i) ++mine[(s[i] >> shift) & mask];
#pragma omp barrier
#pragma omp single
            {
                // Offsets in bucket-major, thread-minor order: the scatter is then stable, which LSD needs.
                int64_t run = 0;
                skip = false;
                for (int64_t d = 0; d < buckets; ++d) {
                    int64_t in_bucket = 0;
                    for (int u = 0; u < nt; ++u) {
                        int64_t& h = hist[size_t(u) * size_t(buckets) + size_t(d)];
                        const int64_t c = h;
                        h = run;
                        run += c;
                        in_bucket += c;
                    }
                    if (in_bucket == n) skip = true;  // every value has this digit: nothing would move
                }
            }  // implicit barrier: offsets and `skip` are visible to all
            if (!skip) {
                for (int64_t i = begin; i < end; ++i) {
                    const uint32_t v = s[i];
                    d[mine[(v >> shift) & mask]++] = v;
                }
            }
            // The implicit barrier of this single ends the pass for everyone.
#pragma omp single
            {
                if (!skip) std::swap(src, dst);
            }
        }
    }
    return src;
}

}  // namespace dlrm

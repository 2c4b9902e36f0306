// The machine's own ceilings, measured in the same run as the kernels (DESIGN.md "Performance").
//
// Arithmetic peaks are register-resident loops of independent zmm instructions (no loads, enough
// accumulators to cover latency × ports), timed in CPU time per thread, best of several runs:
//   fma   vfmadd231ps zmm   32 FLOP per instruction
//   vnni  vpdpbusd zmm      64 u8×s8 multiply-adds = 128 op per instruction   (avx512_vnni)
//   bf16  vdpbf16ps zmm     32 bf16 multiply-adds  =  64 FLOP per instruction (avx512_bf16)
// With 2 threads both cores run the loop at once (AVX-512 clocks may drop when both are busy);
// the figure is per core. A peak the CPU cannot run is 0 and is reported as absent.
//
// The gather ceiling is the rate of fetching the rows an embedding-bag call reads, in its order,
// touching every cache line of each row and doing nothing else; bench_embbag takes the better of
// the kernel's prefetch look-ahead and no prefetch.
#pragma once
#include <cstdint>
#include <string>

#include "kernels/api.h"

namespace dlrm::bench {

struct peak {
    double per_core = 0;  // op/s per core (FLOP/s, or u8×s8 op/s for vnni); 0 = not available
    std::string why_absent;
};

// Measured once per thread count (1 or 2) on first use.
const peak& fma_peak(int threads);
const peak& vnni_peak(int threads);
const peak& bf16_peak(int threads);

// Measures every arithmetic peak for 1 and 2 threads now, prints them to stderr and adds them to
// the benchmark context (the header of the console and JSON reports). Call before running.
void report_peaks();

// Rows of an embedding-bag call fetched at the ceiling: for each table, for each id in order,
// every cache line of the row, prefetched `distance` ids ahead (0: no prefetch). Returns a checksum to keep the
// loads alive; the caller times it.
uint64_t gather_rows(const kernels::embbag_args& a, int distance);

}  // namespace dlrm::bench

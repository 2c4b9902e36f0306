// The machine's own ceilings, measured in the same run as the kernels (DESIGN.md "Performance").
//
// Arithmetic peaks (fma, vnni, bf16) come from engine/machine_peaks.h, the loops `dlrm bench` uses
// too; this file adds them to the benchmark context. A peak the CPU cannot run is 0, reported absent.
//
// The gather ceiling is the rate of fetching the rows an embedding-bag call reads, in its order,
// touching every cache line of each row and doing nothing else; bench_embbag takes the best of
// several prefetch look-aheads.
#pragma once
#include <cstdint>
#include <string>

#include "engine/machine_peaks.h"
#include "kernels/api.h"

namespace dlrm::bench {

using peak = machine_peak;  // op/s per core, or why it is absent

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

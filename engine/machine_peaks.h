// The machine's arithmetic ceilings, measured on this machine in the same run as the work they
// are compared with (DESIGN.md "Performance: how it is measured"): register-resident loops of
// independent vector instructions (no loads, 14 accumulators to cover latency × ports), timed in
// the CPU time of each thread, best of 5 runs:
//   fma   vfmadd231ps zmm   32 FLOP per instruction                          (x86: avx512f)
//         fmla v.4s          8 FLOP per instruction                          (aarch64)
//   vnni  vpdpbusd zmm      64 u8×s8 multiply-adds = 128 op per instruction   (avx512_vnni)
//   bf16  vdpbf16ps zmm     32 bf16 multiply-adds  =  64 FLOP per instruction (avx512_bf16)
// With several threads every thread runs the loop at once (AVX-512 clocks may drop when all cores
// are busy); the figure is per core. Used by `dlrm bench` and by the microbenchmarks in bench/.
#pragma once
#include <string>

namespace dlrm {

enum class peak_kind { fma, vnni, bf16 };

struct machine_peak {
    double per_core = 0;     // op/s per core (FLOP/s, or u8×s8 op/s for vnni); 0 = not available
    std::string why_absent;  // when per_core is 0
};

// Measured on first use for each (kind, thread count) and kept. Takes ~0.3 s per new pair.
const machine_peak& measure_peak(peak_kind k, int threads);
const char* peak_kind_name(peak_kind k);  // "fma", "vnni", "bf16"

}  // namespace dlrm

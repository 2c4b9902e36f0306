// Parallel LSD radix sort of uint32 values: the engine of `dlrm auc`, which must order 89 M scores in
// seconds on two cores.
#pragma once
#include <cstdint>

namespace dlrm {

// Sorts the n values in `a` ascending. Every value must be < 2^key_bits (1 <= key_bits <= 32): only
// those bits are looked at, so fewer bits mean fewer passes (ceil(key_bits / 11) passes of at most
// 11 bits; 2048 buckets keep each thread's scatter targets within L1/L2 and the TLB). `b` is scratch
// space for n values. Returns whichever of a or b holds the sorted result.
//
// Each pass: every OpenMP thread histograms its contiguous slice, the per-thread histograms are
// turned into per-thread starting offsets (bucket-major, then thread order, so the sort is stable),
// then every thread scatters its slice. A pass whose digit is the same for every value is skipped.
// The result does not depend on the thread count (it is the unique sorted order).
uint32_t* radix_sort_u32(uint32_t* a, uint32_t* b, int64_t n, int key_bits);

// Order-preserving map of a float32 bit pattern to uint32: unsigned order of the results equals
// the numeric order of the floats (-inf < ... < -0 < +0 < ... < +inf; NaNs land beyond the infinities).
// Note that -0 and +0 stay distinct here; callers that want them tied canonicalise -0 first.
constexpr uint32_t float_order_key(uint32_t bits) {
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

}  // namespace dlrm

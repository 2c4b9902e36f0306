// Row prefetching for the embedding-bag kernels of every ISA (x86/avx512/embbag_pool.h,
// generic/xsimd_kernels.h, arm/neon/embbag_neon.cpp). Each includer is built with its own ISA flags,
// so everything here has internal linkage (unnamed namespace); __builtin_prefetch is the target's
// plain prefetch whatever the flags (prefetcht0 on x86, prfm pldl1keep on Arm).
#pragma once
#include <cstddef>
#include <cstdint>

#include "kernels/api.h"

namespace dlrm::kernels {
namespace {

// Every cache line of a row: its first byte, each 64 bytes on, and its last byte (a 68-byte u4
// row at an arbitrary offset spans two lines).
inline void prefetch_row(const uint8_t* p, size_t bytes) {
    for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off);
    __builtin_prefetch(p + bytes - 1);
}

// The row of the table's j-th id.
inline void prefetch_id(const embbag_table_args& tab, size_t stride, int64_t j) {
    prefetch_row(tab.rows + size_t(tab.ids[j]) * stride, stride);
}

// A bag loop fetches each row `distance` ids ahead, so its first `distance` rows (of ids_end) are
// never prefetched by it: without this call they would all be demand misses, one after another.
inline void prefetch_first_ids(const embbag_table_args& tab, size_t stride, int64_t ids_end, int64_t distance) {
    for (int64_t j = 0; j < distance && j < ids_end; ++j) prefetch_id(tab, stride, j);
}

}  // namespace
}  // namespace dlrm::kernels

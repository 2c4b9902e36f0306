// The fused embedding-bag driver shared by embbag_sum__avx512 (embbag_sum.cpp) and
// embbag_sum__avx512vbmi (embbag_sum_vbmi.cpp): sum pooling over every table of a batch (api.h),
// bit-exact with the reference. The including file defines `Dec<T>`, the decoder of each row type.
//
// Columns are pooled in blocks of at most 128 (8 zmm accumulators that stay in registers for the
// whole bag); dim 128, the MLPerf case, is one block and has its own instantiation. Wider rows walk
// the bag once per block. The summation order per element is the bag order, as in the reference, so
// only the decode differs. Fixed one-id bags (DLRM v1, one-hot Criteo) have an instantiation of
// their own whose bag loop is known to run once: cache-resident, 6.9 → 6.3–6.6 ns per u4 row,
// 8.4 → 7.0 i8, 12.5 → 11.0 f32 (bench_embbag, table:1MB/pool:1). With stream_dst it writes dst
// with non-temporal stores (bench_embbag v1_onehot and bench/README); multi-hot bags, where dst is
// a small part of the traffic, gained nothing from them on DLRM v2 and keep plain stores. Internal
// linkage throughout (unnamed namespace): each including file is built with its own ISA flags.
#pragma once
#include <immintrin.h>

#include <array>

#include "kernels/embbag_prefetch.h"
#include "kernels/x86/avx512/embbag_rows.h"

namespace dlrm::kernels::avx512 {
namespace {

// Rows are fetched this many ids ahead: random rows come from DRAM (~100 ns, more under load), and
// the ids of a table are contiguous across bags, so the look-ahead runs over bag boundaries.
// Measured on a 40 M-row u4 table: 32 ids beat 16 (too few misses in flight at ~3 ns per row) and
// matched 64.
constexpr int64_t prefetch_distance = 32;
constexpr int block_cols = 128;

struct block {
    const embbag_args* a;
    const embbag_table_args* tab;
    int64_t t;       // table index: output column t·dim
    int64_t col0;    // first column of the block
    int ncols;       // ≤ 128
    bool prefetch;   // only the first block of a row prefetches it
};

// NC = number of 16-column chunks; FULL = the last chunk has 16 columns; DIMC = the row's dim when
// known at compile time (0: a.dim). With DIMC the row stride and every column offset are immediates:
// at dim 128 that alone takes a u4 row from 5.0 to 3.3 ns (cache-resident, pooling 100).
// Dec<T> is the decoder of row type T (embbag_rows.h), chosen by the including file.
// ONEHOT: fixed bags of one id (DLRM v1, MLPerf's one-hot Criteo), the bag loop known to run once;
// the sum 0 + v stays (so a −0.0 becomes +0.0 exactly as in the reference), and with stream_dst the
// outputs go out non-temporally when the row's output is 64-byte aligned (it is in the engine: dst_ld
// and dim are multiples of 16 floats there): no read for ownership of lines that are fully
// overwritten, and no eviction of the tables' rows from L2.
template <row_type T, int NC, bool FULL, int DIMC, bool ONEHOT>
void pool_bags(const block& blk) {
    using D = Dec<T>;
    const embbag_args& a = *blk.a;
    const embbag_table_args& tab = *blk.tab;
    const int64_t dim = DIMC ? DIMC : a.dim;
    const size_t stride = row_bytes(T, dim);
    const int tail_n = blk.ncols - 16 * (NC - 1);
    const __mmask16 tail_mask = FULL ? __mmask16(0xFFFF) : __mmask16((1u << tail_n) - 1);
    const int64_t ids_end = ONEHOT        ? a.batch
                            : tab.offsets ? tab.offsets[a.batch]
                                          : a.batch * int64_t(tab.bag_size);
    if (blk.prefetch) prefetch_first_ids(tab, stride, ids_end, prefetch_distance);
    for (int64_t b = 0; b < a.batch; ++b) {
        const int64_t begin = ONEHOT ? b : tab.offsets ? tab.offsets[b] : b * int64_t(tab.bag_size);
        const int64_t end = ONEHOT ? b + 1 : tab.offsets ? tab.offsets[b + 1] : begin + tab.bag_size;
        __m512 acc[NC];
        for (int c = 0; c < NC; ++c) acc[c] = _mm512_setzero_ps();
        for (int64_t j = begin; j < end; ++j) {
            if (blk.prefetch && j + prefetch_distance < ids_end) prefetch_id(tab, stride, j + prefetch_distance);
            const uint8_t* row = tab.rows + size_t(tab.ids[j]) * stride;
            const auto k = D::prepare(row, dim);
            for (int c = 0; c < NC; ++c) {
                const int64_t col = (DIMC ? 0 : blk.col0) + 16 * c;
                const __m512 v = (c < NC - 1 || FULL) ? D::full(row, col, k) : D::tail(row, col, tail_n, k);
                acc[c] = _mm512_add_ps(acc[c], v);
            }
        }
        float* out = a.dst + b * a.dst_ld + blk.t * dim + (DIMC ? 0 : blk.col0);
        const bool nt = ONEHOT && a.stream_dst && (reinterpret_cast<uintptr_t>(out) & 63) == 0;
        for (int c = 0; c < NC; ++c) {
            const __m512 r = D::to_order(acc[c]);
            if (c == NC - 1 && !FULL) _mm512_mask_storeu_ps(out + 16 * c, tail_mask, r);
            else if (nt) _mm512_stream_ps(out + 16 * c, r);
            else _mm512_storeu_ps(out + 16 * c, r);
        }
    }
}

template <row_type T, int NC, bool FULL, int DIMC>
void pool_block(const block& blk) {
    if (!blk.tab->offsets && blk.tab->bag_size == 1) return pool_bags<T, NC, FULL, DIMC, true>(blk);
    pool_bags<T, NC, FULL, DIMC, false>(blk);
}

using block_fn = void (*)(const block&);

// [NC−1][FULL] for one row type.
template <row_type T>
constexpr std::array<std::array<block_fn, 2>, 8> block_fns() {
    return {{{pool_block<T, 1, false, 0>, pool_block<T, 1, true, 0>},
             {pool_block<T, 2, false, 0>, pool_block<T, 2, true, 0>},
             {pool_block<T, 3, false, 0>, pool_block<T, 3, true, 0>},
             {pool_block<T, 4, false, 0>, pool_block<T, 4, true, 0>},
             {pool_block<T, 5, false, 0>, pool_block<T, 5, true, 0>},
             {pool_block<T, 6, false, 0>, pool_block<T, 6, true, 0>},
             {pool_block<T, 7, false, 0>, pool_block<T, 7, true, 0>},
             {pool_block<T, 8, false, 0>, pool_block<T, 8, true, 0>}}};
}

block_fn pick(row_type type, int64_t dim, int ncols) {
    static constexpr auto f32 = block_fns<row_type::f32>();
    static constexpr auto f16 = block_fns<row_type::f16>();
    static constexpr auto bf16 = block_fns<row_type::bf16>();
    static constexpr auto i8rw = block_fns<row_type::i8rw>();
    static constexpr auto u4rw = block_fns<row_type::u4rw>();
    const int nc = (ncols + 15) / 16;
    const int full = ncols % 16 == 0;
    if (dim == 128) switch (type) {  // the MLPerf dim, compiled with its offsets as immediates
        case row_type::f32: return pool_block<row_type::f32, 8, true, 128>;
        case row_type::f16: return pool_block<row_type::f16, 8, true, 128>;
        case row_type::bf16: return pool_block<row_type::bf16, 8, true, 128>;
        case row_type::i8rw: return pool_block<row_type::i8rw, 8, true, 128>;
        case row_type::u4rw: return pool_block<row_type::u4rw, 8, true, 128>;
    }
    switch (type) {
        case row_type::f32: return f32[nc - 1][full];
        case row_type::f16: return f16[nc - 1][full];
        case row_type::bf16: return bf16[nc - 1][full];
        case row_type::i8rw: return i8rw[nc - 1][full];
        case row_type::u4rw: return u4rw[nc - 1][full];
    }
    return nullptr;
}

void run(const embbag_args& a) {
    if (a.dim <= 0) return;
    for (int64_t t = 0; t < a.num_tables; ++t) {
        for (int64_t col0 = 0; col0 < a.dim; col0 += block_cols) {
            const int ncols = int(a.dim - col0 < block_cols ? a.dim - col0 : block_cols);
            const block blk{&a, &a.tables[t], t, col0, ncols, col0 == 0};
            pick(a.tables[t].type, a.dim, ncols)(blk);
        }
    }
    if (a.stream_dst) _mm_sfence();  // non-temporal stores are weakly ordered: visible before we return
}

}  // namespace
}  // namespace dlrm::kernels::avx512

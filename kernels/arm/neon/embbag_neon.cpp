// embbag_sum__neon: sum pooling over every table of a batch (api.h), bit-exact with the reference.
//
// Columns are pooled in blocks of at most 64: 16 accumulators that stay in registers for the whole
// bag (dim 64 and below is one block; MLPerf's dim 128 is two passes over the bag's ids, the second
// finding its rows in L1/L2). Per element the sum runs in bag order, starting from +0 as the ref's
// does, and each row value is formed exactly as api.h defines it: f32 as is, f16 with FCVTL and
// bf16 with a shift (both exact), i8rw/u4rw with one FMLA fmaf(scale, q, bias) (a single rounding,
// as std::fma in the ref). So only the decoding differs from the ref, never the arithmetic.
// Rows are decoded 16 columns at a time; a row's last partial chunk is first copied into a zeroed
// buffer, so nothing past the row's own bytes is read.
#include <arm_neon.h>

#include <array>
#include <cstring>

#include "kernels/arm/neon/neon_blocking.h"
#include "kernels/embbag_prefetch.h"
#include "kernels/arm/neon/neon_kernels.h"

namespace dlrm::kernels::neon {
namespace {

constexpr int64_t prefetch_distance = 16;  // ids ahead (random rows come from DRAM, ~100 ns)
constexpr int block_cols = 64;

template <row_type T>
struct decoder;

// u8 ×16 → 4 vectors of float (exact).
inline void widen_u8(uint8x16_t q, float32x4_t (&f)[4]) {
    const uint16x8_t lo = vmovl_u8(vget_low_u8(q)), hi = vmovl_u8(vget_high_u8(q));
    f[0] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo)));
    f[1] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(lo)));
    f[2] = vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi)));
    f[3] = vcvtq_f32_u32(vmovl_u16(vget_high_u16(hi)));
}

template <>
struct decoder<row_type::f32> {
    struct consts {};
    static consts prepare(const uint8_t*, int64_t) { return {}; }
    static size_t bytes(int n) { return size_t(n) * 4; }
    static const uint8_t* at(const uint8_t* r, int64_t col) { return r + 4 * col; }
    static void decode(const uint8_t* p, const consts&, float32x4_t (&f)[4]) {
        // byte loads reinterpreted: rows need not be 4-byte aligned
        for (int v = 0; v < 4; ++v) f[v] = vreinterpretq_f32_u8(vld1q_u8(p + 16 * v));
    }
};

template <>
struct decoder<row_type::f16> {
    struct consts {};
    static consts prepare(const uint8_t*, int64_t) { return {}; }
    static size_t bytes(int n) { return size_t(n) * 2; }
    static const uint8_t* at(const uint8_t* r, int64_t col) { return r + 2 * col; }
    static void decode(const uint8_t* p, const consts&, float32x4_t (&f)[4]) {
        const uint16x8_t h0 = vreinterpretq_u16_u8(vld1q_u8(p)), h1 = vreinterpretq_u16_u8(vld1q_u8(p + 16));
        f[0] = vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h0)));
        f[1] = vcvt_f32_f16(vreinterpret_f16_u16(vget_high_u16(h0)));
        f[2] = vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h1)));
        f[3] = vcvt_f32_f16(vreinterpret_f16_u16(vget_high_u16(h1)));
    }
};

template <>
struct decoder<row_type::bf16> {
    struct consts {};
    static consts prepare(const uint8_t*, int64_t) { return {}; }
    static size_t bytes(int n) { return size_t(n) * 2; }
    static const uint8_t* at(const uint8_t* r, int64_t col) { return r + 2 * col; }
    // bf16 is the top half of a float: widen with a 16-bit left shift (USHLL #16), exact.
    static void decode(const uint8_t* p, const consts&, float32x4_t (&f)[4]) {
        const uint16x8_t h0 = vreinterpretq_u16_u8(vld1q_u8(p)), h1 = vreinterpretq_u16_u8(vld1q_u8(p + 16));
        f[0] = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h0), 16));
        f[1] = vreinterpretq_f32_u32(vshll_n_u16(vget_high_u16(h0), 16));
        f[2] = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h1), 16));
        f[3] = vreinterpretq_f32_u32(vshll_n_u16(vget_high_u16(h1), 16));
    }
};

template <>
struct decoder<row_type::i8rw> {
    struct consts { float32x4_t scale, bias; };
    static consts prepare(const uint8_t* r, int64_t dim) {
        float s, b;
        std::memcpy(&s, r + dim, 4);
        std::memcpy(&b, r + dim + 4, 4);
        return {vdupq_n_f32(s), vdupq_n_f32(b)};
    }
    static size_t bytes(int n) { return size_t(n); }
    static const uint8_t* at(const uint8_t* r, int64_t col) { return r + col; }
    static void decode(const uint8_t* p, const consts& k, float32x4_t (&f)[4]) {
        widen_u8(vld1q_u8(p), f);
        for (int v = 0; v < 4; ++v) f[v] = vfmaq_f32(k.bias, k.scale, f[v]);  // bias + scale·q, one rounding
    }
};

template <>
struct decoder<row_type::u4rw> {
    struct consts { float32x4_t scale, bias; };
    static consts prepare(const uint8_t* r, int64_t dim) {
        uint16_t h[4] = {0, 0, 0, 0};
        std::memcpy(h, r + (dim + 1) / 2, 4);  // half scale, half bias
        const float32x4_t sb = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h)));  // exact
        return {vdupq_laneq_f32(sb, 0), vdupq_laneq_f32(sb, 1)};
    }
    static size_t bytes(int n) { return size_t(n + 1) / 2; }
    static const uint8_t* at(const uint8_t* r, int64_t col) { return r + col / 2; }  // col is a multiple of 16
    static void decode(const uint8_t* p, const consts& k, float32x4_t (&f)[4]) {
        const uint8x8_t b = vld1_u8(p);
        // element 2i is byte i's low nibble, 2i+1 its high nibble: interleave the two halves
        const uint8x8x2_t z = vzip_u8(vand_u8(b, vdup_n_u8(0x0F)), vshr_n_u8(b, 4));
        widen_u8(vcombine_u8(z.val[0], z.val[1]), f);
        for (int v = 0; v < 4; ++v) f[v] = vfmaq_f32(k.bias, k.scale, f[v]);
    }
};

struct block {
    const embbag_args* a;
    const embbag_table_args* tab;
    int64_t t;      // table index: output column t·dim
    int64_t col0;   // first column of the block
    int ncols;      // 1..64
    bool prefetch;  // only the first block of a row prefetches it
};

// NCH = 16-column chunks in the block; FULL = the last one has all 16 columns.
template <row_type T, int NCH, bool FULL>
void pool_block(const block& blk) {
    using D = decoder<T>;
    const embbag_args& a = *blk.a;
    const embbag_table_args& tab = *blk.tab;
    const size_t stride = row_bytes(T, a.dim);
    const int tail_n = blk.ncols - 16 * (NCH - 1);
    const int64_t ids_end = tab.offsets ? tab.offsets[a.batch] : a.batch * int64_t(tab.bag_size);
    if (blk.prefetch) prefetch_first_ids(tab, stride, ids_end, prefetch_distance);
    for (int64_t b = 0; b < a.batch; ++b) {
        const int64_t begin = tab.offsets ? tab.offsets[b] : b * int64_t(tab.bag_size);
        const int64_t end = tab.offsets ? tab.offsets[b + 1] : begin + tab.bag_size;
        float32x4_t acc[NCH][4];
        for (int c = 0; c < NCH; ++c)
            for (int v = 0; v < 4; ++v) acc[c][v] = vdupq_n_f32(0.0f);
        for (int64_t j = begin; j < end; ++j) {
            if (blk.prefetch && j + prefetch_distance < ids_end) prefetch_id(tab, stride, j + prefetch_distance);
            const uint8_t* row = tab.rows + size_t(tab.ids[j]) * stride;
            const auto k = D::prepare(row, a.dim);
            for (int c = 0; c < NCH; ++c) {
                const int64_t col = blk.col0 + 16 * c;
                float32x4_t f[4];
                if (c < NCH - 1 || FULL) {
                    D::decode(D::at(row, col), k, f);
                } else {
                    alignas(16) uint8_t buf[64] = {};
                    std::memcpy(buf, D::at(row, col), D::bytes(tail_n));
                    D::decode(buf, k, f);
                }
                for (int v = 0; v < 4; ++v) acc[c][v] = vaddq_f32(acc[c][v], f[v]);
            }
        }
        float* out = a.dst + b * a.dst_ld + blk.t * a.dim + blk.col0;
        for (int c = 0; c < NCH; ++c)
            for (int v = 0; v < 4; ++v) {
                const int n = (c < NCH - 1 || FULL) ? 4 : tail_n - 4 * v;
                if (n > 0) store_partial(out + 16 * c + 4 * v, acc[c][v], n);
            }
    }
}

using block_fn = void (*)(const block&);

// [NCH−1][FULL] for one row type.
template <row_type T>
constexpr std::array<std::array<block_fn, 2>, 4> block_fns() {
    return {{{pool_block<T, 1, false>, pool_block<T, 1, true>},
             {pool_block<T, 2, false>, pool_block<T, 2, true>},
             {pool_block<T, 3, false>, pool_block<T, 3, true>},
             {pool_block<T, 4, false>, pool_block<T, 4, true>}}};
}

block_fn pick(row_type type, int ncols) {
    static constexpr auto f32 = block_fns<row_type::f32>();
    static constexpr auto f16 = block_fns<row_type::f16>();
    static constexpr auto bf16 = block_fns<row_type::bf16>();
    static constexpr auto i8rw = block_fns<row_type::i8rw>();
    static constexpr auto u4rw = block_fns<row_type::u4rw>();
    const int nch = (ncols + 15) / 16;
    const int full = ncols % 16 == 0;
    switch (type) {
        case row_type::f32: return f32[nch - 1][full];
        case row_type::f16: return f16[nch - 1][full];
        case row_type::bf16: return bf16[nch - 1][full];
        case row_type::i8rw: return i8rw[nch - 1][full];
        case row_type::u4rw: return u4rw[nch - 1][full];
    }
    return nullptr;
}

void run(const embbag_args& a) {
    if (a.dim <= 0) return;
    for (int64_t t = 0; t < a.num_tables; ++t)
        for (int64_t col0 = 0; col0 < a.dim; col0 += block_cols) {
            const int ncols = int(a.dim - col0 < block_cols ? a.dim - col0 : block_cols);
            pick(a.tables[t].type, ncols)(block{&a, &a.tables[t], t, col0, ncols, col0 == 0});
        }
}

}  // namespace
}  // namespace dlrm::kernels::neon

namespace dlrm::kernels {
const embbag_kernel embbag_sum__neon = {"embbag_sum__neon", neon::run};
}  // namespace dlrm::kernels

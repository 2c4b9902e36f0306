// The kernel interface: every hot loop of the engine, as plain function pointers.
//
// The engine calls kernels only through a kernel_table (dispatch.h), chosen once from a CPU probe.
// Each signature below states its semantics as pseudocode, with units. Kernels do not validate their
// inputs (DESIGN.md decision 8): the engine checks ids, shapes and NaNs at its boundary; kernels
// only state preconditions with debug asserts.
//
// Conventions
//   - Sizes are in elements unless a name ends in _bytes. Leading dimensions ("ld") are in elements.
//   - Matrices are row-major. A Linear layer with weights W (N×K, PyTorch's (out, in) order) computes
//     dst[m][n] = src[m][:]·W[n][:] + bias[n]  (y = x·Wᵀ + b).
//   - No kernel reads or writes outside the ranges stated. Pointers need no alignment.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dlrm::kernels {

// ---------------------------------------------------------------------------------------------
// Element types of embedding rows (values are stored in .dlrm files: never reuse a number).
enum class row_type : uint8_t {
    f32 = 0,   // D × float
    f16 = 1,   // D × IEEE half
    bf16 = 2,  // D × bfloat16
    i8rw = 3,  // D × uint8 q, then float scale, float bias: value = scale·q + bias   (FBGEMM "byte")
    u4rw = 4,  // ceil(D/2) bytes (element 2k low nibble, 2k+1 high nibble), then half scale,
               // half bias: value = scale·q + bias                                   (FBGEMM "4bit")
};

// Bytes of one row of `dim` elements of type t (the FBGEMM layouts, FACTS.md §3).
constexpr size_t row_bytes(row_type t, int64_t dim) {
    switch (t) {
        case row_type::f32: return size_t(dim) * 4;
        case row_type::f16:
        case row_type::bf16: return size_t(dim) * 2;
        case row_type::i8rw: return size_t(dim) + 8;
        case row_type::u4rw: return size_t(dim + 1) / 2 + 4;
    }
    return 0;
}

const char* row_type_name(row_type t);  // "f32", "f16", "bf16", "i8rw", "u4rw"

enum class epilogue : uint8_t { none, relu };

// ---------------------------------------------------------------------------------------------
// GEMM, fp32.  Weights are prepacked once (pack) into the table's own layout; the packed buffer
// must be `packed_bytes(N, K)` bytes, 64-byte aligned.
//   for m < M, n < N:
//     acc = Σ_{k<K} src[m·lda + k] · W[n][k]      (fp32 accumulation)
//     v   = acc + (bias ? bias[n] : 0)
//     dst[m·ldd + n] = epi == relu ? max(v, 0) : v
// The result for a row m does not depend on M or on the other rows (engine determinism).
struct gemm_f32_args {
    int64_t M, N, K;
    const float* src; int64_t lda;
    const void* packed_w;
    const float* bias;  // may be null
    float* dst; int64_t ldd;
    epilogue epi;
};
using gemm_f32_packed_bytes_fn = size_t (*)(int64_t N, int64_t K);
using gemm_f32_pack_fn = void (*)(const float* w /* N×K row-major */, int64_t N, int64_t K, void* packed);
using gemm_f32_fn = void (*)(const gemm_f32_args& a);

// GEMM, bf16 inputs, fp32 accumulation.  As gemm_f32, but both operands are first rounded to bf16
// (round to nearest even): acc = Σ_k bf16(src[m][k]) · bf16(W[n][k]), products exact in fp32.
// The summation order may differ between tables (pairs of k with vdpbf16ps).
using gemm_bf16_packed_bytes_fn = size_t (*)(int64_t N, int64_t K);
using gemm_bf16_pack_fn = void (*)(const float* w /* N×K */, int64_t N, int64_t K, void* packed);
using gemm_bf16_fn = void (*)(const gemm_f32_args& a);

// GEMM, u8 activations × s8 weights, s32 accumulation (int8 Linear, DESIGN.md decision 6).
//   Activations: real = src_scale · (q − src_zp), q ∈ [0,255].
//   Weights:     real = w_scale[n] · w[n][k],     w ∈ [−127,127] (symmetric per output channel).
//   acc[m][n] = Σ_k src[m][k] · w[n][k] − comp[n],   comp[n] = src_zp · Σ_k w[n][k]  (precomputed)
//   v = src_scale · w_scale[n] · acc + (bias ? bias[n] : 0),  relu if epi == relu
//   DCN cross (x0 != null; DLRM v2, the W_l GEMM):  v = x0[m·ldx + n] · v + xl[m·ldx + n],
//            as two roundings (product, then sum), after bias and ReLU
//   dst_f32: dst_f32[m·ldd + n] = v                                      (if dst_f32 != null;
//            it may be the same array as xl, with ldd == ldx)
//   dst_u8:  dst_u8[m·ldq + n] = clamp(nearbyint(v · inv) + dst_zp, 0, 255) (if dst_u8 != null),
//            inv = 1.0f / dst_scale rounded to fp32 once, v · inv one fp32 product (as fbgemm and
//            PyTorch quantize: a multiply per element, not a division); ldq = 0 means ldd.
// At least one of dst_f32 / dst_u8 is non-null; with both, each gets the same v: a layer can hand
// the next int8 layer its input already quantized (that layer's qparams as dst_scale / dst_zp)
// and keep the fp32 value (DCN: the residual x_{l+1}).
struct gemm_u8s8_args {
    int64_t M, N, K;
    const uint8_t* src; int64_t lda;
    float src_scale; int32_t src_zp;
    const void* packed_w;     // from gemm_u8s8_pack
    const float* w_scale;     // [N]
    const int32_t* comp;      // [N]
    const float* bias;        // [N] or null
    float* dst_f32;
    uint8_t* dst_u8; float dst_scale; int32_t dst_zp;
    int64_t ldd;
    epilogue epi;
    int64_t ldq = 0;               // row stride of dst_u8 (0: ldd)
    const float* x0 = nullptr;     // DCN cross: x0 and xl, M × N at row stride ldx
    const float* xl = nullptr;
    int64_t ldx = 0;
};
using gemm_u8s8_packed_bytes_fn = size_t (*)(int64_t N, int64_t K);
using gemm_u8s8_pack_fn = void (*)(const int8_t* w /* N×K */, int64_t N, int64_t K, void* packed);
using gemm_u8s8_fn = void (*)(const gemm_u8s8_args& a);

// ---------------------------------------------------------------------------------------------
// Fused embedding bag, sum pooling, all tables of a batch in one call.
//   for t < num_tables, b < batch:
//     bag(b) = fixed: ids[b·bag_size .. (b+1)·bag_size)       (offsets == null)
//              else:  ids[offsets[b] .. offsets[b+1])         (offsets has batch+1 entries)
//     acc[d] = 0.0f for d < dim
//     for j in bag(b), in order:  acc[d] += value(row(ids[j]))[d]
//         where value for i8rw/u4rw is fmaf(scale, float(q), bias) (one rounding), for f16/bf16
//         the exact conversion to float, for f32 the float itself
//     dst[b·dst_ld + t·dim + d] = acc[d]       (an empty bag writes zeros)
// Summation order is fixed, so every variant is bit-exact against the reference.
// Ids are already validated: 0 ≤ id < num_rows (the engine's index check).
struct embbag_table_args {
    const uint8_t* rows;      // num_rows rows of row_bytes(type, dim) bytes, back to back
    int64_t num_rows;
    row_type type;
    const int32_t* ids;
    const int32_t* offsets;   // null: fixed bags of bag_size ids
    int32_t bag_size;
};
struct embbag_args {
    int64_t batch;
    int64_t dim;
    int64_t num_tables;
    const embbag_table_args* tables;
    float* dst; int64_t dst_ld;   // dst_ld ≥ num_tables·dim
    // A hint, set when dst spans more than embbag_stream_dst_bytes: it is written once and read back
    // only after the whole call, so a kernel may write it with non-temporal stores (the values are
    // the same). The AVX-512 kernels do so for fixed one-id bags, where dst is most of the traffic
    // (512 bytes written per 68-byte u4 row at dim 128).
    bool stream_dst = false;
};
// The dst size above which callers set stream_dst: one core's L2 on the x86 parts this engine
// targets (1 MiB on Zen 4/5, 1–2 MiB on Intel server cores); below it dst stays cache-resident.
constexpr size_t embbag_stream_dst_bytes = size_t(1) << 20;
inline bool embbag_dst_streams(int64_t batch, int64_t dst_ld) {
    return size_t(batch) * size_t(dst_ld) * sizeof(float) > embbag_stream_dst_bytes;
}
using embbag_fn = void (*)(const embbag_args& a);

// ---------------------------------------------------------------------------------------------
// Dot interaction (Facebook DLRM / MLPerf v1).  Per sample b, F = num_features vectors of dim
// elements: x_0 (the bottom MLP output) followed by the F−1 pooled embeddings, contiguous:
//   x_i = src[b·src_ld + i·dim .. +dim)
//   dst[b·dst_ld + 0 .. dim) = x_0
//   then, for i = 0..F−1, for j = 0..(diag ? i : i−1):  dst[...next] = x_i · x_j
// i.e. the strict (or non-strict, with diag) lower triangle of X·Xᵀ in row-major order, as
// torch's Z[:, li, lj]. Output width: dim + F(F−1)/2 (+F with diag).
struct interact_dot_args {
    int64_t batch, num_features, dim;
    const float* src; int64_t src_ld;
    float* dst; int64_t dst_ld;
    bool diag;
};
using interact_dot_fn = void (*)(const interact_dot_args& a);

// DCN cross step, element-wise part (the GEMMs W·(V·x) + b run as gemm_f32):
//   dst[i] = x0[i] · y[i] + xl[i]   for i < n        (dst may alias xl)
using dcn_cross_fn = void (*)(int64_t n, const float* x0, const float* y, const float* xl, float* dst);

// Sigmoid: dst[i] = 1 / (1 + exp(−src[i])), for i < n (dst may alias src). Accurate to 2 ulp.
using sigmoid_fn = void (*)(int64_t n, const float* src, float* dst);

// ---------------------------------------------------------------------------------------------
// Conversions.
using f32_to_bf16_fn = void (*)(int64_t n, const float* src, uint16_t* dst);  // round to nearest even
using bf16_to_f32_fn = void (*)(int64_t n, const uint16_t* src, float* dst);
using f32_to_f16_fn = void (*)(int64_t n, const float* src, uint16_t* dst);   // round to nearest even
using f16_to_f32_fn = void (*)(int64_t n, const uint16_t* src, float* dst);
// Activation quantization: dst[i] = clamp(nearbyint(src[i] · inv) + zp, 0, 255), inv = 1.0f / scale
// (fp32), the same rule as gemm_u8s8's requantization, so both give the same codes.
using quantize_u8_fn = void (*)(int64_t n, const float* src, float scale, int32_t zp, uint8_t* dst);

}  // namespace dlrm::kernels

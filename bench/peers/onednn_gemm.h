// oneDNN matmul (Debian libdnnl-dev, 2.x) on our GEMM contract, for side-by-side benchmarks only:
// linked into bench_gemm, never into the engine.
//
// The same math as kernels/api.h: dst[M×N] = src[M×K]·Wᵀ + bias, ReLU; weights given N×K
// row-major as ours and reordered once into oneDNN's preferred layout (format_tag::any), as we
// prepack once. int8: u8 src with a per-tensor scale and zero point, s8 weights with per-channel
// scales, requantized u8 output; oneDNN 2.x adds the bias before its output scale, so the bias is
// passed divided by src_scale·w_scale[n].
// The primitive runs on the calling thread's OpenMP team: create and run one per thread inside a
// parallel region for independent per-thread calls (oneDNN runs sequentially when nested).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace dlrm::bench {

enum class onednn_kind { f32, bf16, u8s8 };

struct onednn_u8s8_params {
    float src_scale; int32_t src_zp;
    const float* w_scale;  // [N]
    float dst_scale;       // output u8 = clamp(round(v / dst_scale), 0, 255), zero point 0
};

class onednn_gemm {
public:
    // f32 / bf16: w is float N×K (bf16 rounds it to nearest even; src must then be bf16 bits).
    // u8s8: w is int8 N×K, `q` gives the scales. bias may be null. Throws nothing: on failure
    // (oneDNN rejects the shape or the CPU lacks the ISA) error() says why and run() must not be called.
    onednn_gemm(onednn_kind kind, int64_t M, int64_t N, int64_t K, const void* w, const float* bias, bool relu,
                const onednn_u8s8_params* q = nullptr);
    ~onednn_gemm();
    onednn_gemm(const onednn_gemm&) = delete;
    onednn_gemm& operator=(const onednn_gemm&) = delete;

    const std::string& error() const { return error_; }
    // src: M×K (f32: float, bf16: uint16_t bf16 bits, u8s8: uint8_t), dst: M×N (float, or uint8_t for u8s8),
    // both dense row-major.
    void run(const void* src, void* dst);
    // The oneDNN implementation chosen, e.g. "brg:avx512_core_vnni".
    std::string impl() const;

private:
    struct state;
    std::unique_ptr<state> s_;
    std::string error_;
};

// oneDNN's version string, e.g. "2.6.3".
std::string onednn_version();

}  // namespace dlrm::bench

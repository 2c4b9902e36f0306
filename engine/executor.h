// The executor: scores rows of a dataset with a model, batch by batch, on all threads.
//
// Design (DESIGN.md "Data flow for one batch", decision 7): each thread takes a sub-batch through the
// whole network (index check → bottom MLP → fused embedding bag → interaction → top MLP → sigmoid)
// using its own scratch, allocated once; the steady-state loop allocates nothing and takes no locks.
// A row's prediction does not depend on which sub-batch it fell into (the kernels guarantee per-row
// results independent of M), so the output bytes are the same for any --threads / --batch.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/aligned_buffer.h"
#include "engine/model.h"
#include "engine/status.h"
#include "formats/criteo/criteo_dataset.h"
#include "kernels/dispatch.h"

namespace dlrm {

// fp32: every Linear in fp32 (a model with a quantization plan is refused: its weights are not fp32).
// bf16: every Linear in bf16 (fp32 models). int8: the model's stored plan, layer by layer.
// simulate: the stored plan emulated in fp32: weights dequantized (w_scale·q) at load, inputs of int8
//   layers fake-quantized (quantize → dequantize with the stored qparams), bf16 layers with inputs
//   rounded to bf16; tables as stored. Separates quantization error from kernel error.
enum class precision : uint8_t { fp32, bf16, int8, simulate };
const char* precision_name(precision p);

struct executor_options {
    precision prec = precision::fp32;
    int64_t batch = 0;   // rows in flight across all threads; 0 = default (512 per thread)
    int threads = 0;     // 0 = all the OpenMP threads available
};

// A Linear layer as the executor runs it, in execution order (engine/quant/plan.h linear_names).
struct layer_desc {
    std::string name;
    int64_t in = 0, out = 0;
    bool relu = false;
};

// Called after every Linear with its fp32 input and output (calibration observers, SQNR). tid is the
// OpenMP thread (0 ≤ tid < threads()); calls from one thread never overlap. Must not throw.
using linear_hook = std::function<void(int tid, size_t layer, int64_t m, const float* src, int64_t lda,
                                       const float* dst, int64_t ldd)>;

// Time spent per stage, summed over threads (seconds of thread time). layer[i] is the time inside
// Linear layer i (layers() order): its input quantization when the previous layer did not write
// the codes, the GEMM and its epilogue (for a DCN W layer run in int8, the cross too). The layers
// of the bottom MLP are part of `bottom`, the cross net's of `interaction`, the top MLP's of `top`.
struct stage_times {
    double read = 0, bottom = 0, embbag = 0, interaction = 0, top = 0;
    std::vector<double> layer;
};

class executor {
public:
    // bag_sizes: ids per sample of each table in the data to be scored (criteo_dataset::bag_size);
    // empty = the model's own multi-hot sizes.
    static result<std::unique_ptr<executor>> create(const model& m, const kernels::kernel_table& k,
                                                    const executor_options& o,
                                                    const std::vector<int32_t>& bag_sizes = {});
    ~executor();

    // preds[i] = P(click) of row r0 + i, for r0 ≤ row < r1. progress(rows_done) is called from one
    // thread now and then. The first error (lowest row) is returned; rows after it are not scored.
    status run(const criteo_dataset& ds, int64_t r0, int64_t r1, float* preds,
               const std::function<void(int64_t)>& progress = {}, stage_times* times = nullptr);

    // Observation hook for calibration (empty = none); set before run().
    void set_hook(linear_hook h) { hook_ = std::move(h); }
    const std::vector<layer_desc>& layers() const { return layers_; }

    int threads() const { return threads_; }
    int64_t batch() const { return sub_batch_ * threads_; }
    int64_t sub_batch() const { return sub_batch_; }
    precision prec() const { return prec_; }

private:
    enum class gemm_kind : uint8_t { f32, bf16, u8s8 };
    struct packed_linear {
        std::string name;
        size_t index = 0;  // into layers_
        int64_t in = 0, out = 0;
        gemm_kind kind = gemm_kind::f32;
        aligned_buffer<uint8_t> w;
        const float* bias = nullptr;
        // u8s8 and simulate: the input's quantization
        act_qparams act;
        bool fake_quant = false;  // simulate int8: quantize → dequantize the input
        bool round_bf16 = false;  // simulate bf16: round the input to bf16
        const float* w_scale = nullptr;
        aligned_buffer<int32_t> comp;  // src_zp · Σ_k w[n][k]
    };
    struct scratch;

    executor() = default;
    status pack(const linear_view& v, bool relu, packed_linear& p);
    // One Linear's input: fp32 rows, or (int8 layers) rows already quantized with its qparams.
    struct lin_in {
        const float* f32 = nullptr; int64_t ld = 0;
        const uint8_t* u8 = nullptr; int64_t ldq = 0;
    };
    // Its outputs: fp32 and/or (int8 layers) u8 quantized with q, the next int8 layer's qparams;
    // with x0 (int8 layers) the DCN cross x0 ⊙ v + xl is applied first.
    struct lin_out {
        float* f32 = nullptr; int64_t ld = 0;
        uint8_t* u8 = nullptr; int64_t ldq = 0; act_qparams q;
        const float* x0 = nullptr; const float* xl = nullptr; int64_t ldx = 0;
    };
    void linear(const packed_linear& l, int64_t m, const lin_in& in, const lin_out& out, kernels::epilogue epi,
                scratch& s) const;
    // Where int8 activations go between layers within one sub-batch: two u8 buffers used in turn.
    struct u8_chain {
        bool on;         // off with a hook (calibration needs every layer's fp32 input and output)
        uint8_t* buf[2];
        int next = 0;    // the buffer the next chained output goes to
        // a writes b's u8 input straight from its epilogue (the codes a quantize pass would give).
        bool between(const packed_linear& a, const packed_linear* b) const;
    };
    // An MLP: ReLU after every layer, and after the last too when relu_last; the last layer writes
    // `last`, the others their u8 chain or act_a / act_b in turn. Returns the last layer's output.
    lin_in mlp(const std::vector<packed_linear>& layers, int64_t m, lin_in in, const lin_out& last, bool relu_last,
               u8_chain& chain, scratch& s) const;
    status run_chunk(const criteo_dataset& ds, int64_t row, int64_t m, float* out, scratch& s, stage_times& t) const;

    const model* model_ = nullptr;
    const kernels::kernel_table* k_ = nullptr;
    precision prec_ = precision::fp32;
    int threads_ = 1;
    int64_t sub_batch_ = 512;
    std::vector<int32_t> bag_sizes_;
    std::vector<packed_linear> bottom_, top_, dcn_v_, dcn_w_;
    std::vector<std::unique_ptr<scratch>> scratch_;
    std::vector<layer_desc> layers_;
    linear_hook hook_;
};

}  // namespace dlrm

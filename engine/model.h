// A model ready to run: its architecture and views of its tensors inside the mmapped .dlrm file.
//
// Opening binds every tensor the architecture needs by name (model_config.h) and checks its dtype and
// shape; a missing or misshapen tensor is an error that names it and the expected shape. Nothing is
// copied: weights stay in the page cache (packing for a kernel table happens in the executor).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model_config.h"
#include "engine/quant/plan.h"
#include "engine/status.h"
#include "formats/weights/weights_file.h"

namespace dlrm {

// One Linear layer y = x·Wᵀ + b, W is (out, in) as in PyTorch, stored in the plan's dtype.
struct linear_view {
    std::string name;        // "bottom.0", "top.4", "dcn.1.V", ...
    int64_t in = 0, out = 0;
    qtype type = qtype::fp32;
    const float* weight = nullptr;    // out × in, fp32 layers only
    const void* weight_raw = nullptr; // out × in in `type`: float, bf16/f16 bits (uint16) or int8
    const float* w_scale = nullptr;   // int8: [out], real weight = w_scale[n] · q
    act_qparams act;                  // int8: the input's u8 quantization
    const float* bias = nullptr;      // out, or null (the DCN V projection has none)
};

struct table_view {
    std::string name;  // "emb.7"
    int64_t rows = 0;
    kernels::row_type type = kernels::row_type::f32;
    const uint8_t* data = nullptr;  // rows × row_bytes(type, dim)
};

struct dcn_layer_view {
    linear_view v;  // width → rank, no bias
    linear_view w;  // rank → width, with bias
};

// A tensor held in memory (calibration builds candidate models without writing them to disk).
struct memory_tensor {
    std::string name;
    dtype type = dtype::f32;
    std::vector<int64_t> shape;
    const uint8_t* data = nullptr;                     // into `owned`, or into memory the caller keeps alive
    std::shared_ptr<const std::vector<uint8_t>> owned;  // may be null
};

class model {
public:
    static result<model> open(const std::string& path,
                              verify_on_open verify = verify_on_open::small_tensors);
    // A model over in-memory tensors; metadata as a file's "model" object (architecture, quantization).
    // `label` names it in messages.
    static result<model> from_memory(const std::string& label, const nlohmann::json& metadata,
                                     std::vector<memory_tensor> tensors);

    const std::string& path() const { return label_; }
    const nlohmann::json& metadata() const { return metadata_; }
    // The stored plan, or null for a plain fp32 / bf16 model without one.
    const quant_plan* plan() const { return plan_.empty() ? nullptr : &plan_; }

    const model_config& config() const { return config_; }
    const weights_file& file() const { return file_; }  // empty for from_memory models
    const std::vector<linear_view>& bottom() const { return bottom_; }
    const std::vector<linear_view>& top() const { return top_; }
    const std::vector<dcn_layer_view>& dcn() const { return dcn_; }
    const std::vector<table_view>& tables() const { return tables_; }
    std::vector<int64_t> table_rows() const;

private:
    struct found {
        dtype type;
        const std::vector<int64_t>* shape;
        const uint8_t* data;
    };
    status init(const nlohmann::json& meta);
    status bind();
    result<found> lookup(const std::string& name) const;
    model_config config_;
    weights_file file_;
    std::string label_;
    nlohmann::json metadata_;
    std::vector<memory_tensor> memory_;
    bool in_memory_ = false;
    quant_plan plan_;
    std::vector<linear_view> bottom_, top_;
    std::vector<dcn_layer_view> dcn_;
    std::vector<table_view> tables_;
};

// The architecture as it is stored in a .dlrm file's metadata ("architecture" object).
nlohmann::json config_to_json(const model_config& c);
result<model_config> config_from_json(const nlohmann::json& j);

// The tensors a model of this architecture has, with dtype and shape, in file order
// (dense layers first, then tables). One source of truth for writers (synth, import) and the binder.
struct tensor_spec {
    std::string name;
    dtype type;
    std::vector<int64_t> shape;
};
std::vector<tensor_spec> tensor_specs(const model_config& c);
// The same under a quantization plan: X.weight in the layer's dtype (f32 | bf16 | f16 | i8), plus
// X.weight_scale f32 [out] for int8 layers; biases stay f32; tables as the architecture says.
std::vector<tensor_spec> tensor_specs(const model_config& c, const quant_plan& p);
dtype linear_weight_dtype(qtype t);
dtype table_dtype(kernels::row_type t);

}  // namespace dlrm

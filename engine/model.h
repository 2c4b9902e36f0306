// A model ready to run: its architecture and views of its tensors inside the mmapped .dlrm file.
//
// Opening binds every tensor the architecture needs by name (model_config.h) and checks its dtype and
// shape; a missing or misshapen tensor is an error that names it and the expected shape. Nothing is
// copied: weights stay in the page cache (packing for a kernel table happens in the executor).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model_config.h"
#include "engine/status.h"
#include "formats/weights/weights_file.h"

namespace dlrm {

// One Linear layer y = x·Wᵀ + b, W is (out, in) fp32 as in PyTorch.
struct linear_view {
    std::string name;        // "bottom.0", "top.4", "dcn.1.V", ...
    int64_t in = 0, out = 0;
    const float* weight = nullptr;  // out × in
    const float* bias = nullptr;    // out, or null (the DCN V projection has none)
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

class model {
public:
    static result<model> open(const std::string& path,
                              verify_on_open verify = verify_on_open::small_tensors);

    const model_config& config() const { return config_; }
    const weights_file& file() const { return file_; }
    const std::vector<linear_view>& bottom() const { return bottom_; }
    const std::vector<linear_view>& top() const { return top_; }
    const std::vector<dcn_layer_view>& dcn() const { return dcn_; }
    const std::vector<table_view>& tables() const { return tables_; }
    std::vector<int64_t> table_rows() const;

private:
    status bind();
    model_config config_;
    weights_file file_;
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
dtype table_dtype(kernels::row_type t);

}  // namespace dlrm

// Builds a quantized model from an fp32 one under a plan: per-channel int8 weights, bf16 / fp16
// weights, row-wise tables; the metadata (architecture with the tables' new row types, plan,
// activation ranges, calibration provenance). Used by calibrate (in memory for every trial, then on
// disk) and requantize. Nothing here observes data: the plan's activation ranges come in with it.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model.h"
#include "engine/quant/plan.h"
#include "kernels/dispatch.h"

namespace dlrm {

// Symmetric per output channel: scale[n] = max_k |w[n][k]| / 127 (1 for an all-zero row),
// q[n][k] = clamp(nearbyint(w[n][k] / scale[n]), −127, 127). −128 is never used, so the VNNI u8·s8
// pair sums cannot saturate and the range is symmetric.
void quantize_weights_per_channel(const float* w, int64_t out, int64_t in, int8_t* q, float* scale);

// Signal-to-quantization-noise ratio 10·log10(Σ x² / Σ (x − x̂)²) in dB; +inf when exact.
double sqnr_db(double signal, double noise);

// Quantized tables are kept between calls (calibrate's fallback trials change one entry at a time).
class tensor_builder {
public:
    // src must be an fp32 model (no stored plan whose Linear layers are not fp32); tables may be stored
    // in any row type, and a non-f32 table can only keep its type (checked in check_plan).
    tensor_builder(const model& src, const kernels::kernel_table& k) : src_(src), k_(k) {}
    status check_plan(const quant_plan& p) const;
    // The tensors of the quantized model, in tensor_specs(config, plan) order; f32 tensors point into src.
    result<std::vector<memory_tensor>> build(const quant_plan& p);
    // The quantized model's metadata: src's, with the architecture's table types set by the plan and
    // "quantization" = plan_to_json(p).
    nlohmann::json metadata(const quant_plan& p) const;
    model_config config(const quant_plan& p) const;
    // SQNR (dB) of each quantized table's rows against fp32, filled by build() (sampled rows, see .cpp).
    const std::map<std::string, double>& table_sqnr() const { return table_sqnr_; }

private:
    const model& src_;
    const kernels::kernel_table& k_;
    std::map<std::pair<size_t, qtype>, std::shared_ptr<const std::vector<uint8_t>>> tables_;
    std::map<std::pair<std::string, qtype>, std::pair<std::shared_ptr<const std::vector<uint8_t>>,
                                                      std::shared_ptr<const std::vector<uint8_t>>>> linears_;
    std::map<std::string, double> table_sqnr_;
};

// Writes tensors + metadata to path atomically (nothing appears unless everything was written).
status write_model(const std::string& path, const std::vector<memory_tensor>& tensors, const nlohmann::json& metadata);

}  // namespace dlrm

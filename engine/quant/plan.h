// The quantization plan of a model: which dtype each Linear layer and each table runs in, and the
// activation ranges (u8 scale / zero point) of every int8 Linear input. Stored in a quantized .dlrm's
// metadata under "quantization" (engine/quant/README.md has the format).
//
// Names are the ones `dlrm info MODEL` prints without the tensor suffix: bottom.{i}, dcn.{l}.V,
// dcn.{l}.W, top.{i} for Linear layers, emb.{t} for tables.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/model_config.h"
#include "engine/status.h"

namespace dlrm {

// What a layer or table is stored and run in.
//   Linear: fp32 | bf16 | fp16 (weights stored in that type, bf16 runs the bf16 GEMM, fp16 is widened
//           to fp32 at load) | int8 (s8 weights per output channel × u8 inputs per tensor).
//   Table:  fp32 | bf16 | fp16 | int8 (FBGEMM i8rw rows) | uint4 (FBGEMM u4rw rows).
enum class qtype : uint8_t { fp32, bf16, fp16, int8, uint4 };
const char* qtype_name(qtype t);
result<qtype> parse_qtype(const std::string& s);  // error lists the valid names

// u8 activation quantization: q = clamp(nearbyint(x · (1/scale)) + zero_point, 0, 255) (kernels/api.h),
// x̂ = scale · (q − zero_point).
struct act_qparams {
    float scale = 1.0f;
    int32_t zero_point = 0;
};
// The affine u8 parameters covering [lo, hi] (widened to include 0, so 0 is exact and post-ReLU
// inputs get zero point 0). An all-zero range gets scale 1.
act_qparams qparams_for_range(float lo, float hi);

struct quant_plan {
    std::map<std::string, qtype> layers;       // every Linear and every table of the model
    std::map<std::string, act_qparams> acts;   // every int8 Linear
    nlohmann::json calibration = nlohmann::json::object();  // provenance (rows, method, date, source, ...)
    bool empty() const { return layers.empty(); }
};

// The names a model of this architecture has, in execution order.
std::vector<std::string> linear_names(const model_config& c);
std::vector<std::string> table_names(const model_config& c);
bool is_table_name(const std::string& name);

// The default plan (README.md "Default plan"): every Linear int8; a table uint4 unless it is tiny
// (fp32 bytes ≤ k_tiny_table_bytes) or uint4 rows would not be smaller (dim 1): then fp32.
inline constexpr int64_t k_tiny_table_bytes = 64 << 10;
quant_plan default_plan(const model_config& c);

// Applies a user plan file's JSON object {"name": "dtype", ...} (an optional {"plan": {...}} wrapper
// is accepted, so a quantized model's metadata "quantization" object works as a plan too). Unknown
// names, dtypes that do not fit the kind (uint4 on a Linear) and non-string values are errors naming
// the file, the name and the valid choices.
status apply_plan_overrides(const model_config& c, const nlohmann::json& j, const std::string& file, quant_plan& p);

// Row type of a table under a plan entry.
kernels::row_type table_row_type(qtype t);

// Metadata: {"plan": {...}, "activations": {name: {"scale", "zero_point"}}, "calibration": {...}}.
nlohmann::json plan_to_json(const quant_plan& p);
// Validates against the architecture: every name known, every Linear and table present, every int8
// Linear has finite positive scale and zero point in [0, 255]. `where` prefixes messages.
result<quant_plan> plan_from_json(const model_config& c, const nlohmann::json& j, const std::string& where);

}  // namespace dlrm

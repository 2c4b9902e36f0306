// The JSON metadata block of a .dlrm file (dlrm_format.md, "Metadata"): the tensor table and the
// caller's "model" object. Decoding validates everything about the table that can be checked
// without reading tensor data.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/status.h"
#include "formats/weights/weights_file.h"

namespace dlrm {

inline constexpr uint64_t k_weights_max_metadata = uint64_t(64) << 20;  // bytes
inline constexpr int k_weights_max_json_depth = 64;

// True if s serialises as a JSON string (valid UTF-8).
bool metadata_string_ok(const std::string& s);

// Compact UTF-8 JSON; fails on invalid UTF-8 in the model object or a block over the size limit.
result<std::string> encode_metadata(const std::vector<tensor_info>& tensors, const nlohmann::json& model);

struct decoded_metadata {
    std::vector<tensor_info> tensors;
    nlohmann::json model;
};

// Parses and validates the block. Tensors must lie in [64, metadata_offset): after the header and
// before the metadata (which ends the file). `path` names the file in messages.
result<decoded_metadata> decode_metadata(const char* text, size_t bytes, uint64_t metadata_offset,
                                         const std::string& path);

}  // namespace dlrm

// The .dlrm weight file (DESIGN.md decision 4; spec: formats/weights/dlrm_format.md).
// A 64-byte header, tensors (64-byte aligned, ≥ 16 MiB ones 2 MiB aligned for huge pages), then a
// JSON metadata block with the tensor table and the caller's model description. Tensors are read
// in place through an mmap: opening is zero-copy, and validates every offset and size first.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/status.h"
#include "formats/mapped_file.h"
#include "formats/weights/xxhash64.h"

namespace dlrm {

// Element types of tensors. The JSON name is what the file stores; a name, once given a meaning,
// is never reused for another layout (the enum values are not stored and may be reordered).
enum class dtype : uint8_t {
    f32,   // IEEE binary32
    f16,   // IEEE binary16
    bf16,  // bfloat16
    i8,
    u8,
    i32,
    i64,
    u4rw,  // row-wise 4-bit table, shape [rows, dim]: FBGEMM layout, row_bytes(u4rw, dim) per row
    i8rw,  // row-wise 8-bit table, shape [rows, dim]: FBGEMM layout, row_bytes(i8rw, dim) per row
};

const char* dtype_name(dtype t);                   // "f32", …, "u4rw", "i8rw"
result<dtype> parse_dtype(const std::string& name);

// Bytes of a tensor of this type and shape, or an error on a negative dimension, a row type whose
// shape is not [rows, dim], or a size that overflows 64 bits.
result<uint64_t> tensor_bytes(dtype t, const std::vector<int64_t>& shape);

struct tensor_info {
    std::string name;
    dtype type = dtype::f32;
    std::vector<int64_t> shape;
    uint64_t offset = 0;  // from the start of the file
    uint64_t bytes = 0;
    uint64_t xxh64 = 0;   // XXH64, seed 0, of the tensor's bytes
};

// Format constants (the spec explains each).
inline constexpr char k_weights_magic[8] = {'D', 'L', 'R', 'M', 'W', 'G', 'T', '\0'};
inline constexpr uint32_t k_weights_endian_marker = 0x01020304u;
inline constexpr uint32_t k_weights_version = 1;
inline constexpr uint64_t k_weights_header_bytes = 64;
inline constexpr uint64_t k_weights_align = 64;
inline constexpr uint64_t k_weights_large_tensor = uint64_t(16) << 20;  // ≥ this: 2 MiB alignment
inline constexpr uint64_t k_weights_large_align = uint64_t(2) << 20;
inline constexpr int k_weights_max_rank = 8;

// Alignment the format requires of a tensor of `bytes` bytes.
constexpr uint64_t tensor_alignment(uint64_t bytes) {
    return bytes >= k_weights_large_tensor ? k_weights_large_align : k_weights_align;
}

// Writes a .dlrm file. Tensors stream to "<path>.tmp-<pid>" one after another (each is hashed as it
// is written); finish() appends the metadata, writes the header and renames the file into place.
// A writer destroyed without a successful finish() leaves no file. After any error the writer
// refuses further calls (the partial file could not be finished correctly).
class weights_writer {
public:
    static result<weights_writer> create(const std::string& path);

    // Whole tensor in one call: begin_tensor + write + end_tensor.
    status add_tensor(const std::string& name, dtype t, std::vector<int64_t> shape, const void* data,
                      size_t bytes);

    // Streaming: the shape fixes the byte count up front (so the alignment is known); write() may be
    // called any number of times; end_tensor() checks that exactly that many bytes arrived.
    status begin_tensor(const std::string& name, dtype t, std::vector<int64_t> shape);
    status write(const void* p, size_t n);
    status end_tensor();

    // model_metadata must be a JSON object (architecture, precisions, quantization, provenance);
    // it is stored as "model" and returned unchanged by weights_file::model().
    status finish(const nlohmann::json& model_metadata);

    const std::string& path() const { return out_.path(); }

private:
    status fail(status s);  // marks the writer unusable and passes s through
    status check_usable(const char* what) const;

    atomic_output out_;
    std::vector<tensor_info> tensors_;
    std::unordered_set<std::string> names_;
    bool open_tensor_ = false;
    uint64_t written_ = 0;  // bytes of the open tensor so far
    xxh64_state hash_;
    bool failed_ = false;
    bool finished_ = false;
};

// How much tensor data open() checksums. Structure, header and metadata checksums are always checked.
enum class verify_on_open {
    small_tensors,  // every tensor < 64 MiB; and every tensor if the whole file is ≤ 1 GiB
    all,            // every tensor (reads the whole file)
    none,           // no tensor data is read; call verify_all() later
};
inline constexpr uint64_t k_verify_small_tensor = uint64_t(64) << 20;
inline constexpr uint64_t k_verify_small_file = uint64_t(1) << 30;

class weights_file {
public:
    // Maps the file and validates it completely before returning (see the spec, "Reading").
    static result<weights_file> open(const std::string& path, verify_on_open v = verify_on_open::small_tensors);

    const nlohmann::json& model() const { return model_; }
    const std::vector<tensor_info>& tensors() const { return tensors_; }  // in file-table order
    const tensor_info* find(const std::string& name) const;              // null if absent
    const uint8_t* data(const tensor_info& t) const { return map_.data() + t.offset; }
    uint64_t file_bytes() const { return map_.size(); }
    const std::string& path() const { return map_.path(); }

    // Checksums every tensor (OpenMP across tensors, largest first) and reports the first mismatch in
    // table order. progress, if given, is called serialized (never concurrently, from any thread)
    // after every chunk of up to 64 MiB, with bytes done so far and the total; it must not throw.
    status verify_all(std::function<void(uint64_t done_bytes, uint64_t total_bytes)> progress = {}) const;

private:
    status verify(const std::vector<size_t>& which,
                  const std::function<void(uint64_t, uint64_t)>& progress) const;

    mapped_file map_;
    nlohmann::json model_;
    std::vector<tensor_info> tensors_;
    std::unordered_map<std::string, size_t> by_name_;
};

}  // namespace dlrm

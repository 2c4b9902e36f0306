// torch.save checkpoints (PyTorch ≥ 1.6 zip archives): the file is mapped once, `data.pkl` is run
// through the safe pickle reader, and every tensor of the state_dict becomes a view of its storage
// record inside the mapped archive (never copied). Spec: formats/torch/torch_checkpoint.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/status.h"
#include "formats/mapped_file.h"
#include "formats/torch/pickle_reader.h"
#include "formats/zip/zip_reader.h"

namespace dlrm {

// A tensor as torch stores it: a strided view (sizes, strides, offset in elements) of a storage
// record. Every element the view can reach lies inside the record (checked when the view is made).
struct torch_tensor {
    torch_dtype type = torch_dtype::f32;
    std::vector<int64_t> size, stride;
    int64_t offset = 0;                // elements from the start of the storage
    const uint8_t* storage = nullptr;  // the storage record's first byte, inside the mapped archive
    std::string storage_key;

    int64_t numel() const;
    bool contiguous() const;  // C order, so data() .. data() + bytes() is the whole tensor
    uint64_t bytes() const { return uint64_t(numel()) * torch_dtype_size(type); }
    const uint8_t* data() const { return storage + uint64_t(offset) * torch_dtype_size(type); }
};

// Builds the view and checks it against its storage of storage_elems elements: non-negative sizes
// and strides, rank ≤ 8, no overflow, and offset + Σ (size_i − 1)·stride_i < storage_elems.
// `what` names the tensor in messages.
result<torch_tensor> make_torch_tensor(torch_dtype t, std::vector<int64_t> size, std::vector<int64_t> stride,
                                       int64_t offset, const uint8_t* storage, uint64_t storage_elems,
                                       const std::string& what);

// Streams the tensor's elements in C order, converted to `out` (the same type: a copy; f16 / bf16 /
// f64 → f32: a conversion; anything else: an error naming the tensor), to sink in pieces of whole
// elements. A contiguous tensor of the same type is handed over straight from the mapped archive, in
// pieces of at most 64 MiB; anything else goes through a 4 MiB buffer. sink's error stops the stream.
status stream_torch_tensor(const torch_tensor& t, torch_dtype out, const std::string& what,
                           const std::function<status(const void* p, size_t bytes)>& sink);

// The whole tensor as fp32 (small dense tensors).
result<std::vector<float>> torch_tensor_to_f32(const torch_tensor& t, const std::string& what);

class torch_checkpoint {
public:
    // Maps the file and reads it completely: archive directory, byteorder, data.pkl; finds the
    // state_dict (the root dict, or a dict under "state_dict", "model", "model_state_dict", "module"
    // or "state") and makes a view of every tensor in it. Refuses the pre-1.6 format, compressed
    // storages, big-endian archives and any pickle global outside the allowed list.
    static result<torch_checkpoint> open(const std::string& path);

    const std::string& path() const { return map_.path(); }
    const mapped_file& file() const { return map_; }
    const std::string& archive_prefix() const { return prefix_; }     // "archive" in "archive/data.pkl"
    const std::string& state_dict_key() const { return sd_key_; }     // "" when the root is the state_dict
    const std::string& format_version() const { return version_; }   // the "version" record, trimmed
    const std::vector<std::string>& top_level_keys() const { return top_keys_; }
    // The state_dict's tensors in pickle order (names as saved).
    const std::vector<std::pair<std::string, torch_tensor>>& tensors() const { return tensors_; }
    // Non-tensor entries of the state_dict, if any (ignored by import; reported for clarity).
    const std::vector<std::string>& other_entries() const { return others_; }

private:
    mapped_file map_;
    std::string prefix_, sd_key_, version_;
    std::vector<std::string> top_keys_, others_;
    std::vector<std::pair<std::string, torch_tensor>> tensors_;
};

// True if these bytes begin like a pre-1.6 torch.save file (a protocol-2 pickle of the legacy magic
// number 0x1950a86a20f9469cfc6c).
bool is_legacy_torch_file(const uint8_t* p, size_t n);

}  // namespace dlrm

// A safe reader for the pickles inside torch.save archives (`data.pkl`): a small stack machine that
// knows the opcodes a state_dict uses and builds inert values. It never calls anything: a GLOBAL is
// accepted only if it names one of the tensor and container types below (the same line PyTorch's
// `torch.load(weights_only=True)` takes), and REDUCE / BUILD / BINPERSID are interpreted for those
// types alone. Any other global is refused with its name. Spec: formats/torch/torch_checkpoint.md.
//
// Values live in one arena and refer to each other by index, so a hostile pickle that builds a cycle
// (a list appended to itself through the memo) cannot cause a leak or a recursive destruction;
// code that walks the values must bound its depth (k_pickle_max_depth).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"

namespace dlrm {

// Element types of torch storages (torch.FloatStorage, ...).
enum class torch_dtype : uint8_t { f32, f16, bf16, f64, i64, i32, i16, i8, u8, boolean };
const char* torch_dtype_name(torch_dtype t);  // "float32", "float16", ...
size_t torch_dtype_size(torch_dtype t);

enum class pickle_kind : uint8_t {
    none,
    boolean,   // i
    integer,   // i
    floating,  // f
    string,    // s (UTF-8 as stored)
    bytes,     // s
    tuple,     // items
    list,      // items
    dict,      // items: key, value, key, value, ... (a later equal key wins)
    global,    // s = "module name"; an allowed callable or storage type (callable)
    storage,   // a persistent-id storage reference: s = key, storage_type, i = numel (elements)
    tensor,    // tensor: storage index, offset, size, stride
    opaque,    // an accepted value dlrm has no use for (numpy scalar, numpy dtype, torch.device): s says what
};

// The globals a checkpoint may reference.
enum class pickle_callable : uint8_t {
    none,
    ordered_dict,       // collections.OrderedDict
    rebuild_tensor_v2,  // torch._utils._rebuild_tensor_v2
    rebuild_parameter,  // torch._utils._rebuild_parameter
    storage_type,       // torch.FloatStorage, ... (storage_type says which)
    torch_device,       // torch.device
    torch_size,         // torch.Size
    numpy_scalar,       // numpy.core.multiarray.scalar
    numpy_dtype,        // numpy.dtype
    codecs_encode,      // _codecs.encode
};

struct pickle_tensor {
    uint32_t storage = 0;  // index of a pickle_kind::storage value
    int64_t offset = 0;    // elements
    std::vector<int64_t> size, stride;
};

struct pickle_value {
    pickle_kind kind = pickle_kind::none;
    pickle_callable callable = pickle_callable::none;
    torch_dtype storage_type = torch_dtype::f32;
    int64_t i = 0;
    double f = 0;
    std::string s;
    std::vector<uint32_t> items;
    pickle_tensor tensor;
};

// Limits: far above what any state_dict needs, low enough that a hostile pickle cannot exhaust memory.
inline constexpr size_t k_pickle_max_values = size_t(1) << 21;
inline constexpr size_t k_pickle_max_memo = size_t(1) << 22;
inline constexpr size_t k_pickle_max_rank = 8;
inline constexpr int k_pickle_max_depth = 64;

struct pickle_document {
    std::vector<pickle_value> values;
    uint32_t root = 0;
    const pickle_value& at(uint32_t i) const { return values[i]; }
};

// Runs the safe machine over n bytes. `where` (e.g. "model.pt: data.pkl") starts every message:
//   "model.pt: data.pkl: global 'posix system' is not allowed: a checkpoint may only reference tensor
//    and container types; refusing to load it"
// Every read is bounds-checked; truncated input is an error at the offset where it ends.
result<pickle_document> read_pickle(const uint8_t* p, size_t n, const std::string& where);

// Python-like text of a value for messages, bounded in depth and length.
std::string pickle_repr(const pickle_document& d, uint32_t v, size_t max_chars = 80);

}  // namespace dlrm

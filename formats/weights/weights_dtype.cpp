// dtype names and tensor sizes. The name table is this format's own (the kernels' row_type_name
// belongs to another area); the row layouts come from kernels/api.h so files and kernels agree.
#include <limits>

#include "formats/weights/weights_file.h"
#include "kernels/api.h"

namespace dlrm {

namespace {
struct dtype_entry {
    dtype type;
    const char* name;
    uint64_t element_bytes;  // 0: a row-wise type, sized by kernels::row_bytes
};
// Names are stored in files: never rename one or give a retired name a new layout.
constexpr dtype_entry k_dtypes[] = {
    {dtype::f32, "f32", 4}, {dtype::f16, "f16", 2}, {dtype::bf16, "bf16", 2}, {dtype::i8, "i8", 1},
    {dtype::u8, "u8", 1},   {dtype::i32, "i32", 4}, {dtype::i64, "i64", 8},   {dtype::u4rw, "u4rw", 0},
    {dtype::i8rw, "i8rw", 0},
};

const dtype_entry* entry(dtype t) {
    for (const auto& e : k_dtypes)
        if (e.type == t) return &e;
    return nullptr;
}

// a * b, or false on 64-bit overflow.
bool mul_ok(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_mul_overflow(a, b, out); }
}  // namespace

const char* dtype_name(dtype t) {
    const dtype_entry* e = entry(t);
    return e ? e->name : "invalid";
}

result<dtype> parse_dtype(const std::string& name) {
    for (const auto& e : k_dtypes)
        if (name == e.name) return e.type;
    return status::error("dtype '" + name + "': unknown: expected one of f32, f16, bf16, i8, u8, i32, i64, u4rw, i8rw");
}

result<uint64_t> tensor_bytes(dtype t, const std::vector<int64_t>& shape) {
    const dtype_entry* e = entry(t);
    if (!e) return status::error("dtype " + std::to_string(int(t)) + ": not a dtype");
    if (shape.size() > size_t(k_weights_max_rank)) {
        return status::error("rank " + std::to_string(shape.size()) + ": at most " +
                             std::to_string(k_weights_max_rank) + " dimensions");
    }
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] < 0) {
            return status::error("shape dimension " + std::to_string(i) + " is " + std::to_string(shape[i]) +
                                 ": dimensions must be >= 0");
        }
    }
    if (e->element_bytes == 0) {
        if (shape.size() != 2) {
            return status::error(std::string("dtype ") + e->name + " with rank " + std::to_string(shape.size()) +
                                 ": row-wise types need shape [rows, dim]");
        }
        // row_bytes computes dim + 1 in int64: keep dim far from the top so that cannot overflow;
        // such a row could not fit in a file anyway.
        if (shape[1] > (int64_t(1) << 62)) {
            return status::error("row dimension " + std::to_string(shape[1]) + ": size overflows 64 bits");
        }
        kernels::row_type rt = t == dtype::u4rw ? kernels::row_type::u4rw : kernels::row_type::i8rw;
        uint64_t row = kernels::row_bytes(rt, shape[1]);
        uint64_t total;
        if (!mul_ok(uint64_t(shape[0]), row, &total)) {
            return status::error("shape [" + std::to_string(shape[0]) + ", " + std::to_string(shape[1]) +
                                 "]: size overflows 64 bits");
        }
        return total;
    }
    uint64_t total = e->element_bytes;
    for (int64_t d : shape) {
        if (!mul_ok(total, uint64_t(d), &total)) {
            std::string s = "shape [";
            for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
            return status::error(s + "]: size overflows 64 bits");
        }
    }
    return total;
}

}  // namespace dlrm

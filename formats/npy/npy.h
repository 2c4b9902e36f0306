// .npy arrays: a strict reader over bytes held in memory (usually a mapped file or a stored zip
// member) and a streaming writer. The rules are in formats/npy/npy.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"
#include "formats/mapped_file.h"

namespace dlrm {

// One array, never copied: `data` points into the caller's bytes and stays valid as long as they do.
// Data is C order, little-endian, but NOT necessarily aligned (npz members rarely are): read it with
// memcpy or byte loads.
struct npy_view {
    std::string descr;            // numpy type string as written, e.g. "<f4", "|u1", "|b1"
    std::vector<int64_t> shape;   // () for a scalar
    const uint8_t* data = nullptr;
    size_t bytes = 0;             // == elements() * itemsize
    size_t data_offset = 0;       // where the data starts, counted from the start of the .npy bytes
    int64_t itemsize = 0;

    int64_t elements() const;     // product of shape (1 for a scalar)
    std::string shape_text() const;  // "(3, 13)", "(7,)", "()": as numpy prints it
};

// Bytes per element for the descrs we accept ('<' for multi-byte types, '|' for one-byte types:
// b1 i1 u1 i2 u2 i4 u4 i8 u8 f2 f4 f8). Big-endian, native ('='), structured, string and object
// dtypes are refused with a message; `name` prefixes it.
result<int64_t> npy_itemsize(const std::string& descr, const std::string& name);

// Parses a whole .npy held in [p, p + size). `name` is used in every message, e.g. "day_0_dense.npy"
// or "day_0_sparse_multi_hot.npz member 3.npy". The bytes must end exactly where the data ends.
result<npy_view> parse_npy(const uint8_t* p, size_t size, const std::string& name);

// A mapped .npy file with its parsed view.
struct npy_file {
    mapped_file file;
    npy_view view;
    static result<npy_file> open(const std::string& path);
};

// The header numpy would write (magic, version, dict, space padding, '\n') for an array whose
// header starts at file offset `base_offset`: padded so that the data begins at a multiple of 64
// counted from the start of the file (numpy pads the same way for a standalone file, base 0).
// Uses version 1.0 while the header fits a 16-bit length, else 2.0.
std::string npy_header(const std::string& descr, const std::vector<int64_t>& shape, uint64_t base_offset = 0);

// Bytes of data an array of this descr and shape holds, or an error if the descr is unknown,
// a dimension is negative or the product overflows.
result<uint64_t> npy_data_bytes(const std::string& descr, const std::vector<int64_t>& shape,
                                const std::string& name);

// Streams one array to disk without holding it in memory: create → write(...) as often as needed
// → commit(). The file appears under its name only after commit(), which fails unless exactly the
// bytes the shape needs were written.
class npy_writer {
public:
    static result<npy_writer> create(const std::string& path, const std::string& descr,
                                     const std::vector<int64_t>& shape);
    status write(const void* p, size_t n);
    status commit();
    uint64_t expected_bytes() const { return expected_; }
    uint64_t written_bytes() const { return written_; }

private:
    atomic_output out_;
    uint64_t expected_ = 0;
    uint64_t written_ = 0;
};

// One-shot: writes a whole array held in memory (bytes = product(shape) * itemsize).
status write_npy(const std::string& path, const std::string& descr, const std::vector<int64_t>& shape,
                 const void* data);

}  // namespace dlrm

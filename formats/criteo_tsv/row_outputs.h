// The two ways `dlrm convert` writes arrays whose row count is known only at the end.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"
#include "formats/mapped_file.h"
#include "formats/zip/npz.h"

namespace dlrm {

// A .npy of shape (rows, cols) streamed straight into its final (temporary) file: the header space is
// reserved for the widest row count and patched with the real one by finish(); the padding inside
// the header absorbs the difference, so the data never moves.
class npy_rows_writer {
public:
    static result<npy_rows_writer> create(const std::string& path, const std::string& descr, int64_t cols);
    status append(const void* p, int64_t rows);  // rows · cols · itemsize bytes, C order
    status finish();                             // writes the final header
    status commit() { return out_.commit(); }
    int64_t rows() const { return rows_; }
    const std::string& path() const { return out_.path(); }

private:
    atomic_output out_;
    std::string descr_;
    int64_t cols_ = 0;
    int64_t itemsize_ = 0;
    int64_t rows_ = 0;
    size_t header_bytes_ = 0;
};

// The header of a (rows, cols) array grown with spaces to exactly `bytes` (numpy reads any padding);
// an error if it needs more.
result<std::string> npy_header_of_size(const std::string& descr, const std::vector<int64_t>& shape, size_t bytes);

// Row-major int32 rows in, one column at a time out: rows are transposed into column blocks of
// `block_rows` and spilled to an unlinked scratch file in `dir` (it vanishes when closed, even after a
// crash), so an npz of per-column members can be written after the last row without holding the day.
class column_spill {
public:
    column_spill() = default;
    column_spill(const column_spill&) = delete;
    column_spill& operator=(const column_spill&) = delete;
    column_spill(column_spill&& o) noexcept;
    column_spill& operator=(column_spill&& o) noexcept;
    ~column_spill();

    static result<column_spill> create(const std::string& dir, int cols, int64_t block_rows);
    status append(const int32_t* rows_major, int64_t rows);
    // Flushes the last block, then writes member "<c>.npy" (rows, 1) <i4 for every column c.
    status write_npz(npz_writer& npz);
    int64_t rows() const { return rows_; }

private:
    status flush();
    int fd_ = -1;
    std::string dir_;
    int cols_ = 0;
    int64_t block_rows_ = 0;
    int64_t rows_ = 0;
    std::vector<int32_t> block_;      // cols × block_rows, column-major; filled_ rows used
    int64_t filled_ = 0;
    std::vector<int64_t> block_sizes_;  // rows of each spilled block, in order
    uint64_t spilled_bytes_ = 0;
};

}  // namespace dlrm

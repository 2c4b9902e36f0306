// One input file of `dlrm convert`, read sequentially as plain bytes or, when it starts with the gzip
// magic 1f 8b, decompressed on the fly (zlib; concatenated gzip members are read as one stream).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/status.h"

namespace dlrm {

class input_stream {
public:
    input_stream() = default;
    input_stream(const input_stream&) = delete;
    input_stream& operator=(const input_stream&) = delete;
    input_stream(input_stream&& o) noexcept;
    input_stream& operator=(input_stream&& o) noexcept;
    ~input_stream();

    static result<input_stream> open(const std::string& path);

    // Reads up to n bytes (fewer only at the end); 0 means the end of the data. A truncated or
    // corrupt gzip stream is an error naming the file.
    result<size_t> read(char* dst, size_t n);

    bool gzip() const { return gz_ != nullptr; }
    const std::string& path() const { return path_; }
    uint64_t file_bytes() const { return file_bytes_; }  // size on disk
    uint64_t file_position() const;                      // bytes of the file consumed so far (compressed for gzip)

private:
    void close();
    int fd_ = -1;
    void* gz_ = nullptr;  // gzFile, kept opaque so zlib.h stays out of this header
    std::string path_;
    uint64_t file_bytes_ = 0;
    uint64_t plain_pos_ = 0;
};

}  // namespace dlrm

// Reads the directory of a zip archive held in memory (a mapped .npz or torch.save file) so its
// stored members can be used in place. Rules: formats/zip/zip.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"

namespace dlrm {

struct zip_member {
    std::string name;
    uint16_t method = 0;            // 0 = stored, 8 = deflate, ...
    uint16_t flags = 0;             // general purpose bits of the central directory entry
    uint32_t crc32 = 0;             // from the central directory
    uint64_t compressed_size = 0;   // bytes of data in the archive
    uint64_t uncompressed_size = 0;
    uint64_t local_header_offset = 0;
    uint64_t data_offset = 0;       // first data byte, after the LOCAL header's name and extra field
    const uint8_t* data = nullptr;  // archive bytes + data_offset; compressed_size bytes, any alignment
};

// Human name of a compression method: "deflate", "bzip2", ... or "unknown".
const char* zip_method_name(uint16_t method);

class zip_reader {
public:
    // Parses the central directory (and the zip64 end record when the classic fields are
    // saturated) and every member's local header. Every offset and size is checked against the
    // archive before use. `name` (usually the path) starts every message. The bytes must outlive
    // the reader.
    static result<zip_reader> parse(const uint8_t* p, size_t size, std::string name);

    const std::vector<zip_member>& members() const { return members_; }
    const std::string& name() const { return name_; }
    const zip_member* find(const std::string& member) const;

    // The member if it exists and is stored (readable in place), else an error naming the archive,
    // the member and the rule, e.g. "a.npz member 3.npy: compression method 8 (deflate): only
    // stored (uncompressed) members can be memory-mapped; re-save with numpy.savez".
    result<const zip_member*> stored(const std::string& member) const;
    status check_stored(const zip_member& m) const;

    // Recomputes a stored member's CRC-32 over its data (reads all of it: for checks, not hot paths).
    status verify_crc(const zip_member& m) const;

private:
    std::string name_;
    std::vector<zip_member> members_;
};

}  // namespace dlrm

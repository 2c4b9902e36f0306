// Streams a zip archive of STORED members to disk, in the layout of MLPerf's .npz files: a zip64
// extra field on every member (local and central), CRC-32 computed while streaming and patched into
// the local header afterwards, central directory, zip64 end record + locator, end record.
// Readable by Python's zipfile / numpy.load (which check the CRC). Rules: formats/zip/zip.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"
#include "formats/mapped_file.h"

namespace dlrm {

class zip_writer {
public:
    static result<zip_writer> create(const std::string& path);

    // Starts a member whose size is known up front; its bytes follow through write().
    status begin_member(const std::string& name, uint64_t size);
    status write(const void* p, size_t n);
    // Fails unless exactly `size` bytes were written; patches the CRC-32 into the local header.
    status end_member();
    // Writes the directory and end records and renames the file into place.
    status commit();

    // File offset where the data of a member named `name` would start if begun now (callers pad
    // their own headers, e.g. a .npy header, so that data lands on an aligned offset).
    uint64_t next_data_offset(const std::string& name) const;
    const std::string& path() const { return out_.path(); }

private:
    struct entry {
        std::string name;
        uint64_t size = 0;
        uint64_t offset = 0;  // of the local header
        uint32_t crc = 0;
    };
    atomic_output out_;
    std::vector<entry> entries_;
    bool in_member_ = false;
    uint64_t written_ = 0;
    uint32_t crc_ = 0;
};

}  // namespace dlrm

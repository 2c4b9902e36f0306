// The fixed 64-byte header of a .dlrm file (dlrm_format.md, "Header"): encoding and validation.
// Shared by the writer, the reader and the tests that craft damaged files.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/status.h"

namespace dlrm {

struct weights_header {
    uint32_t version = 0;
    uint64_t metadata_offset = 0;
    uint64_t metadata_bytes = 0;
    uint64_t file_bytes = 0;
    uint64_t metadata_xxh64 = 0;
};

// Writes all 64 bytes: magic, endianness marker, the fields, zero reserved bytes, header checksum.
void encode_weights_header(const weights_header& h, uint8_t out[64]);

// Checks magic, endianness, version, reserved bytes and the header checksum, in that order (the
// first 16 bytes are the same in every version, so a newer file is recognised as such before
// anything version-specific is read). `path` names the file in messages.
result<weights_header> decode_weights_header(const uint8_t* p, const std::string& path);

// Little-endian field access, independent of the host's byte order.
inline void put_le32(uint8_t* p, uint32_t v) { for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i)); }
inline void put_le64(uint8_t* p, uint64_t v) { for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i)); }
inline uint32_t get_le32(const uint8_t* p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(p[i]) << (8 * i);
    return v;
}
inline uint64_t get_le64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(p[i]) << (8 * i);
    return v;
}

// "0x" + 16 lowercase hex digits, as messages print checksums.
std::string hex64(uint64_t v);

}  // namespace dlrm

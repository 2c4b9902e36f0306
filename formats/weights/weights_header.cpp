#include "formats/weights/weights_header.h"

#include <cstdio>
#include <cstring>

#include "formats/weights/weights_file.h"
#include "formats/weights/xxhash64.h"

namespace dlrm {

namespace {
// Field offsets (dlrm_format.md, "Header").
constexpr size_t k_off_magic = 0;
constexpr size_t k_off_endian = 8;
constexpr size_t k_off_version = 12;
constexpr size_t k_off_meta_offset = 16;
constexpr size_t k_off_meta_bytes = 24;
constexpr size_t k_off_file_bytes = 32;
constexpr size_t k_off_meta_xxh64 = 40;
constexpr size_t k_off_reserved = 48;
constexpr size_t k_off_header_xxh64 = 56;
static_assert(k_off_header_xxh64 + 8 == k_weights_header_bytes);
}  // namespace

std::string hex64(uint64_t v) {
    char buf[19];
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
    return buf;
}

void encode_weights_header(const weights_header& h, uint8_t out[64]) {
    std::memset(out, 0, k_weights_header_bytes);
    std::memcpy(out + k_off_magic, k_weights_magic, 8);
    put_le32(out + k_off_endian, k_weights_endian_marker);
    put_le32(out + k_off_version, h.version);
    put_le64(out + k_off_meta_offset, h.metadata_offset);
    put_le64(out + k_off_meta_bytes, h.metadata_bytes);
    put_le64(out + k_off_file_bytes, h.file_bytes);
    put_le64(out + k_off_meta_xxh64, h.metadata_xxh64);
    put_le64(out + k_off_header_xxh64, xxh64(out, k_off_header_xxh64));
}

result<weights_header> decode_weights_header(const uint8_t* p, const std::string& path) {
    if (std::memcmp(p + k_off_magic, k_weights_magic, 8) != 0) {
        std::string got;
        for (size_t i = 0; i < 8; ++i) {
            char c = char(p[i]);
            if (c >= 0x20 && c < 0x7f) {
                got += c;
            } else {
                char esc[5];
                std::snprintf(esc, sizeof esc, "\\x%02x", p[i]);
                got += esc;
            }
        }
        return status::error(path + ": magic '" + got + "': expected 'DLRMWGT\\x00': not a .dlrm weight file");
    }
    uint32_t marker = get_le32(p + k_off_endian);
    if (marker == __builtin_bswap32(k_weights_endian_marker)) {
        return status::error(path + ": endianness marker 0x04030201: big-endian file: unsupported "
                                    "(dlrm reads and writes little-endian .dlrm files only)");
    }
    if (marker != k_weights_endian_marker) {
        char buf[11];
        std::snprintf(buf, sizeof buf, "0x%08x", marker);
        return status::error(path + ": endianness marker " + buf + ": expected 0x01020304: the header is corrupt");
    }
    weights_header h;
    h.version = get_le32(p + k_off_version);
    if (h.version > k_weights_version) {
        return status::error(path + ": version " + std::to_string(h.version) + ": this dlrm reads version " +
                             std::to_string(k_weights_version) + "; upgrade dlrm");
    }
    if (h.version == 0) return status::error(path + ": version 0: versions start at 1: the header is corrupt");
    uint64_t recorded = get_le64(p + k_off_header_xxh64);
    uint64_t actual = xxh64(p, k_off_header_xxh64);
    if (recorded != actual) {
        return status::error(path + ": header checksum " + hex64(actual) + " != recorded " + hex64(recorded) +
                             ": the file is corrupt");
    }
    for (size_t i = k_off_reserved; i < k_off_header_xxh64; ++i) {
        if (p[i] != 0) {
            return status::error(path + ": header byte " + std::to_string(i) + " is " + std::to_string(p[i]) +
                                 ": reserved bytes 48..55 must be zero in version 1");
        }
    }
    h.metadata_offset = get_le64(p + k_off_meta_offset);
    h.metadata_bytes = get_le64(p + k_off_meta_bytes);
    h.file_bytes = get_le64(p + k_off_file_bytes);
    h.metadata_xxh64 = get_le64(p + k_off_meta_xxh64);
    return h;
}

}  // namespace dlrm

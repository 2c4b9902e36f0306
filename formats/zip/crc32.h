// CRC-32 (ISO-HDLC, polynomial 0xEDB88320 reflected), the checksum zip stores per member.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dlrm {

// Continues a CRC over n more bytes: crc32_update(0, p, n) is the CRC of [p, p + n), and
// crc32_update(crc32_update(0, a, na), b, nb) is the CRC of a followed by b.
// Slicing-by-16: sixteen table lookups per 16 bytes (16 KiB of tables), a few GB/s on one core.
uint32_t crc32_update(uint32_t crc, const void* p, size_t n);

}  // namespace dlrm

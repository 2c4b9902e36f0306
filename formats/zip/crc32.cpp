#include "formats/zip/crc32.h"

#include <array>
#include <cstring>

namespace dlrm {

namespace {

using crc_tables = std::array<std::array<uint32_t, 256>, 16>;

// t[0] is the classic byte table; t[k][b] is the CRC of byte b followed by k zero bytes, so sixteen
// bytes can be folded with sixteen independent lookups.
constexpr crc_tables make_tables() {
    crc_tables t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
        for (int k = 1; k < 16; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    return t;
}

constexpr crc_tables k_tables = make_tables();

}  // namespace

uint32_t crc32_update(uint32_t crc, const void* data, size_t n) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    uint32_t c = ~crc;
    const auto& t = k_tables;
    // Little-endian words assembled from bytes: right on any host, plain loads on x86/Arm.
    auto word = [](const uint8_t* q) {
        return uint32_t(q[0]) | uint32_t(q[1]) << 8 | uint32_t(q[2]) << 16 | uint32_t(q[3]) << 24;
    };
    while (n >= 16) {
        uint32_t w0 = word(p) ^ c, w1 = word(p + 4), w2 = word(p + 8), w3 = word(p + 12);
        c = t[15][w0 & 0xff] ^ t[14][(w0 >> 8) & 0xff] ^ t[13][(w0 >> 16) & 0xff] ^ t[12][w0 >> 24] ^
            t[11][w1 & 0xff] ^ t[10][(w1 >> 8) & 0xff] ^ t[9][(w1 >> 16) & 0xff] ^ t[8][w1 >> 24] ^
            t[7][w2 & 0xff] ^ t[6][(w2 >> 8) & 0xff] ^ t[5][(w2 >> 16) & 0xff] ^ t[4][w2 >> 24] ^
            t[3][w3 & 0xff] ^ t[2][(w3 >> 8) & 0xff] ^ t[1][(w3 >> 16) & 0xff] ^ t[0][w3 >> 24];
        p += 16;
        n -= 16;
    }
    while (n--) c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

}  // namespace dlrm

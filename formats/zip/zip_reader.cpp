#include "formats/zip/zip_reader.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "formats/zip/crc32.h"

namespace dlrm {

namespace {

constexpr uint32_t k_sig_local = 0x04034b50;
constexpr uint32_t k_sig_central = 0x02014b50;
constexpr uint32_t k_sig_eocd = 0x06054b50;
constexpr uint32_t k_sig_zip64_eocd = 0x06064b50;
constexpr uint32_t k_sig_zip64_locator = 0x07064b50;
constexpr size_t k_eocd_size = 22, k_locator_size = 20, k_zip64_eocd_size = 56;
constexpr size_t k_central_size = 46, k_local_size = 30;
constexpr uint32_t k_sat32 = 0xffffffffu;
constexpr uint16_t k_sat16 = 0xffffu;

uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t rd32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint64_t rd64(const uint8_t* p) { return uint64_t(rd32(p)) | uint64_t(rd32(p + 4)) << 32; }

std::string num(uint64_t v) { return std::to_string(v); }
std::string hex16(uint16_t v) {
    char b[8];
    std::snprintf(b, sizeof b, "%04x", unsigned(v));
    return b;
}

// The zip64 extended-information block (id 0x0001) of an extra field, if any: [begin, end) of its data.
struct extra_block { const uint8_t* data = nullptr; size_t size = 0; bool found = false; };

status find_zip64_extra(const uint8_t* x, size_t n, const std::string& where, extra_block& out) {
    size_t i = 0;
    while (i < n) {
        if (n - i < 4) return status::error(where + ": extra field: " + num(n - i) + " stray bytes at its end: "
                                            "each block needs a 4-byte id and size");
        uint16_t id = rd16(x + i), sz = rd16(x + i + 2);
        if (sz > n - i - 4)
            return status::error(where + ": extra field block 0x" + hex16(id) + " of " + num(sz) + " bytes overruns the extra field (" + num(n - i - 4) + " left)");
        if (id == 0x0001) {
            if (out.found) return status::error(where + ": two zip64 extra blocks");
            out = {x + i + 4, sz, true};
        }
        i += 4 + size_t(sz);
    }
    return {};
}

}  // namespace

const char* zip_method_name(uint16_t method) {
    switch (method) {
        case 0: return "stored";
        case 8: return "deflate";
        case 9: return "deflate64";
        case 12: return "bzip2";
        case 14: return "lzma";
        case 93: return "zstd";
        case 95: return "xz";
        default: return "unknown";
    }
}

result<zip_reader> zip_reader::parse(const uint8_t* p, size_t size, std::string name) {
    zip_reader z;
    z.name_ = std::move(name);
    const std::string& nm = z.name_;
    if (size < k_eocd_size)
        return status::error(nm + ": " + num(size) + " bytes: not a zip archive (shorter than the 22-byte end record)");

    // The end record is the last 22 bytes plus a comment of up to 64 KiB. Search backwards and take
    // the first candidate whose comment length lands exactly on the end of the file, so signature
    // bytes inside a comment cannot fool us.
    size_t eocd = SIZE_MAX;
    size_t lowest = size - k_eocd_size > 65535 ? size - k_eocd_size - 65535 : 0;
    for (size_t i = size - k_eocd_size + 1; i-- > lowest;) {
        if (rd32(p + i) == k_sig_eocd && i + k_eocd_size + rd16(p + i + 20) == size) { eocd = i; break; }
    }
    if (eocd == SIZE_MAX)
        return status::error(nm + ": no zip end-of-central-directory record at the end: not a zip archive, or truncated");

    const uint8_t* e = p + eocd;
    uint64_t disk = rd16(e + 4), cd_disk = rd16(e + 6), entries_disk = rd16(e + 8), entries = rd16(e + 10);
    uint64_t cd_size = rd32(e + 12), cd_offset = rd32(e + 16);
    bool saturated = disk == k_sat16 || cd_disk == k_sat16 || entries_disk == k_sat16 || entries == k_sat16 ||
                     cd_size == k_sat32 || cd_offset == k_sat32;
    size_t cd_limit = eocd;  // the central directory must end before the end records

    if (eocd >= k_locator_size && rd32(p + eocd - k_locator_size) == k_sig_zip64_locator) {
        const uint8_t* l = p + eocd - k_locator_size;
        uint64_t z64_disk = rd32(l + 4), z64_off = rd64(l + 8), total_disks = rd32(l + 16);
        if (z64_disk != 0 || total_disks > 1)
            return status::error(nm + ": zip64 locator names disk " + num(z64_disk) + " of " + num(total_disks) +
                                 ": multi-disk archives are not supported");
        size_t locator = eocd - k_locator_size;
        if (z64_off > locator || locator - z64_off < k_zip64_eocd_size)
            return status::error(nm + ": zip64 end record offset " + num(z64_off) + ": must leave 56 bytes before the locator at " +
                                 num(locator));
        const uint8_t* r = p + z64_off;
        if (rd32(r) != k_sig_zip64_eocd)
            return status::error(nm + ": no zip64 end record at offset " + num(z64_off) + " named by the locator");
        uint64_t rec_size = rd64(r + 4);
        if (rec_size < k_zip64_eocd_size - 12 || rec_size > locator - z64_off - 12)
            return status::error(nm + ": zip64 end record size " + num(rec_size) + ": must be ≥ 44 and end before the locator");
        disk = rd32(r + 16);
        cd_disk = rd32(r + 20);
        entries_disk = rd64(r + 24);
        entries = rd64(r + 32);
        cd_size = rd64(r + 40);
        cd_offset = rd64(r + 48);
        cd_limit = size_t(z64_off);
    } else if (saturated) {
        return status::error(nm + ": end record fields are saturated (0xffff/0xffffffff) but there is no zip64 locator: "
                             "truncated or corrupt zip64 archive");
    }
    if (disk != 0 || cd_disk != 0 || entries_disk != entries)
        return status::error(nm + ": disk " + num(disk) + ", central directory on disk " + num(cd_disk) +
                             ": multi-disk (split) archives are not supported");
    if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset)
        return status::error(nm + ": central directory [" + num(cd_offset) + ", +" + num(cd_size) +
                             ") does not fit before the end record at " + num(cd_limit));
    if (entries > cd_size / k_central_size)
        return status::error(nm + ": " + num(entries) + " entries cannot fit a " + num(cd_size) +
                             "-byte central directory (46 bytes each at least)");

    z.members_.reserve(size_t(entries));
    const uint8_t* cd = p + cd_offset;
    size_t pos = 0;
    for (uint64_t k = 0; k < entries; ++k) {
        std::string where = nm + ": central directory entry " + num(k);
        if (cd_size - pos < k_central_size || rd32(cd + pos) != k_sig_central)
            return status::error(where + " at offset " + num(cd_offset + pos) + ": no central header signature there");
        const uint8_t* c = cd + pos;
        zip_member m;
        m.flags = rd16(c + 8);
        m.method = rd16(c + 10);
        m.crc32 = rd32(c + 16);
        m.compressed_size = rd32(c + 20);
        m.uncompressed_size = rd32(c + 24);
        size_t nlen = rd16(c + 28), xlen = rd16(c + 30), clen = rd16(c + 32);
        uint64_t disk_start = rd16(c + 34);
        m.local_header_offset = rd32(c + 42);
        if (cd_size - pos - k_central_size < nlen + xlen + clen)
            return status::error(where + ": name, extra field and comment (" + num(nlen + xlen + clen) +
                                 " bytes) run past the central directory");
        m.name.assign(reinterpret_cast<const char*>(c + k_central_size), nlen);
        where = nm + " member " + m.name;
        if (nlen == 0) return status::error(nm + ": central directory entry " + num(k) + ": empty member name");

        extra_block x64;
        DLRM_TRY(find_zip64_extra(c + k_central_size + nlen, xlen, where, x64));
        // The zip64 block holds, in this order, only the fields whose classic copy is saturated.
        size_t xi = 0;
        auto take64 = [&](uint64_t& field, const char* what) -> status {
            if (!x64.found) return status::error(where + ": " + what + " is 0xffffffff but there is no zip64 extra field");
            if (x64.size - xi < 8) return status::error(where + ": zip64 extra field too short for the " + what);
            field = rd64(x64.data + xi);
            xi += 8;
            return {};
        };
        if (m.uncompressed_size == k_sat32) DLRM_TRY(take64(m.uncompressed_size, "uncompressed size"));
        if (m.compressed_size == k_sat32) DLRM_TRY(take64(m.compressed_size, "compressed size"));
        if (m.local_header_offset == k_sat32) DLRM_TRY(take64(m.local_header_offset, "local header offset"));
        if (disk_start == k_sat16) {
            if (!x64.found || x64.size - xi < 4) return status::error(where + ": zip64 extra field too short for the start disk");
            disk_start = rd32(x64.data + xi);
        }
        if (disk_start != 0) return status::error(where + ": starts on disk " + num(disk_start) + ": multi-disk archives are not supported");
        if (m.flags & 0x41) return status::error(where + ": encrypted: encrypted members are not supported");
        pos += k_central_size + nlen + xlen + clen;

        // The local header: its name and extra lengths may differ from the central copy (numpy's
        // zipfile writes a zip64 block only locally), so the data offset comes from it.
        uint64_t lo = m.local_header_offset;
        if (lo > cd_offset || cd_offset - lo < k_local_size)
            return status::error(where + ": local header offset " + num(lo) + ": must leave 30 bytes before the central directory at " +
                                 num(cd_offset));
        const uint8_t* l = p + lo;
        if (rd32(l) != k_sig_local)
            return status::error(where + ": no local header signature at offset " + num(lo));
        uint16_t lflags = rd16(l + 6), lmethod = rd16(l + 8);
        uint32_t lcrc = rd32(l + 14);
        uint64_t lcomp = rd32(l + 18), luncomp = rd32(l + 22);
        size_t lnlen = rd16(l + 26), lxlen = rd16(l + 28);
        if (cd_offset - lo - k_local_size < lnlen + lxlen)
            return status::error(where + ": local name and extra field (" + num(lnlen + lxlen) +
                                 " bytes) run into the central directory");
        if (lmethod != m.method)
            return status::error(where + ": local header says compression method " + num(lmethod) +
                                 ", the central directory " + num(m.method) + ": they must agree");
        extra_block lx64;
        DLRM_TRY(find_zip64_extra(l + k_local_size + lnlen, lxlen, where + " (local header)", lx64));
        // A local zip64 block carries both sizes, uncompressed first (APPNOTE 4.5.3); numpy's
        // zipfile writes it on every member even when the 32-bit fields hold the real sizes.
        bool have_x_u = lx64.found && lx64.size >= 8, have_x_c = lx64.found && lx64.size >= 16;
        uint64_t xu = have_x_u ? rd64(lx64.data) : 0, xc = have_x_c ? rd64(lx64.data + 8) : 0;
        if (luncomp == k_sat32) {
            if (!have_x_u) return status::error(where + ": local uncompressed size is 0xffffffff but there is no zip64 extra field");
            luncomp = xu;
        }
        if (lcomp == k_sat32) {
            if (!have_x_c) return status::error(where + ": local compressed size is 0xffffffff but the zip64 extra field lacks it");
            lcomp = xc;
        }
        // With a data descriptor (bit 3) the local sizes and CRC may be zero; the central copy rules.
        bool deferred = (lflags & 0x08) && luncomp == 0 && lcomp == 0 && lcrc == 0 && xu == 0 && xc == 0;
        if (!deferred) {
            if (luncomp != m.uncompressed_size || lcomp != m.compressed_size ||
                (have_x_u && xu != m.uncompressed_size) || (have_x_c && xc != m.compressed_size))
                return status::error(where + ": local header sizes (" + num(lcomp) + " compressed, " + num(luncomp) +
                                     " uncompressed) disagree with the central directory (" + num(m.compressed_size) + ", " +
                                     num(m.uncompressed_size) + ")");
            if (lcrc != m.crc32)
                return status::error(where + ": local header CRC-32 disagrees with the central directory");
        }
        m.data_offset = lo + k_local_size + lnlen + lxlen;
        if (m.compressed_size > cd_offset - m.data_offset)
            return status::error(where + ": data [" + num(m.data_offset) + ", +" + num(m.compressed_size) +
                                 ") runs into the central directory at " + num(cd_offset) + ": truncated or corrupt");
        m.data = p + m.data_offset;
        z.members_.push_back(std::move(m));
    }

    // Two members of the same name make a lookup ambiguous; refuse rather than guess.
    std::vector<const std::string*> names;
    names.reserve(z.members_.size());
    for (const auto& m : z.members_) names.push_back(&m.name);
    std::sort(names.begin(), names.end(), [](auto a, auto b) { return *a < *b; });
    for (size_t i = 1; i < names.size(); ++i)
        if (*names[i] == *names[i - 1]) return status::error(nm + ": member " + *names[i] + " appears twice");
    return z;
}

const zip_member* zip_reader::find(const std::string& member) const {
    for (const auto& m : members_)
        if (m.name == member) return &m;
    return nullptr;
}

status zip_reader::check_stored(const zip_member& m) const {
    if (m.method != 0)
        return status::error(name_ + " member " + m.name + ": compression method " + num(m.method) + " (" +
                             zip_method_name(m.method) +
                             "): only stored (uncompressed) members can be memory-mapped; re-save with numpy.savez");
    if (m.compressed_size != m.uncompressed_size)
        return status::error(name_ + " member " + m.name + ": stored member with " + num(m.compressed_size) +
                             " bytes in the archive but " + num(m.uncompressed_size) + " uncompressed: they must be equal");
    return {};
}

result<const zip_member*> zip_reader::stored(const std::string& member) const {
    const zip_member* m = find(member);
    if (!m) return status::error(name_ + ": no member named " + member);
    DLRM_TRY(check_stored(*m));
    return m;
}

status zip_reader::verify_crc(const zip_member& m) const {
    DLRM_TRY(check_stored(m));
    uint32_t c = crc32_update(0, m.data, size_t(m.compressed_size));
    if (c != m.crc32) {
        char b[64];
        std::snprintf(b, sizeof b, "CRC-32 %08x, the directory says %08x", c, m.crc32);
        return status::error(name_ + " member " + m.name + ": " + b + ": the data is corrupt");
    }
    return {};
}

}  // namespace dlrm

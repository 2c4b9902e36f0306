#include "formats/zip/zip_writer.h"

#include <algorithm>

#include "formats/zip/crc32.h"

namespace dlrm {

namespace {

constexpr size_t k_local_size = 30, k_local_extra = 20, k_central_extra = 28;
constexpr uint16_t k_version = 45;   // 4.5: zip64
constexpr uint16_t k_dos_date = 0x21;  // 1980-01-01, 00:00: fixed so the same input gives the same bytes

// Little-endian field appender.
struct bytes_out {
    std::string b;
    void u16(uint64_t v) { for (int i = 0; i < 2; ++i) b.push_back(char((v >> (8 * i)) & 0xff)); }
    void u32(uint64_t v) { for (int i = 0; i < 4; ++i) b.push_back(char((v >> (8 * i)) & 0xff)); }
    void u64(uint64_t v) { for (int i = 0; i < 8; ++i) b.push_back(char((v >> (8 * i)) & 0xff)); }
};

uint16_t name_flags(const std::string& name) {
    // Bit 11: the name is UTF-8. Set only when it has non-ASCII bytes, as Python's zipfile does.
    return std::any_of(name.begin(), name.end(), [](char c) { return uint8_t(c) >= 0x80; }) ? 0x0800 : 0;
}

}  // namespace

result<zip_writer> zip_writer::create(const std::string& path) {
    auto out = atomic_output::create(path);
    if (!out.ok()) return out.error();
    zip_writer w;
    w.out_ = out.take();
    return w;
}

uint64_t zip_writer::next_data_offset(const std::string& name) const {
    return out_.offset() + k_local_size + name.size() + k_local_extra;
}

status zip_writer::begin_member(const std::string& name, uint64_t size) {
    if (in_member_) return status::error(path() + ": member " + name + " begun before member " + entries_.back().name + " ended");
    if (name.empty() || name.size() > 0xffff)
        return status::error(path() + ": member name of " + std::to_string(name.size()) + " bytes: must be 1..65535 bytes");
    for (const auto& e : entries_)
        if (e.name == name) return status::error(path() + ": member " + name + " written twice");
    entry e;
    e.name = name;
    e.size = size;
    e.offset = out_.offset();
    bytes_out h;
    h.u32(0x04034b50);
    h.u16(k_version);
    h.u16(name_flags(name));
    h.u16(0);  // stored
    h.u16(0);  // time
    h.u16(k_dos_date);
    h.u32(0);  // CRC-32, patched by end_member
    h.u32(0xffffffff);
    h.u32(0xffffffff);
    h.u16(name.size());
    h.u16(k_local_extra);
    h.b += name;
    h.u16(0x0001);
    h.u16(16);
    h.u64(size);  // uncompressed
    h.u64(size);  // compressed
    DLRM_TRY(out_.write(h.b.data(), h.b.size()));
    entries_.push_back(std::move(e));
    in_member_ = true;
    written_ = 0;
    crc_ = 0;
    return {};
}

status zip_writer::write(const void* p, size_t n) {
    if (!in_member_) return status::error(path() + ": write of " + std::to_string(n) + " bytes outside a member");
    const entry& e = entries_.back();
    if (n > e.size - written_)
        return status::error(path() + " member " + e.name + ": writing " + std::to_string(n) + " bytes after " +
                             std::to_string(written_) + ": the member was declared " + std::to_string(e.size) + " bytes");
    crc_ = crc32_update(crc_, p, n);
    DLRM_TRY(out_.write(p, n));
    written_ += n;
    return {};
}

status zip_writer::end_member() {
    if (!in_member_) return status::error(path() + ": end_member without a member");
    entry& e = entries_.back();
    if (written_ != e.size)
        return status::error(path() + " member " + e.name + ": " + std::to_string(written_) +
                             " bytes written: the member was declared " + std::to_string(e.size) + " bytes");
    e.crc = crc_;
    bytes_out c;
    c.u32(crc_);
    DLRM_TRY(out_.pwrite(c.b.data(), c.b.size(), e.offset + 14));
    in_member_ = false;
    return {};
}

status zip_writer::commit() {
    if (in_member_) return status::error(path() + ": commit while member " + entries_.back().name + " is still open");
    uint64_t cd_offset = out_.offset();
    bytes_out cd;
    for (const auto& e : entries_) {
        cd.u32(0x02014b50);
        cd.u16(3 << 8 | k_version);  // made by: Unix, 4.5
        cd.u16(k_version);
        cd.u16(name_flags(e.name));
        cd.u16(0);
        cd.u16(0);
        cd.u16(k_dos_date);
        cd.u32(e.crc);
        cd.u32(0xffffffff);
        cd.u32(0xffffffff);
        cd.u16(e.name.size());
        cd.u16(k_central_extra);
        cd.u16(0);  // comment
        cd.u16(0);  // disk
        cd.u16(0);  // internal attributes
        cd.u32(uint32_t(0100644) << 16);  // -rw-r--r--
        cd.u32(0xffffffff);
        cd.b += e.name;
        cd.u16(0x0001);
        cd.u16(24);
        cd.u64(e.size);
        cd.u64(e.size);
        cd.u64(e.offset);
        // Flush in pieces so a directory of many members never grows a big buffer.
        if (cd.b.size() >= (1u << 20)) {
            DLRM_TRY(out_.write(cd.b.data(), cd.b.size()));
            cd.b.clear();
        }
    }
    DLRM_TRY(out_.write(cd.b.data(), cd.b.size()));
    uint64_t cd_size = out_.offset() - cd_offset;
    uint64_t z64_offset = out_.offset();
    uint64_t n = entries_.size();
    bytes_out t;
    t.u32(0x06064b50);
    t.u64(44);
    t.u16(3 << 8 | k_version);
    t.u16(k_version);
    t.u32(0);
    t.u32(0);
    t.u64(n);
    t.u64(n);
    t.u64(cd_size);
    t.u64(cd_offset);
    t.u32(0x07064b50);
    t.u32(0);
    t.u64(z64_offset);
    t.u32(1);
    t.u32(0x06054b50);
    t.u16(0);
    t.u16(0);
    t.u16(std::min<uint64_t>(n, 0xffff));
    t.u16(std::min<uint64_t>(n, 0xffff));
    t.u32(std::min<uint64_t>(cd_size, 0xffffffff));
    t.u32(std::min<uint64_t>(cd_offset, 0xffffffff));
    t.u16(0);
    DLRM_TRY(out_.write(t.b.data(), t.b.size()));
    return out_.commit();
}

}  // namespace dlrm

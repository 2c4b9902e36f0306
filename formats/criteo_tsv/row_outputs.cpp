#include "formats/criteo_tsv/row_outputs.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <unistd.h>
#include <utility>

#include "formats/npy/npy.h"

namespace dlrm {

namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

result<std::string> npy_header_of_size(const std::string& descr, const std::vector<int64_t>& shape, size_t bytes) {
    std::string h = npy_header(descr, shape, 0);
    if (h.size() > bytes)
        return status::error("npy header of " + std::to_string(h.size()) + " bytes: more than the " +
                             std::to_string(bytes) + " reserved for it");
    const size_t prefix = h[6] == 1 ? 10 : 12;
    h.insert(h.size() - 1, bytes - h.size(), ' ');  // spaces go before the closing '\n'
    const uint64_t hlen = h.size() - prefix;
    if (prefix == 10 && hlen > 0xffff)
        return status::error("npy header length " + std::to_string(hlen) + ": does not fit a version 1.0 header");
    h[8] = char(hlen & 0xff);
    h[9] = char((hlen >> 8) & 0xff);
    if (prefix == 12) {
        h[10] = char((hlen >> 16) & 0xff);
        h[11] = char((hlen >> 24) & 0xff);
    }
    return h;
}

result<npy_rows_writer> npy_rows_writer::create(const std::string& path, const std::string& descr, int64_t cols) {
    auto isz = npy_itemsize(descr, path);
    if (!isz.ok()) return isz.error();
    auto out = atomic_output::create(path);
    if (!out.ok()) return out.error();
    npy_rows_writer w;
    w.out_ = out.take();
    w.descr_ = descr;
    w.cols_ = cols;
    w.itemsize_ = *isz;
    // The widest row count there can be fixes the header size (128 bytes for our shapes).
    w.header_bytes_ = npy_header(descr, {std::numeric_limits<int64_t>::max(), cols}, 0).size();
    DLRM_TRY(w.out_.pad_to(w.header_bytes_));
    return w;
}

status npy_rows_writer::append(const void* p, int64_t rows) {
    DLRM_TRY(out_.write(p, size_t(rows * cols_ * itemsize_)));
    rows_ += rows;
    return {};
}

status npy_rows_writer::finish() {
    auto h = npy_header_of_size(descr_, {rows_, cols_}, header_bytes_);
    if (!h.ok()) return status(h.error()).prefix(out_.path());
    return out_.pwrite(h->data(), h->size(), 0);
}

column_spill::column_spill(column_spill&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), dir_(std::move(o.dir_)), cols_(o.cols_), block_rows_(o.block_rows_),
      rows_(o.rows_), block_(std::move(o.block_)), filled_(o.filled_), block_sizes_(std::move(o.block_sizes_)),
      spilled_bytes_(o.spilled_bytes_) {}

column_spill& column_spill::operator=(column_spill&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
        dir_ = std::move(o.dir_);
        cols_ = o.cols_;
        block_rows_ = o.block_rows_;
        rows_ = o.rows_;
        block_ = std::move(o.block_);
        filled_ = o.filled_;
        block_sizes_ = std::move(o.block_sizes_);
        spilled_bytes_ = o.spilled_bytes_;
    }
    return *this;
}

column_spill::~column_spill() {
    if (fd_ >= 0) ::close(fd_);
}

result<column_spill> column_spill::create(const std::string& dir, int cols, int64_t block_rows) {
    if (cols < 1 || block_rows < 1)
        return status::error("column spill: " + std::to_string(cols) + " columns, " + std::to_string(block_rows) +
                             " rows per block: both must be ≥ 1");
    column_spill s;
    s.dir_ = dir;
    s.cols_ = cols;
    s.block_rows_ = block_rows;
    s.block_.resize(size_t(cols) * size_t(block_rows));
    // Created and unlinked at once: the name exists for a moment only, the data until fd_ is closed.
    const std::string name = dir + "/.dlrm-convert-columns.tmp-" + std::to_string(::getpid());
    s.fd_ = ::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (s.fd_ < 0) return status::error(name + ": cannot create the scratch file for the npz columns: " + errno_text());
    ::unlink(name.c_str());
    return s;
}

status column_spill::append(const int32_t* rows_major, int64_t rows) {
    while (rows > 0) {
        const int64_t take = std::min(rows, block_rows_ - filled_);
        for (int c = 0; c < cols_; ++c) {
            int32_t* dst = block_.data() + size_t(c) * size_t(block_rows_) + size_t(filled_);
            const int32_t* src = rows_major + c;
            for (int64_t r = 0; r < take; ++r) dst[r] = src[r * cols_];
        }
        filled_ += take;
        rows_ += take;
        rows_major += take * cols_;
        rows -= take;
        if (filled_ == block_rows_) DLRM_TRY(flush());
    }
    return {};
}

status column_spill::flush() {
    if (filled_ == 0) return {};
    // Column c of the block is written right after column c - 1, so a block is cols · filled ints.
    for (int c = 0; c < cols_; ++c) {
        const char* p = reinterpret_cast<const char*>(block_.data() + size_t(c) * size_t(block_rows_));
        size_t n = size_t(filled_) * 4;
        while (n > 0) {
            const ssize_t w = ::write(fd_, p, n);
            if (w < 0) {
                if (errno == EINTR) continue;
                return status::error(dir_ + ": writing the npz column scratch file failed after " +
                                     std::to_string(spilled_bytes_) + " bytes: " + errno_text());
            }
            p += w;
            n -= size_t(w);
            spilled_bytes_ += uint64_t(w);
        }
    }
    block_sizes_.push_back(filled_);
    filled_ = 0;
    return {};
}

status column_spill::write_npz(npz_writer& npz) {
    DLRM_TRY(flush());
    std::vector<char> buf(size_t(block_rows_) * 4);
    for (int c = 0; c < cols_; ++c) {
        DLRM_TRY(npz.begin_member(std::to_string(c) + ".npy", "<i4", {rows_, 1}));
        uint64_t block_off = 0;
        for (int64_t n : block_sizes_) {
            const size_t bytes = size_t(n) * 4;
            const uint64_t off = block_off + uint64_t(c) * bytes;
            size_t got = 0;
            while (got < bytes) {
                const ssize_t r = ::pread(fd_, buf.data() + got, bytes - got, off_t(off + got));
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0)
                    return status::error(dir_ + ": reading the npz column scratch file at byte " +
                                         std::to_string(off + got) + " failed: " +
                                         (r < 0 ? errno_text() : std::string("unexpected end of file")));
                got += size_t(r);
            }
            DLRM_TRY(npz.write(buf.data(), bytes));
            block_off += bytes * uint64_t(cols_);
        }
        DLRM_TRY(npz.end_member());
    }
    return {};
}

}  // namespace dlrm

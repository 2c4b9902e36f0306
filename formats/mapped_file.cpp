#include "formats/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <utility>

namespace dlrm {

namespace {
std::string errno_text() { return std::strerror(errno); }

// Temporary paths of live atomic_outputs, for the signal handler. Fixed slots: no allocation
// and no locks in a handler.
constexpr int k_pending_slots = 64;
std::atomic<const char*> g_pending[k_pending_slots];

void register_pending(const char* p) {
    for (auto& s : g_pending) {
        const char* expected = nullptr;
        if (s.compare_exchange_strong(expected, p)) return;
    }
}
void unregister_pending(const char* p) {
    for (auto& s : g_pending) {
        const char* expected = p;
        if (s.compare_exchange_strong(expected, nullptr)) return;
    }
}
}  // namespace

void remove_pending_outputs_from_signal_handler() {
    for (auto& s : g_pending) {
        const char* p = s.load();
        if (p) ::unlink(p);
    }
    for (auto& s : g_pending) {  // folders last, once their files are gone (rmdir fails on a file)
        const char* p = s.load();
        if (p) ::rmdir(p);
    }
}

void register_pending_path(const char* path) { register_pending(path); }
void unregister_pending_path(const char* path) { unregister_pending(path); }

mapped_file::mapped_file(mapped_file&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), path_(std::move(o.path_)) {}

mapped_file& mapped_file::operator=(mapped_file&& o) noexcept {
    if (this != &o) {
        if (data_ && size_) ::munmap(const_cast<uint8_t*>(data_), size_);
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
        path_ = std::move(o.path_);
    }
    return *this;
}

mapped_file::~mapped_file() {
    if (data_ && size_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

result<mapped_file> mapped_file::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return status::error(path + ": cannot open: " + errno_text());
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        std::string e = errno_text();
        ::close(fd);
        return status::error(path + ": cannot stat: " + e);
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return status::error(path + ": not a regular file");
    }
    mapped_file m;
    m.path_ = path;
    m.size_ = size_t(st.st_size);
    if (m.size_ > 0) {
        void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            std::string e = errno_text();
            ::close(fd);
            return status::error(path + ": cannot map " + std::to_string(m.size_) + " bytes: " + e);
        }
        // Huge pages for file maps exist only on some kernels/filesystems (ext4 and xfs keep large
        // folios in the page cache since Linux 6.x); the advice is harmless where they do not.
        // DLRM_HUGEPAGES=0 leaves the mapping on 4 KiB pages, to measure the difference.
#ifdef MADV_HUGEPAGE
        static const bool huge = [] {
            const char* v = std::getenv("DLRM_HUGEPAGES");
            return !(v && std::string(v) == "0");
        }();
        ::madvise(p, m.size_, huge && m.size_ >= (size_t(64) << 20) ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#endif
        m.data_ = static_cast<const uint8_t*>(p);
    }
    ::close(fd);
    return m;
}

atomic_output::atomic_output(atomic_output&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), offset_(o.offset_), path_(std::move(o.path_)), tmp_(std::move(o.tmp_)) {}

atomic_output& atomic_output::operator=(atomic_output&& o) noexcept {
    if (this != &o) {
        discard();
        fd_ = std::exchange(o.fd_, -1);
        offset_ = o.offset_;
        path_ = std::move(o.path_);
        tmp_ = std::move(o.tmp_);
    }
    return *this;
}

atomic_output::~atomic_output() { discard(); }

void atomic_output::discard() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(tmp_->c_str());
        unregister_pending(tmp_->c_str());
        fd_ = -1;
    }
}

result<atomic_output> atomic_output::create(const std::string& path) {
    atomic_output o;
    o.path_ = path;
    o.tmp_ = std::make_unique<std::string>(path + ".tmp-" + std::to_string(::getpid()));
    o.fd_ = ::open(o.tmp_->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o.fd_ < 0) return status::error(path + ": cannot create output: " + errno_text());
    register_pending(o.tmp_->c_str());
    return o;
}

status atomic_output::pwrite(const void* p, size_t n, uint64_t off) {
    const char* c = static_cast<const char*>(p);
    while (n > 0) {
        ssize_t w = ::pwrite(fd_, c, n, off_t(off));
        if (w < 0) {
            if (errno == EINTR) continue;
            return status::error(path_ + ": write failed at byte " + std::to_string(off) + ": " + errno_text());
        }
        c += w;
        n -= size_t(w);
        off += uint64_t(w);
    }
    return {};
}

status atomic_output::write(const void* p, size_t n) {
    DLRM_TRY(pwrite(p, n, offset_));
    offset_ += n;
    return {};
}

status atomic_output::pad_to(uint64_t off) {
    static const char zeros[4096] = {};
    while (offset_ < off) {
        size_t n = size_t(std::min<uint64_t>(sizeof zeros, off - offset_));
        DLRM_TRY(write(zeros, n));
    }
    return {};
}

status atomic_output::commit() {
    if (fd_ < 0) return status::error(path_ + ": commit of a closed output");
    if (::fsync(fd_) != 0) return status::error(path_ + ": fsync failed: " + errno_text());
    if (::close(fd_) != 0) {
        fd_ = -1;
        ::unlink(tmp_->c_str());
        unregister_pending(tmp_->c_str());
        return status::error(path_ + ": close failed: " + errno_text());
    }
    fd_ = -1;
    if (::rename(tmp_->c_str(), path_.c_str()) != 0) {
        std::string e = errno_text();
        ::unlink(tmp_->c_str());
        unregister_pending(tmp_->c_str());
        return status::error(path_ + ": cannot rename the finished output into place: " + e);
    }
    unregister_pending(tmp_->c_str());
    return {};
}

}  // namespace dlrm

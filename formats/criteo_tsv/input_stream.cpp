#include "formats/criteo_tsv/input_stream.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#if DLRM_HAVE_ZLIB
#include <zlib.h>
#endif

namespace dlrm {

namespace {
std::string errno_text() { return std::strerror(errno); }
#if DLRM_HAVE_ZLIB
gzFile as_gz(void* p) { return static_cast<gzFile>(p); }
#endif
}  // namespace

input_stream::input_stream(input_stream&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), gz_(std::exchange(o.gz_, nullptr)), path_(std::move(o.path_)),
      file_bytes_(o.file_bytes_), plain_pos_(o.plain_pos_) {}

input_stream& input_stream::operator=(input_stream&& o) noexcept {
    if (this != &o) {
        close();
        fd_ = std::exchange(o.fd_, -1);
        gz_ = std::exchange(o.gz_, nullptr);
        path_ = std::move(o.path_);
        file_bytes_ = o.file_bytes_;
        plain_pos_ = o.plain_pos_;
    }
    return *this;
}

input_stream::~input_stream() { close(); }

void input_stream::close() {
#if DLRM_HAVE_ZLIB
    if (gz_) gzclose(as_gz(gz_));  // also closes fd_
    else
#endif
    if (fd_ >= 0) ::close(fd_);
    gz_ = nullptr;
    fd_ = -1;
}

result<input_stream> input_stream::open(const std::string& path) {
    input_stream s;
    s.path_ = path;
    s.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (s.fd_ < 0) return status::error(path + ": cannot open input: " + errno_text());
    struct stat st {};
    if (::fstat(s.fd_, &st) != 0) return status::error(path + ": cannot stat input: " + errno_text());
    if (S_ISDIR(st.st_mode)) return status::error(path + ": is a directory: expected a TSV or .bin file");
    s.file_bytes_ = S_ISREG(st.st_mode) ? uint64_t(st.st_size) : 0;
    ::posix_fadvise(s.fd_, 0, 0, POSIX_FADV_SEQUENTIAL);

    unsigned char magic[2] = {0, 0};
    ssize_t got = ::pread(s.fd_, magic, 2, 0);
    if (got < 0) return status::error(path + ": cannot read input: " + errno_text());
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
#if !DLRM_HAVE_ZLIB
        return status::error(path + ": gzip input: this dlrm was built without zlib: decompress it first (gunzip)");
#else
        gzFile gz = gzdopen(s.fd_, "rb");
        if (!gz) return status::error(path + ": cannot start gzip decompression (out of memory)");
        s.gz_ = gz;
        gzbuffer(gz, 1u << 20);
#endif
    }
    return s;
}

result<size_t> input_stream::read(char* dst, size_t n) {
    size_t done = 0;
    while (done < n) {
        const size_t want = std::min<size_t>(n - done, size_t(1) << 30);
#if DLRM_HAVE_ZLIB
        if (gz_) {
            const int r = gzread(as_gz(gz_), dst + done, unsigned(want));
            int err = Z_OK;
            const char* msg = gzerror(as_gz(gz_), &err);
            // gzread reports a stream cut short as a plain end of data; only gzerror says Z_BUF_ERROR.
            if (r < 0 || (err != Z_OK && err != Z_BUF_ERROR))
                return status::error(path_ + ": gzip data is corrupt after " + std::to_string(file_position()) +
                                     " compressed bytes: " + (msg ? msg : "zlib error"));
            if (err == Z_BUF_ERROR)
                return status::error(path_ + ": gzip stream is truncated: it ends inside compressed data "
                                     "(re-download or re-compress the file)");
            if (r == 0) break;
            done += size_t(r);
            continue;
        }
#endif
        {
            const ssize_t r = ::read(fd_, dst + done, want);
            if (r < 0) {
                if (errno == EINTR) continue;
                return status::error(path_ + ": read failed at byte " + std::to_string(plain_pos_) + ": " + errno_text());
            }
            if (r == 0) break;
            done += size_t(r);
            plain_pos_ += uint64_t(r);
        }
    }
    return done;
}

uint64_t input_stream::file_position() const {
#if DLRM_HAVE_ZLIB
    if (gz_) {
        const z_off_t o = gzoffset(as_gz(gz_));
        return o < 0 ? 0 : uint64_t(o);
    }
#endif
    return plain_pos_;
}

}  // namespace dlrm

// Shared by the libFuzzer targets: readers that take a path get the input through a file in a
// private temporary directory (made once per process, removed at exit), so every target exercises
// the same code path as the command line, mmap included.
#pragma once
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace dlrm_fuzz {

inline const std::string& temp_dir() {
    static const std::string dir = [] {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/dlrm-fuzz.XXXXXX";
        if (!::mkdtemp(tmpl.data())) {
            std::perror("mkdtemp");
            std::abort();
        }
        static std::string keep = tmpl;
        std::atexit([] { std::string cmd = "rm -rf '" + keep + "'"; if (std::system(cmd.c_str())) {} });
        return tmpl;
    }();
    return dir;
}

// Writes the bytes to temp_dir()/name (replacing it) and returns the full path.
inline std::string write_file(const std::string& name, const uint8_t* p, size_t n) {
    std::string path = temp_dir() + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) { std::perror(path.c_str()); std::abort(); }
    if (n && std::fwrite(p, 1, n, f) != n) { std::perror(path.c_str()); std::abort(); }
    std::fclose(f);
    return path;
}

inline void remove_file(const std::string& name) { ::unlink((temp_dir() + "/" + name).c_str()); }

// Reads every byte of a view the reader handed out, so ASan flags a view that reaches past its buffer.
inline uint64_t touch(const uint8_t* p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; ++i) s += p[i];
    return s;
}

// Splits the input into parts: each part is a 4-byte little-endian length then that many bytes
// (a length past the end takes what is left). Lets one input carry several files.
struct parts {
    const uint8_t* p;
    size_t n;
    bool next(const uint8_t*& b, size_t& len) {
        if (n < 4) return false;
        uint32_t l = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
        p += 4, n -= 4;
        len = l < n ? l : n;
        b = p;
        p += len, n -= len;
        return true;
    }
};

}  // namespace dlrm_fuzz

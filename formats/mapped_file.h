// Read-only memory maps and all-or-nothing output files: the two ways dlrm touches the disk.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/status.h"

namespace dlrm {

// A whole file mapped read-only (MAP_SHARED, so pages come from the page cache, never copied).
// Large maps are advised MADV_HUGEPAGE where the kernel offers transparent huge pages for files.
class mapped_file {
public:
    mapped_file() = default;
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    mapped_file(mapped_file&& o) noexcept;
    mapped_file& operator=(mapped_file&& o) noexcept;
    ~mapped_file();

    // Fails with "opening <path>: <strerror>" style messages.
    static result<mapped_file> open(const std::string& path);

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
    std::string path_;
};

// An output file that appears under its final name only when commit() succeeds: data goes to
// "<path>.tmp-<pid>" and is renamed over <path> after an fsync. If the object is destroyed without
// commit() (error, exception, early return) the temporary is removed, so no half-written output
// remains (DESIGN.md: nothing is half-written).
class atomic_output {
public:
    atomic_output() = default;
    atomic_output(const atomic_output&) = delete;
    atomic_output& operator=(const atomic_output&) = delete;
    atomic_output(atomic_output&& o) noexcept;
    atomic_output& operator=(atomic_output&& o) noexcept;
    ~atomic_output();

    static result<atomic_output> create(const std::string& path);
    status write(const void* p, size_t n);                 // appends at the current end
    status pwrite(const void* p, size_t n, uint64_t off);  // patches earlier bytes
    status pad_to(uint64_t off);                           // appends zeros up to off
    uint64_t offset() const { return offset_; }
    status commit();                                        // fsync, rename, fsync the directory
    const std::string& path() const { return path_; }
    int fd() const { return fd_; }

private:
    void discard();
    int fd_ = -1;
    uint64_t offset_ = 0;
    std::string path_;
    std::unique_ptr<std::string> tmp_;  // heap-held so its c_str() stays put for the signal handler
};

// Removes any temporary files of live atomic_outputs; safe to call from a signal handler
// (SIGINT/SIGTERM during a long run must not leave partial outputs).
void remove_pending_outputs_from_signal_handler();

// Other paths the signal handler removes too: finished files in a staging folder (no longer
// atomic_outputs) and the folder itself (files are unlinked first, then folders removed if empty).
// The string must outlive the registration; a path that does not exist is skipped.
void register_pending_path(const char* path);
void unregister_pending_path(const char* path);

}  // namespace dlrm

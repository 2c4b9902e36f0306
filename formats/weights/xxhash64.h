// XXH64 (xxHash, 64-bit), the checksum of .dlrm files: fast enough (several GB/s on one core) that
// verifying a multi-GB table costs about as much as reading it from the page cache.
// Spec: https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md. Output matches `xxhsum -H1`.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dlrm {

// One-shot hash of n bytes.
uint64_t xxh64(const void* p, size_t n, uint64_t seed = 0);

// Streaming state: update() any number of times with any split, digest() equals xxh64() of the
// concatenation. Lets the weight writer hash a table while it streams it to disk.
class xxh64_state {
public:
    explicit xxh64_state(uint64_t seed = 0) { reset(seed); }
    void reset(uint64_t seed = 0);
    void update(const void* p, size_t n);
    uint64_t digest() const;  // does not change the state; more update() calls may follow

private:
    uint64_t acc_[4];
    uint64_t seed_;
    uint64_t total_;
    uint8_t buf_[32];  // a partial 32-byte stripe carried between update() calls
    uint32_t buffered_;
};

}  // namespace dlrm

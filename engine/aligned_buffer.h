// A heap buffer aligned to 64 bytes (a cache line; what the kernels' packed layouts ask for).
#pragma once
#include <cstddef>
#include <cstdlib>
#include <memory>

namespace dlrm {

struct free_deleter {
    void operator()(void* p) const { std::free(p); }
};

template <class T>
class aligned_buffer {
public:
    aligned_buffer() = default;
    explicit aligned_buffer(size_t count) { resize(count); }
    // Contents are not preserved; new memory is zeroed (so padding in packed layouts is zero).
    void resize(size_t count) {
        size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
        if (bytes == 0) bytes = 64;
        void* p = std::aligned_alloc(64, bytes);
        if (!p) throw std::bad_alloc();
        __builtin_memset(p, 0, bytes);
        ptr_.reset(static_cast<T*>(p));
        size_ = count;
    }
    T* data() { return ptr_.get(); }
    const T* data() const { return ptr_.get(); }
    size_t size() const { return size_; }
    T& operator[](size_t i) { return ptr_.get()[i]; }
    const T& operator[](size_t i) const { return ptr_.get()[i]; }

private:
    std::unique_ptr<T, free_deleter> ptr_;
    size_t size_ = 0;
};

}  // namespace dlrm

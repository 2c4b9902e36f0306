// status / result: how the library reports failure (DESIGN.md decision 8).
// The library never prints or aborts; it returns a message of the form
//   "<what failed>: <the bad value>: <the rule>"
// and the command line prefixes "dlrm: error: ".
#pragma once
#include <optional>
#include <string>
#include <utility>

namespace dlrm {

class status {
public:
    status() = default;
    static status error(std::string msg) { status s; s.msg_ = std::move(msg); s.failed_ = true; return s; }
    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const std::string& message() const { return msg_; }
    // Adds context in front: "reading day_0_dense.npy: <old message>".
    status& prefix(const std::string& what) { if (failed_) msg_ = what + ": " + msg_; return *this; }

private:
    std::string msg_;
    bool failed_ = false;
};

// A value or the status that explains why there is none.
template <class T>
class result {
public:
    result(T v) : value_(std::move(v)) {}                       // NOLINT: implicit on purpose
    result(status s) : status_(std::move(s)) {}                 // NOLINT
    bool ok() const { return value_.has_value(); }
    const status& error() const { return status_; }
    T& value() { return *value_; }
    const T& value() const { return *value_; }
    T* operator->() { return &*value_; }
    const T* operator->() const { return &*value_; }
    T& operator*() { return *value_; }
    T take() { return std::move(*value_); }

private:
    std::optional<T> value_;
    status status_;
};

}  // namespace dlrm

// Early return on failure: DLRM_TRY(st = do_something());
#define DLRM_TRY(expr)                         \
    do {                                       \
        ::dlrm::status dlrm_try_st_ = (expr);  \
        if (!dlrm_try_st_.ok()) return dlrm_try_st_; \
    } while (0)

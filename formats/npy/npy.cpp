#include "formats/npy/npy.h"

#include <cstring>
#include <limits>

namespace dlrm {

namespace {

constexpr uint8_t k_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
// numpy refuses headers over 10000 bytes unless told otherwise; ours are far shorter. The cap only
// keeps a hostile header from costing more than a glance.
constexpr size_t k_max_header = 1u << 16;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A recursive-descent parser for the one dict literal numpy writes:
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 13), }
// Keys in any order, each exactly once; single or double quotes; no escapes; ints may carry the
// Python 2 'L' suffix (old files). Everything else is refused.
class header_parser {
public:
    header_parser(const char* p, size_t n, const std::string& name) : start_(p), p_(p), end_(p + n), name_(name) {}

    status parse(std::string& descr, bool& fortran, std::vector<int64_t>& shape) {
        bool have_descr = false, have_fortran = false, have_shape = false;
        skip();
        if (!eat('{')) return fail("expected '{' at the start of the header dict");
        skip();
        while (!peek('}')) {
            std::string key;
            DLRM_TRY(string_literal(key));
            skip();
            if (!eat(':')) return fail("expected ':' after key '" + key + "'");
            skip();
            if (key == "descr") {
                if (have_descr) return fail("key 'descr' appears twice");
                have_descr = true;
                if (peek('[')) return fail("structured dtype (a list descr): only plain numeric arrays are supported");
                DLRM_TRY(string_literal(descr));
            } else if (key == "fortran_order") {
                if (have_fortran) return fail("key 'fortran_order' appears twice");
                have_fortran = true;
                if (eat_word("True")) fortran = true;
                else if (eat_word("False")) fortran = false;
                else return fail("fortran_order must be True or False");
            } else if (key == "shape") {
                if (have_shape) return fail("key 'shape' appears twice");
                have_shape = true;
                DLRM_TRY(tuple(shape));
            } else {
                return fail("unexpected key '" + key + "': expected only 'descr', 'fortran_order', 'shape'");
            }
            skip();
            if (eat(',')) { skip(); continue; }
            if (!peek('}')) return fail("expected ',' or '}' after the value of '" + key + "'");
        }
        eat('}');
        skip();
        if (p_ != end_) return fail("unexpected text after the header dict (only spaces and a newline may follow)");
        if (!have_descr) return fail("key 'descr' is missing");
        if (!have_fortran) return fail("key 'fortran_order' is missing");
        if (!have_shape) return fail("key 'shape' is missing");
        return {};
    }

private:
    status fail(const std::string& what) const {
        return status::error(name_ + ": npy header, at byte " + std::to_string(size_t(p_ - start_)) +
                             " of the dict: " + what);
    }
    void skip() { while (p_ < end_ && is_space(*p_)) ++p_; }
    bool peek(char c) const { return p_ < end_ && *p_ == c; }
    bool eat(char c) { if (peek(c)) { ++p_; return true; } return false; }
    bool eat_word(const char* w) {
        size_t n = std::strlen(w);
        if (size_t(end_ - p_) >= n && std::memcmp(p_, w, n) == 0) { p_ += n; return true; }
        return false;
    }
    status string_literal(std::string& out) {
        if (!(peek('\'') || peek('"'))) return fail("expected a quoted string");
        char q = *p_++;
        const char* s = p_;
        while (p_ < end_ && *p_ != q) {
            if (*p_ == '\\') return fail("escape sequences in strings are not accepted");
            ++p_;
        }
        if (p_ == end_) return fail("unterminated string");
        out.assign(s, p_);
        ++p_;
        return {};
    }
    status integer(int64_t& v) {
        if (p_ == end_ || *p_ < '0' || *p_ > '9') return fail("expected a non-negative integer in shape");
        uint64_t x = 0;
        while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
            x = x * 10 + uint64_t(*p_ - '0');
            if (x > uint64_t(std::numeric_limits<int64_t>::max())) return fail("shape dimension too large");
            ++p_;
        }
        eat('L');  // Python 2 long literal
        v = int64_t(x);
        return {};
    }
    status tuple(std::vector<int64_t>& shape) {
        shape.clear();
        if (!eat('(')) return fail("shape must be a tuple like (3, 13)");
        skip();
        bool trailing_comma = false;
        while (!peek(')')) {
            int64_t v = 0;
            DLRM_TRY(integer(v));
            if (shape.size() >= 32) return fail("more than 32 dimensions");
            shape.push_back(v);
            skip();
            trailing_comma = eat(',');
            skip();
            if (!trailing_comma && !peek(')')) return fail("expected ',' or ')' in shape");
        }
        eat(')');
        // (3) is the integer 3 in Python, not a tuple: numpy never writes it.
        if (shape.size() == 1 && !trailing_comma) return fail("shape (" + std::to_string(shape[0]) +
                                                              ") is not a tuple: a 1-D shape is written (n,)");
        return {};
    }

    const char* start_;
    const char* p_;
    const char* end_;
    const std::string& name_;
};

std::string shape_repr(const std::vector<int64_t>& shape) {
    std::string s = "(";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() == 1) s += ",";
    return s + ")";
}

}  // namespace

int64_t npy_view::elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;  // checked against overflow when parsed
    return n;
}

std::string npy_view::shape_text() const { return shape_repr(shape); }

result<int64_t> npy_itemsize(const std::string& descr, const std::string& name) {
    auto bad = [&](const std::string& rule) {
        return status::error(name + ": dtype '" + descr + "': " + rule);
    };
    if (descr.size() != 3) return bad("unsupported dtype: expected a plain numeric type such as '<f4' or '<i4'");
    char order = descr[0], kind = descr[1], width = descr[2];
    int64_t size = 0;
    if (width == '1' || width == '2' || width == '4' || width == '8') size = width - '0';
    else return bad("unsupported dtype: expected a plain numeric type such as '<f4' or '<i4'");
    bool kind_ok = (kind == 'i' || kind == 'u') || (kind == 'f' && size >= 2) || (kind == 'b' && size == 1);
    if (!kind_ok) return bad("unsupported dtype: expected b1, i1..i8, u1..u8, f2, f4 or f8");
    if (order == '>' && size > 1) return bad("big-endian data is not supported: re-save it little-endian (arr.astype(arr.dtype.newbyteorder('<')))");
    if (size == 1) {
        if (order != '|') return bad("one-byte types are written with '|' by numpy");
    } else if (order != '<') {
        return bad("byte order '" + std::string(1, order) + "': expected '<' (little-endian)");
    }
    return size;
}

result<uint64_t> npy_data_bytes(const std::string& descr, const std::vector<int64_t>& shape,
                                const std::string& name) {
    auto isz = npy_itemsize(descr, name);
    if (!isz.ok()) return isz.error();
    uint64_t n = uint64_t(*isz);
    for (int64_t d : shape) {
        if (d < 0) return status::error(name + ": shape " + shape_repr(shape) + ": dimensions must be ≥ 0");
        if (d != 0 && n > std::numeric_limits<uint64_t>::max() / 2 / uint64_t(d))
            return status::error(name + ": shape " + shape_repr(shape) + ": the array size overflows 64 bits");
        n *= uint64_t(d);
    }
    return n;
}

result<npy_view> parse_npy(const uint8_t* p, size_t size, const std::string& name) {
    if (size < 10) return status::error(name + ": " + std::to_string(size) +
                                        " bytes: too short for a .npy (the fixed header alone is 10 bytes)");
    if (std::memcmp(p, k_magic, 6) != 0) return status::error(name + ": not a .npy file: the magic \\x93NUMPY is missing");
    uint8_t major = p[6], minor = p[7];
    if (!((major == 1 || major == 2 || major == 3) && minor == 0))
        return status::error(name + ": npy version " + std::to_string(major) + "." + std::to_string(minor) +
                             ": expected 1.0, 2.0 or 3.0");
    size_t prefix = major == 1 ? 10 : 12;
    if (size < prefix) return status::error(name + ": " + std::to_string(size) + " bytes: truncated inside the npy header");
    uint64_t hlen = major == 1 ? uint64_t(p[8]) | uint64_t(p[9]) << 8
                               : uint64_t(p[8]) | uint64_t(p[9]) << 8 | uint64_t(p[10]) << 16 | uint64_t(p[11]) << 24;
    if (hlen > k_max_header)
        return status::error(name + ": npy header length " + std::to_string(hlen) + ": more than " +
                             std::to_string(k_max_header) + " bytes is not a numeric array header");
    if (prefix + hlen > size)
        return status::error(name + ": truncated: the npy header needs " + std::to_string(prefix + hlen) +
                             " bytes, the file has " + std::to_string(size));

    npy_view v;
    bool fortran = false;
    header_parser hp(reinterpret_cast<const char*>(p + prefix), size_t(hlen), name);
    DLRM_TRY(hp.parse(v.descr, fortran, v.shape));
    auto isz = npy_itemsize(v.descr, name);
    if (!isz.ok()) return isz.error();
    v.itemsize = *isz;
    if (fortran) {
        // A 0-D or 1-D array reads the same in either order, but numpy writes those as False anyway.
        return status::error(name + ": fortran_order True: only C-order arrays can be used in place; "
                             "re-save with numpy.ascontiguousarray");
    }
    auto nbytes = npy_data_bytes(v.descr, v.shape, name);
    if (!nbytes.ok()) return nbytes.error();
    v.data_offset = prefix + size_t(hlen);
    uint64_t have = size - v.data_offset;
    if (*nbytes > have)
        return status::error(name + ": truncated: shape " + v.shape_text() + " of " + v.descr + " needs " +
                             std::to_string(*nbytes) + " data bytes after the " + std::to_string(v.data_offset) +
                             "-byte header, the file has " + std::to_string(have));
    if (*nbytes < have)
        return status::error(name + ": " + std::to_string(have - *nbytes) + " bytes after the data of shape " +
                             v.shape_text() + " " + v.descr + ": the file must end where the array ends");
    v.bytes = size_t(*nbytes);
    v.data = p + v.data_offset;
    return v;
}

result<npy_file> npy_file::open(const std::string& path) {
    auto m = mapped_file::open(path);
    if (!m.ok()) return m.error();
    npy_file f;
    f.file = m.take();
    auto v = parse_npy(f.file.data(), f.file.size(), path);
    if (!v.ok()) return v.error();
    f.view = v.take();
    return f;
}

std::string npy_header(const std::string& descr, const std::vector<int64_t>& shape, uint64_t base_offset) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_repr(shape) + ", }";
    size_t prefix = 10;
    size_t unpadded = prefix + dict.size() + 1;
    if (unpadded > 65535 + 10) prefix = 12, unpadded += 2;
    size_t pad = size_t((64 - (base_offset + unpadded) % 64) % 64);
    size_t hlen = dict.size() + pad + 1;
    std::string h;
    h.reserve(prefix + hlen);
    h.append(reinterpret_cast<const char*>(k_magic), 6);
    h.push_back(char(prefix == 10 ? 1 : 2));
    h.push_back(0);
    h.push_back(char(hlen & 0xff));
    h.push_back(char((hlen >> 8) & 0xff));
    if (prefix == 12) {
        h.push_back(char((hlen >> 16) & 0xff));
        h.push_back(char((hlen >> 24) & 0xff));
    }
    h += dict;
    h.append(pad, ' ');
    h.push_back('\n');
    return h;
}

result<npy_writer> npy_writer::create(const std::string& path, const std::string& descr,
                                      const std::vector<int64_t>& shape) {
    auto nbytes = npy_data_bytes(descr, shape, path);
    if (!nbytes.ok()) return nbytes.error();
    auto out = atomic_output::create(path);
    if (!out.ok()) return out.error();
    npy_writer w;
    w.out_ = out.take();
    w.expected_ = *nbytes;
    std::string h = npy_header(descr, shape, 0);
    DLRM_TRY(w.out_.write(h.data(), h.size()));
    return w;
}

status npy_writer::write(const void* p, size_t n) {
    if (n > expected_ - written_)
        return status::error(out_.path() + ": writing " + std::to_string(n) + " more bytes after " +
                             std::to_string(written_) + ": the array holds only " + std::to_string(expected_));
    DLRM_TRY(out_.write(p, n));
    written_ += n;
    return {};
}

status npy_writer::commit() {
    if (written_ != expected_)
        return status::error(out_.path() + ": " + std::to_string(written_) + " data bytes written: the shape needs exactly " +
                             std::to_string(expected_));
    return out_.commit();
}

status write_npy(const std::string& path, const std::string& descr, const std::vector<int64_t>& shape,
                 const void* data) {
    auto w = npy_writer::create(path, descr, shape);
    if (!w.ok()) return w.error();
    DLRM_TRY(w->write(data, size_t(w->expected_bytes())));
    return w->commit();
}

}  // namespace dlrm

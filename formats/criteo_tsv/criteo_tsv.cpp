#include "formats/criteo_tsv/criteo_tsv.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace dlrm {

namespace {

enum class field_error { none, not_integer, int_range, not_hex, hex_too_long, bad_label };

// A field's text for a message: at most 24 characters, control bytes shown as \xNN.
std::string shown(const char* b, const char* e) {
    static const char hex[] = "0123456789abcdef";
    std::string s = "'";
    size_t n = 0;
    for (const char* c = b; c < e; ++c, ++n) {
        if (n == 24) { s += "..."; break; }
        const unsigned char u = static_cast<unsigned char>(*c);
        if (u < 0x20 || u >= 0x7f) {
            s += "\\x";
            s += hex[u >> 4];
            s += hex[u & 15];
        } else {
            s += char(u);
        }
    }
    return s + "'";
}

status field_failure(int field, const char* b, const char* e, field_error err) {
    std::string rule;
    switch (err) {
        case field_error::not_integer: rule = "not a decimal integer (digits with an optional leading '-', or empty)"; break;
        case field_error::int_range: rule = "out of the int32 range [-2147483648, 2147483647]"; break;
        case field_error::not_hex: rule = "not a hexadecimal hash (1 to 8 digits 0-9a-fA-F, or empty)"; break;
        case field_error::hex_too_long: rule = "more than 8 hex digits: a categorical is a 32-bit hash"; break;
        case field_error::bad_label: rule = "the label must be 0 or 1"; break;
        case field_error::none: break;
    }
    return status::error(criteo_field_name(field) + " " + shown(b, e) + ": " + rule);
}

// Hex digit values, 0xff for anything else.
struct hex_table {
    uint8_t v[256];
    constexpr hex_table() : v() {
        for (int i = 0; i < 256; ++i) v[i] = 0xff;
        for (int i = 0; i < 10; ++i) v['0' + i] = uint8_t(i);
        for (int i = 0; i < 6; ++i) v['a' + i] = v['A' + i] = uint8_t(10 + i);
    }
};
constexpr hex_table k_hex;

inline const char* find_tab(const char* b, const char* e) {
    const void* t = std::memchr(b, '\t', size_t(e - b));
    return t ? static_cast<const char*>(t) : e;
}

int count_fields(const char* b, const char* e) {
    int n = 1;
    for (const char* c = b; c < e; ++c) n += *c == '\t';
    return n;
}

status field_count_failure(int n) {
    return status::error(std::to_string(n) + (n == 1 ? " field" : " fields") +
                         ": a Criteo line has 40 tab-separated fields (label, I1..I13, C1..C26)");
}

// Small counts are almost all of Criteo's dense values: a table makes the transform a load.
constexpr int32_t k_table_lo = -3;
constexpr int32_t k_table_hi = 1 << 16;

double transform_exact(int32_t x, dense_transform t) {
    if (t == dense_transform::log3) return std::log(double(x < -2 ? -2 : x) + 3.0);
    return std::log(double(x < 0 ? 0 : x) + 1.0);
}

std::vector<float> build_table(dense_transform t) {
    std::vector<float> v(size_t(k_table_hi - k_table_lo));
    for (int32_t x = k_table_lo; x < k_table_hi; ++x) v[size_t(x - k_table_lo)] = float(transform_exact(x, t));
    return v;
}

}  // namespace

std::string criteo_field_name(int i) {
    if (i == 0) return "label";
    // Appended rather than "I" + to_string(i): GCC 12 warns (-Wrestrict) on that operator+ (GCC bug 105329).
    std::string name(1, i <= criteo_num_dense ? 'I' : 'C');
    name += std::to_string(i <= criteo_num_dense ? i : i - criteo_num_dense);
    return name;
}

status parse_criteo_tsv_line(const char* p, size_t n, criteo_raw_row& row) {
    const char* end = p + n;
    if (n > 0 && end[-1] == '\r') --end;
    if (p == end) return status::error("empty line: a Criteo line has 40 tab-separated fields (label, I1..I13, C1..C26)");

    // One pass over the bytes: each field is parsed while it is scanned, and the slow paths (field
    // counts, messages) run only on a bad line.
    const char* c = p;
    if (!((*c == '0' || *c == '1') && c + 1 < end && c[1] == '\t')) {
        const char* e = find_tab(p, end);
        if (e == end) return field_count_failure(1);
        return field_failure(0, p, e, field_error::bad_label);
    }
    row.label = *c - '0';
    c += 1;

    for (int i = 0; i < criteo_num_dense; ++i) {
        // Here *c is the tab before field i.
        if (c == end) return field_count_failure(count_fields(p, end));
        const char* b = ++c;
        const bool neg = c < end && *c == '-';
        c += neg;
        const char* digits = c;
        uint64_t v = 0;
        while (c < end) {
            const unsigned d = unsigned(static_cast<unsigned char>(*c)) - '0';
            if (d > 9) break;
            v = v * 10 + d;
            if (v > uint64_t(1) << 32) v = uint64_t(1) << 32;  // saturate: out of range either way
            ++c;
        }
        if ((c < end && *c != '\t') || (neg && c == digits)) {
            const char* e = find_tab(b, end);
            return field_failure(1 + i, b, e, field_error::not_integer);
        }
        if (v > (neg ? uint64_t(2147483648) : uint64_t(2147483647))) return field_failure(1 + i, b, c, field_error::int_range);
        row.dense[i] = neg ? int32_t(-int64_t(v)) : int32_t(v);
    }
    for (int i = 0; i < criteo_num_sparse; ++i) {
        if (c == end) return field_count_failure(count_fields(p, end));
        const char* b = ++c;
        uint32_t v = 0;
        while (c < end) {
            const uint8_t d = k_hex.v[static_cast<unsigned char>(*c)];
            if (d == 0xff) break;
            v = v << 4 | d;
            ++c;
        }
        if (c < end && *c != '\t') {
            const char* e = find_tab(b, end);
            return field_failure(1 + criteo_num_dense + i, b, e, field_error::not_hex);
        }
        if (c - b > 8) return field_failure(1 + criteo_num_dense + i, b, c, field_error::hex_too_long);
        row.sparse[i] = v;
    }
    if (c != end) return field_count_failure(count_fields(p, end));
    return {};
}

status parse_criteo_bin_record(const uint8_t* p, criteo_raw_row& row) {
    auto le32 = [p](int i) {
        const uint8_t* q = p + 4 * i;
        return int32_t(uint32_t(q[0]) | uint32_t(q[1]) << 8 | uint32_t(q[2]) << 16 | uint32_t(q[3]) << 24);
    };
    const int32_t label = le32(0);
    if (label != 0 && label != 1)
        return status::error("label " + std::to_string(label) + ": the label must be 0 or 1");
    row.label = label;
    for (int i = 0; i < criteo_num_dense; ++i) row.dense[i] = le32(1 + i);
    for (int i = 0; i < criteo_num_sparse; ++i) {
        const int32_t id = le32(1 + criteo_num_dense + i);
        if (id < 0)
            return status::error(criteo_field_name(1 + criteo_num_dense + i) + " id " + std::to_string(id) +
                                 ": negative: a .bin id is a non-negative int32");
        row.sparse[i] = uint32_t(id);
    }
    return {};
}

const char* dense_transform_name(dense_transform t) { return t == dense_transform::log3 ? "log3" : "log1p"; }

float transform_dense(int32_t x, dense_transform t) {
    static const std::vector<float> log3_table = build_table(dense_transform::log3);
    static const std::vector<float> log1p_table = build_table(dense_transform::log1p);
    if (x >= k_table_lo && x < k_table_hi)
        return (t == dense_transform::log3 ? log3_table : log1p_table)[size_t(x - k_table_lo)];
    return float(transform_exact(x, t));
}

id_map::id_map(uint32_t max_ind_range) : d_(max_ind_range), m_(max_ind_range ? ~uint64_t(0) / max_ind_range + 1 : 0) {}

}  // namespace dlrm

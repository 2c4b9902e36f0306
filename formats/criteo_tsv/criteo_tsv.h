// Raw Criteo rows: the TSV line parser (Kaggle train.txt, Terabyte day_N), the Facebook .bin record
// decoder, and the two value maps every converted row goes through (dense transform, categorical id).
// The rules are in formats/criteo_tsv/criteo_tsv.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/status.h"

namespace dlrm {

__extension__ typedef unsigned __int128 criteo_u128;  // __extension__: no -Wpedantic warning

constexpr int criteo_num_dense = 13;
constexpr int criteo_num_sparse = 26;
constexpr int criteo_num_fields = 1 + criteo_num_dense + criteo_num_sparse;  // 40
constexpr size_t criteo_bin_record_bytes = 4 * criteo_num_fields;             // 160

// One row as the source holds it, before the dense transform and the id map.
struct criteo_raw_row {
    int32_t label = 0;                    // 0 or 1
    int32_t dense[criteo_num_dense] = {};  // counts; empty → 0; may be negative
    uint32_t sparse[criteo_num_sparse] = {};  // TSV: the 32-bit hash (empty → 0); .bin: the stored id (≥ 0)
};

// Name of field i of a row (0 → "label", 1..13 → "I1".."I13", 14..39 → "C1".."C26").
std::string criteo_field_name(int i);

// Parses one TSV line [p, p + n), without its '\n' (a trailing '\r' is dropped). On failure the
// message names the field, its text and the rule, e.g. "I2 '1x': not a decimal integer"; the caller
// puts the file and line number in front. `row` is unspecified after a failure.
status parse_criteo_tsv_line(const char* p, size_t n, criteo_raw_row& row);

// Decodes one 160-byte .bin record (40 little-endian int32). Fails on a label other than 0/1 or a
// negative id.
status parse_criteo_bin_record(const uint8_t* p, criteo_raw_row& row);

enum class dense_transform {
    log3,   // ln(max(x, -2) + 3): MLPerf / torchrec (x = -2 → 0; clamped so x ≤ -3 cannot give -inf/NaN)
    log1p,  // ln(max(x, 0) + 1): Facebook DLRM
};
const char* dense_transform_name(dense_transform t);  // "log3", "log1p"

// The transformed value: computed in double and rounded once to float (small counts come from a
// table built the same way, so every x maps to one value).
float transform_dense(int32_t x, dense_transform t);

// Categorical hash → id: hash % max_ind_range when max_ind_range > 0 (Facebook's and MLPerf v1's
// rule), else hash % 2^31 so every id is a non-negative int32.
class id_map {
public:
    explicit id_map(uint32_t max_ind_range = 0);
    int32_t operator()(uint32_t hash) const {
        if (d_ == 0) return int32_t(hash & 0x7fffffffu);
        // Lemire's fastmod: exact for every 32-bit hash and divisor (d = 1 gives m = 0 → 0).
        const uint64_t low = m_ * hash;
        return int32_t((criteo_u128(low) * d_) >> 64);
    }
    uint32_t max_ind_range() const { return d_; }

private:
    uint32_t d_ = 0;
    uint64_t m_ = 0;
};

}  // namespace dlrm

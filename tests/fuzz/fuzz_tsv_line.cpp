// libFuzzer target: the raw Criteo row decoders (formats/criteo_tsv/criteo_tsv.cpp): one TSV line
// per input (split at the first '\n' into several lines), the 160-byte .bin record decoder on the
// first bytes, and the dense transform / id map on every value that parsed.
#include <cmath>

#include "formats/criteo_tsv/criteo_tsv.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const char* p = reinterpret_cast<const char*>(data);
    const char* end = p + size;
    static const dlrm::id_map maps[] = {dlrm::id_map(0), dlrm::id_map(1), dlrm::id_map(10000000), dlrm::id_map(40000000),
                                        dlrm::id_map(0x80000000u)};  // the converter refuses > 2^31
    while (p <= end) {
        const char* nl = static_cast<const char*>(std::memchr(p, '\n', size_t(end - p)));
        const char* e = nl ? nl : end;
        dlrm::criteo_raw_row row;
        if (dlrm::parse_criteo_tsv_line(p, size_t(e - p), row).ok()) {
            if (row.label != 0 && row.label != 1) __builtin_trap();
            for (int32_t x : row.dense)
                for (auto t : {dlrm::dense_transform::log3, dlrm::dense_transform::log1p})
                    if (!std::isfinite(dlrm::transform_dense(x, t))) __builtin_trap();
            for (uint32_t h : row.sparse)
                for (const auto& m : maps) {
                    int32_t id = m(h);
                    if (id < 0 || (m.max_ind_range() && uint32_t(id) >= m.max_ind_range())) __builtin_trap();
                    if (m.max_ind_range() && uint32_t(id) != h % m.max_ind_range()) __builtin_trap();
                }
        }
        if (!nl) break;
        p = nl + 1;
    }
    if (size >= dlrm::criteo_bin_record_bytes) {
        dlrm::criteo_raw_row row;
        if (dlrm::parse_criteo_bin_record(data, row).ok()) {
            if (row.label != 0 && row.label != 1) __builtin_trap();
            for (uint32_t id : row.sparse) if (id > 0x7fffffffu) __builtin_trap();
        }
    }
    return 0;
}

// libFuzzer target: the zip directory reader and .npz members (formats/zip/zip_reader.cpp,
// formats/zip/npz.cpp's member path: stored member → parse_npy).
#include "formats/npy/npy.h"
#include "formats/zip/zip_reader.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto z = dlrm::zip_reader::parse(data, size, "fuzz.npz");
    if (!z.ok()) return 0;
    for (const auto& m : z->members()) {
        if (m.data_offset > size || m.compressed_size > size - m.data_offset || m.data != data + m.data_offset)
            __builtin_trap();
        (void)dlrm::zip_method_name(m.method);
        if (z->find(m.name) == nullptr) __builtin_trap();
        auto s = z->stored(m.name);
        if (!s.ok()) continue;
        dlrm_fuzz::touch((*s)->data, size_t((*s)->compressed_size));
        (void)z->verify_crc(**s);
        auto v = dlrm::parse_npy((*s)->data, size_t((*s)->compressed_size), "fuzz.npz member " + m.name);
        if (v.ok()) dlrm_fuzz::touch(v->data, v->bytes);
    }
    return 0;
}

// libFuzzer target: the .npy reader over bytes in memory (formats/npy/npy.cpp).
#include "formats/npy/npy.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto v = dlrm::parse_npy(data, size, "fuzz.npy");
    if (!v.ok()) return 0;
    // The view must describe bytes inside the input and agree with its own shape.
    if (v->data_offset > size || v->bytes != size - v->data_offset || v->data != data + v->data_offset) __builtin_trap();
    if (uint64_t(v->elements()) * uint64_t(v->itemsize) != v->bytes) __builtin_trap();
    dlrm_fuzz::touch(v->data, v->bytes);
    (void)v->shape_text();
    // The header we would write for this array must parse back to the same descr and shape.
    std::string h = dlrm::npy_header(v->descr, v->shape);
    auto back = dlrm::parse_npy(reinterpret_cast<const uint8_t*>(h.data()), h.size(), "rewritten.npy");
    if (v->bytes == 0 && (!back.ok() || back->descr != v->descr || back->shape != v->shape)) __builtin_trap();
    return 0;
}

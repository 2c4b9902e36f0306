// libFuzzer target: the .dlrm weight-file reader (formats/weights/): header, metadata JSON, tensor
// table, checksums. Goes through weights_file::open on a real file, as the command line does.
// Each input is opened twice: as it is, and with the file size, metadata checksum and header checksum
// recomputed (when the metadata range lies inside the input), so mutations of the metadata JSON and
// the tensor table get past the checksums and reach the validation behind them.
#include <vector>

#include "formats/weights/weights_header.h"
#include "formats/weights/weights_file.h"
#include "formats/weights/xxhash64.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

void check(const uint8_t* data, size_t size, dlrm::verify_on_open v) {
    const std::string path = dlrm_fuzz::write_file("model.dlrm", data, size);
    auto w = dlrm::weights_file::open(path, v);
    if (!w.ok()) return;
    for (const auto& t : w->tensors()) {
        // Every tensor the reader accepted lies inside the file and has the bytes its shape needs.
        if (t.offset > w->file_bytes() || t.bytes > w->file_bytes() - t.offset) __builtin_trap();
        auto b = dlrm::tensor_bytes(t.type, t.shape);
        if (!b.ok() || *b != t.bytes) __builtin_trap();
        if (w->find(t.name) == nullptr) __builtin_trap();
        dlrm_fuzz::touch(w->data(t), size_t(t.bytes));
    }
    (void)w->model().dump();
    (void)w->verify_all();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    check(data, size, dlrm::verify_on_open::all);
    if (size < dlrm::k_weights_header_bytes) return 0;
    std::vector<uint8_t> f(data, data + size);
    const uint64_t meta_off = dlrm::get_le64(f.data() + 16), meta_bytes = dlrm::get_le64(f.data() + 24);
    dlrm::put_le64(f.data() + 32, size);  // file_bytes
    if (meta_off <= size && meta_bytes <= size - meta_off)
        dlrm::put_le64(f.data() + 40, dlrm::xxh64(f.data() + meta_off, size_t(meta_bytes)));
    dlrm::put_le64(f.data() + 56, dlrm::xxh64(f.data(), 56));
    check(f.data(), f.size(), dlrm::verify_on_open::none);
    return 0;
}

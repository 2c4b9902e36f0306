// libFuzzer target: the safe pickle machine alone (formats/torch/pickle_reader.cpp), the part of
// the checkpoint importer that interprets hostile bytes. fuzz_torch_checkpoint covers it inside zips.
#include "formats/torch/pickle_reader.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto d = dlrm::read_pickle(data, size, "fuzz.pkl");
    if (!d.ok()) return 0;
    if (d->root >= d->values.size()) __builtin_trap();
    // Every reference between values stays inside the arena.
    for (const auto& v : d->values) {
        for (uint32_t i : v.items) if (i >= d->values.size()) __builtin_trap();
        if (v.kind == dlrm::pickle_kind::tensor && v.tensor.storage >= d->values.size()) __builtin_trap();
    }
    (void)dlrm::pickle_repr(*d, d->root);
    (void)dlrm::pickle_repr(*d, d->root, 4096);
    for (uint32_t i = 0; i < d->values.size() && i < 64; ++i) (void)dlrm::pickle_repr(*d, i);
    return 0;
}

// libFuzzer target: torch.save checkpoints (formats/torch/torch_checkpoint.cpp): zip archive,
// byteorder, data.pkl through the safe pickle reader, state_dict discovery and tensor views; every
// tensor the reader accepts is then streamed and converted as `dlrm import` does.
#include "formats/torch/torch_checkpoint.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)dlrm::is_legacy_torch_file(data, size);
    const std::string path = dlrm_fuzz::write_file("model.pt", data, size);
    auto c = dlrm::torch_checkpoint::open(path);
    if (!c.ok()) return 0;
    const uint8_t* lo = c->file().data();
    const uint8_t* hi = lo + c->file().size();
    for (const auto& [name, t] : c->tensors()) {
        if (t.numel() < 0) __builtin_trap();
        if (t.numel() > 0 && (t.storage < lo || t.storage > hi)) __builtin_trap();
        if (t.contiguous() && t.numel() > 0 && (t.data() < lo || t.bytes() > uint64_t(hi - t.data()))) __builtin_trap();
        uint64_t streamed = 0;
        auto st = dlrm::stream_torch_tensor(t, t.type, name, [&](const void* p, size_t n) {
            dlrm_fuzz::touch(static_cast<const uint8_t*>(p), n);
            streamed += n;
            return dlrm::status{};
        });
        if (st.ok() && streamed != t.bytes()) __builtin_trap();  // a same-type copy hands over every byte
        if (t.numel() <= (1 << 20)) (void)dlrm::torch_tensor_to_f32(t, name);
    }
    return 0;
}

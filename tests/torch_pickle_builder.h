// Hand assembly of pickle opcode streams for the torch checkpoint tests (test_pickle.cpp,
// test_torch_checkpoint.cpp): the bytes are spelled out opcode by opcode, as pickletools shows them.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace dlrm::test {

struct pickle_builder {
    std::vector<uint8_t> b;

    pickle_builder& op(uint8_t o) { b.push_back(o); return *this; }
    pickle_builder& u8(uint8_t v) { b.push_back(v); return *this; }
    pickle_builder& le(uint64_t v, int n) {
        for (int i = 0; i < n; ++i) b.push_back(uint8_t(v >> (8 * i)));
        return *this;
    }
    pickle_builder& proto(uint8_t v = 2) { return op(0x80).u8(v); }
    pickle_builder& mark() { return op('('); }
    pickle_builder& str(const std::string& s) {  // BINUNICODE
        op('X').le(s.size(), 4);
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    pickle_builder& short_str(const std::string& s) {  // SHORT_BINUNICODE (protocol 4)
        op(0x8c).u8(uint8_t(s.size()));
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    pickle_builder& int1(uint8_t v) { return op('K').u8(v); }
    pickle_builder& int2(uint16_t v) { return op('M').le(v, 2); }
    pickle_builder& int4(int32_t v) { return op('J').le(uint32_t(v), 4); }
    pickle_builder& global(const std::string& module, const std::string& name) {
        op('c');
        b.insert(b.end(), module.begin(), module.end());
        b.push_back('\n');
        b.insert(b.end(), name.begin(), name.end());
        b.push_back('\n');
        return *this;
    }
    pickle_builder& put(uint8_t k) { return op('q').u8(k); }
    pickle_builder& get(uint8_t k) { return op('h').u8(k); }
    pickle_builder& stop() { return op('.'); }

    // torch's spelling of a tensor (torch 1.13, protocol 2): _rebuild_tensor_v2((storage pid), offset,
    // size, stride, False, OrderedDict()). size / stride of rank 1..3.
    pickle_builder& tensor(const std::string& storage_type, const std::string& key, int64_t numel, int64_t offset,
                           const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
        global("torch._utils", "_rebuild_tensor_v2");
        mark();
        mark().str("storage").global("torch", storage_type).str(key).str("cpu").int4(int32_t(numel)).op('t').op('Q');
        int4(int32_t(offset));
        for (const auto* v : {&size, &stride}) {
            for (int64_t x : *v) int4(int32_t(x));
            op(uint8_t(0x84 + v->size()));  // TUPLE1..3
        }
        op(0x89);  // NEWFALSE
        global("collections", "OrderedDict").op(')').op('R');
        op('t').op('R');
        return *this;
    }
};

// A complete state_dict pickle: OrderedDict {name_i: float32 tensor over storage key_i}.
struct tensor_entry {
    std::string name, storage_type, key;
    int64_t numel, offset;
    std::vector<int64_t> size, stride;
};
inline std::vector<uint8_t> state_dict_pickle(const std::vector<tensor_entry>& ts, const std::string& wrap_key = "") {
    pickle_builder p;
    p.proto();
    if (!wrap_key.empty()) p.op('}').mark().str(wrap_key);
    p.global("collections", "OrderedDict").op(')').op('R').put(0).mark();
    for (const auto& t : ts) p.str(t.name).tensor(t.storage_type, t.key, t.numel, t.offset, t.size, t.stride);
    p.op('u');
    if (!wrap_key.empty()) p.str("epoch").int1(7).op('u');
    p.stop();
    return p.b;
}

}  // namespace dlrm::test

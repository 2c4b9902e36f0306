#include "formats/torch/torch_checkpoint.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace dlrm {

namespace {

constexpr size_t k_direct_piece = size_t(64) << 20;  // in-place pieces handed to the sink
constexpr size_t k_buffer_bytes = size_t(4) << 20;   // conversion / gather buffer

std::string shape_text(const std::vector<int64_t>& s) {
    std::string out = "(";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + (s.size() == 1 ? ",)" : ")");
}

float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);  // inf / nan
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else {  // subnormal: normalize
        int e = -1;
        do { ++e; man <<= 1; } while ((man & 0x400u) == 0);
        bits = sign | (uint32_t(112 - e) << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

float to_f32(const uint8_t* src, torch_dtype in) {
    switch (in) {
        case torch_dtype::f16: {
            uint16_t h;
            std::memcpy(&h, src, 2);
            return f16_to_f32(h);
        }
        case torch_dtype::bf16: {
            uint16_t h;
            std::memcpy(&h, src, 2);
            const uint32_t bits = uint32_t(h) << 16;
            float f;
            std::memcpy(&f, &bits, 4);
            return f;
        }
        case torch_dtype::f64: {
            double d;
            std::memcpy(&d, src, 8);
            return float(d);
        }
        default: {
            float f;
            std::memcpy(&f, src, 4);
            return f;
        }
    }
}

bool is_float(torch_dtype t) {
    return t == torch_dtype::f32 || t == torch_dtype::f16 || t == torch_dtype::bf16 || t == torch_dtype::f64;
}

std::string trimmed(const zip_member& m) {
    std::string s(reinterpret_cast<const char*>(m.data), size_t(std::min<uint64_t>(m.compressed_size, 64)));
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

int64_t torch_tensor::numel() const {
    int64_t n = 1;
    for (int64_t s : size) n *= s;  // cannot overflow: make_torch_tensor checked the product
    return n;
}

bool torch_tensor::contiguous() const {
    int64_t expect = 1;
    for (size_t i = size.size(); i-- > 0;) {
        if (size[i] != 1 && stride[i] != expect) return numel() == 0;
        expect *= size[i];
    }
    return true;
}

result<torch_tensor> make_torch_tensor(torch_dtype t, std::vector<int64_t> size, std::vector<int64_t> stride,
                                       int64_t offset, const uint8_t* storage, uint64_t storage_elems,
                                       const std::string& what) {
    auto bad = [&](const std::string& rule) {
        return status::error(what + ": size " + shape_text(size) + ", stride " + shape_text(stride) + ", offset " +
                             std::to_string(offset) + ": " + rule);
    };
    if (size.size() != stride.size()) return bad("size and stride have different ranks");
    if (size.size() > k_pickle_max_rank) return bad("more than " + std::to_string(k_pickle_max_rank) + " dimensions");
    if (offset < 0) return bad("negative storage offset");
    int64_t numel = 1, last = offset;
    for (size_t i = 0; i < size.size(); ++i) {
        if (size[i] < 0 || stride[i] < 0) return bad("negative size or stride");
        if (__builtin_mul_overflow(numel, size[i], &numel)) return bad("the element count overflows 64 bits");
    }
    if (numel > 0) {
        for (size_t i = 0; i < size.size(); ++i) {
            int64_t reach;
            if (__builtin_mul_overflow(size[i] - 1, stride[i], &reach) || __builtin_add_overflow(last, reach, &last))
                return bad("the last element's offset overflows 64 bits");
        }
        if (uint64_t(last) >= storage_elems)
            return bad("reaches element " + std::to_string(last) + " of a storage of " + std::to_string(storage_elems) +
                       " elements");
    }
    torch_tensor out;
    out.type = t;
    out.size = std::move(size);
    out.stride = std::move(stride);
    out.offset = offset;
    out.storage = storage;
    return out;
}

status stream_torch_tensor(const torch_tensor& t, torch_dtype out, const std::string& what,
                           const std::function<status(const void* p, size_t bytes)>& sink) {
    const bool same = out == t.type;
    if (!same && !(out == torch_dtype::f32 && is_float(t.type)))
        return status::error(what + ": dtype " + torch_dtype_name(t.type) + ": cannot be converted to " +
                             torch_dtype_name(out) + " (only float16, bfloat16 and float64 convert to float32)");
    const size_t in_size = torch_dtype_size(t.type), out_size = torch_dtype_size(out);
    const int64_t n = t.numel();
    if (n == 0) return {};
    if (same && t.contiguous()) {
        // In place from the mapped archive: the table is read once, by the writer.
        const uint8_t* p = t.data();
        uint64_t left = t.bytes();
        const size_t piece = k_direct_piece / in_size * in_size;
        while (left > 0) {
            const size_t k = size_t(std::min<uint64_t>(left, piece));
            DLRM_TRY(sink(p, k));
            p += k;
            left -= k;
        }
        return {};
    }
    std::vector<uint8_t> buf(k_buffer_bytes);
    const size_t cap = k_buffer_bytes / out_size;
    size_t used = 0;
    auto put = [&](const uint8_t* src) -> status {
        uint8_t* dst = buf.data() + used * out_size;
        if (same) {
            std::memcpy(dst, src, in_size);
        } else {
            const float f = to_f32(src, t.type);
            std::memcpy(dst, &f, 4);
        }
        if (++used == cap) {
            used = 0;
            return sink(buf.data(), cap * out_size);
        }
        return {};
    };
    if (t.contiguous()) {
        const uint8_t* p = t.data();
        for (int64_t i = 0; i < n; ++i) DLRM_TRY(put(p + uint64_t(i) * in_size));
    } else {
        // C-order walk: the innermost dimension in a loop, the outer ones as an odometer.
        const size_t rank = t.size.size();
        const int64_t inner = t.size[rank - 1], inner_stride = t.stride[rank - 1];
        std::vector<int64_t> idx(rank - 1, 0);
        while (true) {
            int64_t base = t.offset;
            for (size_t d = 0; d + 1 < rank; ++d) base += idx[d] * t.stride[d];
            for (int64_t j = 0; j < inner; ++j) DLRM_TRY(put(t.storage + uint64_t(base + j * inner_stride) * in_size));
            bool carry = true;
            for (size_t d = rank - 1; d > 0 && carry;) {
                --d;
                if (++idx[d] < t.size[d]) carry = false;
                else idx[d] = 0;
            }
            if (carry) break;
        }
    }
    if (used > 0) DLRM_TRY(sink(buf.data(), used * out_size));
    return {};
}

result<std::vector<float>> torch_tensor_to_f32(const torch_tensor& t, const std::string& what) {
    std::vector<float> out;
    out.reserve(size_t(t.numel()));
    status s = stream_torch_tensor(t, torch_dtype::f32, what, [&](const void* p, size_t bytes) -> status {
        const float* f = static_cast<const float*>(p);
        out.insert(out.end(), f, f + bytes / 4);
        return {};
    });
    if (!s.ok()) return s;
    return out;
}

bool is_legacy_torch_file(const uint8_t* p, size_t n) {
    // PROTO 2, LONG1 of 10 bytes: the magic number 0x1950a86a20f9469cfc6c, little-endian.
    static const uint8_t magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    return n >= sizeof magic && std::memcmp(p, magic, sizeof magic) == 0;
}

result<torch_checkpoint> torch_checkpoint::open(const std::string& path) {
    auto mf = mapped_file::open(path);
    if (!mf.ok()) return mf.error();
    torch_checkpoint c;
    c.map_ = mf.take();
    const uint8_t* p = c.map_.data();
    const size_t n = c.map_.size();
    if (is_legacy_torch_file(p, n))
        return status::error(path + ": the pre-1.6 torch.save format (a bare pickle stream): not supported: "
                             "re-save it under PyTorch >= 1.6 with torch.save(torch.load(path), path) "
                             "(the default, _use_new_zipfile_serialization=True)");
    if (n >= 1 && p[0] == 0x80)
        return status::error(path + ": a bare pickle, not a torch.save archive: not supported: save the "
                             "state_dict with torch.save(model.state_dict(), path) under PyTorch >= 1.6");
    if (n < 4 || std::memcmp(p, "PK\x03\x04", 4) != 0)
        return status::error(path + ": not a zip archive (no 'PK\\x03\\x04' signature): torch.save (PyTorch >= 1.6) "
                             "writes zip archives; is this a torch checkpoint?");
    auto zr = zip_reader::parse(p, n, path);
    if (!zr.ok()) return zr.error();
    const zip_reader& z = *zr;

    // The archive's records share one top folder, named after the file when it was saved.
    const zip_member* pkl = nullptr;
    for (const auto& m : z.members()) {
        const size_t slash = m.name.find('/');
        if (slash == std::string::npos || m.name.substr(slash) != "/data.pkl") continue;
        if (pkl) return status::error(path + ": two pickles ('" + pkl->name + "', '" + m.name + "'): a torch.save archive has one <name>/data.pkl");
        pkl = &m;
    }
    if (!pkl) {
        for (const auto& m : z.members())
            if (m.name.size() >= 14 && m.name.substr(m.name.size() - 14) == "/constants.pkl")
                return status::error(path + ": a TorchScript archive (torch.jit.save): not supported: save the "
                                     "weights with torch.save(model.state_dict(), path)");
        return status::error(path + ": no <name>/data.pkl record: not a torch.save archive");
    }
    c.prefix_ = pkl->name.substr(0, pkl->name.find('/'));
    if (const zip_member* bo = z.find(c.prefix_ + "/byteorder")) {
        DLRM_TRY(z.check_stored(*bo));
        const std::string order = trimmed(*bo);
        if (order != "little")
            return status::error(path + ": byteorder '" + order + "': only little-endian checkpoints are supported");
    }
    if (const zip_member* v = z.find(c.prefix_ + "/version")) {
        DLRM_TRY(z.check_stored(*v));
        c.version_ = trimmed(*v);
    }
    DLRM_TRY(z.check_stored(*pkl));
    auto doc_r = read_pickle(pkl->data, size_t(pkl->compressed_size), path + ": data.pkl");
    if (!doc_r.ok()) return doc_r.error();
    const pickle_document& doc = *doc_r;

    const pickle_value& root = doc.at(doc.root);
    if (root.kind != pickle_kind::dict)
        return status::error(path + ": data.pkl: the saved object is " + pickle_repr(doc, doc.root) +
                             ": expected a state_dict (a dict of tensors) or a dict holding one");
    auto has_tensor = [&](const pickle_value& d) {
        for (size_t i = 1; i < d.items.size(); i += 2)
            if (doc.at(d.items[i]).kind == pickle_kind::tensor) return true;
        return false;
    };
    const pickle_value* sd = nullptr;
    for (size_t i = 0; i + 1 < root.items.size(); i += 2) {
        const pickle_value& k = doc.at(root.items[i]);
        c.top_keys_.push_back(k.kind == pickle_kind::string ? k.s : pickle_repr(doc, root.items[i]));
    }
    if (has_tensor(root)) {
        sd = &root;
    } else {
        for (const char* key : {"state_dict", "model_state_dict", "model", "module", "state"}) {
            for (size_t i = 0; i + 1 < root.items.size() && !sd; i += 2) {
                const pickle_value& k = doc.at(root.items[i]);
                const pickle_value& v = doc.at(root.items[i + 1]);
                if (k.kind == pickle_kind::string && k.s == key && v.kind == pickle_kind::dict && has_tensor(v)) {
                    sd = &v;
                    c.sd_key_ = key;
                }
            }
            if (sd) break;
        }
    }
    if (!sd) {
        std::string keys;
        for (size_t i = 0; i < c.top_keys_.size() && i < 12; ++i) keys += (i ? ", '" : "'") + c.top_keys_[i] + "'";
        return status::error(path + ": no state_dict: the saved dict (keys " + (keys.empty() ? "none" : keys) +
                             ") holds no tensors and no dict of tensors under 'state_dict', 'model_state_dict', "
                             "'model', 'module' or 'state'");
    }

    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i + 1 < sd->items.size(); i += 2) {
        const pickle_value& k = doc.at(sd->items[i]);
        const pickle_value& v = doc.at(sd->items[i + 1]);
        if (k.kind != pickle_kind::string)
            return status::error(path + ": state_dict key " + pickle_repr(doc, sd->items[i]) + ": expected a string");
        if (v.kind != pickle_kind::tensor) {
            c.others_.push_back(k.s);
            continue;
        }
        const std::string what = path + ": tensor '" + k.s + "'";
        const pickle_value& st = doc.at(v.tensor.storage);
        const std::string member = c.prefix_ + "/data/" + st.s;
        auto m = z.stored(member);
        if (!m.ok()) {
            if (!z.find(member))
                return status::error(what + ": storage record '" + member + "' is missing from the archive (truncated?)");
            return m.error();
        }
        const uint64_t esize = torch_dtype_size(st.storage_type);
        const uint64_t elems = uint64_t(st.i);
        if (elems > (*m)->compressed_size / esize)
            return status::error(what + ": storage '" + member + "' of " + std::to_string(elems) + " " +
                                 torch_dtype_name(st.storage_type) + " elements needs " + std::to_string(elems * esize) +
                                 " bytes: the record has " + std::to_string((*m)->compressed_size));
        auto t = make_torch_tensor(st.storage_type, v.tensor.size, v.tensor.stride, v.tensor.offset, (*m)->data, elems, what);
        if (!t.ok()) return t.error();
        t->storage_key = st.s;
        auto it = index.find(k.s);
        if (it != index.end()) {
            c.tensors_[it->second].second = t.take();  // a later equal key wins, as in Python
        } else {
            index.emplace(k.s, c.tensors_.size());
            c.tensors_.emplace_back(k.s, t.take());
        }
    }
    return c;
}

}  // namespace dlrm

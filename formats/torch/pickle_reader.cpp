#include "formats/torch/pickle_reader.h"

#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <utility>

namespace dlrm {

const char* torch_dtype_name(torch_dtype t) {
    switch (t) {
        case torch_dtype::f32: return "float32";
        case torch_dtype::f16: return "float16";
        case torch_dtype::bf16: return "bfloat16";
        case torch_dtype::f64: return "float64";
        case torch_dtype::i64: return "int64";
        case torch_dtype::i32: return "int32";
        case torch_dtype::i16: return "int16";
        case torch_dtype::i8: return "int8";
        case torch_dtype::u8: return "uint8";
        case torch_dtype::boolean: return "bool";
    }
    return "?";
}

size_t torch_dtype_size(torch_dtype t) {
    switch (t) {
        case torch_dtype::f64:
        case torch_dtype::i64: return 8;
        case torch_dtype::f32:
        case torch_dtype::i32: return 4;
        case torch_dtype::f16:
        case torch_dtype::bf16:
        case torch_dtype::i16: return 2;
        case torch_dtype::i8:
        case torch_dtype::u8:
        case torch_dtype::boolean: return 1;
    }
    return 1;
}

namespace {

struct allowed_global {
    const char* name;  // "module qualname", as GLOBAL spells it
    pickle_callable callable;
    torch_dtype storage = torch_dtype::f32;
};

// The whole list: anything else is refused by name (FACTS.md §1).
const allowed_global k_allowed[] = {
    {"collections OrderedDict", pickle_callable::ordered_dict},
    {"torch._utils _rebuild_tensor_v2", pickle_callable::rebuild_tensor_v2},
    {"torch._utils _rebuild_parameter", pickle_callable::rebuild_parameter},
    {"torch FloatStorage", pickle_callable::storage_type, torch_dtype::f32},
    {"torch HalfStorage", pickle_callable::storage_type, torch_dtype::f16},
    {"torch BFloat16Storage", pickle_callable::storage_type, torch_dtype::bf16},
    {"torch DoubleStorage", pickle_callable::storage_type, torch_dtype::f64},
    {"torch LongStorage", pickle_callable::storage_type, torch_dtype::i64},
    {"torch IntStorage", pickle_callable::storage_type, torch_dtype::i32},
    {"torch ShortStorage", pickle_callable::storage_type, torch_dtype::i16},
    {"torch CharStorage", pickle_callable::storage_type, torch_dtype::i8},
    {"torch ByteStorage", pickle_callable::storage_type, torch_dtype::u8},
    {"torch BoolStorage", pickle_callable::storage_type, torch_dtype::boolean},
    {"torch device", pickle_callable::torch_device},
    {"torch Size", pickle_callable::torch_size},
    {"numpy.core.multiarray scalar", pickle_callable::numpy_scalar},
    {"numpy._core.multiarray scalar", pickle_callable::numpy_scalar},
    {"numpy dtype", pickle_callable::numpy_dtype},
    {"_codecs encode", pickle_callable::codecs_encode},
};

const char* opcode_name(uint8_t op) {
    switch (op) {
        case 0x80: return "PROTO";
        case 0x95: return "FRAME";
        case '.': return "STOP";
        case '(': return "MARK";
        case '}': return "EMPTY_DICT";
        case ']': return "EMPTY_LIST";
        case ')': return "EMPTY_TUPLE";
        case 'N': return "NONE";
        case 0x88: return "NEWTRUE";
        case 0x89: return "NEWFALSE";
        case 'J': return "BININT";
        case 'K': return "BININT1";
        case 'M': return "BININT2";
        case 0x8a: return "LONG1";
        case 0x8b: return "LONG4";
        case 'G': return "BINFLOAT";
        case 'X': return "BINUNICODE";
        case 0x8c: return "SHORT_BINUNICODE";
        case 0x8d: return "BINUNICODE8";
        case 'U': return "SHORT_BINSTRING";
        case 'T': return "BINSTRING";
        case 'C': return "SHORT_BINBYTES";
        case 'B': return "BINBYTES";
        case 't': return "TUPLE";
        case 0x85: return "TUPLE1";
        case 0x86: return "TUPLE2";
        case 0x87: return "TUPLE3";
        case 'l': return "LIST";
        case 'd': return "DICT";
        case 'a': return "APPEND";
        case 'e': return "APPENDS";
        case 's': return "SETITEM";
        case 'u': return "SETITEMS";
        case 'q': return "BINPUT";
        case 'r': return "LONG_BINPUT";
        case 0x94: return "MEMOIZE";
        case 'h': return "BINGET";
        case 'j': return "LONG_BINGET";
        case 'c': return "GLOBAL";
        case 0x93: return "STACK_GLOBAL";
        case 'R': return "REDUCE";
        case 'b': return "BUILD";
        case 'Q': return "BINPERSID";
        case 'P': return "PERSID";
        case '0': return "POP";
        case '1': return "POP_MARK";
        case '2': return "DUP";
        case 'i': return "INST";
        case 'o': return "OBJ";
        case 0x81: return "NEWOBJ";
        case 0x92: return "NEWOBJ_EX";
        case 0x82: return "EXT1";
        case 0x83: return "EXT2";
        case 0x84: return "EXT4";
        case 'I': return "INT";
        case 'L': return "LONG";
        case 'F': return "FLOAT";
        case 'S': return "STRING";
        case 'V': return "UNICODE";
        case 'p': return "PUT";
        case 'g': return "GET";
        case 0x8f: return "EMPTY_SET";
        case 0x90: return "ADDITEMS";
        case 0x91: return "FROZENSET";
        case 0x96: return "BYTEARRAY8";
        case 0x97: return "NEXT_BUFFER";
        case 0x98: return "READONLY_BUFFER";
        case 0x8e: return "BINBYTES8";
    }
    return "unknown";
}

// Printable form of untrusted text for messages: control and non-ASCII bytes as \xNN, bounded.
std::string printable(const std::string& s, size_t max = 80) {
    std::string out;
    for (size_t i = 0; i < s.size() && out.size() < max; ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '\'') {
            out += char(c);
        } else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", unsigned(c));
            out += b;
        }
    }
    if (out.size() >= max) out += "...";
    return out;
}

const char* kind_name(pickle_kind k) {
    switch (k) {
        case pickle_kind::none: return "None";
        case pickle_kind::boolean: return "bool";
        case pickle_kind::integer: return "int";
        case pickle_kind::floating: return "float";
        case pickle_kind::string: return "str";
        case pickle_kind::bytes: return "bytes";
        case pickle_kind::tuple: return "tuple";
        case pickle_kind::list: return "list";
        case pickle_kind::dict: return "dict";
        case pickle_kind::global: return "global";
        case pickle_kind::storage: return "storage";
        case pickle_kind::tensor: return "tensor";
        case pickle_kind::opaque: return "object";
    }
    return "?";
}

class machine {
public:
    machine(const uint8_t* p, size_t n, const std::string& where) : p_(p), n_(n), where_(where) {}

    result<pickle_document> run() {
        if (n_ == 0) return status::error(where_ + ": empty: a pickle needs at least a STOP opcode");
        while (true) {
            if (pos_ >= n_) return err_at(n_, "the pickle ends before its STOP opcode (truncated?)");
            op_pos_ = pos_;
            op_ = p_[pos_++];
            if (op_ == '.') {
                if (stack_.size() != 1 || !marks_.empty())
                    return err("STOP with " + std::to_string(stack_.size()) + " values on the stack and " +
                               std::to_string(marks_.size()) + " open marks: a pickle ends with exactly one value");
                doc_.root = stack_.back();
                return std::move(doc_);
            }
            status s = step();
            if (!s.ok()) return s;
        }
    }

private:
    status err_at(size_t at, const std::string& rule) const {
        return status::error(where_ + ": offset " + std::to_string(at) + ": " + rule);
    }
    status err(const std::string& rule) const {
        char b[8];
        std::snprintf(b, sizeof b, "0x%02x", unsigned(op_));
        return status::error(where_ + ": offset " + std::to_string(op_pos_) + ": opcode " + b + " (" +
                             opcode_name(op_) + "): " + rule);
    }

    status need(size_t k) const {
        if (k > n_ - pos_)
            return err("needs " + std::to_string(k) + " bytes of argument, " + std::to_string(n_ - pos_) +
                       " left (truncated?)");
        return {};
    }
    uint64_t rd_le(size_t k) {
        uint64_t v = 0;
        for (size_t i = 0; i < k; ++i) v |= uint64_t(p_[pos_ + i]) << (8 * i);
        pos_ += k;
        return v;
    }

    result<uint32_t> add(pickle_value v) {
        if (doc_.values.size() >= k_pickle_max_values)
            return err("more than " + std::to_string(k_pickle_max_values) + " values: too many for a checkpoint");
        doc_.values.push_back(std::move(v));
        return uint32_t(doc_.values.size() - 1);
    }
    status push(pickle_value v) {
        auto i = add(std::move(v));
        if (!i.ok()) return i.error();
        stack_.push_back(*i);
        return {};
    }
    status push_kind(pickle_kind k) {
        pickle_value v;
        v.kind = k;
        return push(std::move(v));
    }
    // The stack above the innermost mark (a MARK leaves no value on the stack; it records a position).
    size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    result<uint32_t> pop() {
        if (stack_.size() <= floor()) return err("the stack is empty (above the last MARK)");
        uint32_t v = stack_.back();
        stack_.pop_back();
        return v;
    }
    result<std::vector<uint32_t>> pop_mark() {
        if (marks_.empty()) return err("no MARK to pop to");
        const size_t m = marks_.back();
        marks_.pop_back();
        std::vector<uint32_t> items(stack_.begin() + std::ptrdiff_t(m), stack_.end());
        stack_.resize(m);
        return items;
    }
    pickle_value& val(uint32_t i) { return doc_.values[i]; }

    status push_string(size_t len, pickle_kind k) {
        DLRM_TRY(need(len));
        pickle_value v;
        v.kind = k;
        v.s.assign(reinterpret_cast<const char*>(p_ + pos_), len);
        pos_ += len;
        return push(std::move(v));
    }

    status memo_put(uint64_t key) {
        if (stack_.size() <= floor()) return err("nothing on the stack to memoize");
        if (memo_.size() >= k_pickle_max_memo && memo_.find(key) == memo_.end())
            return err("more than " + std::to_string(k_pickle_max_memo) + " memo entries");
        memo_[key] = stack_.back();
        return {};
    }
    status memo_get(uint64_t key) {
        auto it = memo_.find(key);
        if (it == memo_.end()) return err("memo key " + std::to_string(key) + " was never stored");
        stack_.push_back(it->second);
        return {};
    }

    status make_tuple(std::vector<uint32_t> items) {
        pickle_value v;
        v.kind = pickle_kind::tuple;
        v.items = std::move(items);
        return push(std::move(v));
    }

    status global(const std::string& module, const std::string& name) {
        const std::string full = module + " " + name;
        for (const auto& g : k_allowed) {
            if (full == g.name) {
                pickle_value v;
                v.kind = pickle_kind::global;
                v.callable = g.callable;
                v.storage_type = g.storage;
                v.s = full;
                return push(std::move(v));
            }
        }
        return status::error(where_ + ": global '" + printable(full) +
                             "' is not allowed: a checkpoint may only reference tensor and container types; "
                             "refusing to load it");
    }

    status append_items(uint32_t list, const std::vector<uint32_t>& items) {
        pickle_value& l = val(list);
        if (l.kind != pickle_kind::list) return err(std::string("appending to a ") + kind_name(l.kind) + ": only lists take items");
        l.items.insert(l.items.end(), items.begin(), items.end());
        return {};
    }
    status set_items(uint32_t dict, const std::vector<uint32_t>& kv) {
        pickle_value& d = val(dict);
        if (d.kind != pickle_kind::dict) return err(std::string("setting items of a ") + kind_name(d.kind) + ": only dicts take items");
        if (kv.size() % 2 != 0) return err("an odd number of values (" + std::to_string(kv.size()) + ") for key/value pairs");
        d.items.insert(d.items.end(), kv.begin(), kv.end());
        return {};
    }

    result<int64_t> int_arg(uint32_t v, const char* what) const {
        const pickle_value& x = doc_.values[v];
        if (x.kind != pickle_kind::integer) return err(std::string(what) + ": a " + kind_name(x.kind) + ": expected an int");
        return x.i;
    }
    result<std::vector<int64_t>> int_tuple(uint32_t v, const char* what) const {
        const pickle_value& x = doc_.values[v];
        if (x.kind != pickle_kind::tuple) return err(std::string(what) + ": a " + kind_name(x.kind) + ": expected a tuple of ints");
        if (x.items.size() > k_pickle_max_rank)
            return err(std::string(what) + ": " + std::to_string(x.items.size()) + " dimensions: at most " +
                       std::to_string(k_pickle_max_rank) + " are supported");
        std::vector<int64_t> out;
        for (uint32_t e : x.items) {
            auto i = int_arg(e, what);
            if (!i.ok()) return i.error();
            if (*i < 0) return err(std::string(what) + ": " + std::to_string(*i) + ": must not be negative");
            out.push_back(*i);
        }
        return out;
    }

    // REDUCE: "call" one of the allowed globals, which only ever builds an inert value.
    status reduce() {
        auto args_r = pop();
        if (!args_r.ok()) return args_r.error();
        auto fn_r = pop();
        if (!fn_r.ok()) return fn_r.error();
        const pickle_value& fn = val(*fn_r);
        const pickle_value& args = val(*args_r);
        if (fn.kind != pickle_kind::global) return err(std::string("calling a ") + kind_name(fn.kind) + ": only allowed globals can be applied");
        if (args.kind != pickle_kind::tuple) return err(std::string("arguments are a ") + kind_name(args.kind) + ": expected a tuple");
        const std::vector<uint32_t> a = args.items;  // copy: push() may reallocate the arena
        const std::string fname = fn.s;
        auto bad_args = [&](const std::string& rule) { return err("'" + fname + "' with " + std::to_string(a.size()) + " arguments: " + rule); };
        switch (fn.callable) {
            case pickle_callable::ordered_dict: {
                if (!a.empty()) return bad_args("a checkpoint's OrderedDict is built empty and filled by SETITEMS");
                return push_kind(pickle_kind::dict);
            }
            case pickle_callable::rebuild_tensor_v2: {
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (a.size() < 6 || a.size() > 7) return bad_args("expected (storage, offset, size, stride, requires_grad, hooks[, metadata])");
                if (val(a[0]).kind != pickle_kind::storage)
                    return bad_args(std::string("the first argument is a ") + kind_name(val(a[0]).kind) + ": expected a storage (persistent id)");
                pickle_value t;
                t.kind = pickle_kind::tensor;
                t.tensor.storage = a[0];
                auto off = int_arg(a[1], "storage offset");
                if (!off.ok()) return off.error();
                if (*off < 0) return bad_args("storage offset " + std::to_string(*off) + ": must not be negative");
                t.tensor.offset = *off;
                auto size = int_tuple(a[2], "size");
                if (!size.ok()) return size.error();
                auto stride = int_tuple(a[3], "stride");
                if (!stride.ok()) return stride.error();
                if (size->size() != stride->size())
                    return bad_args("size has " + std::to_string(size->size()) + " dimensions, stride " +
                                    std::to_string(stride->size()) + ": they must match");
                t.tensor.size = size.take();
                t.tensor.stride = stride.take();
                return push(std::move(t));
            }
            case pickle_callable::rebuild_parameter: {
                // (data, requires_grad, backward_hooks): a Parameter is its tensor for inference.
                if (a.size() != 3 || val(a[0]).kind != pickle_kind::tensor) return bad_args("expected (tensor, requires_grad, hooks)");
                stack_.push_back(a[0]);
                return {};
            }
            case pickle_callable::torch_size: {
                if (a.size() != 1 || val(a[0]).kind != pickle_kind::tuple) return bad_args("expected one tuple");
                stack_.push_back(a[0]);
                return {};
            }
            case pickle_callable::torch_device:
            case pickle_callable::numpy_scalar:
            case pickle_callable::numpy_dtype: {
                for (uint32_t x : a) {
                    const pickle_kind k = val(x).kind;
                    if (k != pickle_kind::string && k != pickle_kind::bytes && k != pickle_kind::integer &&
                        k != pickle_kind::boolean && k != pickle_kind::opaque && k != pickle_kind::none)
                        return bad_args(std::string("an argument is a ") + kind_name(k) + ": expected plain scalars");
                }
                pickle_value v;
                v.kind = pickle_kind::opaque;
                v.s = fname;
                return push(std::move(v));
            }
            case pickle_callable::codecs_encode: {
                // _codecs.encode(text, "latin1"): how protocol 2 spells bytes (numpy scalars' payloads).
                if (a.size() != 2 || val(a[0]).kind != pickle_kind::string || val(a[1]).kind != pickle_kind::string)
                    return bad_args("expected (str, encoding)");
                const std::string enc = val(a[1]).s;
                const std::string text = val(a[0]).s;
                pickle_value v;
                v.kind = pickle_kind::bytes;
                if (enc == "latin1" || enc == "latin-1" || enc == "iso-8859-1") {
                    for (size_t i = 0; i < text.size();) {
                        const unsigned char c = static_cast<unsigned char>(text[i]);
                        if (c < 0x80) { v.s += char(c); i += 1; continue; }
                        if ((c & 0xe0) == 0xc0 && i + 1 < text.size() && c <= 0xc3) {
                            v.s += char(((c & 0x1f) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3f));
                            i += 2;
                            continue;
                        }
                        return bad_args("the text is not representable in latin1");
                    }
                } else if (enc == "utf-8" || enc == "utf8" || enc == "ascii") {
                    v.s = text;
                } else {
                    return bad_args("encoding '" + printable(enc) + "': expected latin1 or utf-8");
                }
                return push(std::move(v));
            }
            case pickle_callable::storage_type:
                return err("'" + fname + "' cannot be called: storages come only from persistent ids (BINPERSID)");
            case pickle_callable::none: break;
        }
        return err("'" + fname + "' cannot be called");
    }

    // BUILD sets an object's state; for the accepted types that state carries nothing dlrm needs
    // (an OrderedDict's _metadata, a numpy dtype's byte order), so it is checked and dropped.
    status build() {
        auto state = pop();
        if (!state.ok()) return state.error();
        if (stack_.size() <= floor()) return err("no object to set the state of");
        const pickle_kind k = val(stack_.back()).kind;
        if (k != pickle_kind::dict && k != pickle_kind::opaque && k != pickle_kind::tensor)
            return err(std::string("setting the state of a ") + kind_name(k) + ": only dicts, tensors and numpy values take a state");
        return {};
    }

    // BINPERSID: torch.save's reference to a storage record:
    // ('storage', torch.FloatStorage, key, location, numel).
    status persid() {
        auto pid = pop();
        if (!pid.ok()) return pid.error();
        const pickle_value& t = val(*pid);
        if (t.kind != pickle_kind::tuple || t.items.size() != 5)
            return err("persistent id " + pickle_repr(doc_, *pid) + ": expected ('storage', type, key, location, numel)");
        const pickle_value& tag = val(t.items[0]);
        const pickle_value& type = val(t.items[1]);
        const pickle_value& key = val(t.items[2]);
        const pickle_value& numel = val(t.items[4]);
        if (tag.kind != pickle_kind::string || tag.s != "storage")
            return err("persistent id " + pickle_repr(doc_, *pid) + ": only 'storage' ids are known");
        if (type.kind != pickle_kind::global || type.callable != pickle_callable::storage_type)
            return err("persistent id " + pickle_repr(doc_, *pid) + ": the second item must be a torch.*Storage type");
        if (key.kind != pickle_kind::string || key.s.empty() || key.s.size() > 256)
            return err("persistent id " + pickle_repr(doc_, *pid) + ": the storage key must be a short string");
        if (numel.kind != pickle_kind::integer || numel.i < 0)
            return err("persistent id " + pickle_repr(doc_, *pid) + ": the element count must be an int ≥ 0");
        pickle_value s;
        s.kind = pickle_kind::storage;
        s.storage_type = type.storage_type;
        s.s = key.s;
        s.i = numel.i;
        return push(std::move(s));
    }

    status line(std::string& out) {
        const size_t start = pos_;
        while (pos_ < n_ && p_[pos_] != '\n') {
            if (pos_ - start > 256) return err("a GLOBAL name longer than 256 bytes");
            ++pos_;
        }
        if (pos_ >= n_) return err("the GLOBAL name has no terminating newline (truncated?)");
        out.assign(reinterpret_cast<const char*>(p_ + start), pos_ - start);
        ++pos_;
        return {};
    }

    status step() {
        switch (op_) {
            case 0x80: {
                DLRM_TRY(need(1));
                const unsigned v = p_[pos_++];
                if (v < 2 || v > 5) return err("protocol " + std::to_string(v) + ": expected 2..5");
                return {};
            }
            case 0x95: {  // FRAME: a length hint for buffered readers; everything is in memory already
                DLRM_TRY(need(8));
                const uint64_t len = rd_le(8);
                if (len > n_ - pos_) return err("frame of " + std::to_string(len) + " bytes, " + std::to_string(n_ - pos_) + " left (truncated?)");
                return {};
            }
            case '(':
                marks_.push_back(stack_.size());
                return {};
            case '}': return push_kind(pickle_kind::dict);
            case ']': return push_kind(pickle_kind::list);
            case ')': return push_kind(pickle_kind::tuple);
            case 'N': return push_kind(pickle_kind::none);
            case 0x88:
            case 0x89: {
                pickle_value v;
                v.kind = pickle_kind::boolean;
                v.i = op_ == 0x88;
                return push(std::move(v));
            }
            case 'J':
            case 'K':
            case 'M': {
                const size_t k = op_ == 'J' ? 4 : op_ == 'K' ? 1 : 2;
                DLRM_TRY(need(k));
                const uint64_t u = rd_le(k);
                pickle_value v;
                v.kind = pickle_kind::integer;
                v.i = op_ == 'J' ? int64_t(int32_t(uint32_t(u))) : int64_t(u);
                return push(std::move(v));
            }
            case 0x8a: {  // LONG1: n-byte little-endian two's complement
                DLRM_TRY(need(1));
                const size_t k = p_[pos_++];
                if (k > 8) return err(std::to_string(k) + "-byte integer: larger than 64 bits");
                DLRM_TRY(need(k));
                uint64_t u = rd_le(k);
                if (k > 0 && k < 8 && (u >> (8 * k - 1)) & 1) u |= ~uint64_t(0) << (8 * k);  // sign-extend
                pickle_value v;
                v.kind = pickle_kind::integer;
                v.i = int64_t(u);
                return push(std::move(v));
            }
            case 'G': {
                DLRM_TRY(need(8));
                uint64_t u = 0;
                for (int i = 0; i < 8; ++i) u = u << 8 | p_[pos_ + size_t(i)];  // big-endian
                pos_ += 8;
                pickle_value v;
                v.kind = pickle_kind::floating;
                std::memcpy(&v.f, &u, 8);
                return push(std::move(v));
            }
            case 'X': DLRM_TRY(need(4)); return push_string(size_t(rd_le(4)), pickle_kind::string);
            case 0x8c: DLRM_TRY(need(1)); return push_string(size_t(rd_le(1)), pickle_kind::string);
            case 0x8d: {
                DLRM_TRY(need(8));
                const uint64_t len = rd_le(8);
                if (len > n_) return err("string of " + std::to_string(len) + " bytes: longer than the pickle");
                return push_string(size_t(len), pickle_kind::string);
            }
            case 'U': DLRM_TRY(need(1)); return push_string(size_t(rd_le(1)), pickle_kind::string);
            case 'T': {
                DLRM_TRY(need(4));
                const int32_t len = int32_t(uint32_t(rd_le(4)));
                if (len < 0) return err("negative string length " + std::to_string(len));
                return push_string(size_t(len), pickle_kind::string);
            }
            case 'C': DLRM_TRY(need(1)); return push_string(size_t(rd_le(1)), pickle_kind::bytes);
            case 'B': DLRM_TRY(need(4)); return push_string(size_t(rd_le(4)), pickle_kind::bytes);
            case 't': {
                auto items = pop_mark();
                if (!items.ok()) return items.error();
                return make_tuple(items.take());
            }
            case 0x85:
            case 0x86:
            case 0x87: {
                const size_t k = size_t(op_ - 0x84);
                if (stack_.size() < floor() + k) return err("needs " + std::to_string(k) + " values on the stack");
                std::vector<uint32_t> items(stack_.end() - std::ptrdiff_t(k), stack_.end());
                stack_.resize(stack_.size() - k);
                return make_tuple(std::move(items));
            }
            case 'l':
            case 'd': {
                auto items = pop_mark();
                if (!items.ok()) return items.error();
                DLRM_TRY(push_kind(op_ == 'l' ? pickle_kind::list : pickle_kind::dict));
                return op_ == 'l' ? append_items(stack_.back(), *items) : set_items(stack_.back(), *items);
            }
            case 'a': {
                auto v = pop();
                if (!v.ok()) return v.error();
                if (stack_.size() <= floor()) return err("no list to append to");
                return append_items(stack_.back(), {*v});
            }
            case 'e': {
                auto items = pop_mark();
                if (!items.ok()) return items.error();
                if (stack_.size() <= floor()) return err("no list to append to");
                return append_items(stack_.back(), *items);
            }
            case 's': {
                auto v = pop();
                if (!v.ok()) return v.error();
                auto k = pop();
                if (!k.ok()) return k.error();
                if (stack_.size() <= floor()) return err("no dict to set an item of");
                return set_items(stack_.back(), {*k, *v});
            }
            case 'u': {
                auto items = pop_mark();
                if (!items.ok()) return items.error();
                if (stack_.size() <= floor()) return err("no dict to set items of");
                return set_items(stack_.back(), *items);
            }
            case 'q': DLRM_TRY(need(1)); return memo_put(rd_le(1));
            case 'r': DLRM_TRY(need(4)); return memo_put(rd_le(4));
            case 0x94: return memo_put(memo_.size());
            case 'h': DLRM_TRY(need(1)); return memo_get(rd_le(1));
            case 'j': DLRM_TRY(need(4)); return memo_get(rd_le(4));
            case 'c': {
                std::string module, name;
                DLRM_TRY(line(module));
                DLRM_TRY(line(name));
                return global(module, name);
            }
            case 0x93: {
                auto name = pop();
                if (!name.ok()) return name.error();
                auto module = pop();
                if (!module.ok()) return module.error();
                if (val(*name).kind != pickle_kind::string || val(*module).kind != pickle_kind::string)
                    return err("module and name must be strings");
                return global(val(*module).s, val(*name).s);
            }
            case 'R': return reduce();
            case 'b': return build();
            case 'Q': return persid();
            case '0': {
                if (stack_.size() > floor()) { stack_.pop_back(); return {}; }
                if (!marks_.empty() && marks_.back() == stack_.size()) { marks_.pop_back(); return {}; }  // POP of a bare MARK
                return err("the stack is empty");
            }
            case '1': {
                auto items = pop_mark();
                return items.ok() ? status{} : items.error();
            }
            case '2': {
                if (stack_.size() <= floor()) return err("the stack is empty");
                stack_.push_back(stack_.back());
                return {};
            }
            default: break;
        }
        return err("not supported: a state_dict pickle (protocol 2, as torch.save writes it) never needs it; "
                   "refusing to load it");
    }

    const uint8_t* p_;
    size_t n_;
    const std::string& where_;
    size_t pos_ = 0, op_pos_ = 0;
    uint8_t op_ = 0;
    std::vector<uint32_t> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, uint32_t> memo_;
    pickle_document doc_;
};

void repr_into(const pickle_document& d, uint32_t v, int depth, size_t max, std::string& out) {
    if (out.size() > max) return;
    const pickle_value& x = d.values[v];
    switch (x.kind) {
        case pickle_kind::none: out += "None"; return;
        case pickle_kind::boolean: out += x.i ? "True" : "False"; return;
        case pickle_kind::integer: out += std::to_string(x.i); return;
        case pickle_kind::floating: {
            char b[32];
            std::snprintf(b, sizeof b, "%g", x.f);
            out += b;
            return;
        }
        case pickle_kind::string: out += "'" + printable(x.s, 40) + "'"; return;
        case pickle_kind::bytes: out += "b'" + printable(x.s, 40) + "'"; return;
        case pickle_kind::global: out += printable(x.s); return;
        case pickle_kind::storage: out += std::string(torch_dtype_name(x.storage_type)) + " storage '" + printable(x.s) + "'"; return;
        case pickle_kind::tensor: {
            out += "tensor(";
            for (size_t i = 0; i < x.tensor.size.size(); ++i) out += (i ? ", " : "") + std::to_string(x.tensor.size[i]);
            out += ")";
            return;
        }
        case pickle_kind::opaque: out += "<" + printable(x.s) + ">"; return;
        case pickle_kind::tuple:
        case pickle_kind::list:
        case pickle_kind::dict: break;
    }
    const char* open = x.kind == pickle_kind::tuple ? "(" : x.kind == pickle_kind::list ? "[" : "{";
    const char* close = x.kind == pickle_kind::tuple ? ")" : x.kind == pickle_kind::list ? "]" : "}";
    out += open;
    if (depth >= 4) {
        out += "...";
    } else {
        const bool dict = x.kind == pickle_kind::dict;
        for (size_t i = 0; i < x.items.size(); ++i) {
            if (out.size() > max) break;
            if (i) out += dict && i % 2 ? ": " : ", ";
            repr_into(d, x.items[i], depth + 1, max, out);
        }
    }
    out += close;
}

}  // namespace

result<pickle_document> read_pickle(const uint8_t* p, size_t n, const std::string& where) {
    if (p == nullptr && n != 0) return status::error(where + ": null data");
    machine m(p, n, where);
    return m.run();
}

std::string pickle_repr(const pickle_document& d, uint32_t v, size_t max_chars) {
    if (v >= d.values.size()) return "?";
    std::string out;
    repr_into(d, v, 0, max_chars, out);
    if (out.size() > max_chars) out = out.substr(0, max_chars) + "...";
    return out;
}

}  // namespace dlrm

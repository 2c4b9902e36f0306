#include "formats/weights/weights_metadata.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "formats/weights/weights_header.h"

namespace dlrm {

namespace {
using json = nlohmann::json;

// Raised inside the parser callback; caught in parse_strict. Never leaves this file.
struct json_reject {
    std::string why;
};

// nlohmann accepts duplicate keys (the last wins) and any nesting depth; a hostile file could use
// the first to show one thing to one reader and another to us, the second to exhaust the stack
// elsewhere. Both are rejected here.
result<json> parse_strict(const char* text, size_t bytes) {
    std::vector<std::set<std::string>> keys;  // one set per open object
    auto cb = [&](int depth, json::parse_event_t ev, json& parsed) -> bool {
        if (depth > k_weights_max_json_depth) {
            throw json_reject{"nesting depth " + std::to_string(depth) + ": at most " +
                              std::to_string(k_weights_max_json_depth) + " levels"};
        }
        switch (ev) {
            case json::parse_event_t::object_start: keys.emplace_back(); break;
            case json::parse_event_t::object_end:
                if (!keys.empty()) keys.pop_back();
                break;
            case json::parse_event_t::key:
                if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
                    throw json_reject{"key '" + parsed.get<std::string>() + "' appears twice in one object"};
                }
                break;
            default: break;
        }
        return true;
    };
    try {
        return json::parse(text, text + bytes, cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
    } catch (const json_reject& r) {
        return status::error("metadata JSON: " + r.why);
    } catch (const json::exception& e) {
        return status::error(std::string("metadata JSON: ") + e.what() + ": the metadata must be valid UTF-8 JSON");
    } catch (const std::bad_alloc&) {
        return status::error("metadata JSON: out of memory while parsing " + std::to_string(bytes) + " bytes");
    }
}

const char* type_of(const json& j) { return j.type_name(); }

result<uint64_t> get_u64(const json& obj, const char* key, const std::string& ctx) {
    const json& v = obj.at(key);
    if (!v.is_number_unsigned()) {
        return status::error(ctx + ": \"" + key + "\" is " + v.dump() + " (" + type_of(v) +
                             "): expected an unsigned 64-bit integer");
    }
    return v.get<uint64_t>();
}

result<uint64_t> parse_hex64(const json& v, const std::string& ctx) {
    if (!v.is_string()) return status::error(ctx + ": \"xxh64\" is a JSON " + std::string(type_of(v)) + ": expected a string");
    const std::string& s = v.get_ref<const std::string&>();
    bool ok = s.size() == 16;
    uint64_t r = 0;
    for (size_t i = 0; ok && i < s.size(); ++i) {
        char c = s[i];
        if (c >= '0' && c <= '9') r = r << 4 | uint64_t(c - '0');
        else if (c >= 'a' && c <= 'f') r = r << 4 | uint64_t(c - 'a' + 10);
        else ok = false;
    }
    if (!ok) return status::error(ctx + ": xxh64 '" + s + "': expected 16 lowercase hex digits");
    return r;
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// One entry of "tensors": types, sizes, alignment and range; overlaps are checked afterwards.
result<tensor_info> decode_tensor(const json& e, size_t index, uint64_t metadata_offset, const std::string& path) {
    std::string ctx = path + ": tensor #" + std::to_string(index);
    if (!e.is_object()) return status::error(ctx + ": a JSON " + std::string(type_of(e)) + ": expected an object");
    static const char* const k_keys[] = {"name", "dtype", "shape", "offset", "bytes", "xxh64"};
    for (const char* k : k_keys)
        if (!e.contains(k)) return status::error(ctx + ": key \"" + k + "\" missing: every tensor entry has it");
    for (auto it = e.begin(); it != e.end(); ++it) {
        if (std::find_if(std::begin(k_keys), std::end(k_keys), [&](const char* k) { return it.key() == k; }) ==
            std::end(k_keys)) {
            return status::error(ctx + ": key \"" + it.key() + "\": unknown in version 1 tensor entries");
        }
    }
    tensor_info t;
    const json& name = e.at("name");
    if (!name.is_string()) return status::error(ctx + ": \"name\" is a JSON " + std::string(type_of(name)) + ": expected a string");
    t.name = name.get<std::string>();
    if (t.name.empty()) return status::error(ctx + ": name '': names must not be empty");
    ctx = path + ": tensor " + t.name;

    const json& dt = e.at("dtype");
    if (!dt.is_string()) return status::error(ctx + ": \"dtype\" is a JSON " + std::string(type_of(dt)) + ": expected a string");
    auto type = parse_dtype(dt.get<std::string>());
    if (!type.ok()) return status(type.error()).prefix(ctx);
    t.type = type.value();

    const json& shape = e.at("shape");
    if (!shape.is_array()) return status::error(ctx + ": \"shape\" is a JSON " + std::string(type_of(shape)) + ": expected an array");
    if (shape.size() > size_t(k_weights_max_rank)) {
        return status::error(ctx + ": rank " + std::to_string(shape.size()) + ": at most " +
                             std::to_string(k_weights_max_rank) + " dimensions");
    }
    for (const json& d : shape) {
        // Negative integers parse as number_integer, so they reach tensor_bytes' ">= 0" message.
        if (!d.is_number_integer() || (d.is_number_unsigned() && d.get<uint64_t>() > uint64_t(INT64_MAX))) {
            return status::error(ctx + ": shape dimension " + d.dump() + ": expected an integer in [0, 2^63)");
        }
        t.shape.push_back(d.get<int64_t>());
    }
    auto want = tensor_bytes(t.type, t.shape);
    if (!want.ok()) return status(want.error()).prefix(ctx);

    auto off = get_u64(e, "offset", ctx);
    if (!off.ok()) return off.error();
    t.offset = off.value();
    auto bytes = get_u64(e, "bytes", ctx);
    if (!bytes.ok()) return bytes.error();
    t.bytes = bytes.value();
    auto sum = parse_hex64(e.at("xxh64"), ctx);
    if (!sum.ok()) return sum.error();
    t.xxh64 = sum.value();

    if (t.bytes != want.value()) {
        return status::error(ctx + ": bytes " + std::to_string(t.bytes) + ": dtype " + dtype_name(t.type) +
                             " with shape " + shape_text(t.shape) + " needs " + std::to_string(want.value()));
    }
    uint64_t align = tensor_alignment(t.bytes);
    if (t.offset % align != 0) {
        return status::error(ctx + ": offset " + std::to_string(t.offset) + ": not a multiple of " +
                             std::to_string(align) +
                             (align == k_weights_align ? " (every tensor is 64-byte aligned)"
                                                       : " (tensors of >= 16 MiB are 2 MiB aligned)"));
    }
    if (t.offset < k_weights_header_bytes) {
        return status::error(ctx + ": offset " + std::to_string(t.offset) + ": inside the 64-byte header");
    }
    // metadata_offset >= 64 here, so the subtraction cannot wrap; comparing this way avoids offset+bytes overflow.
    if (t.offset > metadata_offset || t.bytes > metadata_offset - t.offset) {
        return status::error(ctx + ": bytes [" + std::to_string(t.offset) + ", " + std::to_string(t.offset) + " + " +
                             std::to_string(t.bytes) + "): past the start of the metadata at " +
                             std::to_string(metadata_offset) + ": tensors lie between the header and the metadata");
    }
    return t;
}
}  // namespace

bool metadata_string_ok(const std::string& s) {
    try {
        (void)json(s).dump(-1, ' ', false, json::error_handler_t::strict);
        return true;
    } catch (const json::exception&) {
        return false;
    }
}

result<std::string> encode_metadata(const std::vector<tensor_info>& tensors, const json& model) {
    json table = json::array();
    for (const tensor_info& t : tensors) {
        json e;
        e["name"] = t.name;
        e["dtype"] = dtype_name(t.type);
        e["shape"] = t.shape;
        e["offset"] = t.offset;
        e["bytes"] = t.bytes;
        e["xxh64"] = hex64(t.xxh64).substr(2);
        table.push_back(std::move(e));
    }
    json meta;
    meta["format"] = "dlrm";
    meta["tensors"] = std::move(table);
    meta["model"] = model;
    std::string text;
    try {
        text = meta.dump(-1, ' ', false, json::error_handler_t::strict);
    } catch (const json::exception& e) {
        return status::error(std::string("model metadata: ") + e.what() + ": strings must be valid UTF-8");
    }
    if (text.size() > k_weights_max_metadata) {
        return status::error("metadata of " + std::to_string(text.size()) + " bytes: at most " +
                             std::to_string(k_weights_max_metadata) + " bytes");
    }
    return text;
}

result<decoded_metadata> decode_metadata(const char* text, size_t bytes, uint64_t metadata_offset,
                                         const std::string& path) {
    auto parsed = parse_strict(text, bytes);
    if (!parsed.ok()) return status(parsed.error()).prefix(path);
    json& meta = parsed.value();
    if (!meta.is_object()) {
        return status::error(path + ": metadata is a JSON " + std::string(type_of(meta)) + ": expected an object");
    }
    for (const char* k : {"format", "tensors", "model"})
        if (!meta.contains(k)) return status::error(path + ": metadata key \"" + k + "\" missing: version 1 requires it");
    for (auto it = meta.begin(); it != meta.end(); ++it) {
        if (it.key() != "format" && it.key() != "tensors" && it.key() != "model") {
            return status::error(path + ": metadata key \"" + it.key() + "\": unknown in version 1");
        }
    }
    const json& fmt = meta.at("format");
    if (!fmt.is_string() || fmt.get<std::string>() != "dlrm") {
        return status::error(path + ": metadata \"format\" is " + fmt.dump() + ": expected \"dlrm\"");
    }
    const json& table = meta.at("tensors");
    if (!table.is_array()) {
        return status::error(path + ": metadata \"tensors\" is a JSON " + std::string(type_of(table)) + ": expected an array");
    }
    if (!meta.at("model").is_object()) {
        return status::error(path + ": metadata \"model\" is a JSON " + std::string(type_of(meta.at("model"))) +
                             ": expected an object");
    }

    decoded_metadata out;
    std::unordered_set<std::string> names;
    out.tensors.reserve(table.size());
    for (size_t i = 0; i < table.size(); ++i) {
        auto t = decode_tensor(table[i], i, metadata_offset, path);
        if (!t.ok()) return t.error();
        if (!names.insert(t->name).second) {
            return status::error(path + ": tensor " + t->name + ": name appears twice: names are unique");
        }
        out.tensors.push_back(t.take());
    }

    // No two tensors share a byte: sort by offset and compare neighbours. Empty tensors own no bytes.
    std::vector<const tensor_info*> by_offset;
    for (const tensor_info& t : out.tensors)
        if (t.bytes > 0) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const tensor_info* a, const tensor_info* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        const tensor_info& a = *by_offset[i - 1];
        const tensor_info& b = *by_offset[i];
        if (b.offset < a.offset + a.bytes) {  // a.offset + a.bytes <= metadata_offset: no overflow
            return status::error(path + ": tensor " + b.name + ": offset " + std::to_string(b.offset) +
                                 ": overlaps tensor " + a.name + " at [" + std::to_string(a.offset) + ", " +
                                 std::to_string(a.offset + a.bytes) + "): tensors must not overlap");
        }
    }
    out.model = std::move(meta.at("model"));
    return out;
}

}  // namespace dlrm

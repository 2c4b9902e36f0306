#include <utility>

#include "formats/weights/weights_file.h"
#include "formats/weights/weights_header.h"
#include "formats/weights/weights_metadata.h"

namespace dlrm {

namespace {
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
}  // namespace

status weights_writer::fail(status s) {
    failed_ = true;
    return s;
}

status weights_writer::check_usable(const char* what) const {
    if (finished_) return status::error(out_.path() + ": " + what + ": the file is already finished");
    if (failed_) return status::error(out_.path() + ": " + what + ": an earlier error left the file unfinishable");
    return {};
}

result<weights_writer> weights_writer::create(const std::string& path) {
    auto out = atomic_output::create(path);
    if (!out.ok()) return out.error();
    weights_writer w;
    w.out_ = out.take();
    // The header is written last (it holds the metadata's place and checksum); reserve it now.
    DLRM_TRY(w.out_.pad_to(k_weights_header_bytes));
    return w;
}

status weights_writer::begin_tensor(const std::string& name, dtype t, std::vector<int64_t> shape) {
    DLRM_TRY(check_usable("begin_tensor"));
    const std::string& p = out_.path();
    if (open_tensor_) {
        return fail(status::error(p + ": tensor " + name + ": begun while tensor " + tensors_.back().name +
                                  " is still open: call end_tensor() first"));
    }
    if (name.empty()) return fail(status::error(p + ": tensor name '': names must not be empty"));
    if (!metadata_string_ok(name)) {
        return fail(status::error(p + ": tensor name '" + name + "': not valid UTF-8"));
    }
    if (names_.count(name)) return fail(status::error(p + ": tensor " + name + ": name already used: names are unique"));
    auto bytes = tensor_bytes(t, shape);
    if (!bytes.ok()) return fail(status(bytes.error()).prefix(p + ": tensor " + name));

    tensor_info info;
    info.name = name;
    info.type = t;
    info.shape = std::move(shape);
    info.bytes = bytes.value();
    info.offset = align_up(out_.offset(), tensor_alignment(info.bytes));
    if (status s = out_.pad_to(info.offset); !s.ok()) return fail(s);
    names_.insert(name);
    tensors_.push_back(std::move(info));
    open_tensor_ = true;
    written_ = 0;
    hash_.reset(0);
    return {};
}

status weights_writer::write(const void* p, size_t n) {
    DLRM_TRY(check_usable("write"));
    if (!open_tensor_) return fail(status::error(out_.path() + ": write of " + std::to_string(n) +
                                                 " bytes outside a tensor: call begin_tensor() first"));
    tensor_info& t = tensors_.back();
    if (n > t.bytes - written_) {
        return fail(status::error(out_.path() + ": tensor " + t.name + ": write of " + std::to_string(n) +
                                  " bytes after " + std::to_string(written_) + ": its shape holds " +
                                  std::to_string(t.bytes) + " bytes"));
    }
    if (n == 0) return {};
    if (p == nullptr) return fail(status::error(out_.path() + ": tensor " + t.name + ": write from a null pointer"));
    hash_.update(p, n);
    if (status s = out_.write(p, n); !s.ok()) return fail(s);
    written_ += n;
    return {};
}

status weights_writer::end_tensor() {
    DLRM_TRY(check_usable("end_tensor"));
    if (!open_tensor_) return fail(status::error(out_.path() + ": end_tensor() without begin_tensor()"));
    tensor_info& t = tensors_.back();
    if (written_ != t.bytes) {
        return fail(status::error(out_.path() + ": tensor " + t.name + ": " + std::to_string(written_) +
                                  " bytes written: its shape needs " + std::to_string(t.bytes)));
    }
    t.xxh64 = hash_.digest();
    open_tensor_ = false;
    return {};
}

status weights_writer::add_tensor(const std::string& name, dtype t, std::vector<int64_t> shape, const void* data,
                                  size_t bytes) {
    DLRM_TRY(begin_tensor(name, t, std::move(shape)));
    DLRM_TRY(write(data, bytes));
    return end_tensor();
}

status weights_writer::finish(const nlohmann::json& model_metadata) {
    DLRM_TRY(check_usable("finish"));
    const std::string& p = out_.path();
    if (open_tensor_) {
        return fail(status::error(p + ": finish() while tensor " + tensors_.back().name +
                                  " is open: call end_tensor() first"));
    }
    if (!model_metadata.is_object()) {
        return fail(status::error(p + ": model metadata is a JSON " + std::string(model_metadata.type_name()) +
                                  ": it must be an object"));
    }
    auto text = encode_metadata(tensors_, model_metadata);
    if (!text.ok()) return fail(status(text.error()).prefix(p));
    const std::string& meta = text.value();

    weights_header h;
    h.version = k_weights_version;
    h.metadata_offset = align_up(out_.offset(), k_weights_align);
    h.metadata_bytes = meta.size();
    h.file_bytes = h.metadata_offset + h.metadata_bytes;
    h.metadata_xxh64 = xxh64(meta.data(), meta.size());
    uint8_t header[k_weights_header_bytes];
    encode_weights_header(h, header);

    if (status s = out_.pad_to(h.metadata_offset); !s.ok()) return fail(s);
    if (status s = out_.write(meta.data(), meta.size()); !s.ok()) return fail(s);
    if (status s = out_.pwrite(header, sizeof header, 0); !s.ok()) return fail(s);
    if (status s = out_.commit(); !s.ok()) return fail(s);
    finished_ = true;
    return {};
}

}  // namespace dlrm

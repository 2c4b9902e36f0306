#include "formats/zip/npz.h"

namespace dlrm {

result<npz_file> npz_file::open(const std::string& path) {
    auto m = mapped_file::open(path);
    if (!m.ok()) return m.error();
    npz_file f;
    f.file_ = m.take();
    auto z = zip_reader::parse(f.file_.data(), f.file_.size(), path);
    if (!z.ok()) return z.error();
    f.zip_ = z.take();
    return f;
}

result<npy_view> npz_file::member(const std::string& name) const {
    auto m = zip_.stored(name);
    if (!m.ok()) return m.error();
    return parse_npy((*m)->data, size_t((*m)->compressed_size), zip_.name() + " member " + name);
}

result<npz_writer> npz_writer::create(const std::string& path) {
    auto z = zip_writer::create(path);
    if (!z.ok()) return z.error();
    npz_writer w;
    w.zip_ = z.take();
    return w;
}

status npz_writer::begin_member(const std::string& name, const std::string& descr, const std::vector<int64_t>& shape) {
    auto nbytes = npy_data_bytes(descr, shape, zip_.path() + " member " + name);
    if (!nbytes.ok()) return nbytes.error();
    std::string h = npy_header(descr, shape, zip_.next_data_offset(name));
    DLRM_TRY(zip_.begin_member(name, h.size() + *nbytes));
    return zip_.write(h.data(), h.size());
}

}  // namespace dlrm

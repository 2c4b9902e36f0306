// .npz archives (numpy.savez): a zip of .npy members. Reading maps the file once and views stored
// members in place; writing streams members through zip_writer. Rules: formats/zip/zip.md.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"
#include "formats/mapped_file.h"
#include "formats/npy/npy.h"
#include "formats/zip/zip_reader.h"
#include "formats/zip/zip_writer.h"

namespace dlrm {

class npz_file {
public:
    static result<npz_file> open(const std::string& path);

    const zip_reader& zip() const { return zip_; }
    const std::string& path() const { return file_.path(); }
    // A stored member parsed as .npy; messages read "<path> member <name>: ...".
    result<npy_view> member(const std::string& name) const;

private:
    mapped_file file_;  // moving the map keeps its address, so zip_'s pointers stay valid
    zip_reader zip_;
};

// begin_member("0.npy", "<i4", {rows, 3}) → write(...) → end_member() for each array → commit().
// Each member's .npy header is padded so its data starts at a 64-byte file offset.
class npz_writer {
public:
    static result<npz_writer> create(const std::string& path);
    status begin_member(const std::string& name, const std::string& descr, const std::vector<int64_t>& shape);
    status write(const void* p, size_t n) { return zip_.write(p, n); }
    status end_member() { return zip_.end_member(); }
    status commit() { return zip_.commit(); }

private:
    zip_writer zip_;
};

}  // namespace dlrm

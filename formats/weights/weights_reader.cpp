#include <algorithm>
#include <numeric>

#include "formats/weights/weights_file.h"
#include "formats/weights/weights_header.h"
#include "formats/weights/weights_metadata.h"

namespace dlrm {

result<weights_file> weights_file::open(const std::string& path, verify_on_open v) {
    auto m = mapped_file::open(path);
    if (!m.ok()) return m.error();
    weights_file f;
    f.map_ = m.take();
    const uint8_t* p = f.map_.data();
    const uint64_t size = f.map_.size();

    if (size < k_weights_header_bytes) {
        return status::error(path + ": file of " + std::to_string(size) +
                             " bytes: shorter than the 64-byte header: truncated or not a .dlrm file");
    }
    auto hr = decode_weights_header(p, path);
    if (!hr.ok()) return hr.error();
    const weights_header& h = hr.value();
    if (h.file_bytes != size) {
        if (size < h.file_bytes) {
            return status::error(path + ": file has " + std::to_string(size) + " bytes: the header records " +
                                 std::to_string(h.file_bytes) + ": the file is truncated");
        }
        return status::error(path + ": file has " + std::to_string(size) + " bytes: the header records " +
                             std::to_string(h.file_bytes) + ": unexpected bytes after the end");
    }
    if (h.metadata_offset < k_weights_header_bytes || h.metadata_offset % k_weights_align != 0) {
        return status::error(path + ": metadata offset " + std::to_string(h.metadata_offset) +
                             ": must be a multiple of 64 and at least 64 (after the header)");
    }
    if (h.metadata_offset > size || h.metadata_bytes != size - h.metadata_offset) {
        return status::error(path + ": metadata [" + std::to_string(h.metadata_offset) + ", +" +
                             std::to_string(h.metadata_bytes) + ") in a file of " + std::to_string(size) +
                             " bytes: the metadata must end exactly at the end of the file");
    }
    if (h.metadata_bytes > k_weights_max_metadata) {
        return status::error(path + ": metadata of " + std::to_string(h.metadata_bytes) + " bytes: at most " +
                             std::to_string(k_weights_max_metadata) + " bytes");
    }
    const char* text = reinterpret_cast<const char*>(p + h.metadata_offset);
    uint64_t meta_sum = xxh64(text, h.metadata_bytes);
    if (meta_sum != h.metadata_xxh64) {
        return status::error(path + ": metadata checksum " + hex64(meta_sum) + " != recorded " +
                             hex64(h.metadata_xxh64) + ": the file is corrupt");
    }
    auto meta = decode_metadata(text, h.metadata_bytes, h.metadata_offset, path);
    if (!meta.ok()) return meta.error();
    f.tensors_ = std::move(meta->tensors);
    f.model_ = std::move(meta->model);
    for (size_t i = 0; i < f.tensors_.size(); ++i) f.by_name_.emplace(f.tensors_[i].name, i);

    std::vector<size_t> which;
    for (size_t i = 0; i < f.tensors_.size(); ++i) {
        bool check = v == verify_on_open::all ||
                     (v == verify_on_open::small_tensors &&
                      (size <= k_verify_small_file || f.tensors_[i].bytes < k_verify_small_tensor));
        if (check) which.push_back(i);
    }
    DLRM_TRY(f.verify(which, {}));
    return f;
}

const tensor_info* weights_file::find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

status weights_file::verify_all(std::function<void(uint64_t, uint64_t)> progress) const {
    std::vector<size_t> all(tensors_.size());
    std::iota(all.begin(), all.end(), size_t(0));
    return verify(all, progress);
}

status weights_file::verify(const std::vector<size_t>& which,
                            const std::function<void(uint64_t, uint64_t)>& progress) const {
    // XXH64 is sequential within one tensor, so the parallelism is across tensors; largest first
    // keeps one big table from starting last and running alone.
    std::vector<size_t> order = which;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return tensors_[a].bytes != tensors_[b].bytes ? tensors_[a].bytes > tensors_[b].bytes : a < b;
    });
    uint64_t total = 0;
    for (size_t i : order) total += tensors_[i].bytes;
    std::vector<uint64_t> sums(tensors_.size(), 0);
    uint64_t done = 0;
    constexpr uint64_t k_chunk = uint64_t(64) << 20;
    const long n = long(order.size());
    // Below a few MiB the thread start-up costs more than the hashing.
#pragma omp parallel for schedule(dynamic, 1) if (total > (uint64_t(8) << 20))
    for (long k = 0; k < n; ++k) {
        const tensor_info& t = tensors_[order[size_t(k)]];
        const uint8_t* p = data(t);
        xxh64_state st(0);
        for (uint64_t pos = 0; pos < t.bytes;) {
            uint64_t len = std::min(k_chunk, t.bytes - pos);
            st.update(p + pos, size_t(len));
            pos += len;
            if (progress) {
                // Counting inside the critical section keeps the reported values increasing.
#pragma omp critical(dlrm_weights_progress)
                {
                    done += len;
                    progress(done, total);
                }
            }
        }
        sums[order[size_t(k)]] = st.digest();
    }
    // Report in table order so the message does not depend on thread timing.
    for (size_t i : which) {
        const tensor_info& t = tensors_[i];
        if (sums[i] != t.xxh64) {
            return status::error(path() + ": tensor " + t.name + ": checksum " + hex64(sums[i]) + " != recorded " +
                                 hex64(t.xxh64) + ": the file is corrupt");
        }
    }
    return {};
}

}  // namespace dlrm

#include "formats/criteo_tsv/criteo_convert.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "formats/criteo_tsv/input_stream.h"
#include "formats/criteo_tsv/row_outputs.h"
#include "formats/zip/npz.h"

namespace dlrm {

namespace {

constexpr size_t k_first_bad_kept = 5;

// One parse job: a run of whole lines (or records) of one input file, and what parsing made of it.
// Jobs are recycled through a fixed pool, which is what bounds the memory.
struct job {
    // Set by the reader.
    std::vector<char> text;
    size_t len = 0;
    int file = 0;
    uint64_t seq = 0;
    uint64_t file_bytes_done = 0;  // progress: input file bytes consumed when this job was cut
    std::optional<status> fatal;   // the reader failed here: the writer stops when it gets this far
    bool last = false;             // end of all inputs
    // Set by a parser. Line numbers are counted here, not by the reader (counting newlines in the
    // one reader thread cost a fifth of the time); the in-order writer turns them into file line numbers.
    std::vector<float> dense;
    std::vector<int32_t> labels, sparse;
    int64_t lines = 0;  // lines (TSV) or records (.bin) in text
    int64_t rows = 0;
    int64_t bad = 0;
    std::vector<std::pair<int64_t, std::string>> bad_first;  // (0-based line in the job, message), at most k_first_bad_kept
};

class pipeline {
public:
    pipeline(const convert_options& opt, int parsers) : opt_(opt), map_(opt.max_ind_range), parsers_(parsers) {
        const size_t slots = size_t(parsers) + 3;
        pool_.resize(slots);
        for (auto& j : pool_) {
            j = std::make_unique<job>();
            j->text.resize(opt.chunk_bytes);
            free_.push_back(j.get());
        }
    }
    ~pipeline() { stop_and_join(); }

    status start() {
        try {
            reader_ = std::thread([this] { read_all(); });
            for (int i = 0; i < parsers_; ++i) workers_.emplace_back([this] { parse_loop(); });
        } catch (const std::system_error& e) {
            return status::error(std::string("convert: cannot start the reader and parser threads: ") + e.what());
        }
        if (workers_.empty()) return status::error("convert: no parser threads");
        return {};
    }

    // The writer side: the next job in input order (the one with `last` set ends the input).
    job* next_in_order() {
        std::unique_lock<std::mutex> lk(m_);
        cv_done_.wait(lk, [&] { return done_.count(next_seq_) != 0; });
        job* j = done_[next_seq_];
        done_.erase(next_seq_);
        ++next_seq_;
        return j;
    }
    void recycle(job* j) {
        reset(*j);
        { std::lock_guard<std::mutex> lk(m_); free_.push_back(j); }
        cv_free_.notify_one();
    }
    void stop_and_join() {
        { std::lock_guard<std::mutex> lk(m_); stop_ = true; }
        cv_free_.notify_all();
        cv_todo_.notify_all();
        if (reader_.joinable()) reader_.join();
        for (auto& w : workers_) if (w.joinable()) w.join();
        workers_.clear();
    }

private:
    static void reset(job& j) {
        j.len = 0;
        j.lines = 0;
        j.fatal.reset();
        j.last = false;
        j.rows = 0;
        j.bad = 0;
        j.bad_first.clear();
    }
    job* take_free() {
        std::unique_lock<std::mutex> lk(m_);
        cv_free_.wait(lk, [&] { return stop_ || !free_.empty(); });
        if (stop_) return nullptr;
        job* j = free_.back();
        free_.pop_back();
        return j;
    }
    void to_parsers(job* j) {
        { std::lock_guard<std::mutex> lk(m_); todo_.push_back(j); }
        cv_todo_.notify_one();
    }
    void to_writer(job* j) {
        { std::lock_guard<std::mutex> lk(m_); done_[j->seq] = j; }
        cv_done_.notify_all();
    }
    // Hands the writer a job that only carries an end or an error.
    void finish_with(std::optional<status> fatal) {
        job* j = take_free();
        if (!j) return;
        j->seq = seq_++;
        j->fatal = std::move(fatal);
        j->last = !j->fatal;
        to_writer(j);
    }

    void read_all() {
        const bool tsv = opt_.from == criteo_input::tsv;
        const size_t cap = opt_.chunk_bytes;
        uint64_t bytes_before = 0;  // file bytes of the inputs already read
        std::string carry;          // the unfinished line (or record) at the end of the last read
        for (size_t f = 0; f < opt_.inputs.size(); ++f) {
            auto in = input_stream::open(opt_.inputs[f]);
            if (!in.ok()) return finish_with(in.error());
            uint64_t offset = 0;  // of the next job's first byte in the (decompressed) file
            carry.clear();
            for (bool eof = false; !eof;) {
                job* j = take_free();
                if (!j) return;
                std::memcpy(j->text.data(), carry.data(), carry.size());
                size_t len = carry.size();
                carry.clear();
                auto got = in->read(j->text.data() + len, cap - len);
                if (!got.ok()) { recycle(j); return finish_with(got.error()); }
                eof = *got < cap - len;
                len += *got;
                if (len == 0) { recycle(j); break; }
                size_t cut = len;
                if (tsv) {
                    if (!eof) {
                        const void* nl = ::memrchr(j->text.data(), '\n', len);
                        if (!nl) {
                            recycle(j);
                            return finish_with(status::error(
                                opt_.inputs[f] + ": no newline in the " + std::to_string(cap) + " bytes after byte " +
                                std::to_string(offset) + ": a Criteo TSV line is a few hundred bytes (is this a text file?)"));
                        }
                        cut = size_t(static_cast<const char*>(nl) - j->text.data()) + 1;
                    }
                } else {
                    cut = len - len % criteo_bin_record_bytes;
                    if (eof && cut != len) {
                        recycle(j);
                        return finish_with(status::error(
                            opt_.inputs[f] + ": " + std::to_string(len - cut) + " bytes after record " +
                            std::to_string((offset + cut) / criteo_bin_record_bytes) +
                            ": a partial record: .bin files hold whole 160-byte records (40 int32)"));
                    }
                }
                carry.assign(j->text.data() + cut, len - cut);
                if (cut == 0) { recycle(j); continue; }  // only possible for .bin reads shorter than a record
                j->len = cut;
                j->file = int(f);
                j->file_bytes_done = bytes_before + in->file_position();
                offset += cut;
                j->seq = seq_++;
                to_parsers(j);
            }
            bytes_before += in->file_bytes();
        }
        finish_with(std::nullopt);
    }

    void parse_loop() {
        for (;;) {
            job* j = nullptr;
            {
                std::unique_lock<std::mutex> lk(m_);
                cv_todo_.wait(lk, [&] { return stop_ || !todo_.empty(); });
                if (stop_) return;
                j = todo_.front();
                todo_.pop_front();
            }
            parse(*j);
            to_writer(j);
        }
    }

    static void note_bad(job& j, int64_t line, status st) {
        ++j.bad;
        if (j.bad_first.size() < k_first_bad_kept) j.bad_first.emplace_back(line, st.message());
    }
    template <class T>
    static void ensure(std::vector<T>& v, size_t n) {
        if (v.size() < n) v.resize(std::max(n, v.size() * 2));
    }

    void parse(job& j) {
        const dense_transform t = opt_.transform;
        const bool tsv = opt_.from == criteo_input::tsv;
        criteo_raw_row raw;
        int64_t rows = 0;
        const char* p = j.text.data();
        const char* end = p + j.len;
        int64_t k = 0;
        for (; p < end; ++k) {
            status st;
            if (tsv) {
                const void* nl = std::memchr(p, '\n', size_t(end - p));
                const char* e = nl ? static_cast<const char*>(nl) : end;
                st = parse_criteo_tsv_line(p, size_t(e - p), raw);
                p = e + 1;
            } else {
                st = parse_criteo_bin_record(reinterpret_cast<const uint8_t*>(p), raw);
                p += criteo_bin_record_bytes;
            }
            if (!st.ok()) {
                note_bad(j, k, std::move(st));
                if (!opt_.skip_bad_lines) break;  // the writer fails on it; the rest does not matter
                continue;
            }
            ensure(j.dense, size_t(rows + 1) * criteo_num_dense);
            ensure(j.labels, size_t(rows + 1));
            ensure(j.sparse, size_t(rows + 1) * criteo_num_sparse);
            float* d = j.dense.data() + size_t(rows) * criteo_num_dense;
            for (int i = 0; i < criteo_num_dense; ++i) d[i] = transform_dense(raw.dense[i], t);
            j.labels[size_t(rows)] = raw.label;
            int32_t* s = j.sparse.data() + size_t(rows) * criteo_num_sparse;
            for (int i = 0; i < criteo_num_sparse; ++i) s[i] = map_(raw.sparse[i]);
            ++rows;
        }
        j.rows = rows;
        j.lines = k;
    }

    const convert_options& opt_;
    const id_map map_;
    const int parsers_;
    std::vector<std::unique_ptr<job>> pool_;
    std::mutex m_;
    std::condition_variable cv_free_, cv_todo_, cv_done_;
    std::vector<job*> free_;
    std::deque<job*> todo_;
    std::map<uint64_t, job*> done_;
    uint64_t seq_ = 0;       // next job number the reader hands out (reader thread only)
    uint64_t next_seq_ = 0;  // next job number the writer takes
    bool stop_ = false;
    std::thread reader_;
    std::vector<std::thread> workers_;
};

std::string s(int64_t v) { return std::to_string(v); }

status prepare_out_dir(const std::string& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return status::error(dir + ": --out exists and is not a directory");
        return {};
    }
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return status::error(dir + ": cannot create the output directory: " + std::strerror(errno));
    return {};
}

status check_options(const convert_options& opt) {
    if (opt.inputs.empty()) return status::error("convert: no input files: give at least one TSV or .bin file");
    if (opt.day < 0) return status::error("--day " + s(opt.day) + ": must be ≥ 0");
    if (opt.max_ind_range > (1u << 31))
        return status::error("--max-ind-range " + s(opt.max_ind_range) + ": must be ≤ 2^31 = 2147483648 so ids fit int32");
    if (opt.chunk_bytes < 4096 || opt.chunk_bytes > (size_t(1) << 30))
        return status::error("chunk size " + std::to_string(opt.chunk_bytes) + ": must be in [4096, 2^30] bytes");
    if (opt.multi_hot_block_rows < 1) return status::error("multi-hot block rows " + s(opt.multi_hot_block_rows) + ": must be ≥ 1");
    for (const std::string& in : opt.inputs) {
        struct stat st {};
        if (::stat(in.c_str(), &st) != 0) return status::error(in + ": cannot open input: " + std::strerror(errno));
        if (S_ISDIR(st.st_mode)) return status::error(in + ": is a directory: expected a TSV or .bin file");
        if (opt.from == criteo_input::bin && S_ISREG(st.st_mode)) {
            // A plain .bin must be whole records; a gzip one is checked as it is decompressed.
            unsigned char magic[2] = {0, 0};
            FILE* f = std::fopen(in.c_str(), "rb");
            const bool gz = f && std::fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            if (f) std::fclose(f);
            if (!gz && uint64_t(st.st_size) % criteo_bin_record_bytes != 0)
                return status::error(in + ": size " + std::to_string(st.st_size) +
                                     " bytes: not a multiple of 160 (a .bin record is 40 int32)");
        }
    }
    return {};
}

}  // namespace

result<convert_report> convert_criteo(const convert_options& opt) {
    DLRM_TRY(check_options(opt));
    DLRM_TRY(prepare_out_dir(opt.out_dir));
    const std::string base = opt.out_dir + "/day_" + std::to_string(opt.day) + "_";
    const std::string dense_path = base + "dense.npy", labels_path = base + "labels.npy";
    const std::string sparse_path = base + (opt.sparse == sparse_output::one_hot ? "sparse.npy" : "sparse_multi_hot.npz");
    if (opt.sparse == sparse_output::one_hot) {
        struct stat st {};
        if (::stat((base + "sparse_multi_hot.npz").c_str(), &st) == 0)
            return status::error(base + "sparse_multi_hot.npz: exists: readers take it before the one-hot " + sparse_path +
                                 " this would write; remove it or choose another --out");
    }

    uint64_t total_file_bytes = 0;
    for (const std::string& in : opt.inputs) {
        struct stat st {};
        if (::stat(in.c_str(), &st) == 0 && S_ISREG(st.st_mode)) total_file_bytes += uint64_t(st.st_size);
    }

    auto dense = npy_rows_writer::create(dense_path, "<f4", criteo_num_dense);
    if (!dense.ok()) return dense.error();
    auto labels = npy_rows_writer::create(labels_path, "<i4", 1);
    if (!labels.ok()) return labels.error();
    std::optional<npy_rows_writer> one_hot;
    std::optional<column_spill> spill;
    if (opt.sparse == sparse_output::one_hot) {
        auto w = npy_rows_writer::create(sparse_path, "<i4", criteo_num_sparse);
        if (!w.ok()) return w.error();
        one_hot.emplace(w.take());
    } else {
        auto c = column_spill::create(opt.out_dir, criteo_num_sparse, opt.multi_hot_block_rows);
        if (!c.ok()) return c.error();
        spill.emplace(c.take());
    }

    const int hw = int(std::max(1u, std::thread::hardware_concurrency()));
    const int parsers = opt.parser_threads > 0 ? opt.parser_threads : hw;
    const auto t0 = std::chrono::steady_clock::now();
    auto seconds = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };

    convert_report rep;
    convert_progress prog;
    int line_file = -1;      // the input the writer is in, and
    int64_t line_base = 0;   // the number of lines (records) of it already written
    auto where = [&](const job& j, int64_t k) {
        const std::string& in = opt.inputs[size_t(j.file)];
        return opt.from == criteo_input::tsv ? in + ":" + s(line_base + k + 1) : in + ": record " + s(line_base + k + 1);
    };
    prog.total_file_bytes = total_file_bytes;
    double last_report = 0;
    {
        pipeline pipe(opt, parsers);
        DLRM_TRY(pipe.start());
        for (;;) {
            job* j = pipe.next_in_order();
            if (j->fatal) return *j->fatal;
            if (j->last) { pipe.recycle(j); break; }
            if (j->file != line_file) line_file = j->file, line_base = 0;
            if (j->bad > 0 && !opt.skip_bad_lines)
                return status::error(where(*j, j->bad_first.front().first) + ": " + j->bad_first.front().second +
                                     " (use --skip-bad-lines to skip such lines)");
            DLRM_TRY(dense->append(j->dense.data(), j->rows));
            DLRM_TRY(labels->append(j->labels.data(), j->rows));
            if (one_hot) DLRM_TRY(one_hot->append(j->sparse.data(), j->rows));
            else DLRM_TRY(spill->append(j->sparse.data(), j->rows));
            rep.rows += j->rows;
            rep.bad_lines += j->bad;
            for (auto& b : j->bad_first)
                if (rep.first_bad.size() < k_first_bad_kept) rep.first_bad.push_back(where(*j, b.first) + ": " + b.second);
            line_base += j->lines;
            rep.data_bytes += j->len;
            prog.file_bytes = j->file_bytes_done;
            pipe.recycle(j);
            if (opt.on_progress && seconds() - last_report >= 1.0) {
                last_report = seconds();
                prog.rows = rep.rows;
                prog.bad_lines = rep.bad_lines;
                prog.data_bytes = rep.data_bytes;
                prog.seconds = last_report;
                opt.on_progress(prog);
            }
        }
    }
    if (rep.rows == 0)
        return status::error(opt.inputs.front() + (opt.inputs.size() > 1 ? " (and the other inputs)" : "") +
                             ": no rows to convert" + (rep.bad_lines ? " (every line was bad and skipped)" : ""));

    DLRM_TRY(dense->finish());
    DLRM_TRY(labels->finish());
    std::optional<npz_writer> npz;
    if (one_hot) {
        DLRM_TRY(one_hot->finish());
    } else {
        auto z = npz_writer::create(sparse_path);
        if (!z.ok()) return z.error();
        npz.emplace(z.take());
        DLRM_TRY(spill->write_npz(*npz));
    }

    // Everything is written; renaming is all that is left. A failure part way removes what was renamed.
    auto undo = [&](status st) {
        for (const std::string& p : rep.outputs) ::unlink(p.c_str());
        rep.outputs.clear();
        return st;
    };
    status st = dense->commit();
    if (!st.ok()) return undo(st);
    rep.outputs.push_back(dense_path);
    st = labels->commit();
    if (!st.ok()) return undo(st);
    rep.outputs.push_back(labels_path);
    st = one_hot ? one_hot->commit() : npz->commit();
    if (!st.ok()) return undo(st);
    rep.outputs.push_back(sparse_path);
    rep.seconds = seconds();
    return rep;
}

}  // namespace dlrm

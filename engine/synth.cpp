#include "engine/synth.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <vector>

#include "engine/executor.h"
#include "engine/model.h"
#include "engine/random.h"
#include "engine/row_quantize.h"
#include "formats/criteo/criteo_dataset.h"
#include "formats/npy/npy.h"
#include "formats/weights/weights_file.h"
#include "formats/zip/npz.h"

namespace dlrm {

namespace fs = std::filesystem;

namespace {

// Streams of the counter-based generator (engine/random.h); never renumber them: the same seed
// must keep giving the same files.
enum stream : uint64_t {
    s_weight = 1, s_bias = 2, s_table = 3, s_dense_param = 4, s_dense = 5, s_ids = 6, s_label = 7, s_scatter = 8,
};

constexpr int64_t k_chunk_rows = 1 << 16;  // rows generated per parallel step
constexpr double k_zipf_s = 1.1;            // id skew, close to Criteo's head-heavy categories
constexpr double k_target_logit_std = 1.7;  // teacher's spread: fp32 AUC ≈ 0.8, as on Criteo
constexpr double k_target_logit_mean = -1.3;

std::string day_file(const std::string& dir, int day, const char* suffix) {
    return dir + "/day_" + std::to_string(day) + "_" + suffix;
}

// Uniform weights in (−a, a), a = gain·sqrt(3 / fan_in) (variance gain² / fan_in).
void fill_uniform(std::vector<float>& w, uint64_t key, double a) {
    for (size_t i = 0; i < w.size(); ++i) w[i] = float((2.0 * random_unit_d(key, i) - 1.0) * a);
}

struct dense_layer {
    std::string weight_name, bias_name;  // tensor names (model.h); bias_name empty: no bias
    std::vector<float> weight, bias;  // bias empty for DCN V
    std::vector<int64_t> wshape;
};

// The dense layers of the teacher, in memory (at most the 64 MB of DLRM v2).
std::vector<dense_layer> make_dense_layers(const model_config& c, uint64_t seed) {
    std::vector<dense_layer> layers;
    uint64_t layer_no = 0;
    auto add = [&](const std::string& weight_name, const std::string& bias_name, int64_t out, int64_t in,
                   double gain) {
        dense_layer l;
        l.weight_name = weight_name;
        l.bias_name = bias_name;
        l.wshape = {out, in};
        l.weight.resize(size_t(out * in));
        fill_uniform(l.weight, stream_key(seed, s_weight, layer_no), gain * std::sqrt(3.0 / double(in)));
        if (!bias_name.empty()) {
            l.bias.resize(size_t(out));
            fill_uniform(l.bias, stream_key(seed, s_bias, layer_no), 0.1);
        }
        ++layer_no;
        layers.push_back(std::move(l));
    };
    int64_t in = c.dense_features;
    for (size_t i = 0; i < c.bottom.size(); ++i) {
        const std::string n = "bottom." + std::to_string(i);
        add(n + ".weight", n + ".bias", c.bottom[i], in, std::sqrt(2.0));  // He: a ReLU follows
        in = c.bottom[i];
    }
    if (c.inter == interaction::dcn) {
        const int64_t width = c.interaction_in_width();
        for (int64_t l = 0; l < c.dcn_layers; ++l) {
            const std::string n = "dcn." + std::to_string(l);
            add(n + ".V", "", c.dcn_rank, width, 1.0);
            add(n + ".W", n + ".bias", width, c.dcn_rank, 0.5);  // 0.5 keeps x_l bounded over the layers
        }
    }
    in = c.interaction_out_width();
    for (size_t i = 0; i < c.top.size(); ++i) {
        const bool last = i + 1 == c.top.size();
        const std::string n = "top." + std::to_string(i);
        add(n + ".weight", n + ".bias", c.top[i], in, last ? 1.0 : std::sqrt(2.0));
        in = c.top[i];
    }
    return layers;
}

// Writes the teacher. `logit_scale`/`logit_shift` fold an affine map into the last Linear (no ReLU
// follows it), which moves the teacher's logits to the target spread without changing its ranking.
status write_model(const std::string& path, const model_config& c, const synth_options& o,
                   const kernels::kernel_table& k, double logit_scale, double logit_shift,
                   const std::function<void(const std::string&)>& log) {
    auto w = weights_writer::create(path);
    if (!w.ok()) return w.error();
    std::vector<dense_layer> layers = make_dense_layers(c, o.seed);
    dense_layer& last = layers.back();
    for (float& v : last.weight) v = float(v * logit_scale);
    for (float& v : last.bias) v = float(v * logit_scale + logit_shift);
    for (const auto& l : layers) {
        DLRM_TRY(w->add_tensor(l.weight_name, dtype::f32, l.wshape, l.weight.data(), l.weight.size() * 4));
        if (!l.bias_name.empty())
            DLRM_TRY(w->add_tensor(l.bias_name, dtype::f32, {int64_t(l.bias.size())}, l.bias.data(), l.bias.size() * 4));
    }
    // Tables: element std D^(-1/4), so pairwise dot products of pooled vectors are O(1) and the
    // embeddings matter to the teacher as much as the dense features do.
    const int64_t D = c.dim;
    const double a = std::sqrt(3.0) * std::pow(double(D), -0.25);
    const size_t rb = kernels::row_bytes(c.tables[0].type, D);
    std::vector<float> rows_f32(size_t(k_chunk_rows * D));
    std::vector<uint8_t> rows_out(size_t(k_chunk_rows) * rb);
    for (size_t t = 0; t < c.tables.size(); ++t) {
        const table_config& tc = c.tables[t];
        const uint64_t key = stream_key(o.seed, s_table, t);
        DLRM_TRY(w->begin_tensor("emb." + std::to_string(t), table_dtype(tc.type), {tc.rows, D}));
        for (int64_t r0 = 0; r0 < tc.rows; r0 += k_chunk_rows) {
            const int64_t n = std::min(k_chunk_rows, tc.rows - r0);
#pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < n * D; ++i)
                rows_f32[size_t(i)] = float((2.0 * random_unit_d(key, uint64_t(r0 * D + i)) - 1.0) * a);
            // Quantize in parallel slices of whole rows.
#pragma omp parallel for schedule(static)
            for (int64_t s = 0; s < n; s += 1024) {
                const int64_t m = std::min<int64_t>(1024, n - s);
                quantize_rows(k, tc.type, rows_f32.data() + s * D, m, D, rows_out.data() + size_t(s) * rb);
            }
            DLRM_TRY(w->write(rows_out.data(), size_t(n) * rb));
        }
        DLRM_TRY(w->end_tensor());
        if (tc.rows >= 1000000) log("  table " + std::to_string(t) + ": " + std::to_string(tc.rows) + " rows written");
    }
    nlohmann::json meta = {
        {"architecture", config_to_json(c)},
        {"provenance",
         {{"tool", "dlrm synth"}, {"shape", o.shape}, {"seed", o.seed}, {"rows_cap", o.rows_cap},
          {"samples", o.samples}, {"teacher_logit_scale", logit_scale}, {"teacher_logit_shift", logit_shift}}},
        {"precision", {{"linear", "fp32"}, {"tables", kernels::row_type_name(c.tables[0].type)}}},
    };
    return w->finish(meta);
}

// Zipf(s) rank in [0, n) by inverting the continuous power law; then scattered over the table by
// an affine bijection (hot ids are not the first rows, as in real data).
struct id_sampler {
    int64_t n;
    double base;     // (n + 1)^(1 − s) − 1
    uint64_t mult;   // coprime with n
    uint64_t shift;
    id_sampler(int64_t rows, uint64_t seed, uint64_t table) : n(rows) {
        base = std::pow(double(n) + 1.0, 1.0 - k_zipf_s) - 1.0;
        uint64_t m = (random_u64(stream_key(seed, s_scatter, table), 0) % uint64_t(n)) | 1;
        while (std::gcd(m, uint64_t(n)) != 1) m += 2;
        mult = m % uint64_t(n) == 0 ? 1 : m;
        shift = random_u64(stream_key(seed, s_scatter, table), 1) % uint64_t(n);
    }
    int32_t operator()(double u) const {
        const double x = std::pow(base * u + 1.0, 1.0 / (1.0 - k_zipf_s)) - 1.0;
        const uint64_t rank = uint64_t(std::clamp<int64_t>(int64_t(x), 0, n - 1));
        // rank, mult, shift < n ≤ 2^31, so the product fits in 64 bits.
        return int32_t((rank * mult + shift) % uint64_t(n));
    }
};

status write_dense(const std::string& path, const model_config& c, const synth_options& o) {
    const int64_t F = c.dense_features;
    auto w = npy_writer::create(path, "<f4", {o.samples, F});
    if (!w.ok()) return w.error();
    // Per feature: log-normal counts with their own location and spread, 0 with some probability.
    std::vector<double> mu(static_cast<size_t>(F)), sigma(static_cast<size_t>(F)), zero_p(static_cast<size_t>(F));
    const uint64_t pk = stream_key(o.seed, s_dense_param, 0);
    for (int64_t j = 0; j < F; ++j) {
        mu[size_t(j)] = 4.0 * random_unit_d(pk, uint64_t(3 * j));
        sigma[size_t(j)] = 0.5 + 1.5 * random_unit_d(pk, uint64_t(3 * j + 1));
        zero_p[size_t(j)] = 0.4 * random_unit_d(pk, uint64_t(3 * j + 2));
    }
    const uint64_t key = stream_key(o.seed, s_dense, 0);
    std::vector<float> buf(size_t(k_chunk_rows * F));
    for (int64_t r0 = 0; r0 < o.samples; r0 += k_chunk_rows) {
        const int64_t n = std::min(k_chunk_rows, o.samples - r0);
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n * F; ++i) {
            const int64_t j = i % F;
            const uint64_t idx = uint64_t(r0 * F + i);
            double count = 0;
            if (random_unit_d(key, 2 * idx) >= zero_p[size_t(j)])
                count = std::floor(std::exp(mu[size_t(j)] + sigma[size_t(j)] * random_normal(key, 2 * idx + 1)));
            buf[size_t(i)] = float(std::log(count + 3.0));  // MLPerf's transform
        }
        DLRM_TRY(w->write(buf.data(), size_t(n * F) * 4));
    }
    return w->commit();
}

status write_sparse(const std::string& path, const model_config& c, const synth_options& o) {
    auto w = npz_writer::create(path);
    if (!w.ok()) return w.error();
    std::vector<int32_t> buf;
    for (size_t t = 0; t < c.tables.size(); ++t) {
        const int64_t h = c.tables[t].bag_size;
        const id_sampler sample(c.tables[t].rows, o.seed, t);
        const uint64_t key = stream_key(o.seed, s_ids, t);
        DLRM_TRY(w->begin_member(std::to_string(t) + ".npy", "<i4", {o.samples, h}));
        buf.resize(size_t(k_chunk_rows * h));
        for (int64_t r0 = 0; r0 < o.samples; r0 += k_chunk_rows) {
            const int64_t n = std::min(k_chunk_rows, o.samples - r0);
#pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < n * h; ++i) buf[size_t(i)] = sample(random_unit_d(key, uint64_t(r0 * h + i)));
            DLRM_TRY(w->write(buf.data(), size_t(n * h) * 4));
        }
        DLRM_TRY(w->end_member());
    }
    return w->commit();
}

status write_labels(const std::string& path, const std::vector<float>* probs, const synth_options& o) {
    std::vector<int32_t> labels(size_t(o.samples), 0);
    if (probs) {
        const uint64_t key = stream_key(o.seed, s_label, 0);
        for (int64_t i = 0; i < o.samples; ++i)
            labels[size_t(i)] = random_unit_d(key, uint64_t(i)) < double((*probs)[size_t(i)]) ? 1 : 0;
    }
    return write_npy(path, "<i4", {o.samples, 1}, labels.data());
}

result<std::vector<float>> score(const std::string& dir, int day, int64_t rows, const kernels::kernel_table& k) {
    auto m = model::open(dir + "/model.dlrm");
    if (!m.ok()) return m.error();
    auto ds = criteo_dataset::open(dir, day, m->table_rows());
    if (!ds.ok()) return ds.error();
    std::vector<int32_t> bags;
    for (int64_t t = 0; t < ds->num_tables(); ++t) bags.push_back(ds->bag_size(t));
    auto ex = executor::create(*m, k, executor_options{}, bags);
    if (!ex.ok()) return ex.error();
    std::vector<float> p(static_cast<size_t>(rows));
    DLRM_TRY((*ex)->run(*ds, 0, rows, p.data()));
    return p;
}

status check_disk_space(const std::string& dir, uint64_t need) {
    struct statvfs st {};
    if (::statvfs(dir.c_str(), &st) != 0) return {};
    const uint64_t free_bytes = uint64_t(st.f_bavail) * st.f_frsize;
    if (free_bytes < need)
        return status::error(dir + ": " + std::to_string(free_bytes >> 20) + " MiB free: dlrm synth needs about " +
                             std::to_string(need >> 20) + " MiB (use --rows-cap or --tables u4rw)");
    return {};
}

}  // namespace

status write_synthetic_inputs(const std::string& dir, const model_config& c, int day, int64_t samples, uint64_t seed) {
    synth_options o;
    o.samples = samples;
    o.seed = seed;
    o.day = day;
    model_config fixed = c;
    for (auto& t : fixed.tables) t.bag_size = std::max<int32_t>(t.bag_size, 1);  // variable bags: one id
    DLRM_TRY(write_dense(day_file(dir, day, "dense.npy"), fixed, o));
    DLRM_TRY(write_sparse(day_file(dir, day, "sparse_multi_hot.npz"), fixed, o));
    return write_labels(day_file(dir, day, "labels.npy"), nullptr, o);
}

result<model_config> synth_config(const synth_options& o) {
    model_config c;
    if (o.shape == "small")
        c = small_config();
    else if (o.shape == "mlperf-v1")
        c = mlperf_v1_config();
    else if (o.shape == "mlperf-v2")
        c = mlperf_v2_config();
    else
        return status::error("--shape " + o.shape + ": unknown shape: expected small, mlperf-v1 or mlperf-v2");
    if (o.rows_cap < 0) return status::error("--rows-cap " + std::to_string(o.rows_cap) + ": must be ≥ 0 (0 = no cap)");
    if (o.samples < 1) return status::error("--samples " + std::to_string(o.samples) + ": must be ≥ 1");
    if (o.samples > (int64_t(1) << 31) - 1) return status::error("--samples " + std::to_string(o.samples) + ": at most 2^31 − 1 rows per day");
    for (auto& t : c.tables) {
        if (o.rows_cap > 0) t.rows = std::min(t.rows, o.rows_cap);
        t.type = o.table_type;
    }
    DLRM_TRY(c.validate());
    return c;
}

status synthesize(const synth_options& o, const kernels::kernel_table& k,
                  const std::function<void(const std::string&)>& log) {
    auto cfg = synth_config(o);
    if (!cfg.ok()) return cfg.error();
    const model_config& c = *cfg;
    if (o.out_dir.empty()) return status::error("--out: missing: give the folder to write");
    std::error_code ec;
    fs::create_directories(o.out_dir, ec);
    if (ec) return status::error(o.out_dir + ": cannot create folder: " + ec.message());

    uint64_t model_bytes = 0;
    for (const auto& t : c.tables) model_bytes += uint64_t(t.rows) * kernels::row_bytes(t.type, c.dim);
    const uint64_t data_bytes = uint64_t(o.samples) * 4 * (14 + uint64_t(std::accumulate(
        c.tables.begin(), c.tables.end(), int64_t(0), [](int64_t s, const table_config& t) { return s + t.bag_size; })));
    DLRM_TRY(check_disk_space(o.out_dir, model_bytes + data_bytes + (uint64_t(128) << 20)));

    // Stage in a private folder; move the four files into place only at the end.
    const std::string stage = o.out_dir + "/.dlrm-synth-" + std::to_string(::getpid());
    fs::remove_all(stage, ec);
    fs::create_directories(stage, ec);
    if (ec) return status::error(stage + ": cannot create staging folder: " + ec.message());
    struct cleanup {
        std::string dir;
        ~cleanup() { std::error_code e; fs::remove_all(dir, e); }
    } cleanup_stage{stage};
    // A signal (Ctrl-C) must not leave the staging folder and its finished files behind either.
    struct signal_cleanup {
        std::vector<std::string> paths;
        explicit signal_cleanup(std::vector<std::string> p) : paths(std::move(p)) {
            for (const auto& q : paths) register_pending_path(q.c_str());
        }
        ~signal_cleanup() { for (const auto& q : paths) unregister_pending_path(q.c_str()); }
    } signal_stage{{stage, stage + "/model.dlrm", day_file(stage, o.day, "dense.npy"),
                    day_file(stage, o.day, "labels.npy"), day_file(stage, o.day, "sparse_multi_hot.npz")}};

    const std::string dense = day_file(stage, o.day, "dense.npy");
    const std::string labels = day_file(stage, o.day, "labels.npy");
    const std::string sparse = day_file(stage, o.day, "sparse_multi_hot.npz");
    log("synth: " + o.shape + " model, " + std::to_string(c.tables.size()) + " tables, dim " + std::to_string(c.dim) +
        ", " + std::to_string(model_bytes >> 20) + " MiB of " + kernels::row_type_name(c.tables[0].type) + " rows");
    DLRM_TRY(write_model(stage + "/model.dlrm", c, o, k, 1.0, 0.0, log));
    log("synth: " + std::to_string(o.samples) + " rows of data");
    DLRM_TRY(write_dense(dense, c, o));
    DLRM_TRY(write_sparse(sparse, c, o));
    DLRM_TRY(write_labels(labels, nullptr, o));  // placeholder: the reader needs a labels file

    // Probe the raw teacher on up to 16384 rows and fold an affine map into its last layer so its
    // logits have the target mean and spread (an exact change: no ReLU after the last Linear).
    const int64_t probe_rows = std::min<int64_t>(o.samples, 16384);
    auto probe = score(stage, o.day, probe_rows, k);
    if (!probe.ok()) return probe.error();
    double sum = 0, sum2 = 0;
    for (float p : *probe) {
        const double q = std::clamp(double(p), 1e-7, 1 - 1e-7);
        const double z = std::log(q / (1 - q));
        sum += z;
        sum2 += z * z;
    }
    const double mean = sum / double(probe_rows);
    const double sd = std::sqrt(std::max(0.0, sum2 / double(probe_rows) - mean * mean));
    const double scale = sd > 1e-6 ? k_target_logit_std / sd : 1.0;
    const double shift = k_target_logit_mean - scale * mean;
    log("synth: teacher logits mean " + std::to_string(mean) + " sd " + std::to_string(sd) + " → scaled by " +
        std::to_string(scale));
    DLRM_TRY(write_model(stage + "/model.dlrm", c, o, k, scale, shift, log));

    // Labels drawn from the teacher's own probabilities.
    log("synth: scoring the rows with the teacher to draw labels");
    auto probs = score(stage, o.day, o.samples, k);
    if (!probs.ok()) return probs.error();
    DLRM_TRY(write_labels(labels, &*probs, o));

    for (const std::string& f : {std::string("model.dlrm"), day_file("", o.day, "dense.npy").substr(1),
                                 day_file("", o.day, "labels.npy").substr(1),
                                 day_file("", o.day, "sparse_multi_hot.npz").substr(1)}) {
        fs::rename(stage + "/" + f, o.out_dir + "/" + f, ec);
        if (ec) return status::error(o.out_dir + "/" + f + ": cannot move into place: " + ec.message());
    }
    return {};
}

}  // namespace dlrm

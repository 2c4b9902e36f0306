#include "engine/executor.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>

namespace dlrm {

const char* precision_name(precision p) {
    switch (p) {
        case precision::fp32: return "fp32";
        case precision::bf16: return "bf16";
        case precision::int8: return "int8";
    }
    return "?";
}

// Per-thread buffers, sized once for sub_batch rows.
struct executor::scratch {
    aligned_buffer<float> dense;                  // m × dense_features
    std::vector<aligned_buffer<int32_t>> ids;     // per table: m × bag_size
    std::vector<int32_t*> id_ptrs;
    std::vector<kernels::embbag_table_args> bag_args;
    aligned_buffer<float> act_a, act_b;           // MLP ping-pong, m × widest layer
    aligned_buffer<float> inter_in;               // m × F·D: [x_0, pooled_0, ...]
    aligned_buffer<float> top_in;                 // m × interaction_out_width (dot) / x_l (dcn)
    aligned_buffer<float> dcn_low, dcn_y;         // m × rank, m × width
};

executor::~executor() = default;

void executor::pack(const linear_view& v, packed_linear& p) const {
    p.name = v.name;
    p.in = v.in;
    p.out = v.out;
    p.bias = v.bias;
    if (prec_ == precision::bf16) {
        p.w.resize(k_->gemm_bf16.packed_bytes(v.out, v.in));
        k_->gemm_bf16.pack(v.weight, v.out, v.in, p.w.data());
    } else {
        p.w.resize(k_->gemm_f32.packed_bytes(v.out, v.in));
        k_->gemm_f32.pack(v.weight, v.out, v.in, p.w.data());
    }
}

result<std::unique_ptr<executor>> executor::create(const model& m, const kernels::kernel_table& k,
                                                   const executor_options& o,
                                                   const std::vector<int32_t>& bag_sizes) {
    if (o.prec == precision::int8)
        return status::error(m.file().path() + ": --int8: the model has no calibrated int8 plan: run `dlrm calibrate " +
                             m.file().path() + " DATA_DIR -o OUT.dlrm` and run OUT.dlrm with --int8");
    if (o.threads < 0) return status::error("--threads " + std::to_string(o.threads) + ": must be ≥ 0 (0 = all cores)");
    if (o.batch < 0) return status::error("--batch " + std::to_string(o.batch) + ": must be ≥ 0 (0 = default)");
    std::unique_ptr<executor> e(new executor());
    e->model_ = &m;
    e->k_ = &k;
    e->prec_ = o.prec;
    e->threads_ = o.threads > 0 ? o.threads : omp_get_max_threads();
    const model_config& c = m.config();
    if (bag_sizes.empty()) {
        for (const auto& t : c.tables) e->bag_sizes_.push_back(t.bag_size);
    } else if (bag_sizes.size() != c.tables.size()) {
        return status::error("data: " + std::to_string(bag_sizes.size()) + " sparse features: the model " +
                             m.file().path() + " has " + std::to_string(c.tables.size()) + " tables");
    } else {
        e->bag_sizes_ = bag_sizes;
    }
    for (size_t t = 0; t < e->bag_sizes_.size(); ++t)
        if (e->bag_sizes_[t] < 1)
            return status::error("table " + std::to_string(t) + ": bag size " + std::to_string(e->bag_sizes_[t]) +
                                 ": the Criteo layouts dlrm reads have fixed bags of ≥ 1 id");
    e->sub_batch_ = o.batch > 0 ? std::max<int64_t>(1, (o.batch + e->threads_ - 1) / e->threads_) : 512;

    for (const auto& v : m.bottom()) e->pack(v, e->bottom_.emplace_back());
    for (const auto& v : m.top()) e->pack(v, e->top_.emplace_back());
    for (const auto& d : m.dcn()) {
        e->pack(d.v, e->dcn_v_.emplace_back());
        e->pack(d.w, e->dcn_w_.emplace_back());
    }

    const int64_t mb = e->sub_batch_;
    int64_t widest = c.dense_features;
    for (int64_t w : c.bottom) widest = std::max(widest, w);
    for (int64_t w : c.top) widest = std::max(widest, w);
    for (int i = 0; i < e->threads_; ++i) {
        auto s = std::make_unique<scratch>();
        s->dense.resize(size_t(mb * c.dense_features));
        for (int32_t bag : e->bag_sizes_) s->ids.emplace_back(size_t(mb * bag));
        for (auto& b : s->ids) s->id_ptrs.push_back(b.data());
        for (size_t t = 0; t < c.tables.size(); ++t) {
            kernels::embbag_table_args a{};
            a.rows = m.tables()[t].data;
            a.num_rows = c.tables[t].rows;
            a.type = c.tables[t].type;
            a.ids = s->ids[t].data();
            a.offsets = nullptr;
            a.bag_size = e->bag_sizes_[t];
            s->bag_args.push_back(a);
        }
        s->act_a.resize(size_t(mb * widest));
        s->act_b.resize(size_t(mb * widest));
        s->inter_in.resize(size_t(mb * c.interaction_in_width()));
        s->top_in.resize(size_t(mb * std::max(c.interaction_out_width(), c.interaction_in_width())));
        if (c.inter == interaction::dcn) {
            s->dcn_low.resize(size_t(mb * c.dcn_rank));
            s->dcn_y.resize(size_t(mb * c.interaction_in_width()));
        }
        e->scratch_.push_back(std::move(s));
    }
    return e;
}

void executor::linear(const packed_linear& l, int64_t m, const float* src, int64_t lda, float* dst, int64_t ldd,
                      kernels::epilogue epi) const {
    kernels::gemm_f32_args a{m, l.out, l.in, src, lda, l.w.data(), l.bias, dst, ldd, epi};
    if (prec_ == precision::bf16)
        k_->gemm_bf16.run(a);
    else
        k_->gemm_f32.run(a);
}

status executor::run_chunk(const criteo_dataset& ds, int64_t row, int64_t m, float* out, scratch& s,
                           stage_times& t) const {
    using clock = std::chrono::steady_clock;
    const model_config& c = model_->config();
    const int64_t D = c.dim, F = c.num_features(), in_w = c.interaction_in_width();
    auto t0 = clock::now();
    auto lap = [&](double& acc) {
        auto now = clock::now();
        acc += std::chrono::duration<double>(now - t0).count();
        t0 = now;
    };

    // Dense features and validated ids (the dataset reader is the index check).
    DLRM_TRY(ds.read_batch(row, m, s.dense.data(), nullptr, s.id_ptrs.data()));
    lap(t.read);

    // Bottom MLP: ReLU after every layer; the last one writes x_0 into the interaction input.
    const float* src = s.dense.data();
    int64_t lda = c.dense_features;
    for (size_t i = 0; i < bottom_.size(); ++i) {
        const bool last = i + 1 == bottom_.size();
        float* dst = last ? s.inter_in.data() : (i % 2 ? s.act_b.data() : s.act_a.data());
        const int64_t ldd = last ? in_w : bottom_[i].out;
        linear(bottom_[i], m, src, lda, dst, ldd, kernels::epilogue::relu);
        src = dst;
        lda = ldd;
    }
    lap(t.bottom);

    // All tables in one call, pooled vectors written right after x_0.
    kernels::embbag_args eb{m, D, int64_t(s.bag_args.size()), s.bag_args.data(), s.inter_in.data() + D, in_w};
    k_->embbag.run(eb);
    lap(t.embbag);

    const float* top_src = nullptr;
    int64_t top_ld = 0;
    switch (c.inter) {
        case interaction::dot: {
            kernels::interact_dot_args a{m, F, D, s.inter_in.data(), in_w, s.top_in.data(), c.interaction_out_width(),
                                         c.dot_diag};
            k_->interact_dot.run(a);
            top_src = s.top_in.data();
            top_ld = c.interaction_out_width();
            break;
        }
        case interaction::cat:
            top_src = s.inter_in.data();
            top_ld = in_w;
            break;
        case interaction::dcn: {
            // x_{l+1} = x0 ⊙ (W_l·(V_l·x_l) + b_l) + x_l, with x_l kept in top_in.
            float* xl = s.top_in.data();
            std::copy(s.inter_in.data(), s.inter_in.data() + m * in_w, xl);
            for (size_t l = 0; l < dcn_v_.size(); ++l) {
                linear(dcn_v_[l], m, xl, in_w, s.dcn_low.data(), c.dcn_rank, kernels::epilogue::none);
                linear(dcn_w_[l], m, s.dcn_low.data(), c.dcn_rank, s.dcn_y.data(), in_w, kernels::epilogue::none);
                k_->dcn_cross.run(m * in_w, s.inter_in.data(), s.dcn_y.data(), xl, xl);
            }
            top_src = xl;
            top_ld = in_w;
            break;
        }
    }
    lap(t.interaction);

    // Top MLP: ReLU after all but the last layer, whose single logit goes through the sigmoid.
    src = top_src;
    lda = top_ld;
    for (size_t i = 0; i < top_.size(); ++i) {
        const bool last = i + 1 == top_.size();
        float* dst = last ? out : (i % 2 ? s.act_b.data() : s.act_a.data());
        linear(top_[i], m, src, lda, dst, top_[i].out, last ? kernels::epilogue::none : kernels::epilogue::relu);
        src = dst;
        lda = top_[i].out;
    }
    k_->sigmoid.run(m, out, out);
    lap(t.top);
    return {};
}

status executor::run(const criteo_dataset& ds, int64_t r0, int64_t r1, float* preds,
                     const std::function<void(int64_t)>& progress, stage_times* times) {
    const int64_t n = r1 - r0;
    if (n <= 0) return {};
    if (ds.num_tables() != int64_t(bag_sizes_.size()))
        return status::error("data: " + std::to_string(ds.num_tables()) + " sparse features: the model has " +
                             std::to_string(bag_sizes_.size()) + " tables");
    for (size_t t = 0; t < bag_sizes_.size(); ++t)
        if (ds.bag_size(int64_t(t)) != bag_sizes_[t])
            return status::error("data: table " + std::to_string(t) + " has " + std::to_string(ds.bag_size(int64_t(t))) +
                                 " ids per row: the executor was set up for " + std::to_string(bag_sizes_[t]));
    const int64_t chunks = (n + sub_batch_ - 1) / sub_batch_;
    std::atomic<int64_t> done{0};
    std::atomic<int64_t> first_bad_chunk{chunks};
    std::mutex err_mu;
    status first_err;
    std::vector<stage_times> per_thread(static_cast<size_t>(threads_));
    auto last_report = std::chrono::steady_clock::now();

#pragma omp parallel num_threads(threads_)
    {
        const int tid = omp_get_thread_num();
        scratch& s = *scratch_[size_t(tid)];
        stage_times& tt = per_thread[size_t(tid)];
#pragma omp for schedule(dynamic, 1)
        for (int64_t ci = 0; ci < chunks; ++ci) {
            if (ci > first_bad_chunk.load(std::memory_order_relaxed)) continue;
            const int64_t row = r0 + ci * sub_batch_;
            const int64_t m = std::min(sub_batch_, r1 - row);
            status st = run_chunk(ds, row, m, preds + (row - r0), s, tt);
            if (!st.ok()) {
                std::lock_guard<std::mutex> g(err_mu);
                if (ci < first_bad_chunk.load()) {
                    first_bad_chunk.store(ci);
                    first_err = st;
                }
                continue;
            }
            const int64_t d = done.fetch_add(m) + m;
            if (progress && tid == 0) {
                auto now = std::chrono::steady_clock::now();
                if (now - last_report > std::chrono::milliseconds(500)) {
                    last_report = now;
                    progress(d);
                }
            }
        }
    }
    if (times)
        for (const auto& t : per_thread) {
            times->read += t.read;
            times->bottom += t.bottom;
            times->embbag += t.embbag;
            times->interaction += t.interaction;
            times->top += t.top;
        }
    if (!first_err.ok()) return first_err;
    if (progress) progress(n);
    return {};
}

}  // namespace dlrm

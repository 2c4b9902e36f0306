#include "engine/executor.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>

namespace dlrm {

const char* precision_name(precision p) {
    switch (p) {
        case precision::fp32: return "fp32";
        case precision::bf16: return "bf16";
        case precision::int8: return "int8";
        case precision::simulate: return "simulate";
    }
    return "?";
}

// Per-thread buffers, sized once for sub_batch rows.
struct executor::scratch {
    aligned_buffer<float> dense;                  // m × dense_features
    std::vector<aligned_buffer<int32_t>> ids;     // per table: m × bag_size
    std::vector<int32_t*> id_ptrs;
    std::vector<aligned_buffer<int32_t>> offsets; // per table: m + 1 (--on-bad-index skip packs bags)
    std::vector<int32_t*> off_ptrs;
    std::vector<kernels::embbag_table_args> bag_args;
    aligned_buffer<float> act_a, act_b;           // MLP ping-pong, m × widest layer
    aligned_buffer<float> inter_in;               // m × F·D: [x_0, pooled_0, ...]
    aligned_buffer<float> top_in;                 // m × interaction_out_width (dot) / x_l (dcn)
    aligned_buffer<float> dcn_low, dcn_y;         // m × rank, m × width
    aligned_buffer<uint8_t> qin;                  // int8 layers: the u8 input, m × widest input
    aligned_buffer<uint8_t> q_a, q_b;             // u8 outputs of int8 layers for the next int8 layer
    aligned_buffer<float> fq;                     // simulate: the fake-quantized input, m × widest input
    aligned_buffer<uint16_t> bf16_row;            // simulate: one input row rounded to bf16
    int tid = 0;
    double* layer_seconds = nullptr;  // per layer, this thread's; null: not timed
};

executor::~executor() = default;

namespace {

// fp32 weights of a layer stored as bf16 / fp16 / int8 (w_scale · q): what simulate and fp16 run.
std::vector<float> widen_weights(const kernels::kernel_table& k, const linear_view& v) {
    const size_t n = size_t(v.out * v.in);
    std::vector<float> w(n);
    switch (v.type) {
        case qtype::fp32: std::copy(v.weight, v.weight + n, w.begin()); break;
        case qtype::bf16: k.convert.bf16_to_f32(int64_t(n), static_cast<const uint16_t*>(v.weight_raw), w.data()); break;
        case qtype::fp16: k.convert.f16_to_f32(int64_t(n), static_cast<const uint16_t*>(v.weight_raw), w.data()); break;
        case qtype::int8: {
            const int8_t* q = static_cast<const int8_t*>(v.weight_raw);
            for (int64_t o = 0; o < v.out; ++o)
                for (int64_t i = 0; i < v.in; ++i) w[size_t(o * v.in + i)] = v.w_scale[o] * float(q[o * v.in + i]);
            break;
        }
        case qtype::uint4: break;  // not a Linear dtype (plan_from_json refuses it)
    }
    return w;
}

}  // namespace

status executor::pack(const linear_view& v, bool relu, packed_linear& p) {
    p.name = v.name;
    p.in = v.in;
    p.out = v.out;
    p.bias = v.bias;
    p.index = layers_.size();
    layers_.push_back({v.name, v.in, v.out, relu});
    // Packing is a layout change of the stored weights, never a re-quantization.
    auto pack_f32 = [&](const float* w) {
        p.kind = gemm_kind::f32;
        p.w.resize(k_->gemm_f32.packed_bytes(v.out, v.in));
        k_->gemm_f32.pack(w, v.out, v.in, p.w.data());
    };
    auto pack_bf16 = [&](const float* w) {
        p.kind = gemm_kind::bf16;
        p.w.resize(k_->gemm_bf16.packed_bytes(v.out, v.in));
        k_->gemm_bf16.pack(w, v.out, v.in, p.w.data());
    };
    if (prec_ == precision::fp32 || prec_ == precision::bf16) {
        if (v.type != qtype::fp32)
            return status::error(model_->path() + ": --" + precision_name(prec_) + ": layer " + v.name + " is stored as " +
                                 qtype_name(v.type) + " by the model's quantization plan: run it with --int8 (or --simulate), "
                                 "or run the fp32 model it was calibrated from");
        if (prec_ == precision::bf16) pack_bf16(v.weight); else pack_f32(v.weight);
        return {};
    }
    if (prec_ == precision::simulate) {
        const std::vector<float> w = widen_weights(*k_, v);
        pack_f32(w.data());
        p.fake_quant = v.type == qtype::int8;
        p.round_bf16 = v.type == qtype::bf16;
        p.act = v.act;
        return {};
    }
    // precision::int8: each layer as its plan says.
    switch (v.type) {
        case qtype::fp32: pack_f32(v.weight); return {};
        case qtype::fp16: { const auto w = widen_weights(*k_, v); pack_f32(w.data()); return {}; }
        case qtype::bf16: { const auto w = widen_weights(*k_, v); pack_bf16(w.data()); return {}; }
        case qtype::int8: {
            p.kind = gemm_kind::u8s8;
            const int8_t* q = static_cast<const int8_t*>(v.weight_raw);
            p.w.resize(k_->gemm_u8s8.packed_bytes(v.out, v.in));
            k_->gemm_u8s8.pack(q, v.out, v.in, p.w.data());
            p.act = v.act;
            p.w_scale = v.w_scale;
            p.comp.resize(size_t(v.out));
            for (int64_t o = 0; o < v.out; ++o) {
                int64_t s = 0;
                for (int64_t i = 0; i < v.in; ++i) s += q[o * v.in + i];
                p.comp[size_t(o)] = int32_t(s * v.act.zero_point);  // |s| ≤ 127·K, ·255 fits for K < 66,000
            }
            return {};
        }
        case qtype::uint4: break;
    }
    return status::error(model_->path() + ": layer " + v.name + ": dtype " + qtype_name(v.type) + ": not a Linear dtype");
}

result<std::unique_ptr<executor>> executor::create(const model& m, const kernels::kernel_table& k,
                                                   const executor_options& o,
                                                   const std::vector<int32_t>& bag_sizes) {
    if ((o.prec == precision::int8 || o.prec == precision::simulate) && !m.plan())
        return status::error(m.path() + ": --" + precision_name(o.prec) + ": the model has no calibrated int8 plan: run `dlrm calibrate " +
                             m.path() + " DATA_DIR -o OUT.dlrm` and run OUT.dlrm with --" + precision_name(o.prec));
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
                             m.path() + " has " + std::to_string(c.tables.size()) + " tables");
    } else {
        e->bag_sizes_ = bag_sizes;
    }
    for (size_t t = 0; t < e->bag_sizes_.size(); ++t)
        if (e->bag_sizes_[t] < 1)
            return status::error("table " + std::to_string(t) + ": bag size " + std::to_string(e->bag_sizes_[t]) +
                                 ": the Criteo layouts dlrm reads have fixed bags of ≥ 1 id");
    e->sub_batch_ = o.batch > 0 ? std::max<int64_t>(1, (o.batch + e->threads_ - 1) / e->threads_) : 512;

    // Execution order, as linear_names(): bottom, dcn (V, W per layer), top.
    for (const auto& v : m.bottom()) DLRM_TRY(e->pack(v, true, e->bottom_.emplace_back()));
    for (const auto& d : m.dcn()) {
        DLRM_TRY(e->pack(d.v, false, e->dcn_v_.emplace_back()));
        DLRM_TRY(e->pack(d.w, false, e->dcn_w_.emplace_back()));
    }
    for (size_t i = 0; i < m.top().size(); ++i)
        DLRM_TRY(e->pack(m.top()[i], i + 1 < m.top().size(), e->top_.emplace_back()));
    int64_t widest_in = 0;
    for (const auto& l : e->layers_) widest_in = std::max(widest_in, l.in);

    const int64_t mb = e->sub_batch_;
    int64_t widest = c.dense_features;
    for (int64_t w : c.bottom) widest = std::max(widest, w);
    for (int64_t w : c.top) widest = std::max(widest, w);
    for (int i = 0; i < e->threads_; ++i) {
        auto s = std::make_unique<scratch>();
        s->dense.resize(size_t(mb * c.dense_features));
        for (int32_t bag : e->bag_sizes_) s->ids.emplace_back(size_t(mb * bag));
        for (auto& b : s->ids) s->id_ptrs.push_back(b.data());
        for (size_t t = 0; t < e->bag_sizes_.size(); ++t) s->offsets.emplace_back(size_t(mb + 1));
        for (auto& b : s->offsets) s->off_ptrs.push_back(b.data());
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
        if (o.prec == precision::int8 || o.prec == precision::simulate) s->qin.resize(size_t(mb * widest_in));
        if (o.prec == precision::int8) {
            s->q_a.resize(size_t(mb * widest_in));
            s->q_b.resize(size_t(mb * widest_in));
        }
        if (o.prec == precision::simulate) {
            s->fq.resize(size_t(mb * widest_in));
            s->bf16_row.resize(size_t(widest_in));
        }
        s->tid = i;
        e->scratch_.push_back(std::move(s));
    }
    return e;
}

void executor::linear(const packed_linear& l, int64_t m, const lin_in& in, const lin_out& out, kernels::epilogue epi,
                      scratch& s) const {
    using clock = std::chrono::steady_clock;
    const auto t0 = s.layer_seconds ? clock::now() : clock::time_point{};
    if (l.kind == gemm_kind::u8s8) {
        // The input quantized with the layer's calibrated qparams (unless the previous layer already
        // wrote it so), then s32-accumulated u8·s8 with the epilogue writing what the caller asked
        // for: fp32 and/or u8 for the next int8 layer, after the DCN cross when x0 is given.
        const uint8_t* q = in.u8;
        int64_t ldq_in = in.ldq;
        if (!q) {
            uint8_t* buf = s.qin.data();
            for (int64_t r = 0; r < m; ++r)
                k_->convert.quantize_u8(l.in, in.f32 + r * in.ld, l.act.scale, l.act.zero_point, buf + r * l.in);
            q = buf;
            ldq_in = l.in;
        }
        kernels::gemm_u8s8_args a{m, l.out, l.in, q, ldq_in, l.act.scale, l.act.zero_point, l.w.data(), l.w_scale,
                                  l.comp.data(), l.bias, out.f32, out.u8, out.u8 ? out.q.scale : 1.0f,
                                  out.u8 ? out.q.zero_point : 0, out.f32 ? out.ld : out.ldq, epi};
        a.ldq = out.ldq;
        a.x0 = out.x0;
        a.xl = out.xl;
        a.ldx = out.ldx;
        k_->gemm_u8s8.run(a);
    } else {
        const float* src = in.f32;
        int64_t ld_in = in.ld;
        if (l.fake_quant || l.round_bf16) {
            float* f = s.fq.data();
            for (int64_t r = 0; r < m; ++r) {
                const float* x = in.f32 + r * in.ld;
                float* y = f + r * l.in;
                if (l.fake_quant) {
                    // The same quantize_u8 kernel as --int8, so both see the same codes.
                    uint8_t* q = s.qin.data() + r * l.in;
                    k_->convert.quantize_u8(l.in, x, l.act.scale, l.act.zero_point, q);
                    for (int64_t i = 0; i < l.in; ++i) y[i] = l.act.scale * float(int32_t(q[i]) - l.act.zero_point);
                } else {  // the bf16 value of each input, as the bf16 GEMM would see it
                    k_->convert.f32_to_bf16(l.in, x, s.bf16_row.data());
                    k_->convert.bf16_to_f32(l.in, s.bf16_row.data(), y);
                }
            }
            src = f;
            ld_in = l.in;
        }
        kernels::gemm_f32_args a{m, l.out, l.in, src, ld_in, l.w.data(), l.bias, out.f32, out.ld, epi};
        if (l.kind == gemm_kind::bf16)
            k_->gemm_bf16.run(a);
        else
            k_->gemm_f32.run(a);
    }
    if (s.layer_seconds) s.layer_seconds[l.index] += std::chrono::duration<double>(clock::now() - t0).count();
    if (hook_) hook_(s.tid, l.index, m, in.f32, in.ld, out.f32, out.ld);
}

bool executor::u8_chain::between(const packed_linear& a, const packed_linear* b) const {
    return on && b && a.kind == gemm_kind::u8s8 && b->kind == gemm_kind::u8s8;
}

executor::lin_in executor::mlp(const std::vector<packed_linear>& layers, int64_t m, lin_in in, const lin_out& last,
                               bool relu_last, u8_chain& chain, scratch& s) const {
    for (size_t i = 0; i < layers.size(); ++i) {
        const bool is_last = i + 1 == layers.size();
        lin_out o;
        if (is_last) {
            o = last;
        } else if (chain.between(layers[i], &layers[i + 1])) {
            o.u8 = chain.buf[chain.next];
            o.ldq = layers[i].out;
            o.q = layers[i + 1].act;
        } else {
            o.f32 = i % 2 ? s.act_b.data() : s.act_a.data();
            o.ld = layers[i].out;
        }
        linear(layers[i], m, in, o, is_last && !relu_last ? kernels::epilogue::none : kernels::epilogue::relu, s);
        in = {o.f32, o.ld, o.u8, o.ldq};
        if (o.u8) chain.next ^= 1;
    }
    return in;
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
    // With --on-bad-index skip the reader drops bad ids and writes bag boundaries: bags vary in size.
    DLRM_TRY(ds.read_batch(row, m, s.dense.data(), nullptr, s.id_ptrs.data(), s.off_ptrs.data()));
    const bool packed = ds.on_bad_index() == index_policy::skip;
    for (size_t tb = 0; tb < s.bag_args.size(); ++tb) s.bag_args[tb].offsets = packed ? s.off_ptrs[tb] : nullptr;
    lap(t.read);

    u8_chain chain{!hook_, {s.q_a.data(), s.q_b.data()}};

    // Bottom MLP: ReLU after every layer; the last one writes x_0 into the interaction input.
    lin_out x0_out;
    x0_out.f32 = s.inter_in.data();
    x0_out.ld = in_w;
    mlp(bottom_, m, {s.dense.data(), c.dense_features, nullptr, 0}, x0_out, true, chain, s);
    lap(t.bottom);

    // All tables in one call, pooled vectors written right after x_0.
    kernels::embbag_args eb{m, D, int64_t(s.bag_args.size()), s.bag_args.data(), s.inter_in.data() + D, in_w,
                            kernels::embbag_dst_streams(m, in_w)};
    k_->embbag.run(eb);
    lap(t.embbag);

    lin_in top_in{nullptr, 0, nullptr, 0};
    switch (c.inter) {
        case interaction::dot: {
            kernels::interact_dot_args a{m, F, D, s.inter_in.data(), in_w, s.top_in.data(), c.interaction_out_width(),
                                         c.dot_diag};
            k_->interact_dot.run(a);
            top_in = {s.top_in.data(), c.interaction_out_width(), nullptr, 0};
            break;
        }
        case interaction::cat:
            top_in = {s.inter_in.data(), in_w, nullptr, 0};
            break;
        case interaction::dcn: {
            // x_{l+1} = x0 ⊙ (W_l·(V_l·x_l) + b_l) + x_l: the cross is the W GEMM's epilogue; x_1.. live in
            // top_in (x_0 = inter_in is read in place by the first layer, never copied).
            const float* x0 = s.inter_in.data();
            float* xl = s.top_in.data();
            lin_in v_in{x0, in_w, nullptr, 0};
            for (size_t l = 0; l < dcn_v_.size(); ++l) {
                const packed_linear& V = dcn_v_[l];
                const packed_linear& W = dcn_w_[l];
                lin_out lo;
                if (chain.between(V, &W)) {
                    lo.u8 = chain.buf[chain.next];
                    lo.ldq = c.dcn_rank;
                    lo.q = W.act;
                } else {
                    lo.f32 = s.dcn_low.data();
                    lo.ld = c.dcn_rank;
                }
                linear(V, m, v_in, lo, kernels::epilogue::none, s);
                if (lo.u8) chain.next ^= 1;
                const lin_in w_in{lo.f32, lo.ld, lo.u8, lo.ldq};
                // The cross in the int8 GEMM's epilogue; after an fp32 / bf16 GEMM (or with a hook, which
                // observes the W output y itself) as its own pass from y.
                const bool fused = W.kind == gemm_kind::u8s8 && !hook_;
                lin_out wo;
                wo.f32 = fused ? xl : s.dcn_y.data();
                wo.ld = in_w;
                if (fused) {
                    wo.x0 = x0;
                    wo.xl = l == 0 ? x0 : xl;
                    wo.ldx = in_w;
                }
                const packed_linear* next = l + 1 < dcn_v_.size() ? &dcn_v_[l + 1] : (top_.empty() ? nullptr : &top_[0]);
                if (chain.between(W, next)) {
                    wo.u8 = chain.buf[chain.next];
                    wo.ldq = in_w;
                    wo.q = next->act;
                    // The last x_l feeds only the u8 input of top.0: its fp32 copy (m × 3456 floats,
                    // 14 MB per 1024 rows) would be written and never read.
                    if (fused && l + 1 == dcn_v_.size()) wo.f32 = nullptr;
                }
                linear(W, m, w_in, wo, kernels::epilogue::none, s);
                if (!fused) k_->dcn_cross.run(m * in_w, x0, s.dcn_y.data(), l == 0 ? x0 : xl, xl);
                v_in = {wo.f32 ? xl : nullptr, in_w, wo.u8, wo.ldq};  // x_{l+1} is in xl (fused or not)
                if (wo.u8) chain.next ^= 1;
            }
            top_in = v_in;
            break;
        }
    }
    lap(t.interaction);

    // Top MLP: ReLU after all but the last layer, whose single logit goes through the sigmoid.
    lin_out logit;
    logit.f32 = out;
    logit.ld = top_.empty() ? 1 : top_.back().out;
    mlp(top_, m, top_in, logit, false, chain, s);
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
    for (auto& t : per_thread) t.layer.assign(times ? layers_.size() : 0, 0.0);
    auto last_report = std::chrono::steady_clock::now();

#pragma omp parallel num_threads(threads_)
    {
        const int tid = omp_get_thread_num();
        scratch& s = *scratch_[size_t(tid)];
        stage_times& tt = per_thread[size_t(tid)];
        s.layer_seconds = times ? tt.layer.data() : nullptr;
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
        s.layer_seconds = nullptr;  // per_thread ends with this call
    }
    if (times) {
        times->layer.resize(layers_.size(), 0.0);
        for (const auto& t : per_thread) {
            times->read += t.read;
            times->bottom += t.bottom;
            times->embbag += t.embbag;
            times->interaction += t.interaction;
            times->top += t.top;
            for (size_t i = 0; i < layers_.size(); ++i) times->layer[i] += t.layer[i];
        }
    }
    if (!first_err.ok()) return first_err;
    if (progress) progress(n);
    return {};
}

}  // namespace dlrm

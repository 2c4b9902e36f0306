#include "engine/quant/calibrate.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/metrics/auc.h"
#include "engine/quant/quantizer.h"

namespace dlrm {

result<std::unique_ptr<executor>> make_executor(const model& m, precision p, const criteo_dataset& ds,
                                                const kernels::kernel_table& k, const run_setup& rs) {
    executor_options eo;
    eo.prec = p;
    eo.threads = rs.threads;
    eo.batch = rs.batch;
    std::vector<int32_t> bags;
    for (int64_t t = 0; t < ds.num_tables(); ++t) bags.push_back(ds.bag_size(t));
    return executor::create(m, k, eo, bags);
}

status check_rows(const criteo_dataset& ds, int64_t r0, int64_t r1, const char* what) {
    if (r0 < 0 || r1 > ds.rows() || r1 <= r0)
        return status::error(std::string(what) + " rows " + std::to_string(r0) + ":" + std::to_string(r1) +
                             ": empty or outside the dataset's " + std::to_string(ds.rows()) + " rows: need at least one row");
    return {};
}

result<std::vector<layer_range>> observe_ranges(const model& fp32, const criteo_dataset& ds,
                                                const kernels::kernel_table& k, int64_t r0, int64_t r1,
                                                range_method method, double percentile, const run_setup& rs) {
    DLRM_TRY(check_rows(ds, r0, r1, "calibration"));
    auto ex = make_executor(fp32, precision::fp32, ds, k, rs);
    if (!ex.ok()) return ex.error();
    const auto& layers = (*ex)->layers();
    const size_t L = layers.size();
    const int T = (*ex)->threads();
    std::vector<float> preds(size_t(r1 - r0));

    // Pass 1: min / max per layer, one slot per thread.
    std::vector<std::vector<float>> lo(size_t(T), std::vector<float>(L, std::numeric_limits<float>::infinity()));
    std::vector<std::vector<float>> hi(size_t(T), std::vector<float>(L, -std::numeric_limits<float>::infinity()));
    bool nonfinite = false;
    std::vector<char> bad(size_t(T), 0);
    (*ex)->set_hook([&](int tid, size_t l, int64_t m, const float* src, int64_t lda, const float*, int64_t) {
        float a = lo[size_t(tid)][l], b = hi[size_t(tid)][l];
        const int64_t K = layers[l].in;
        for (int64_t r = 0; r < m; ++r)
            for (int64_t i = 0; i < K; ++i) {
                const float x = src[r * lda + i];
                a = std::min(a, x);
                b = std::max(b, x);
                if (!std::isfinite(x)) bad[size_t(tid)] = 1;
            }
        lo[size_t(tid)][l] = a;
        hi[size_t(tid)][l] = b;
    });
    DLRM_TRY((*ex)->run(ds, r0, r1, preds.data()));
    for (char b : bad) nonfinite |= b != 0;
    std::vector<layer_range> out(L);
    for (size_t l = 0; l < L; ++l) {
        out[l].name = layers[l].name;
        out[l].min = std::numeric_limits<float>::infinity();
        out[l].max = -std::numeric_limits<float>::infinity();
        for (int t = 0; t < T; ++t) {
            out[l].min = std::min(out[l].min, lo[size_t(t)][l]);
            out[l].max = std::max(out[l].max, hi[size_t(t)][l]);
        }
    }
    if (nonfinite)
        for (const auto& r : out)
            if (!std::isfinite(r.min) || !std::isfinite(r.max))
                return status::error("calibration: the input of layer " + r.name + " has non-finite values (range " +
                                     std::to_string(r.min) + " … " + std::to_string(r.max) +
                                     "): a Linear input must be finite to be quantized");

    // Pass 2: histograms over [min, max].
    if (method != range_method::minmax) {
        std::vector<std::vector<value_histogram>> h(static_cast<size_t>(T));
        for (auto& per : h)
            for (const auto& r : out) per.push_back(make_histogram(r.min, r.max));
        (*ex)->set_hook([&](int tid, size_t l, int64_t m, const float* src, int64_t lda, const float*, int64_t) {
            value_histogram& hh = h[size_t(tid)][l];
            for (int64_t r = 0; r < m; ++r) hh.add(src + r * lda, layers[l].in);
        });
        DLRM_TRY((*ex)->run(ds, r0, r1, preds.data()));
        for (size_t l = 0; l < L; ++l) {
            for (int t = 1; t < T; ++t) h[0][l].merge(h[size_t(t)][l]);
            out[l].clip = choose_range(method, h[0][l], percentile);
        }
    } else {
        for (auto& r : out) r.clip = {r.min, r.max};
    }
    for (auto& r : out) r.q = qparams_for_range(r.clip.lo, r.clip.hi);
    return out;
}

result<std::map<std::string, double>> layer_sqnr(const model& fp32, const model& quantized, const criteo_dataset& ds,
                                                 const kernels::kernel_table& k, int64_t r0, int64_t r1,
                                                 const run_setup& rs) {
    DLRM_TRY(check_rows(ds, r0, r1, "SQNR"));
    // The quantized layers as the simulate executor runs them: its packed fp32 weights are what we need,
    // so reuse it layer by layer through a second executor that we drive by hand.
    auto ex = make_executor(fp32, precision::fp32, ds, k, rs);
    if (!ex.ok()) return ex.error();
    const auto& layers = (*ex)->layers();
    const size_t L = layers.size();
    const int T = (*ex)->threads();
    std::vector<const linear_view*> qv;
    for (const auto& v : quantized.bottom()) qv.push_back(&v);
    for (const auto& d : quantized.dcn()) { qv.push_back(&d.v); qv.push_back(&d.w); }
    for (const auto& v : quantized.top()) qv.push_back(&v);
    if (qv.size() != L) return status::error("SQNR: the quantized model has a different architecture");
    // Dequantized weights, packed for gemm_f32.
    std::vector<aligned_buffer<uint8_t>> packed(L);
    int64_t widest_in = 0, widest_out = 0;
    for (size_t l = 0; l < L; ++l) {
        const linear_view& v = *qv[l];
        widest_in = std::max(widest_in, v.in);
        widest_out = std::max(widest_out, v.out);
        if (v.type == qtype::fp32) continue;
        std::vector<float> w(size_t(v.out * v.in));
        for (int64_t o = 0; o < v.out; ++o)
            for (int64_t i = 0; i < v.in; ++i) {
                const size_t j = size_t(o * v.in + i);
                float x = 0;
                if (v.type == qtype::int8) x = v.w_scale[o] * float(static_cast<const int8_t*>(v.weight_raw)[j]);
                else if (v.type == qtype::bf16) k.convert.bf16_to_f32(1, static_cast<const uint16_t*>(v.weight_raw) + j, &x);
                else k.convert.f16_to_f32(1, static_cast<const uint16_t*>(v.weight_raw) + j, &x);
                w[j] = x;
            }
        packed[l].resize(k.gemm_f32.packed_bytes(v.out, v.in));
        k.gemm_f32.pack(w.data(), v.out, v.in, packed[l].data());
    }
    const int64_t mb = (*ex)->sub_batch();
    std::vector<aligned_buffer<float>> xin(static_cast<size_t>(T)), yq(static_cast<size_t>(T));
    std::vector<aligned_buffer<uint8_t>> qb(static_cast<size_t>(T));
    for (int t = 0; t < T; ++t) {
        xin[size_t(t)].resize(size_t(mb * widest_in));
        yq[size_t(t)].resize(size_t(mb * widest_out));
        qb[size_t(t)].resize(size_t(widest_in));
    }
    std::vector<std::vector<double>> sig(size_t(T), std::vector<double>(L, 0.0)), noise = sig;
    (*ex)->set_hook([&](int tid, size_t l, int64_t m, const float* src, int64_t lda, const float* dst, int64_t ldd) {
        const linear_view& v = *qv[l];
        if (v.type == qtype::fp32) return;
        float* x = xin[size_t(tid)].data();
        uint8_t* q = qb[size_t(tid)].data();
        for (int64_t r = 0; r < m; ++r) {
            const float* s = src + r * lda;
            float* y = x + r * v.in;
            if (v.type == qtype::int8) {
                k.convert.quantize_u8(v.in, s, v.act.scale, v.act.zero_point, q);
                for (int64_t i = 0; i < v.in; ++i) y[i] = v.act.scale * float(int32_t(q[i]) - v.act.zero_point);
            } else if (v.type == qtype::bf16) {
                for (int64_t i = 0; i < v.in; ++i) {
                    uint16_t b;
                    k.convert.f32_to_bf16(1, s + i, &b);
                    k.convert.bf16_to_f32(1, &b, y + i);
                }
            } else {
                std::copy(s, s + v.in, y);
            }
        }
        float* out = yq[size_t(tid)].data();
        kernels::gemm_f32_args a{m, v.out, v.in, x, v.in, packed[l].data(), v.bias, out, v.out,
                                 layers[l].relu ? kernels::epilogue::relu : kernels::epilogue::none};
        k.gemm_f32.run(a);
        double sg = 0, ns = 0;
        for (int64_t r = 0; r < m; ++r)
            for (int64_t o = 0; o < v.out; ++o) {
                const double ref = dst[r * ldd + o], e = ref - out[r * v.out + o];
                sg += ref * ref;
                ns += e * e;
            }
        sig[size_t(tid)][l] += sg;
        noise[size_t(tid)][l] += ns;
    });
    std::vector<float> preds(size_t(r1 - r0));
    DLRM_TRY((*ex)->run(ds, r0, r1, preds.data()));
    std::map<std::string, double> res;
    for (size_t l = 0; l < L; ++l) {
        if (qv[l]->type == qtype::fp32) continue;
        double sg = 0, ns = 0;
        for (int t = 0; t < T; ++t) { sg += sig[size_t(t)][l]; ns += noise[size_t(t)][l]; }
        res[layers[l].name] = sqnr_db(sg, ns);
    }
    return res;
}

result<double> measure_auc(const model& m, precision p, const criteo_dataset& ds, const kernels::kernel_table& k,
                           int64_t r0, int64_t r1, const run_setup& rs) {
    DLRM_TRY(check_rows(ds, r0, r1, "evaluation"));
    auto ex = make_executor(m, p, ds, k, rs);
    if (!ex.ok()) return ex.error();
    std::vector<float> preds(size_t(r1 - r0));
    std::vector<int32_t> labels(size_t(r1 - r0));
    DLRM_TRY((*ex)->run(ds, r0, r1, preds.data()));
    DLRM_TRY(ds.read_labels(r0, r1 - r0, labels.data()));
    auto mt = evaluate_binary(preds.data(), labels.data(), r1 - r0);
    if (!mt.ok()) return mt.error();
    return mt->auc;
}

}  // namespace dlrm

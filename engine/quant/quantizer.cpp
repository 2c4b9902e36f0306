#include "engine/quant/quantizer.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/row_quantize.h"
#include "formats/weights/weights_file.h"

namespace dlrm {

void quantize_weights_per_channel(const float* w, int64_t out, int64_t in, int8_t* q, float* scale) {
    for (int64_t o = 0; o < out; ++o) {
        const float* row = w + o * in;
        float m = 0;
        for (int64_t i = 0; i < in; ++i) m = std::max(m, std::fabs(row[i]));
        const float s = m > 0 ? m / 127.0f : 1.0f;
        scale[o] = s;
        for (int64_t i = 0; i < in; ++i) {
            const float v = std::clamp(std::nearbyint(row[i] / s), -127.0f, 127.0f);
            q[o * in + i] = int8_t(v);
        }
    }
}

double sqnr_db(double signal, double noise) {
    if (noise <= 0) return std::numeric_limits<double>::infinity();
    if (signal <= 0) return -std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(signal / noise);
}

namespace {

std::shared_ptr<const std::vector<uint8_t>> bytes_of(std::vector<uint8_t>&& v) {
    return std::make_shared<const std::vector<uint8_t>>(std::move(v));
}

// One row of any row type back to fp32 (the embedding-bag kernels' value: fmaf(scale, q, bias)).
void dequantize_row(const kernels::kernel_table& k, kernels::row_type t, const uint8_t* r, int64_t dim, float* out) {
    switch (t) {
        case kernels::row_type::f32: std::memcpy(out, r, size_t(dim) * 4); return;
        case kernels::row_type::f16: k.convert.f16_to_f32(dim, reinterpret_cast<const uint16_t*>(r), out); return;
        case kernels::row_type::bf16: k.convert.bf16_to_f32(dim, reinterpret_cast<const uint16_t*>(r), out); return;
        case kernels::row_type::i8rw: {
            float s, b;
            std::memcpy(&s, r + dim, 4);
            std::memcpy(&b, r + dim + 4, 4);
            for (int64_t d = 0; d < dim; ++d) out[d] = std::fmaf(s, float(r[d]), b);
            return;
        }
        case kernels::row_type::u4rw: {
            const int64_t payload = (dim + 1) / 2;
            uint16_t sh, bh;
            std::memcpy(&sh, r + payload, 2);
            std::memcpy(&bh, r + payload + 2, 2);
            float s, b;
            k.convert.f16_to_f32(1, &sh, &s);
            k.convert.f16_to_f32(1, &bh, &b);
            for (int64_t d = 0; d < dim; ++d) out[d] = std::fmaf(s, float((r[d / 2] >> ((d % 2) * 4)) & 15), b);
            return;
        }
    }
}

}  // namespace

model_config tensor_builder::config(const quant_plan& p) const {
    model_config c = src_.config();
    for (size_t t = 0; t < c.tables.size(); ++t) {
        auto it = p.layers.find("emb." + std::to_string(t));
        if (it != p.layers.end()) c.tables[t].type = table_row_type(it->second);
    }
    return c;
}

status tensor_builder::check_plan(const quant_plan& p) const {
    if (const quant_plan* sp = src_.plan())
        for (const auto& [n, t] : sp->layers)
            if (!is_table_name(n) && t != qtype::fp32)
                return status::error(src_.path() + ": layer " + n + " is stored as " + qtype_name(t) +
                                     ": quantization starts from an fp32 model (the one this file was calibrated from)");
    const model_config& c = src_.config();
    for (size_t t = 0; t < c.tables.size(); ++t) {
        const std::string n = "emb." + std::to_string(t);
        auto it = p.layers.find(n);
        if (it == p.layers.end()) return status::error("plan: '" + n + "': missing");
        if (c.tables[t].type != kernels::row_type::f32 && table_row_type(it->second) != c.tables[t].type)
            return status::error(src_.path() + ": table " + n + " is stored as " + kernels::row_type_name(c.tables[t].type) +
                                 ": it can only keep that type (plan asks for " + qtype_name(it->second) +
                                 "; quantizing already-quantized rows again would add a second rounding)");
    }
    for (const auto& n : linear_names(c)) {
        auto it = p.layers.find(n);
        if (it == p.layers.end()) return status::error("plan: '" + n + "': missing");
        if (it->second == qtype::int8 && !p.acts.count(n))
            return status::error("plan: '" + n + "': int8 without an activation range (calibration did not observe it)");
    }
    return {};
}

result<std::vector<memory_tensor>> tensor_builder::build(const quant_plan& p) {
    DLRM_TRY(check_plan(p));
    const model_config c = config(p);
    std::vector<memory_tensor> out;
    auto add_linear = [&](const linear_view& v, const std::string& wname, const std::string& bias_name) {
        const qtype t = p.layers.at(v.name);
        memory_tensor w{wname, linear_weight_dtype(t), {v.out, v.in}, nullptr, nullptr};
        const size_t n = size_t(v.out * v.in);
        if (t == qtype::fp32) {
            w.data = reinterpret_cast<const uint8_t*>(v.weight);
            out.push_back(std::move(w));
        } else {
            auto& slot = linears_[{v.name, t}];
            if (!slot.first) {
                std::vector<uint8_t> data, scale;
                if (t == qtype::int8) {
                    data.resize(n);
                    scale.resize(size_t(v.out) * 4);
                    quantize_weights_per_channel(v.weight, v.out, v.in, reinterpret_cast<int8_t*>(data.data()),
                                                 reinterpret_cast<float*>(scale.data()));
                } else {
                    data.resize(n * 2);
                    if (t == qtype::bf16)
                        k_.convert.f32_to_bf16(int64_t(n), v.weight, reinterpret_cast<uint16_t*>(data.data()));
                    else
                        k_.convert.f32_to_f16(int64_t(n), v.weight, reinterpret_cast<uint16_t*>(data.data()));
                }
                slot.first = bytes_of(std::move(data));
                if (!scale.empty()) slot.second = bytes_of(std::move(scale));
            }
            w.owned = slot.first;
            w.data = slot.first->data();
            out.push_back(std::move(w));
            if (t == qtype::int8)
                out.push_back({wname + "_scale", dtype::f32, {v.out}, slot.second->data(), slot.second});
        }
        if (!bias_name.empty())
            out.push_back({bias_name, dtype::f32, {v.out}, reinterpret_cast<const uint8_t*>(v.bias), nullptr});
    };
    for (const auto& v : src_.bottom()) add_linear(v, v.name + ".weight", v.name + ".bias");
    for (size_t l = 0; l < src_.dcn().size(); ++l) {
        const auto& d = src_.dcn()[l];
        add_linear(d.v, d.v.name, "");
        add_linear(d.w, d.w.name, "dcn." + std::to_string(l) + ".bias");
    }
    for (const auto& v : src_.top()) add_linear(v, v.name + ".weight", v.name + ".bias");

    const int64_t D = c.dim;
    for (size_t t = 0; t < c.tables.size(); ++t) {
        const table_view& tv = src_.tables()[t];
        const qtype q = p.layers.at(tv.name);
        const kernels::row_type rt = c.tables[t].type;
        memory_tensor m{tv.name, table_dtype(rt), {tv.rows, D}, nullptr, nullptr};
        if (rt == tv.type) {  // as stored: no copy
            m.data = tv.data;
            out.push_back(std::move(m));
            continue;
        }
        auto& slot = tables_[{t, q}];
        if (!slot) {
            const size_t rb = kernels::row_bytes(rt, D);
            std::vector<uint8_t> data(size_t(tv.rows) * rb);
            const float* src = reinterpret_cast<const float*>(tv.data);
            // SQNR over every row (the quantization is per row, so each row's error is its own).
            double sig = 0, noise = 0;
            const int64_t chunk = 4096;
#pragma omp parallel reduction(+ : sig, noise)
            {
                std::vector<float> back(static_cast<size_t>(D));
#pragma omp for schedule(dynamic, 1)
                for (int64_t r0 = 0; r0 < tv.rows; r0 += chunk) {
                    const int64_t n = std::min(chunk, tv.rows - r0);
                    quantize_rows(k_, rt, src + r0 * D, n, D, data.data() + size_t(r0) * rb);
                    for (int64_t r = r0; r < r0 + n; ++r) {
                        dequantize_row(k_, rt, data.data() + size_t(r) * rb, D, back.data());
                        for (int64_t d = 0; d < D; ++d) {
                            const double x = src[r * D + d], e = x - back[size_t(d)];
                            sig += x * x;
                            noise += e * e;
                        }
                    }
                }
            }
            table_sqnr_[tv.name] = sqnr_db(sig, noise);
            slot = bytes_of(std::move(data));
        }
        m.owned = slot;
        m.data = slot->data();
        out.push_back(std::move(m));
    }
    return out;
}

nlohmann::json tensor_builder::metadata(const quant_plan& p) const {
    nlohmann::json m = src_.metadata().is_object() ? src_.metadata() : nlohmann::json::object();
    m["architecture"] = config_to_json(config(p));
    m["quantization"] = plan_to_json(p);
    return m;
}

status write_model(const std::string& path, const std::vector<memory_tensor>& tensors, const nlohmann::json& metadata) {
    auto w = weights_writer::create(path);
    if (!w.ok()) return w.error();
    for (const auto& t : tensors) {
        auto bytes = tensor_bytes(t.type, t.shape);
        if (!bytes.ok()) return status(bytes.error()).prefix(path + ": tensor " + t.name);
        DLRM_TRY(w->add_tensor(t.name, t.type, t.shape, t.data, size_t(*bytes)));
    }
    return w->finish(metadata);
}

}  // namespace dlrm

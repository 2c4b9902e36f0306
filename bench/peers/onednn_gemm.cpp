#include "bench/peers/onednn_gemm.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstring>
#include <unordered_map>
#include <vector>

namespace dlrm::bench {

using dnnl::memory;

struct onednn_gemm::state {
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm{eng};
    memory::desc src_md, dst_md;
    memory weights, bias, src, dst;  // src/dst point at the caller's buffers on each run
    std::unordered_map<int, memory> args;
    dnnl::matmul prim;
    dnnl::matmul::primitive_desc pd;
    bool has_bias = false;
};

namespace {

// Round to nearest even, as kernels/api.h's bf16.
uint16_t to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

}  // namespace

onednn_gemm::onednn_gemm(onednn_kind kind, int64_t M, int64_t N, int64_t K, const void* w, const float* bias,
                         bool relu, const onednn_u8s8_params* q)
    : s_(std::make_unique<state>()) {
    using dt = memory::data_type;
    using tag = memory::format_tag;
    try {
        const dt src_t = kind == onednn_kind::f32 ? dt::f32 : kind == onednn_kind::bf16 ? dt::bf16 : dt::u8;
        const dt wei_t = kind == onednn_kind::f32 ? dt::f32 : kind == onednn_kind::bf16 ? dt::bf16 : dt::s8;
        const dt dst_t = kind == onednn_kind::u8s8 ? dt::u8 : dt::f32;
        s_->src_md = memory::desc({M, K}, src_t, tag::ab);
        s_->dst_md = memory::desc({M, N}, dst_t, tag::ab);
        // Our N×K row-major weights are oneDNN's K×N matrix in "ba" order.
        const memory::desc wei_user({K, N}, wei_t, tag::ba), wei_any({K, N}, wei_t, tag::any);
        const memory::desc bias_md({1, N}, dt::f32, tag::ab);

        dnnl::primitive_attr attr;
        std::vector<float> bias_vals;
        if (bias) bias_vals.assign(bias, bias + N);
        if (kind == onednn_kind::u8s8) {
            std::vector<float> scales(static_cast<size_t>(N));
            for (int64_t n = 0; n < N; ++n) {
                const float acc_scale = q->src_scale * q->w_scale[n];
                scales[size_t(n)] = acc_scale / q->dst_scale;
                if (bias) bias_vals[size_t(n)] = bias[n] / acc_scale;  // added before the scale
            }
            attr.set_output_scales(1 << 1, scales);  // per output channel (dim 1 of dst)
            attr.set_zero_points(DNNL_ARG_SRC, 0, {q->src_zp});
        }
        if (relu) {
            dnnl::post_ops po;
            po.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
            attr.set_post_ops(po);
        }
        s_->has_bias = bias != nullptr;
        s_->pd = s_->has_bias
                     ? dnnl::matmul::primitive_desc(dnnl::matmul::desc(s_->src_md, wei_any, bias_md, s_->dst_md), attr,
                                                    s_->eng)
                     : dnnl::matmul::primitive_desc(dnnl::matmul::desc(s_->src_md, wei_any, s_->dst_md), attr, s_->eng);

        // Weights into the user layout, then reordered once into the primitive's layout.
        std::vector<uint16_t> w_bf16;
        const void* w_user_data = w;
        if (kind == onednn_kind::bf16) {
            const float* wf = static_cast<const float*>(w);
            w_bf16.resize(size_t(N * K));
            for (size_t i = 0; i < w_bf16.size(); ++i) w_bf16[i] = to_bf16(wf[i]);
            w_user_data = w_bf16.data();
        }
        memory wu(wei_user, s_->eng, const_cast<void*>(w_user_data));
        s_->weights = memory(s_->pd.weights_desc(), s_->eng);
        dnnl::reorder(wu, s_->weights).execute(s_->strm, wu, s_->weights);
        if (s_->has_bias) {
            s_->bias = memory(bias_md, s_->eng);
            std::memcpy(s_->bias.get_data_handle(), bias_vals.data(), size_t(N) * sizeof(float));
        }
        s_->strm.wait();
        s_->prim = dnnl::matmul(s_->pd);
        s_->src = memory(s_->src_md, s_->eng, DNNL_MEMORY_NONE);
        s_->dst = memory(s_->dst_md, s_->eng, DNNL_MEMORY_NONE);
        s_->args = {{DNNL_ARG_SRC, s_->src}, {DNNL_ARG_WEIGHTS, s_->weights}, {DNNL_ARG_DST, s_->dst}};
        if (s_->has_bias) s_->args.emplace(DNNL_ARG_BIAS, s_->bias);
    } catch (const dnnl::error& e) {
        error_ = std::string("oneDNN matmul: ") + e.what() + " (status " + std::to_string(int(e.status)) + ")";
    }
}

onednn_gemm::~onednn_gemm() = default;

void onednn_gemm::run(const void* src, void* dst) {
    s_->src.set_data_handle(const_cast<void*>(src));
    s_->dst.set_data_handle(dst);
    s_->prim.execute(s_->strm, s_->args);
    s_->strm.wait();
}

std::string onednn_gemm::impl() const { return error_.empty() ? s_->pd.impl_info_str() : "none"; }

std::string onednn_version() {
    const dnnl_version_t* v = dnnl_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}

}  // namespace dlrm::bench

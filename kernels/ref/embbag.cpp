// embbag_sum__ref: sum pooling over every table of a batch, ids in bag order, one fp32 accumulator
// per output element (the output itself), each row value formed with a single rounding.
#include <cmath>
#include <cstring>

#include "kernels/ref/ref_kernels.h"
#include "kernels/ref/scalar_convert.h"

namespace dlrm::kernels {
namespace {

// acc[d] += value(row)[d] for d < dim.
void add_row(float* acc, const uint8_t* row, row_type type, int64_t dim) {
    switch (type) {
        case row_type::f32:
            for (int64_t d = 0; d < dim; ++d) {
                float v;
                std::memcpy(&v, row + 4 * d, 4);  // rows need not be aligned
                acc[d] += v;
            }
            return;
        case row_type::f16:
            for (int64_t d = 0; d < dim; ++d) {
                uint16_t h;
                std::memcpy(&h, row + 2 * d, 2);
                acc[d] += scalar::f16_to_f32(h);
            }
            return;
        case row_type::bf16:
            for (int64_t d = 0; d < dim; ++d) {
                uint16_t h;
                std::memcpy(&h, row + 2 * d, 2);
                acc[d] += scalar::bf16_to_f32(h);
            }
            return;
        case row_type::i8rw: {
            float scale, bias;
            std::memcpy(&scale, row + dim, 4);
            std::memcpy(&bias, row + dim + 4, 4);
            for (int64_t d = 0; d < dim; ++d) acc[d] += std::fma(scale, float(row[d]), bias);
            return;
        }
        case row_type::u4rw: {
            const int64_t payload = (dim + 1) / 2;
            uint16_t hs, hb;
            std::memcpy(&hs, row + payload, 2);
            std::memcpy(&hb, row + payload + 2, 2);
            const float scale = scalar::f16_to_f32(hs), bias = scalar::f16_to_f32(hb);
            for (int64_t d = 0; d < dim; ++d) {
                const uint8_t byte = row[d / 2];
                const int q = (d & 1) ? byte >> 4 : byte & 0x0F;  // element 2k low nibble, 2k+1 high
                acc[d] += std::fma(scale, float(q), bias);
            }
            return;
        }
    }
}

void run(const embbag_args& a) {
    for (int64_t t = 0; t < a.num_tables; ++t) {
        const embbag_table_args& tab = a.tables[t];
        const size_t stride = row_bytes(tab.type, a.dim);
        for (int64_t b = 0; b < a.batch; ++b) {
            const int64_t begin = tab.offsets ? tab.offsets[b] : b * int64_t(tab.bag_size);
            const int64_t end = tab.offsets ? tab.offsets[b + 1] : (b + 1) * int64_t(tab.bag_size);
            float* acc = a.dst + b * a.dst_ld + t * a.dim;
            for (int64_t d = 0; d < a.dim; ++d) acc[d] = 0.0f;
            for (int64_t j = begin; j < end; ++j)
                add_row(acc, tab.rows + size_t(tab.ids[j]) * stride, tab.type, a.dim);
        }
    }
}

}  // namespace

const embbag_kernel embbag_sum__ref = {"embbag_sum__ref", run};

}  // namespace dlrm::kernels

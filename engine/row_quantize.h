// Row-wise quantization of embedding rows into the FBGEMM / PyTorch layouts (FACTS.md §3), so a
// table written by dlrm equals torch.ops.quantized.embedding_bag_{4bit,byte}_prepack byte for byte.
#pragma once
#include <cstdint>

#include "kernels/dispatch.h"

namespace dlrm {

// Converts rows × dim floats (row-major) into `type` rows (kernels::row_bytes(type, dim) bytes each).
// f32 copies; f16 / bf16 round to nearest even; i8rw / u4rw quantize per row:
//   u4rw: bias = fp16(min); scale = fp16((max − bias) / 15) (1 when the range is 0);
//         q = clamp(lrintf((x − bias) · (1 / scale)), 0, 15), element 2k in the low nibble.
//   i8rw: bias = min; scale = (max − min) / 255; q = lrintf((x − min) · 255 / (max − min + 1e-8)).
void quantize_rows(const kernels::kernel_table& k, kernels::row_type type, const float* src, int64_t rows,
                   int64_t dim, uint8_t* dst);

}  // namespace dlrm

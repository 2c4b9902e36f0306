// The architecture of a DLRM: the one place that says what a model is made of.
//
// Covers Facebook DLRM (dot or cat interaction), MLPerf DLRM v1 (dot, no diagonal) and MLPerf
// DLRM v2 (DCNv2 low-rank cross net), FACTS.md §1. Tensor names are ours and are what `dlrm info`
// prints and what calibration plans refer to:
//   bottom.{i}.weight|bias   i-th Linear of the bottom MLP, weight (out, in)
//   top.{i}.weight|bias      i-th Linear of the top MLP
//   dcn.{l}.V (rank, width)  dcn.{l}.W (width, rank)  dcn.{l}.bias (width)
//   emb.{t}                  table t, rows × dim in its row type
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/status.h"
#include "kernels/api.h"

namespace dlrm {

enum class interaction : uint8_t { dot, cat, dcn };
const char* interaction_name(interaction i);

struct table_config {
    int64_t rows = 0;
    int32_t bag_size = 1;  // ids per sample for fixed multi-hot; 0 = variable-length bags (offsets)
    kernels::row_type type = kernels::row_type::f32;
};

struct model_config {
    int64_t dense_features = 13;
    int64_t dim = 128;                  // embedding dim, one per model; the bottom MLP's output width
    std::vector<table_config> tables;
    std::vector<int64_t> bottom;        // widths of the bottom MLP outputs, e.g. {512, 256, 128}; ReLU after each
    std::vector<int64_t> top;           // widths of the top MLP outputs, e.g. {1024,1024,512,256,1}; ReLU after all but the last
    interaction inter = interaction::dot;
    bool dot_diag = false;              // dot: keep the Gram diagonal
    int64_t dcn_layers = 3, dcn_rank = 512;

    int64_t num_features() const { return int64_t(tables.size()) + 1; }  // bottom output + pooled tables
    int64_t interaction_in_width() const { return num_features() * dim; }  // [x_0, pooled_0, ...]
    int64_t interaction_out_width() const;                                // the top MLP's input width
    // Multiply-adds per sample in the MLPs and DCN (for rows/s → FLOP/s).
    int64_t macs_per_sample() const;
    // Checks every invariant (positive sizes, bottom output == dim, top ends in 1, ...).
    status validate() const;
};

// The MLPerf shapes (FACTS.md §1): the single source of truth for them.
model_config mlperf_v1_config();  // Criteo Terabyte, dot, 26 one-hot tables (MLPerf v1 row counts)
model_config mlperf_v2_config();  // DCNv2, 26 multi-hot tables
model_config small_config();      // a small dot model for demos and tests

}  // namespace dlrm

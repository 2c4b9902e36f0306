// `dlrm import`: a PyTorch checkpoint (Facebook dlrm_s_pytorch, torchrec DLRM / DLRM_DCN, or the
// single-file MLPerf DLRM v2 model, FACTS.md §1) → a .dlrm model file that `dlrm run` opens.
//
// The naming scheme is recognised from the tensor names, the architecture inferred from the shapes
// (tables and dim, bottom / top widths, dot with or without the diagonal / cat / DCN layers and rank)
// and every shape cross-checked against it; a mismatch names the tensor and the shape it should have.
// Half-precision tables stay as they are; dense tensors become fp32. Tables are streamed from the
// mapped archive into the writer (read once, never held in memory). Spec of the mapping:
// formats/torch/torch_checkpoint.md.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/model_config.h"
#include "engine/status.h"
#include "formats/torch/torch_checkpoint.h"

namespace dlrm {

enum class import_arch : uint8_t { auto_detect, dot, cat, dcn };
result<import_arch> parse_import_arch(const std::string& s);  // "auto", "dot", "cat", "dcn"

struct import_options {
    import_arch arch = import_arch::auto_detect;  // --arch: overrides the inferred interaction
    bool diagonal = false;                        // --interaction-diagonal: dot keeps the Gram diagonal
};

enum class naming_scheme : uint8_t { facebook, torchrec, mlperf };
const char* naming_scheme_name(naming_scheme s);  // "facebook", "torchrec", "mlperf"

// What a checkpoint maps to: the architecture and, for each of our tensors (tensor_specs order),
// the checkpoint tensor it comes from.
struct import_plan {
    naming_scheme scheme = naming_scheme::facebook;
    std::string stripped_prefix;  // "model." / "module." removed from every name, or ""
    model_config config;
    bool mlperf_bag_sizes = false;  // the tables are MLPerf v2's: its multi-hot sizes were recorded
    struct source {
        std::string ours, theirs;
        const torch_tensor* tensor = nullptr;
    };
    std::vector<source> tensors;  // in tensor_specs(config) order
    // torchrec's dot interaction lists the pairs (a, b), a < b, row by row (torch.triu_indices);
    // ours lists (i, j), i > j (Facebook's lower triangle). For such a model, column c of our
    // top.0.weight is column top0_columns[c] of theirs. Empty: the columns are taken as they are.
    std::vector<int64_t> top0_columns;
};

// Recognises, infers and cross-checks; `where` (the checkpoint path) starts every message.
result<import_plan> plan_import(const std::vector<std::pair<std::string, torch_tensor>>& tensors,
                                const import_options& o, const std::string& where);

// Opens the checkpoint, plans, and writes the .dlrm (atomically: on any error no output remains).
// log, if given, receives progress lines for large tables.
result<import_plan> import_checkpoint(const std::string& ckpt_path, const std::string& out_path,
                                      const import_options& o,
                                      const std::function<void(const std::string&)>& log = {});

}  // namespace dlrm

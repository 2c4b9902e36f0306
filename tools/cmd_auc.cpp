// dlrm auc PRED.npy LABELS.npy|DATA_DIR [--rows A:B] [--day N] [--json] [--roc-svg FILE]
// Exact ROC AUC (ties as scikit-learn's roc_auc_score), log loss and accuracy of predictions written
// by any tool, against a labels file or the labels of one day of a dataset folder.
//
// Which rows are compared: the labels are rows [A, B) of the labels file (--rows; default all).
// The predictions are either exactly that many rows (they already are the selection, as written by
// `dlrm run --rows A:B`) or as many rows as the whole labels file, and then rows [A, B) of them.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/metrics/auc.h"
#include "engine/metrics/roc_svg.h"
#include "formats/criteo/row_range.h"
#include "formats/mapped_file.h"
#include "formats/npy/npy.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/options.h"

namespace dlrm::cli {

namespace {

struct auc_options {
    std::string predictions;
    std::string labels;  // a .npy file or a dataset folder
    std::string rows;
    int day = -1;        // -1: not given (folder: day 0)
    bool json = false;
    std::string roc_svg_path;
};

// A one-dimensional array of rows: shape (rows,) or (rows, 1).
result<int64_t> column_rows(const npy_view& v, const std::string& name) {
    if (v.shape.size() == 1 || (v.shape.size() == 2 && v.shape[1] == 1)) return v.shape[0];
    return status::error(name + ": shape " + v.shape_text() + ": expected (rows,) or (rows, 1)");
}

// Predictions as float32, pointing into the map when the file already holds aligned float32,
// else converted (float64 is rounded to the nearest float32, which can only tie values that differ
// past float32's 24-bit precision; it is range-checked first, so 1 + 1e-12 is refused, not rounded
// into range).
struct prediction_column {
    const float* data = nullptr;
    std::vector<float> owned;
};

result<prediction_column> load_predictions(const npy_view& v, int64_t r0, int64_t n, const std::string& name) {
    prediction_column c;
    const uint8_t* src = v.data + size_t(r0) * size_t(v.itemsize);
    if (v.descr == "<f4") {
        if (reinterpret_cast<uintptr_t>(src) % alignof(float) == 0) {
            c.data = reinterpret_cast<const float*>(src);
            return c;
        }
        c.owned.resize(size_t(n));
        std::memcpy(c.owned.data(), src, size_t(n) * sizeof(float));
    } else if (v.descr == "<f8") {
        c.owned.resize(size_t(n));
        float* dst = c.owned.data();
        std::atomic<int64_t> first_bad{n};
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n; ++i) {
            double x;
            std::memcpy(&x, src + size_t(i) * 8, 8);
            if (!(x >= 0.0 && x <= 1.0)) {
                int64_t cur = first_bad.load();
                while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {
                }
            }
            dst[i] = float(x);
        }
        if (const int64_t i = first_bad.load(); i < n) {
            double x;
            std::memcpy(&x, src + size_t(i) * 8, 8);
            char buf[40];
            std::snprintf(buf, sizeof buf, "%.17g", x);
            return status::error(name + ": row " + std::to_string(r0 + i) + ": " + buf +
                                 ": predictions must be probabilities in [0, 1]");
        }
    } else {
        return status::error(name + ": dtype '" + v.descr + "': expected '<f4' (float32) or '<f8' (float64)");
    }
    c.data = c.owned.data();
    return c;
}

// Labels as int32 (mapped when the file holds aligned int32) or as one byte per row.
struct label_column {
    const int32_t* i32 = nullptr;
    const uint8_t* u8 = nullptr;
    std::vector<int32_t> owned_i32;
    std::vector<uint8_t> owned_u8;
};

result<label_column> load_labels(const npy_view& v, int64_t r0, int64_t n, const std::string& name) {
    label_column c;
    const uint8_t* src = v.data + size_t(r0) * size_t(v.itemsize);
    if (v.descr == "<i4") {
        if (reinterpret_cast<uintptr_t>(src) % alignof(int32_t) == 0) {
            c.i32 = reinterpret_cast<const int32_t*>(src);
        } else {
            c.owned_i32.resize(size_t(n));
            std::memcpy(c.owned_i32.data(), src, size_t(n) * 4);
            c.i32 = c.owned_i32.data();
        }
        return c;
    }
    if (v.descr == "|b1" || v.descr == "|u1") {
        c.u8 = src;  // values are checked (0 or 1) by evaluate_binary
        return c;
    }
    if (v.descr == "<f4" || v.descr == "<i8") {
        // Exactly 0 or 1, else the row is named; converted to bytes.
        c.owned_u8.resize(size_t(n));
        for (int64_t i = 0; i < n; ++i) {
            const uint8_t* p = src + size_t(i) * size_t(v.itemsize);
            std::string bad;
            if (v.descr == "<f4") {
                float f;
                std::memcpy(&f, p, 4);
                if (f == 0.0f || f == 1.0f) { c.owned_u8[size_t(i)] = f == 1.0f; continue; }
                char buf[32];
                std::snprintf(buf, sizeof buf, "%.9g", double(f));
                bad = buf;
            } else {
                int64_t x;
                std::memcpy(&x, p, 8);
                if (x == 0 || x == 1) { c.owned_u8[size_t(i)] = uint8_t(x); continue; }
                bad = std::to_string(x);
            }
            return status::error(name + ": row " + std::to_string(r0 + i) + ": " + bad + ": labels must be 0 or 1");
        }
        c.u8 = c.owned_u8.data();
        return c;
    }
    return status::error(name + ": dtype '" + v.descr +
                         "': expected '<i4' (int32), '|b1' (bool), '|u1' (uint8), '<f4' (float32) or '<i8' (int64)");
}

status write_svg(const std::string& path, const roc_curve& curve, const binary_metrics& m, const std::string& source) {
    const std::string svg = roc_svg(curve, m, source);
    auto out = atomic_output::create(path);
    if (!out.ok()) return out.error();
    DLRM_TRY(out->write(svg.data(), svg.size()));
    return out->commit();
}

int run_auc(const auc_options& o) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::string labels_path = o.labels;
    if (fs::is_directory(o.labels, ec)) {
        labels_path = (fs::path(o.labels) / ("day_" + std::to_string(o.day < 0 ? 0 : o.day) + "_labels.npy")).string();
    } else if (o.day >= 0) {
        return fail("--day " + std::to_string(o.day) + ": " + o.labels +
                    " is a file: --day picks day_N_labels.npy in a dataset folder");
    }

    auto labels_file = npy_file::open(labels_path);
    if (!labels_file.ok()) return fail(labels_file.error());
    auto pred_file = npy_file::open(o.predictions);
    if (!pred_file.ok()) return fail(pred_file.error());
    const npy_view& lv = labels_file->view;
    const npy_view& pv = pred_file->view;
    auto label_total = column_rows(lv, labels_path);
    if (!label_total.ok()) return fail(label_total.error());
    auto pred_total = column_rows(pv, o.predictions);
    if (!pred_total.ok()) return fail(pred_total.error());

    int64_t a = 0, b = *label_total;
    if (!o.rows.empty()) {
        auto r = parse_row_range(o.rows, *label_total);
        if (!r.ok()) return fail(r.error().message() + " (" + labels_path + ")");
        a = r->first;
        b = r->second;
    }
    const int64_t n = b - a;
    int64_t pred_r0 = 0;
    if (*pred_total == n) {
        pred_r0 = 0;  // the predictions are the selection itself
    } else if (!o.rows.empty() && *pred_total == *label_total) {
        pred_r0 = a;  // predictions for the whole file: take the same rows
    } else {
        return fail(o.predictions + ": " + std::to_string(*pred_total) + " rows: expected " + std::to_string(n) +
                    (o.rows.empty() ? " (the rows of " + labels_path + ")"
                                    : " (rows [" + std::to_string(a) + ", " + std::to_string(b) + ") of " +
                                          labels_path + ") or all " + std::to_string(*label_total)));
    }

    auto pred = load_predictions(pv, pred_r0, n, o.predictions);
    if (!pred.ok()) return fail(pred.error());
    auto lab = load_labels(lv, a, n, labels_path);
    if (!lab.ok()) return fail(lab.error());

    binary_input_names names;
    names.predictions = o.predictions;
    names.labels = labels_path;
    names.prediction_first_row = pred_r0;
    names.label_first_row = a;
    roc_curve curve;
    roc_curve* want_curve = o.roc_svg_path.empty() ? nullptr : &curve;
    auto m = lab->i32 ? evaluate_binary(pred->data, lab->i32, n, want_curve, names)
                      : evaluate_binary(pred->data, lab->u8, n, want_curve, names);
    if (!m.ok()) return fail(m.error());

    if (want_curve) {
        status st = write_svg(o.roc_svg_path, curve, *m, fs::path(o.predictions).filename().string());
        if (!st.ok()) return fail(st.prefix("writing the ROC curve"));
    }

    if (o.json) {
        nlohmann::json j = {{"auc", m->auc},           {"logloss", m->logloss},     {"accuracy", m->accuracy},
                            {"rows", m->rows},         {"positives", m->positives}, {"negatives", m->negatives}};
        std::printf("%s\n", j.dump().c_str());
    } else {
        std::printf("auc        %.9f\n", m->auc);
        std::printf("logloss    %.9f\n", m->logloss);
        std::printf("accuracy   %.9f   (p > 0.5 predicts 1)\n", m->accuracy);
        std::printf("rows       %s   (%s positive, %s negative)\n", with_commas(m->rows).c_str(),
                    with_commas(m->positives).c_str(), with_commas(m->negatives).c_str());
        if (!o.rows.empty()) std::printf("labels     %s rows [%lld, %lld)\n", labels_path.c_str(), (long long)a, (long long)b);
        if (want_curve) std::printf("roc curve  %s\n", o.roc_svg_path.c_str());
    }
    return 0;
}

}  // namespace

void add_auc(CLI::App& app) {
    auto o = std::make_shared<auc_options>();
    CLI::App* sub = app.add_subcommand(
        "auc", "Exact ROC AUC (ties as scikit-learn's roc_auc_score), log loss and accuracy of predictions");
    sub->add_option("predictions", o->predictions, "PRED.npy: float32 (or float64) probabilities, shape (rows,) or (rows, 1)")
        ->required();
    sub->add_option("labels", o->labels,
                    "LABELS.npy (int32, bool, uint8, float32 or int64 0/1) or a dataset folder (its day_N_labels.npy)")
        ->required();
    sub->add_option("--rows", o->rows,
                    "A:B: compare label rows [A, B); the predictions hold either those B-A rows or one per label row");
    sub->add_option("--day", o->day, "N: with a dataset folder, use day_N_labels.npy (default 0)")
        ->check(CLI::NonNegativeNumber);
    sub->add_flag("--json", o->json, "print {\"auc\", \"logloss\", \"accuracy\", \"rows\", \"positives\", \"negatives\"}");
    sub->add_option("--roc-svg", o->roc_svg_path, "FILE: also draw the ROC curve (SVG, about 1000 points)");
    sub->footer(
        "AUC counts tied scores as half a correct pair (sklearn's roc_auc_score), computed exactly.\n"
        "Log loss clips p to [1e-15, 1 - 1e-15] (sklearn log_loss with eps=1e-15; sklearn 1.2's default\n"
        "eps='auto' clips float32 input at 1.19e-7 instead). Accuracy: p > 0.5 predicts 1.");
    sub->callback([o] { exit_code() = run_auc(*o); });
}

}  // namespace dlrm::cli

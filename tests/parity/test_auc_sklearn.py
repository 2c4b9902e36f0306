#!/usr/bin/python3
"""`dlrm auc` against scikit-learn on the same files.

Run with /usr/bin/python3 (numpy + scikit-learn). The binary comes from $DLRM_BIN (default:
build/tools/dlrm under the repository root). Prints one "PASS name" / "FAIL name: why" line per check
and exits non-zero if any check failed.

Conventions compared (engine/metrics/auc.h documents them):
  auc      == sklearn.metrics.roc_auc_score(y, p)                          to 1e-9
  logloss  == sklearn.metrics.log_loss(y, p.astype(float64), eps=1e-15)    to 1e-6
  accuracy == sklearn.metrics.accuracy_score(y, p > 0.5)                   to 1e-6
"""
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
DLRM = os.environ.get("DLRM_BIN") or str(ROOT / "build" / "tools" / "dlrm")
SEED = 20240601
failures = 0


def report(name, ok, why=""):
    global failures
    if ok:
        print(f"PASS {name}")
    else:
        failures += 1
        print(f"FAIL {name}: {why}")


def run(*args):
    return subprocess.run([DLRM, "auc", *map(str, args)], capture_output=True, text=True)


def sklearn_metrics(p, y):
    p = np.asarray(p).reshape(-1)
    y = np.asarray(y).reshape(-1).astype(np.int64)
    return {
        "auc": roc_auc_score(y, p),
        "logloss": log_loss(y, p.astype(np.float64), eps=1e-15),
        "accuracy": accuracy_score(y, p > 0.5),
        "rows": len(y),
        "positives": int(y.sum()),
    }


def compare(name, args, p, y):
    r = run(*args, "--json")
    if r.returncode != 0:
        report(name, False, f"exit {r.returncode}: {r.stderr.strip()}")
        return
    got = json.loads(r.stdout)
    want = sklearn_metrics(p, y)
    problems = []
    for key, tol in (("auc", 1e-9), ("logloss", 1e-6), ("accuracy", 1e-6)):
        if not abs(got[key] - want[key]) <= tol:
            problems.append(f"{key} {got[key]!r} vs sklearn {want[key]!r} (tolerance {tol})")
    for key in ("rows", "positives"):
        if got[key] != want[key]:
            problems.append(f"{key} {got[key]} vs {want[key]}")
    if got["positives"] + got["negatives"] != got["rows"]:
        problems.append("positives + negatives != rows")
    report(name, not problems, "; ".join(problems))


def expect_error(name, args, *fragments):
    r = run(*args)
    msg = r.stderr.strip()
    ok = r.returncode != 0 and msg.startswith("dlrm: error: ") and all(f in msg for f in fragments)
    report(name, ok, f"exit {r.returncode}, stderr {msg!r}, wanted {fragments}")


def tied_predictions(rng, n, decimals):
    """Informative scores rounded so that ties across classes are everywhere."""
    s = rng.random(n)
    y = (rng.random(n) < 0.05 + 0.5 * s**2).astype(np.int32)
    p = np.round(s, decimals).astype(np.float32)
    return p, y


def main():
    if not Path(DLRM).exists():
        print(f"FAIL setup: {DLRM} does not exist (set DLRM_BIN)")
        return 1
    rng = np.random.default_rng(SEED)
    n = 1_000_000
    with tempfile.TemporaryDirectory(prefix="dlrm_auc_") as tmp:
        tmp = Path(tmp)

        # 1. The MLPerf layout: int32 (rows, 1) labels, float32 (rows,) predictions, 3 decimals of ties.
        p, y = tied_predictions(rng, n, 3)
        np.save(tmp / "pred.npy", p)
        np.save(tmp / "labels.npy", y.reshape(-1, 1))
        compare("ties_3_decimals_1e6_rows", [tmp / "pred.npy", tmp / "labels.npy"], p, y)

        # 2. Heavier ties (1 decimal: 11 distinct scores), exact 0, 1, 0.5 and -0.0 in the data,
        #    bool labels of shape (rows,), predictions of shape (rows, 1).
        p2, y2 = tied_predictions(rng, n, 1)
        p2[:1000] = 0.0
        p2[1000:2000] = -0.0
        p2[2000:3000] = 1.0
        p2[3000:4000] = 0.5
        np.save(tmp / "pred2.npy", p2.reshape(-1, 1))
        np.save(tmp / "labels2.npy", y2.astype(bool))
        compare("ties_1_decimal_bool_labels_clipping", [tmp / "pred2.npy", tmp / "labels2.npy"], p2, y2)

        # 3. float64 predictions (values representable in float32, so sklearn sees the same scores),
        #    uint8 labels.
        p3, y3 = tied_predictions(rng, n, 5)
        np.save(tmp / "pred3.npy", p3.astype(np.float64))
        np.save(tmp / "labels3.npy", y3.astype(np.uint8))
        compare("float64_predictions_uint8_labels", [tmp / "pred3.npy", tmp / "labels3.npy"], p3, y3)

        # 4. Untied continuous scores (sigmoid of a normal, as a model writes them), float32 labels.
        z = rng.normal(size=n)
        p4 = (1 / (1 + np.exp(-(z - 3)))).astype(np.float32)
        y4 = (rng.random(n) < 1 / (1 + np.exp(-(z * 1.3 - 3)))).astype(np.float32)
        np.save(tmp / "pred4.npy", p4)
        np.save(tmp / "labels4.npy", y4)
        compare("continuous_scores_float32_labels", [tmp / "pred4.npy", tmp / "labels4.npy"], p4, y4)

        # 5. --rows: whole-file predictions, or predictions that already are the selection.
        a, b = 123_457, 654_321
        compare("rows_range_full_predictions", [tmp / "pred.npy", tmp / "labels.npy", "--rows", f"{a}:{b}"],
                p[a:b], y[a:b])
        np.save(tmp / "pred_sel.npy", p[a:b])
        compare("rows_range_selected_predictions", [tmp / "pred_sel.npy", tmp / "labels.npy", "--rows", f"{a}:{b}"],
                p[a:b], y[a:b])

        # 6. A dataset folder: day_N_labels.npy, day 0 by default, --day picks another.
        data = tmp / "data"
        data.mkdir()
        np.save(data / "day_0_labels.npy", y.reshape(-1, 1))
        np.save(data / "day_2_labels.npy", y4.astype(np.int32).reshape(-1, 1))
        compare("data_dir_default_day_0", [tmp / "pred.npy", data], p, y)
        compare("data_dir_day_2", [tmp / "pred4.npy", data, "--day", "2"], p4, y4)

        # 7. Small exact cases.
        np.save(tmp / "small_p.npy", np.array([0.1, 0.4, 0.35, 0.8], dtype=np.float32))
        np.save(tmp / "small_y.npy", np.array([0, 0, 1, 1], dtype=np.int32))
        compare("sklearn_docstring_example", [tmp / "small_p.npy", tmp / "small_y.npy"],
                np.array([0.1, 0.4, 0.35, 0.8], dtype=np.float32), np.array([0, 0, 1, 1]))

        # 8. --roc-svg: a well-formed standalone SVG with the AUC in its title and <= ~1000 points.
        svg = tmp / "roc.svg"
        r = run(tmp / "pred.npy", tmp / "labels.npy", "--roc-svg", svg)
        try:
            root = ET.parse(svg).getroot()
            ns = "{http://www.w3.org/2000/svg}"
            title = root.find(f"{ns}title").text
            points = root.find(f"{ns}polyline").get("points").split()
            want = f"AUC {roc_auc_score(y, p):.6f}"
            ok = r.returncode == 0 and want in title and 2 <= len(points) <= 1003
            report("roc_svg", ok, f"exit {r.returncode}, title {title!r} (want {want!r}), {len(points)} points")
        except Exception as e:  # noqa: BLE001 (any parse problem is a failure to report)
            report("roc_svg", False, f"exit {r.returncode} {r.stderr.strip()}: {e}")
        leftovers = [f.name for f in tmp.iterdir() if ".tmp" in f.name]
        report("roc_svg_no_temporary_left", not leftovers, f"left {leftovers}")

        # 9. Errors: the file, the row, the value and the rule.
        bad = p[:1000].copy()
        bad[417] = np.nan
        np.save(tmp / "nan.npy", bad)
        expect_error("error_nan_names_file_and_row", [tmp / "nan.npy", tmp / "labels.npy", "--rows", "0:1000"],
                     "nan.npy", "row 417", "nan", "[0, 1]")
        bad[417] = 1.25
        np.save(tmp / "big.npy", bad)
        expect_error("error_out_of_range", [tmp / "big.npy", tmp / "labels.npy", "--rows", "0:1000"],
                     "big.npy", "row 417", "1.25")
        np.save(tmp / "zeros.npy", np.zeros((5000, 1), dtype=np.int32))
        np.save(tmp / "p5000.npy", p[:5000])
        expect_error("error_single_class", [tmp / "p5000.npy", tmp / "zeros.npy"],
                     "zeros.npy", "all 5000 rows are 0: AUC needs both classes")
        twos = y[:5000].copy()
        twos[5] = 2
        np.save(tmp / "twos.npy", twos)
        expect_error("error_label_not_binary", [tmp / "p5000.npy", tmp / "twos.npy", "--rows", ":"],
                     "twos.npy", "row 5", "labels must be 0 or 1")
        # Predictions for neither the selection nor the whole labels file.
        expect_error("error_row_count_mismatch", [tmp / "p5000.npy", tmp / "labels.npy", "--rows", "0:1000"],
                     "p5000.npy", "5000 rows: expected 1000")
        np.save(tmp / "wide.npy", np.zeros((10, 2), dtype=np.float32))
        expect_error("error_shape", [tmp / "wide.npy", tmp / "labels.npy"], "wide.npy", "(10, 2)")
        expect_error("error_day_with_file", [tmp / "pred.npy", tmp / "labels.npy", "--day", "1"], "--day")
        expect_error("error_missing_day", [tmp / "pred.npy", data, "--day", "5"], "day_5_labels.npy")

        # 10. Text output reads as a table.
        r = run(tmp / "small_p.npy", tmp / "small_y.npy")
        report("text_output", r.returncode == 0 and "auc        0.750000000" in r.stdout and "rows       4" in r.stdout,
               f"exit {r.returncode}: {r.stdout!r} {r.stderr!r}")
    print(f"test_auc_sklearn: {'FAIL' if failures else 'PASS'} ({failures} failed)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

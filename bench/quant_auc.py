#!/usr/bin/env python3
"""AUC of fp32 vs --bf16 vs calibrated int8 (uint4 tables + int8 MLP) on dlrm synth models of the
MLPerf v1 and v2 shapes, for every calibration method, on held-out rows (issue 4's table).

  python3 bench/quant_auc.py [--shapes mlperf-v1,mlperf-v2] [--rows-cap 200000] [--samples 400000]
                             [--work DIR] [--budget 0.0003]

Calibration: the first 128,000 rows; evaluation: rows [200,000, samples) (≥ 100,000 held out).
Also runs the accuracy-driven fallback with --max-auc-drop BUDGET on the histogram method.
Prints one Markdown table per shape. Uses only the dlrm binary (DLRM_BIN, default build/tools/dlrm).
"""
import argparse
import json
import os
import subprocess
import sys
import time

DLRM = os.environ.get("DLRM_BIN", "build/tools/dlrm")


def dlrm(*args, check=True):
    p = subprocess.run([DLRM, *args], capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"dlrm {' '.join(args)} failed:\n{p.stderr}")
    return p


def auc_of(model, data, rows, prec, out):
    dlrm("run", model, data, "--rows", rows, prec, "--out", out)
    a, b = rows.split(":")
    labels = os.path.join(data, "day_0_labels.npy")
    return json.loads(dlrm("auc", out, labels, "--rows", rows, "--json").stdout)["auc"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="mlperf-v1,mlperf-v2")
    ap.add_argument("--rows-cap", default="200000")
    ap.add_argument("--samples", type=int, default=400000)
    ap.add_argument("--work", default="/tmp/dlrm-quant-auc")
    ap.add_argument("--budget", default="0.0003")
    a = ap.parse_args()
    ev = f"200000:{a.samples}"
    for shape in a.shapes.split(","):
        d = os.path.join(a.work, shape)
        if not os.path.exists(os.path.join(d, "model.dlrm")):
            dlrm("synth", "--shape", shape, "--rows-cap", a.rows_cap, "--samples", str(a.samples), "--seed", "17", "--out", d)
        model = os.path.join(d, "model.dlrm")
        fp32 = auc_of(model, d, ev, "--fp32", os.path.join(d, "fp32.npy"))
        bf16 = auc_of(model, d, ev, "--bf16", os.path.join(d, "bf16.npy"))
        print(f"\n### {shape} (tables capped at {a.rows_cap} rows; calibration rows [0, 128000), "
              f"evaluation rows [{ev.replace(':', ', ')}) = {a.samples - 200000:,} rows)\n")
        print("| precision | method | AUC | drop vs fp32 | model bytes | calibrate s |")
        print("|---|---|---|---|---|---|")
        print(f"| fp32 | – | {fp32:.6f} | – | {os.path.getsize(model):,} | – |")
        print(f"| bf16 Linear (`--bf16`) | – | {bf16:.6f} | {fp32 - bf16:.6f} | {os.path.getsize(model):,} | – |")
        for method in ("histogram", "minmax", "percentile", "entropy"):
            q = os.path.join(d, f"int8-{method}.dlrm")
            t0 = time.time()
            dlrm("calibrate", model, d, "--method", method, "-o", q)
            secs = time.time() - t0
            auc = auc_of(q, d, ev, "--int8", os.path.join(d, f"int8-{method}.npy"))
            print(f"| uint4 tables + int8 MLP | {method} | {auc:.6f} | {fp32 - auc:.6f} | {os.path.getsize(q):,} | {secs:.1f} |")
        q = os.path.join(d, "int8-tuned.dlrm")
        t0 = time.time()
        p = dlrm("calibrate", model, d, "--max-auc-drop", a.budget, "--eval-rows", ev, "-o", q,
                 "--report", os.path.join(d, "tuned.json"), check=False)
        secs = time.time() - t0
        if p.returncode == 0:
            r = json.load(open(os.path.join(d, "tuned.json")))
            plan = json.load(open(os.path.join(d, "tuned.json")))["tables"]
            kinds = {}
            for t in plan:
                kinds[t["dtype"]] = kinds.get(t["dtype"], 0) + 1
            moved = [x["what"] for x in r["trials"] if not x["what"].startswith(("start", "sensitivity"))]
            print(f"| fallback to ≤ {a.budget} | histogram | {r['auc_quantized']:.6f} | "
                  f"{r['auc_fp32'] - r['auc_quantized']:.6f} | {os.path.getsize(q):,} | {secs:.1f} |")
            print(f"\nFallback: {len(moved)} steps ({', '.join(moved)}); tables now "
                  f"{', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}.")
        else:
            print(f"\nFallback to ≤ {a.budget}: {p.stderr.strip().splitlines()[-1]}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

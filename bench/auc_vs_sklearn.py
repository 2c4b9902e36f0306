#!/usr/bin/python3
"""Benchmark: `dlrm auc` against scikit-learn's roc_auc_score on the MLPerf evaluation size.

Writes 89,137,319 rows (day 23's evaluation half: float32 predictions with ties, int32 (rows, 1)
labels, ~3.4 % positives like Criteo) into a temporary folder with numpy, then times
  - `dlrm auc --json` end to end (process start, mapping the files, validation, AUC, log loss,
    accuracy), best and median of --repeat runs;
  - sklearn.metrics.roc_auc_score on the same arrays, already loaded in memory (np.load time is
    printed separately), once: it takes tens of seconds.
and prints both, their ratio and the difference between the two AUCs.
Run with /usr/bin/python3; $DLRM_BIN or --dlrm names the binary (default build/tools/dlrm).
A benchmark, not a test: the figures depend on the machine and its load.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]


def generate(folder, rows, seed):
    """Sigmoid outputs of a planted logit; rounding to 2^-20 in logit space leaves many ties, as
    float32 model outputs have (89 M scores in [0, 1] share far fewer distinct float32 values)."""
    rng = np.random.default_rng(seed)
    pred = np.empty(rows, dtype=np.float32)
    labels = np.empty((rows, 1), dtype=np.int32)
    chunk = 1 << 24
    for lo in range(0, rows, chunk):
        hi = min(rows, lo + chunk)
        z = rng.normal(size=hi - lo)
        logit = np.round((1.4 * z - 4.0) * 2**20) / 2**20
        pred[lo:hi] = (1.0 / (1.0 + np.exp(-logit))).astype(np.float32)
        truth = 1.0 / (1.0 + np.exp(-(1.6 * z - 4.1 + 0.8 * rng.normal(size=hi - lo))))
        labels[lo:hi, 0] = rng.random(hi - lo) < truth
    np.save(folder / "pred.npy", pred)
    np.save(folder / "labels.npy", labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=89_137_319)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--dlrm", default=os.environ.get("DLRM_BIN") or str(ROOT / "build" / "tools" / "dlrm"))
    args = ap.parse_args()
    if not Path(args.dlrm).exists():
        print(f"auc_vs_sklearn: {args.dlrm} does not exist (build it, or set DLRM_BIN / --dlrm)", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="dlrm_auc_bench_") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        generate(tmp, args.rows, args.seed)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t0:.1f} s ({tmp})")

        cmd = [args.dlrm, "auc", str(tmp / "pred.npy"), str(tmp / "labels.npy"), "--json"]
        times = []
        result = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            r = subprocess.run(cmd, capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if r.returncode != 0:
                print(f"dlrm auc failed: {r.stderr.strip()}", file=sys.stderr)
                return 1
            result = json.loads(r.stdout)

        t0 = time.perf_counter()
        pred = np.load(tmp / "pred.npy")
        labels = np.load(tmp / "labels.npy").reshape(-1)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        sk_auc = roc_auc_score(labels, pred)
        sk_s = time.perf_counter() - t0
        distinct = len(np.unique(pred))

    best, median = min(times), statistics.median(times)
    print(f"rows {result['rows']:,}, positives {result['positives']:,}, distinct scores {distinct:,}")
    print(f"dlrm auc (end to end, {os.cpu_count()} cpus): best {best:.3f} s, median {median:.3f} s "
          f"over {args.repeat} runs ({result['rows'] / best / 1e6:.0f} M rows/s)")
    print(f"sklearn roc_auc_score (in memory):  {sk_s:.3f} s   (+ np.load {load_s:.3f} s)")
    print(f"ratio sklearn / dlrm (best): {sk_s / best:.1f}x")
    print(f"auc dlrm {result['auc']:.12f}  sklearn {sk_auc:.12f}  |diff| {abs(result['auc'] - sk_auc):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

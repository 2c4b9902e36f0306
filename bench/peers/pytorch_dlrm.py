#!/usr/bin/env python3
"""The PyTorch peer: the same model and the same rows, timed in PyTorch (fp32, bf16 autocast, dynamic
int8 Linear on the oneDNN backend) and in `dlrm run` (fp32, bf16, and --int8 on a calibrated model),
in one session, printing rows/s for both and the ratio.

  /usr/bin/python3 bench/peers/pytorch_dlrm.py MODEL.dlrm DATA_DIR [--int8-model Q.dlrm] [--rows N]
                                               [--batch B] [--threads T]

MODEL.dlrm must be an fp32 model (its weights are loaded into PyTorch); DATA_DIR an MLPerf-layout day
(dlrm synth writes both). Each side scores rows [0, N) in batches of B on T threads; the best of three
passes counts for each, after a warm-up pass.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
from torch_dlrm import from_dlrm  # noqa: E402


def time_torch(net, dense, ids, batch, mode):
    n = dense.shape[0]

    def one_pass():
        out = []
        for r in range(0, n, batch):
            d = dense[r:r + batch]
            i = [t[r:r + batch] for t in ids]
            if mode == "bf16":
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    out.append(net(d, i).float())
            else:
                out.append(net(d, i))
        return torch.cat(out)

    with torch.inference_mode():
        one_pass()
        best = min(_timed(one_pass) for _ in range(3))
    return n / best


def _timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def time_dlrm(dlrm, model, data, rows, batch, threads, flag):
    best = 0.0
    for _ in range(4):  # first is the warm-up
        p = subprocess.run([dlrm, "run", model, data, "--rows", f"0:{rows}", "--batch", str(batch), "--threads",
                            str(threads), flag, "--json"], capture_output=True, text=True)
        if p.returncode != 0:
            return None, p.stderr.strip()
        best = max(best, json.loads(p.stdout)["rows_per_s"])
    return best, ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("data")
    ap.add_argument("--int8-model", help="the calibrated model for dlrm run --int8")
    ap.add_argument("--rows", type=int, default=32768)
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--dlrm", default=os.environ.get("DLRM_BIN", os.path.join(ROOT, "build", "tools", "dlrm")))
    ap.add_argument("--torch-only", action="store_true", help="time PyTorch only (bench/e2e.py times dlrm itself)")
    ap.add_argument("--json", action="store_true", help="machine-readable result on stdout")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    net, cfg = from_dlrm(a.model)
    net.eval()
    dense = torch.from_numpy(np.load(os.path.join(a.data, "day_0_dense.npy"), mmap_mode="r")[:a.rows].copy())
    z = np.load(os.path.join(a.data, "day_0_sparse_multi_hot.npz"))
    ids = [torch.from_numpy(z[str(t)][:a.rows].astype(np.int64)) for t in range(len(cfg["tables"]))]
    rows = dense.shape[0]

    if a.torch_only:
        fp32 = time_torch(net, dense, ids, a.batch, "fp32")
        bf16 = time_torch(net, dense, ids, a.batch, "bf16")
        # Dynamic int8 Linear on every quantized engine this torch offers; the fastest one counts, so
        # the peer is never slowed by our choice of backend.
        int8_by_engine = {}
        for eng in ("onednn", "x86", "fbgemm"):
            if eng in torch.backends.quantized.supported_engines:
                torch.backends.quantized.engine = eng
                qnet = torch.ao.quantization.quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
                int8_by_engine[eng] = time_torch(qnet, dense, ids, a.batch, "int8")
        best_engine = max(int8_by_engine, key=int8_by_engine.get)
        int8 = int8_by_engine[best_engine]
        r = {"rows": rows, "batch": a.batch, "threads": a.threads, "torch": torch.__version__,
             "int8_engine": best_engine, "int8_by_engine": int8_by_engine, "rows_per_s": {"fp32": fp32, "bf16": bf16, "int8": int8}}
        print(json.dumps(r) if a.json else r)
        return

    results = []
    fp32 = time_torch(net, dense, ids, a.batch, "fp32")
    results.append(("fp32", fp32, *time_dlrm(a.dlrm, a.model, a.data, rows, a.batch, a.threads, "--fp32")))
    bf16 = time_torch(net, dense, ids, a.batch, "bf16")
    results.append(("bf16", bf16, *time_dlrm(a.dlrm, a.model, a.data, rows, a.batch, a.threads, "--bf16")))
    engines = torch.backends.quantized.supported_engines
    torch.backends.quantized.engine = "onednn" if "onednn" in engines else ("x86" if "x86" in engines else "fbgemm")
    qnet = torch.ao.quantization.quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
    int8 = time_torch(qnet, dense, ids, a.batch, "int8")
    if a.int8_model:
        results.append(("int8", int8, *time_dlrm(a.dlrm, a.int8_model, a.data, rows, a.batch, a.threads, "--int8")))
    else:
        results.append(("int8", int8, None, "no --int8-model given"))

    print(f"{rows} rows, batch {a.batch}, {a.threads} threads, torch {torch.__version__} "
          f"(int8 engine {torch.backends.quantized.engine})")
    print(f"{'precision':10} {'PyTorch rows/s':>15} {'dlrm rows/s':>12} {'ratio':>7}")
    for name, t, d, err in results:
        if d is None:
            print(f"{name:10} {t:15,.0f} {'-':>12} {'-':>7}   ({err})")
        else:
            print(f"{name:10} {t:15,.0f} {d:12,.0f} {d / t:7.2f}x")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Parity: networks built independently in PyTorch (nn.EmbeddingBag, nn.Linear, torch.bmm, the DCN
formula) against `dlrm run` on the same weights and rows, for dot (with and without the diagonal),
cat and dcn interactions, on one-hot (torchrec) and multi-hot (MLPerf npz) data, on every kernel
table this CPU can run. Predictions must agree to 1e-5 (DESIGN.md accuracy contract), and the
prediction bytes must not depend on --threads / --batch (DESIGN.md decision 7).

Prints one line per check: "PASS name" or "FAIL name: why". Exit status 1 if any check failed.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dlrm_file import write_dlrm  # noqa: E402  (the spec's independent Python writer)
from torch_dlrm import TorchDLRM, tensors_of  # noqa: E402  (the network, written from FACTS.md)

DLRM = os.environ.get("DLRM_BIN", "build/tools/dlrm")
ROWS = 10_000
TOL = 1e-5
failures = 0


def check(name, ok, why=""):
    global failures
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why), flush=True)
    failures += 0 if ok else 1


def make_case(name, inter, one_hot, diag=False, table_type="f32", seed=0):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    n_tables, dim = 8, 16
    rows = [int(r) for r in rng.integers(3, 3000, n_tables)]
    bags = [1] * n_tables if one_hot else [int(b) for b in rng.integers(1, 6, n_tables)]
    bags[-1] = 1 if one_hot else 20
    cfg = {"dense_features": 13, "dim": dim, "bottom": [32, 24, dim], "top": [40, 16, 1], "interaction": inter,
           "tables": [{"rows": r, "bag_size": b, "type": table_type} for r, b in zip(rows, bags)]}
    if inter == "dot":
        cfg["dot_diag"] = diag
    if inter == "dcn":
        cfg.update(dcn_layers=3, dcn_rank=8)
    net = TorchDLRM(cfg)
    # Larger-than-default embedding values, so the interaction matters to the output.
    with torch.no_grad():
        for e in net.embs:
            e.weight.uniform_(-0.6, 0.6)
            if table_type == "f16":
                e.weight.copy_(e.weight.half().float())  # the table is stored in fp16: same values in torch
    dense = np.log(np.floor(np.exp(rng.normal(1.5, 1.2, (ROWS, 13)))) + 3).astype(np.float32)
    labels = rng.integers(0, 2, (ROWS, 1)).astype(np.int32)
    if one_hot:
        raw = rng.integers(0, 2**31 - 1, (ROWS, n_tables)).astype(np.int32)  # torchrec: not yet reduced
        ids = [raw[:, t:t + 1].astype(np.int64) % rows[t] for t in range(n_tables)]
    else:
        members = [rng.integers(0, rows[t], (ROWS, bags[t])).astype(np.int32) for t in range(n_tables)]
        ids = [m.astype(np.int64) for m in members]
    d = tempfile.mkdtemp(prefix=f"dlrm-parity-{name}-")
    np.save(os.path.join(d, "day_0_dense.npy"), dense)
    np.save(os.path.join(d, "day_0_labels.npy"), labels)
    if one_hot:
        np.save(os.path.join(d, "day_0_sparse.npy"), raw)
    else:
        np.savez(os.path.join(d, "day_0_sparse_multi_hot.npz"), **{f"{t}": m for t, m in enumerate(members)})
    tensors = tensors_of(net, cfg)
    if table_type == "f16":
        tensors = [(n, a.astype(np.float16) if n.startswith("emb.") else a) for n, a in tensors]
    write_dlrm(os.path.join(d, "model.dlrm"), tensors, {"architecture": cfg, "provenance": {"tool": "parity test"}})
    with torch.no_grad():
        want = net(torch.from_numpy(dense), [torch.from_numpy(i) for i in ids]).numpy()
    return d, want


def run_dlrm(d, out, *extra, env=None):
    cmd = [DLRM, "run", os.path.join(d, "model.dlrm"), d, "--out", out, "--json", *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return p, (np.load(out) if p.returncode == 0 else None)


def main():
    info = json.loads(subprocess.run([DLRM, "info", "--json"], capture_output=True, text=True, check=True).stdout)
    tables = info["available_tables"]
    cases = [("dot-onehot", "dot", True, False, "f32"), ("dot-multihot", "dot", False, False, "f32"),
             ("dot-diag-multihot", "dot", False, True, "f32"), ("cat-onehot", "cat", True, False, "f32"),
             ("cat-multihot", "cat", False, False, "f32"), ("dcn-onehot", "dcn", True, False, "f32"),
             ("dcn-multihot", "dcn", False, False, "f32"), ("dot-multihot-f16-tables", "dot", False, False, "f16")]
    for i, (name, inter, one_hot, diag, tt) in enumerate(cases):
        d, want = make_case(name, inter, one_hot, diag, tt, seed=100 + i)
        base = None
        for isa in tables:
            env = dict(os.environ, DLRM_ISA=isa)
            out = os.path.join(d, f"pred-{isa}.npy")
            p, got = run_dlrm(d, out, env=env)
            if got is None:
                check(f"{name} [{isa}]", False, p.stderr.strip())
                continue
            err = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
            check(f"{name} [{isa}] {len(got)} rows, max |Δp| = {err:.2e} ≤ {TOL}", got.shape == (ROWS,) and err <= TOL,
                  f"shape {got.shape}, max |Δp| {err:.3e}")
            if base is None:
                base = (isa, out)
        # Same bytes whatever the thread count and batch split.
        isa, ref_out = base
        env = dict(os.environ, DLRM_ISA=isa)
        out2 = os.path.join(d, "pred-t1.npy")
        p, got = run_dlrm(d, out2, "--threads", "1", "--batch", "37", env=env)
        same = got is not None and open(ref_out, "rb").read() == open(out2, "rb").read()
        check(f"{name} [{isa}] --threads 1 --batch 37 writes identical bytes", same, p.stderr.strip() or "bytes differ")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

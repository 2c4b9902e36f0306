#!/usr/bin/env python3
"""Parity of `dlrm import`: for each naming scheme of FACTS.md §1 a model is built in PyTorch as an
nn.Module tree whose state_dict has exactly that scheme's names (Facebook dlrm_s_pytorch emb_l / bot_l /
top_l; torchrec DLRM and DLRM_DCN, also under the training wrapper's `model.` prefix; the single-file
MLPerf v2 names), given random weights (fixed seed), saved with torch.save, imported with
`dlrm import`, and run with `dlrm run` on a numpy-written dataset. Predictions must agree with the
PyTorch forward to 1e-5. Variants: fp32 tables, half-precision tables (f16 / bf16, kept as such),
non-contiguous and offset tensors in the archive, the Facebook checkpoint dict with numpy scalars.

Prints one line per check: "PASS name" or "FAIL name: why". Exit status 1 if any check failed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

DLRM = os.environ.get("DLRM_BIN", "build/tools/dlrm")
ROWS = 3000
TOL = 1e-5
DENSE = 13
failures = 0


def check(name, ok, why=""):
    global failures
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why), flush=True)
    failures += 0 if ok else 1


# ---- Facebook dlrm_s_pytorch.py: emb_l (EmbeddingBag list), bot_l / top_l (Sequential with ReLUs) ----
class FacebookDLRM(nn.Module):
    def __init__(self, rows, dim, bottom, top, inter, diag):
        super().__init__()
        self.inter, self.diag = inter, diag
        self.emb_l = nn.ModuleList(nn.EmbeddingBag(r, dim, mode="sum") for r in rows)

        def create_mlp(ln, sigmoid_last):  # as dlrm_s_pytorch.create_mlp: Linear at even indices
            layers = []
            for i in range(len(ln) - 1):
                layers.append(nn.Linear(ln[i], ln[i + 1]))
                layers.append(nn.Sigmoid() if sigmoid_last and i == len(ln) - 2 else nn.ReLU())
            return nn.Sequential(*layers)

        f = len(rows) + 1
        off = 1 if diag else 0
        self.li = [i for i in range(f) for j in range(i + off)]
        self.lj = [j for i in range(f) for j in range(i + off)]
        top_in = dim + len(self.li) if inter == "dot" else f * dim
        self.bot_l = create_mlp([DENSE] + bottom, False)
        self.top_l = create_mlp([top_in] + top, True)

    def forward(self, dense, ids):
        x = self.bot_l(dense)
        ly = [e(i) for e, i in zip(self.emb_l, ids)]
        if self.inter == "dot":
            t = torch.cat([x] + ly, dim=1).view(x.shape[0], -1, x.shape[1])
            z = torch.bmm(t, t.transpose(1, 2))
            r = torch.cat([x, z[:, self.li, self.lj]], dim=1)
        else:
            r = torch.cat([x] + ly, dim=1)
        return self.top_l(r).squeeze(1)


# ---- torchrec module tree: DLRM (dot, pairs by torch.triu_indices) and DLRM_DCN (LowRankCrossNet) ----
class Perceptron(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self._linear = nn.Linear(i, o)

    def forward(self, x):
        return torch.relu(self._linear(x))


class MLP(nn.Module):
    def __init__(self, i, sizes):
        super().__init__()
        layers = []
        for s in sizes:
            layers.append(Perceptron(i, s))
            i = s
        self._mlp = nn.Sequential(*layers)

    def forward(self, x):
        return self._mlp(x)


class Holder(nn.Module):
    def __init__(self, **children):
        super().__init__()
        for k, v in children.items():
            setattr(self, k, v)


class LowRankCrossNet(nn.Module):
    def __init__(self, width, layers, rank):
        super().__init__()
        self.W_kernels = nn.ParameterList(nn.Parameter(torch.randn(width, rank) * 0.1) for _ in range(layers))
        self.V_kernels = nn.ParameterList(nn.Parameter(torch.randn(rank, width) * 0.1) for _ in range(layers))
        self.bias = nn.ParameterList(nn.Parameter(torch.randn(width) * 0.1) for _ in range(layers))

    def forward(self, x0):
        x = x0
        for v, w, b in zip(self.V_kernels, self.W_kernels, self.bias):
            x = x0 * ((x @ v.t()) @ w.t() + b) + x
        return x


class TorchrecDLRM(nn.Module):
    def __init__(self, rows, dim, bottom, top, dcn=None):
        super().__init__()
        ebc = Holder(embedding_bags=nn.ModuleDict(
            {f"t_cat_{k}": nn.EmbeddingBag(r, dim, mode="sum") for k, r in enumerate(rows)}))
        self.sparse_arch = Holder(embedding_bag_collection=ebc)
        self.dense_arch = Holder(model=MLP(DENSE, bottom))
        f = len(rows) + 1
        self.dcn = dcn
        if dcn:
            self.inter_arch = Holder(crossnet=LowRankCrossNet(f * dim, *dcn))
            top_in = f * dim
        else:
            self.triu = torch.triu_indices(f, f, offset=1)
            top_in = dim + f * (f - 1) // 2
        self.over_arch = Holder(model=nn.Sequential(MLP(top_in, top[:-1]), nn.Linear(top[-2], top[-1])))

    def forward(self, dense, ids):
        x = self.dense_arch.model(dense)
        bags = self.sparse_arch.embedding_bag_collection.embedding_bags
        ly = [bags[f"t_cat_{k}"](i) for k, i in enumerate(ids)]
        if self.dcn:
            r = self.inter_arch.crossnet(torch.cat([x] + ly, dim=1))
        else:
            t = torch.stack([x] + ly, dim=1)
            z = torch.bmm(t, t.transpose(1, 2))
            r = torch.cat([x, z[:, self.triu[0], self.triu[1]]], dim=1)
        return self.over_arch.model(r).squeeze(1)


# ---- the single-file MLPerf v2 names (Intel's / AMD's tools) ----
class MLPerfDLRM(nn.Module):
    def __init__(self, rows, dim, bottom, top, layers, rank):
        super().__init__()

        def seq(i, sizes, last_relu):
            mods = []
            for n, s in enumerate(sizes):
                mods.append(nn.Linear(i, s))
                mods.append(nn.ReLU() if last_relu or n + 1 < len(sizes) else nn.Identity())
                i = s
            return nn.Sequential(*mods)

        ebc = Holder(embedding_bags=nn.ModuleDict({str(k): nn.EmbeddingBag(r, dim, mode="sum") for k, r in enumerate(rows)}))
        self.sparse_arch = Holder(embedding_bag_collection=ebc)
        self.dense_arch = Holder(model=Holder(_mlp=seq(DENSE, bottom, True)))
        width = (len(rows) + 1) * dim
        mlps = nn.ModuleDict()
        for l in range(layers):
            mlps[f"V{l}"] = nn.Linear(width, rank, bias=False)
            mlps[f"W{l}"] = nn.Linear(rank, width)
        self.layers = layers
        self.inter_arch = Holder(crossnet=Holder(MLPs=mlps))
        self.over_arch = Holder(model=Holder(_mlp=seq(width, top, False)))

    def forward(self, dense, ids):
        x = self.dense_arch.model._mlp(dense)
        bags = self.sparse_arch.embedding_bag_collection.embedding_bags
        x0 = torch.cat([x] + [bags[str(k)](i) for k, i in enumerate(ids)], dim=1)
        r = x0
        m = self.inter_arch.crossnet.MLPs
        for l in range(self.layers):
            r = x0 * m[f"W{l}"](m[f"V{l}"](r)) + r
        return self.over_arch.model._mlp(r).squeeze(1)


def strided_copy(t, how):
    """Same values, different layout in the archive: transposed strides or a storage offset."""
    if how == "transposed" and t.dim() == 2:
        return t.t().contiguous().t()
    if how == "offset":
        big = torch.cat([torch.zeros(7, dtype=t.dtype), t.flatten()])
        return big[7:].view(t.shape)
    return t


def make_case(name, scheme, inter="dot", diag=False, table_dtype=torch.float32, bags=None, wrap=None,
              layout=None, seed=0, import_args=()):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    rows = [int(r) for r in rng.integers(2, 400, 6)]
    dim, bottom, top = 8, [24, 8], [20, 12, 1]
    if scheme == "facebook":
        net = FacebookDLRM(rows, dim, bottom, top, inter, diag)
        tables = list(net.emb_l)
    elif scheme == "torchrec":
        net = TorchrecDLRM(rows, dim, bottom, top, dcn=(2, 4) if inter == "dcn" else None)
        tables = list(net.sparse_arch.embedding_bag_collection.embedding_bags.values())
    else:
        net = MLPerfDLRM(rows, dim, bottom, top, 3, 5)
        tables = list(net.sparse_arch.embedding_bag_collection.embedding_bags.values())
    with torch.no_grad():
        for e in tables:  # larger values than the default init, so the interaction matters
            e.weight.uniform_(-0.7, 0.7)
            e.weight.copy_(e.weight.to(table_dtype).float())  # exactly representable in the stored type
    net = net.eval()
    bags = bags or [1] * len(rows)

    sd = net.state_dict()
    out_sd = type(sd)()
    for k, v in sd.items():
        is_table = k.endswith(".weight") and v.dim() == 2 and v.shape[1] == dim and any(v is e.weight or v.data_ptr() == e.weight.data_ptr() for e in tables)
        v = v.to(table_dtype) if is_table else v
        out_sd[k] = strided_copy(v, layout) if layout else v
    if hasattr(sd, "_metadata"):
        out_sd._metadata = sd._metadata
    if wrap == "model":
        out_sd = type(sd)(("model." + k, v) for k, v in out_sd.items())

    d = tempfile.mkdtemp(prefix=f"dlrm-import-{name}-")
    ckpt = os.path.join(d, "ckpt.pt")
    if scheme == "facebook":
        torch.save({"state_dict": out_sd, "epoch": 3, "iter": 1000, "train_loss": np.float32(0.45),
                    "train_acc": np.float64(0.71), "opt_state_dict": {}}, ckpt)
    else:
        torch.save(out_sd, ckpt)

    dense = np.log(np.floor(np.exp(rng.normal(1.5, 1.2, (ROWS, DENSE)))) + 3).astype(np.float32)
    labels = rng.integers(0, 2, (ROWS, 1)).astype(np.int32)
    members = [rng.integers(0, rows[t], (ROWS, bags[t])).astype(np.int32) for t in range(len(rows))]
    np.save(os.path.join(d, "day_0_dense.npy"), dense)
    np.save(os.path.join(d, "day_0_labels.npy"), labels)
    np.savez(os.path.join(d, "day_0_sparse_multi_hot.npz"), **{f"{t}": m for t, m in enumerate(members)})
    with torch.no_grad():
        ref = net.double()
        got = ref(torch.from_numpy(dense).double(), [torch.from_numpy(m).long() for m in members])
        # Facebook's top_l ends in its own Sigmoid; the torchrec and MLPerf modules return logits.
        want = (got if scheme == "facebook" else torch.sigmoid(got)).numpy()
    return d, ckpt, want


def run_case(name, scheme, expect, import_args=(), **kw):
    d, ckpt, want = make_case(name, scheme, **kw)
    model = os.path.join(d, "model.dlrm")
    p = subprocess.run([DLRM, "import", ckpt, "-o", model, *import_args], capture_output=True, text=True)
    if p.returncode != 0:
        check(f"{name}: import", False, (p.stderr or p.stdout).strip())
        return
    info = p.stdout
    ok = all(s in info for s in expect)
    check(f"{name}: import recognises {', '.join(expect)}", ok, info.strip())
    out = os.path.join(d, "pred.npy")
    p = subprocess.run([DLRM, "run", model, d, "--rows", f"0:{ROWS}", "--out", out], capture_output=True, text=True)
    if p.returncode != 0:
        check(f"{name}: run", False, p.stderr.strip())
        return
    got = np.load(out).astype(np.float64)
    err = float(np.max(np.abs(got - want))) if got.shape == want.shape else float("inf")
    check(f"{name}: {ROWS} rows, max |dp| = {err:.2e} <= {TOL}", err <= TOL, f"shape {got.shape}, max |dp| {err:.3e}")
    shutil.rmtree(d, ignore_errors=True)


def main():
    if not os.path.exists(DLRM):
        check("dlrm binary", False, f"{DLRM} does not exist (set DLRM_BIN)")
        sys.exit(1)
    multi = [3, 1, 2, 5, 1, 4]
    run_case("facebook-dot-f32", "facebook", ["facebook naming", "dot (no diagonal)"], seed=1)
    run_case("facebook-dot-diag-f32", "facebook", ["dot (with the diagonal)"], diag=True, seed=2,
             import_args=["--interaction-diagonal"])
    run_case("facebook-dot-diag-auto", "facebook", ["dot (with the diagonal)"], diag=True, seed=3, bags=multi)
    run_case("facebook-cat-f32", "facebook", ["interaction cat"], inter="cat", seed=4, import_args=["--arch", "cat"])
    run_case("facebook-dot-f16-tables", "facebook", ["f16"], table_dtype=torch.float16, seed=5, bags=multi)
    run_case("facebook-dot-offset-storage", "facebook", ["facebook naming"], layout="offset", seed=6)
    run_case("torchrec-dcn-f32", "torchrec", ["torchrec naming", "dcn (2 layers, rank 4)"], inter="dcn", bags=multi, seed=7)
    run_case("torchrec-dcn-model-prefix", "torchrec", ["prefix 'model.' removed"], inter="dcn", wrap="model", seed=8)
    run_case("torchrec-dcn-bf16-tables", "torchrec", ["bf16"], inter="dcn", table_dtype=torch.bfloat16, bags=multi, seed=9)
    run_case("torchrec-dot-triu-order", "torchrec", ["dot (no diagonal)"], inter="dot", bags=multi, seed=10)
    run_case("mlperf-dcn-f32", "mlperf", ["mlperf naming", "dcn (3 layers, rank 5)"], inter="dcn", bags=multi, seed=11)
    run_case("mlperf-dcn-transposed-strides", "mlperf", ["mlperf naming"], inter="dcn", layout="transposed", seed=12)
    run_case("mlperf-dcn-f16-tables", "mlperf", ["f16"], inter="dcn", table_dtype=torch.float16, bags=multi, seed=13)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

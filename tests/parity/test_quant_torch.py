#!/usr/bin/env python3
"""Quantization parity: `dlrm calibrate` output checked against PyTorch and an independent numpy model.

1. Tables: the uint4 / int8 row-wise bytes `dlrm calibrate` writes equal
   torch.ops.quantized.embedding_bag_4bit_prepack / embedding_bag_byte_prepack on the same fp32
   weights, byte for byte (dims 16 and 40; 13 for the byte rows, as torch's 4-bit takes even dims).
2. int8 Linear: for every int8 layer of the calibrated model, with the stored weight scales and
   activation qparams, the independent numpy layer (u8 = clamp(rint(x·(1/s)) + zp), exact integer
   dot products, (s·w_scale)·acc + b) equals torch.ops.quantized.linear (oneDNN engine, per-channel
   qint8 weights) within one output quantization step.
3. The whole calibrated network: `dlrm run --int8` against the numpy int8 network built from the
   .dlrm's own tensors (dot and dcn interactions).
4. `--int8` against `--simulate` within the bound documented in engine/quant/README.md:
   max |Δp| ≤ 2e-3, mean |Δp| ≤ 1e-5, ≥ 99 % of rows within 1e-5.

Prints "PASS name" / "FAIL name: why" lines; exit 1 if any failed.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dlrm_file import read_dlrm_metadata, read_dlrm_tensor, write_dlrm  # noqa: E402
from torch_dlrm import TorchDLRM, tensors_of  # noqa: E402

DLRM = os.environ.get("DLRM_BIN", "build/tools/dlrm")
ROWS = 6000
failures = 0


def check(name, ok, why=""):
    global failures
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why), flush=True)
    failures += 0 if ok else 1


def dlrm(*args):
    return subprocess.run([DLRM, *args], capture_output=True, text=True)


def make_case(d, inter, dim, seed):
    """An fp32 model (PyTorch init, normal tables) and a numpy-written multi-hot dataset in d."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    rows = [700, 1500, 3000, 90, 2500]           # 90 rows × dim: a table small enough to stay fp32
    bags = [1, 3, 2, 1, 5]
    cfg = {"dense_features": 13, "dim": dim, "bottom": [48, dim], "top": [64, 32, 1], "interaction": inter,
           "tables": [{"rows": r, "bag_size": b, "type": "f32"} for r, b in zip(rows, bags)]}
    if inter == "dcn":
        cfg.update(dcn_layers=2, dcn_rank=16)
    net = TorchDLRM(cfg)
    with torch.no_grad():
        for e in net.embs:
            e.weight.normal_(0, 0.3)
    write_dlrm(os.path.join(d, "model.dlrm"), tensors_of(net, cfg), {"architecture": cfg, "provenance": {"tool": "quant test"}})
    dense = np.log(np.floor(np.exp(rng.normal(1.5, 1.2, (ROWS, 13)))) + 3).astype(np.float32)
    members = [rng.integers(0, r, (ROWS, b)).astype(np.int32) for r, b in zip(rows, bags)]
    with torch.no_grad():
        p = net(torch.from_numpy(dense), [torch.from_numpy(m.astype(np.int64)) for m in members]).numpy()
    labels = (rng.random(ROWS) < p).astype(np.int32).reshape(-1, 1)
    np.save(os.path.join(d, "day_0_dense.npy"), dense)
    np.save(os.path.join(d, "day_0_labels.npy"), labels)
    np.savez(os.path.join(d, "day_0_sparse_multi_hot.npz"), **{f"{t}": m for t, m in enumerate(members)})
    return net, cfg, dense, members


# ---- the independent numpy int8 network -----------------------------------------------------------
def quantize_u8(x, scale, zp):
    inv = np.float32(1.0) / np.float32(scale)
    return np.clip(np.rint((x * inv).astype(np.float32)) + zp, 0, 255).astype(np.int64)


def int8_linear(x, w_q, w_scale, bias, scale, zp, relu):
    """y = (s·w_scale[n])·Σ_k (q − zp)·w_q[n][k] + b, exact integer sums."""
    q = quantize_u8(x, scale, zp)
    acc = (q - zp) @ w_q.astype(np.int64).T
    y = (np.float32(scale) * w_scale.astype(np.float32))[None, :] * acc.astype(np.float32)
    if bias is not None:
        y = y + bias[None, :]
    return np.maximum(y, 0).astype(np.float32) if relu else y.astype(np.float32)


def dequant_rows(raw, kind, dim):
    """FBGEMM row-wise bytes → float32 rows (value = scale·q + bias)."""
    if kind == "u4rw":
        pay = (dim + 1) // 2
        lo, hi = raw[:, :pay] & 15, raw[:, :pay] >> 4
        q = np.empty((raw.shape[0], 2 * pay), np.float32)
        q[:, 0::2], q[:, 1::2] = lo, hi
        sb = raw[:, pay:pay + 4].copy().view(np.float16).astype(np.float32)
        return (sb[:, :1] * q[:, :dim] + sb[:, 1:2]).astype(np.float32)
    sb = raw[:, dim:dim + 8].copy().view(np.float32)
    return (sb[:, :1] * raw[:, :dim].astype(np.float32) + sb[:, 1:2]).astype(np.float32)


class NumpyQuantDLRM:
    """The calibrated model from its own tensors, computed independently of dlrm's C++."""

    def __init__(self, path):
        self.meta = read_dlrm_metadata(path)
        m = self.meta["model"]
        self.cfg, q = m["architecture"], m["quantization"]
        self.plan, self.acts = q["plan"], q["activations"]
        t = {e["name"]: e for e in self.meta["tensors"]}
        self.get = lambda n: read_dlrm_tensor(path, n, self.meta)
        self.kind = {n: e["dtype"] for n, e in t.items()}

    def linear(self, name, wname, x, bias_name, relu):
        w = self.get(wname)
        b = self.get(bias_name) if bias_name else None
        if self.plan[name] == "int8":
            a = self.acts[name]
            return int8_linear(x, w, self.get(wname + "_scale"), b, a["scale"], a["zero_point"], relu)
        y = x @ w.astype(np.float32).T + (b if b is not None else 0)
        return np.maximum(y, 0) if relu else y

    def table(self, t):
        name = f"emb.{t}"
        kind = self.kind[name]
        raw = self.get(name)
        return dequant_rows(raw, kind, self.cfg["dim"]) if kind in ("u4rw", "i8rw") else raw.astype(np.float32)

    def forward(self, dense, members, layer_inputs=None):
        c = self.cfg
        x = dense
        for i in range(len(c["bottom"])):
            if layer_inputs is not None:
                layer_inputs[f"bottom.{i}"] = x
            x = self.linear(f"bottom.{i}", f"bottom.{i}.weight", x, f"bottom.{i}.bias", True)
        pooled = [self.table(t)[m].sum(axis=1) for t, m in enumerate(members)]
        if c["interaction"] == "dot":
            T = np.stack([x] + pooled, axis=1)
            Z = np.einsum("bid,bjd->bij", T, T)
            f = T.shape[1]
            li, lj = zip(*[(i, j) for i in range(f) for j in range(i)])
            r = np.concatenate([x, Z[:, li, lj]], axis=1)
        else:
            x0 = np.concatenate([x] + pooled, axis=1)
            r = x0
            for l in range(c["dcn_layers"]):
                if layer_inputs is not None:
                    layer_inputs[f"dcn.{l}.V"] = r
                low = self.linear(f"dcn.{l}.V", f"dcn.{l}.V", r, None, False)
                if layer_inputs is not None:
                    layer_inputs[f"dcn.{l}.W"] = low
                r = x0 * self.linear(f"dcn.{l}.W", f"dcn.{l}.W", low, f"dcn.{l}.bias", False) + r
        for i in range(len(c["top"])):
            if layer_inputs is not None:
                layer_inputs[f"top.{i}"] = r
            r = self.linear(f"top.{i}", f"top.{i}.weight", r, f"top.{i}.bias", i + 1 < len(c["top"]))
        return (1.0 / (1.0 + np.exp(-r[:, 0].astype(np.float64)))).astype(np.float32)


# ---- 1. table bytes -------------------------------------------------------------------------------
def test_tables(root):
    for dim in (16, 40, 13):
        d = os.path.join(root, f"tables-{dim}")
        os.makedirs(d)
        make_case(d, "dot", dim, seed=dim)
        model = os.path.join(d, "model.dlrm")
        rows_per_table = [t["rows"] for t in read_dlrm_metadata(model)["model"]["architecture"]["tables"]]
        big = [t for t, r in enumerate(rows_per_table) if r * dim * 4 > 64 * 1024]
        plan8 = os.path.join(d, "plan8.json")
        with open(plan8, "w") as f:
            f.write("{" + ", ".join(f'"emb.{t}": "int8"' for t in range(len(rows_per_table))) + "}")
        kinds = [("u4rw", [], torch.ops.quantized.embedding_bag_4bit_prepack),
                 ("i8rw", ["--plan", plan8], torch.ops.quantized.embedding_bag_byte_prepack)]
        # torch's 4-bit prepack takes even dims only; an odd dim is compared for the byte rows.
        for kind, extra, prepack in kinds[1:] if dim % 2 else kinds:
            out = os.path.join(d, f"{kind}.dlrm")
            p = dlrm("calibrate", model, d, "--rows", "0:2000", "-o", out, *extra)
            if p.returncode != 0:
                check(f"calibrate dim {dim} ({kind})", False, p.stderr.strip())
                continue
            meta = read_dlrm_metadata(out)
            tables = range(len(rows_per_table)) if kind == "i8rw" else big
            same, kinds = True, True
            for t in tables:
                w = read_dlrm_tensor(model, f"emb.{t}").astype(np.float32)
                want = prepack(torch.from_numpy(w)).numpy()
                e = next(x for x in meta["tensors"] if x["name"] == f"emb.{t}")
                kinds &= e["dtype"] == kind
                got = read_dlrm_tensor(out, f"emb.{t}", meta)
                same &= got.shape == want.shape and np.array_equal(got, want)
            check(f"{kind} tables, dim {dim}: {len(tables)} tables byte-equal to torch {prepack.__name__}",
                  same and kinds, f"dtype ok {kinds}, bytes equal {same}")
            if kind == "u4rw":
                small = [t for t in range(len(rows_per_table)) if t not in big]
                kept = all(next(x for x in meta["tensors"] if x["name"] == f"emb.{t}")["dtype"] == "f32" for t in small)
                check(f"tiny tables (fp32 ≤ 64 KiB) stay fp32 under the default plan, dim {dim}", kept)


# ---- 2-4. int8 layers and networks ---------------------------------------------------------------
def torch_int8_linear_codes(x, w_q, w_scale, bias, scale, zp, out_scale, out_zp, relu):
    torch.backends.quantized.engine = "onednn"
    qx = torch.quantize_per_tensor(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32).copy()), float(scale), int(zp), torch.quint8)
    qw = torch.quantize_per_channel(torch.from_numpy(w_q.astype(np.float32) * w_scale[:, None]),
                                    torch.from_numpy(w_scale.astype(np.float64)), torch.zeros(len(w_scale), dtype=torch.long),
                                    0, torch.qint8)
    packed = torch.ops.quantized.linear_prepack(qw, None if bias is None else torch.from_numpy(bias.copy()))
    op = torch.ops.quantized.linear_relu if relu else torch.ops.quantized.linear
    return op(qx, packed, float(out_scale), int(out_zp)).int_repr().numpy().astype(np.int64)


def test_network(root, inter):
    d = os.path.join(root, f"net-{inter}")
    os.makedirs(d)
    make_case(d, inter, 16, seed=7 if inter == "dot" else 8)
    q = os.path.join(d, "int8.dlrm")
    p = dlrm("calibrate", os.path.join(d, "model.dlrm"), d, "--rows", "0:3000", "-o", q)
    if p.returncode != 0:
        check(f"{inter}: calibrate", False, p.stderr.strip())
        return
    dense = np.load(os.path.join(d, "day_0_dense.npy"))
    with np.load(os.path.join(d, "day_0_sparse_multi_hot.npz")) as z:
        members = [z[f"{t}"] for t in range(len(z.files))]
    ref = NumpyQuantDLRM(q)
    inputs = {}
    want = ref.forward(dense, members, inputs)

    # 2. every int8 layer: numpy vs torch quantized linear, requantized to u8 at the layer's own
    # output range; one step of difference allowed (fp32 rounding of the scaled sums).
    worst, layers = 0, 0
    for name, x in inputs.items():
        if ref.plan[name] != "int8":
            continue
        wname = name if name.startswith("dcn.") else name + ".weight"
        bname = None if name.endswith(".V") else (f"{name[:-2]}.bias" if name.startswith("dcn.") else name + ".bias")
        w, ws = ref.get(wname), ref.get(wname + "_scale")
        b = ref.get(bname) if bname else None
        a = ref.acts[name]
        relu = name.startswith("bottom.") or (name.startswith("top.") and name != f"top.{len(ref.cfg['top']) - 1}")
        y = int8_linear(x, w, ws, b, a["scale"], a["zero_point"], relu)
        lo, hi = min(float(y.min()), 0.0), max(float(y.max()), 0.0)
        out_scale = max((hi - lo) / 255, 1e-8)
        out_zp = int(round(-lo / out_scale))
        ours = np.clip(np.rint(y / out_scale) + out_zp, 0, 255).astype(np.int64)
        theirs = torch_int8_linear_codes(x, w, ws, b, a["scale"], a["zero_point"], out_scale, out_zp, relu)
        worst = max(worst, int(np.abs(ours - theirs).max()))
        layers += 1
    check(f"{inter}: {layers} int8 Linear layers, numpy vs torch.ops.quantized.linear (onednn): within one step "
          f"(worst {worst})", layers > 0 and worst <= 1, f"worst difference {worst} steps")

    # 3. the network
    out = os.path.join(d, "pred-int8.npy")
    p = dlrm("run", q, d, "--int8", "--out", out)
    if p.returncode != 0:
        check(f"{inter}: run --int8", False, p.stderr.strip())
        return
    got = np.load(out)
    diff = np.abs(got.astype(np.float64) - want)
    check(f"{inter}: dlrm run --int8 vs the numpy int8 network, {ROWS} rows: max |Δp| {diff.max():.1e} ≤ 2e-3, "
          f"99 % within 1e-5 ({np.mean(diff <= 1e-5) * 100:.2f} %)",
          diff.max() <= 2e-3 and np.mean(diff <= 1e-5) >= 0.99, f"max {diff.max():.3e}, mean {diff.mean():.3e}")

    # 4. --simulate
    sim = os.path.join(d, "pred-sim.npy")
    p = dlrm("run", q, d, "--simulate", "--out", sim)
    if p.returncode != 0:
        check(f"{inter}: run --simulate", False, p.stderr.strip())
        return
    s = np.load(sim)
    diff = np.abs(got.astype(np.float64) - s.astype(np.float64))
    ok = diff.max() <= 2e-3 and diff.mean() <= 1e-5 and np.mean(diff <= 1e-5) >= 0.99
    check(f"{inter}: --int8 vs --simulate: max {diff.max():.1e}, mean {diff.mean():.1e}, "
          f"{np.mean(diff <= 1e-5) * 100:.2f} % within 1e-5 (README bound)", ok,
          f"max {diff.max():.3e}, mean {diff.mean():.3e}, within {np.mean(diff <= 1e-5):.4f}")


def main():
    with tempfile.TemporaryDirectory(prefix="dlrm-quant-") as root:
        test_tables(root)
        test_network(root, "dot")
        test_network(root, "dcn")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

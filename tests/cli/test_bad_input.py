#!/usr/bin/env python3
"""Bad input at the command line: each case must fail with a non-zero exit, a message that names the
file (or option) and the rule, and leave no output file behind (DESIGN.md: nothing is half-written).

Prints "PASS name" / "FAIL name: why" per check; exit 1 if any failed.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from dlrm_file import tensor_entry  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_common as cli  # noqa: E402
from cli_common import DLRM, check, dlrm  # noqa: E402


def expect_error(name, args, must_mention, out=None):
    """The command fails, stderr has 'dlrm: error:' and every string in must_mention, out absent."""
    if out and os.path.exists(out):
        os.remove(out)
    p = dlrm(*args)
    msg = p.stderr.strip()
    problems = []
    if p.returncode == 0:
        problems.append("exit status 0")
    if p.returncode < 0 or p.returncode >= 128:
        problems.append(f"crashed (status {p.returncode})")
    if "dlrm: error:" not in msg:
        problems.append("no 'dlrm: error:' line")
    for s in must_mention:
        if s not in msg:
            problems.append(f"message lacks {s!r}")
    if out:
        d = os.path.dirname(out) or "."
        left = [f for f in os.listdir(d) if f.startswith(os.path.basename(out))]
        if left:
            problems.append(f"output left behind: {left}")
    check(f"{name}: {msg.splitlines()[-1] if msg else '(no message)'}", not problems, "; ".join(problems) + f" | {msg}")


def main():
    root = tempfile.mkdtemp(prefix="dlrm-bad-input-")
    good = os.path.join(root, "good")
    p = dlrm("synth", "--shape", "small", "--samples", "3000", "--seed", "3", "--out", good)
    check("synth a small model and dataset", p.returncode == 0, p.stderr)
    if p.returncode:
        sys.exit(1)
    model = os.path.join(good, "model.dlrm")
    out = os.path.join(root, "pred.npy")
    p = dlrm("run", model, good, "--out", out)
    check("the good files score", p.returncode == 0 and os.path.exists(out), p.stderr)

    def variant(name):
        d = os.path.join(root, name)
        shutil.copytree(good, d)
        return d

    # Truncated model.
    d = variant("truncated")
    m = os.path.join(d, "model.dlrm")
    size = os.path.getsize(m)
    with open(m, "r+b") as f:
        f.truncate(size // 2)
    expect_error("truncated .dlrm", ["run", m, d, "--out", out], ["model.dlrm"], out)

    # A flipped byte inside a weight tensor: the checksum catches it.
    d = variant("corrupt")
    m = os.path.join(d, "model.dlrm")
    e = tensor_entry(m, "top.0.weight")
    pos = e["offset"] + e["bytes"] // 2
    with open(m, "r+b") as f:
        f.seek(pos)
        b = f.read(1)
        f.seek(pos)
        f.write(bytes([b[0] ^ 0x40]))
    expect_error("corrupted .dlrm (checksum)", ["run", m, d, "--out", out], ["model.dlrm", "top.0.weight", "checksum"], out)
    expect_error("dlrm verify on the corrupted file", ["verify", m], ["model.dlrm", "checksum"])

    # Dense features of the wrong dtype, and of the wrong shape.
    d = variant("dense-f64")
    dense = np.load(os.path.join(good, "day_0_dense.npy"))
    np.save(os.path.join(d, "day_0_dense.npy"), dense.astype(np.float64))
    expect_error("dense .npy of dtype float64", ["run", model, d, "--out", out], ["day_0_dense.npy", "<f8"], out)
    d = variant("dense-shape")
    np.save(os.path.join(d, "day_0_dense.npy"), dense[:, :12].copy())
    expect_error("dense .npy with 12 columns", ["run", model, d, "--out", out], ["day_0_dense.npy", "12"], out)

    # A compressed npz member cannot be memory-mapped.
    d = variant("compressed")
    z = np.load(os.path.join(good, "day_0_sparse_multi_hot.npz"))
    np.savez_compressed(os.path.join(d, "day_0_sparse_multi_hot.npz"), **{k: z[k] for k in z.files})
    expect_error("compressed .npz member", ["run", model, d, "--out", out], ["day_0_sparse_multi_hot.npz", "compress"], out)

    # An id out of range of its table.
    d = variant("bad-id")
    members = {k: z[k].copy() for k in z.files}
    members["3"][17, 0] = 2_000_000_000
    np.savez(os.path.join(d, "day_0_sparse_multi_hot.npz"), **members)
    expect_error("id out of range", ["run", model, d, "--out", out], ["2000000000", "out of range", "row 17"], out)

    # NaN in the dense features.
    d = variant("nan")
    bad = dense.copy()
    bad[5, 3] = np.nan
    np.save(os.path.join(d, "day_0_dense.npy"), bad)
    expect_error("NaN in dense features", ["run", model, d, "--out", out], ["day_0_dense.npy", "NaN", "row 5"], out)

    # Wrong --rows ranges.
    expect_error("--rows beyond the data", ["run", model, good, "--rows", "0:999999", "--out", out], ["--rows", "999999"], out)
    expect_error("--rows empty range", ["run", model, good, "--rows", "50:10", "--out", out], ["--rows"], out)
    expect_error("--rows not a range", ["run", model, good, "--rows", "abc", "--out", out], ["--rows", "abc"], out)

    # Unwritable output: fails before scoring, nothing left behind.
    expect_error("unwritable --out", ["run", model, good, "--out", "/proc/no/such/dir/pred.npy"], ["pred.npy"])

    # auc on a single-class label file.
    ones = os.path.join(root, "ones.npy")
    np.save(ones, np.ones((100, 1), np.int32))
    preds = os.path.join(root, "p100.npy")
    np.save(preds, np.linspace(0, 1, 100).astype(np.float32))
    expect_error("auc with one class", ["auc", preds, ones], ["AUC", "class"])

    # DLRM_ISA naming an unknown table.
    p = subprocess.run([DLRM, "run", model, good], capture_output=True, text=True, env=dict(os.environ, DLRM_ISA="sse9"))
    check("DLRM_ISA=sse9 is an error naming the value", p.returncode != 0 and "sse9" in p.stderr, p.stderr)

    shutil.rmtree(root)
    sys.exit(cli.exit_code())


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets to tests/fuzz/corpus/<target>/: small valid files made
by numpy, torch, Python's zipfile, the independent .dlrm writer (tests/parity/dlrm_file.py) and, when
a built dlrm binary is given (DLRM_BIN), by dlrm's own writers (dlrm synth). Every seed is ≤ 64 KB.
Usage: /usr/bin/python3 tests/fuzz/make_corpus.py  (rewrites the corpus folders; deterministic)."""
import collections
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
from dlrm_file import write_dlrm  # noqa: E402

OUT = os.path.join(HERE, "corpus")
MAX_SEED = 64 << 10
rng = np.random.default_rng(5)


def put(target, name, data):
    assert len(data) <= MAX_SEED, f"{target}/{name}: {len(data)} bytes"
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy_bytes(a, version=None):
    b = io.BytesIO()
    np.lib.format.write_array(b, np.asarray(a), version=version, allow_pickle=False)
    return b.getvalue()


def npz_bytes(arrays, compressed=False):
    b = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(b, **arrays)
    return b.getvalue()


def parts(*blobs):
    return b"".join(struct.pack("<I", len(x)) + x for x in blobs)


def torch_bytes(obj):
    b = io.BytesIO()
    torch.save(obj, b)
    return b.getvalue()


def data_pkl(zbytes):
    with zipfile.ZipFile(io.BytesIO(zbytes)) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        return z.read(name)


def npy_seeds():
    t = "fuzz_npy"
    put(t, "dense_f4", npy_bytes(rng.random((3, 13), dtype=np.float32)))
    put(t, "labels_i4", npy_bytes(np.array([0, 1, 1, 0, 1], np.int32)))
    put(t, "labels_b1", npy_bytes(np.array([True, False, True])))
    put(t, "u1_col", npy_bytes(np.arange(6, dtype=np.uint8).reshape(6, 1)))
    put(t, "scalar_i8", npy_bytes(np.int64(-7)))
    put(t, "empty_f8", npy_bytes(np.zeros((0, 3), np.float64)))
    put(t, "f2_3d", npy_bytes(np.ones((2, 2, 2), np.float16)))
    put(t, "v2_header_i2", npy_bytes(np.arange(4, dtype=np.int16), version=(2, 0)))
    put(t, "fortran_refused", npy_bytes(np.asfortranarray(np.ones((2, 3), np.float32))))
    put(t, "big_endian_refused", npy_bytes(np.ones(3, ">f4")))


def zip_seeds():
    t = "fuzz_zip_npz"
    ids = {str(i): rng.integers(0, 100, (4, h), dtype=np.int32) for i, h in enumerate([1, 3, 2])}
    put(t, "multi_hot_npz", npz_bytes(ids))
    put(t, "compressed_refused", npz_bytes({"0": np.arange(8, dtype=np.int32)}, compressed=True))
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        with z.open("0.npy", "w", force_zip64=True) as f:
            f.write(npy_bytes(np.arange(5, dtype=np.int32)))
        z.writestr("note.txt", b"not an array")
    put(t, "zip64_extra", b.getvalue())
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        pass
    put(t, "empty_zip", b.getvalue())


def weights_seeds():
    t = "fuzz_dlrm_weights"
    model = {"architecture": {"dense_features": 2, "dim": 4, "bottom": [4], "top": [1], "interaction": "dot",
                              "tables": [{"rows": 3, "type": "f32"}, {"rows": 5, "type": "u4rw"}]}}
    u4 = rng.integers(0, 256, (5, 4 // 2 + 4), dtype=np.uint8)  # 4-bit rows: dim/2 bytes + fp16 scale, bias
    i8 = rng.integers(0, 256, (3, 4 + 8), dtype=np.uint8)       # 8-bit rows: dim bytes + fp32 scale, bias
    tensors = [("bottom.0.weight", rng.random((4, 2), dtype=np.float32)),
               ("bottom.0.bias", np.zeros(4, np.float32)),
               ("table.0", rng.random((3, 4), dtype=np.float32)),
               ("table.1", u4), ("table.2", i8),
               ("half", np.ones((2, 3), np.float16)), ("ints", np.arange(3, dtype=np.int64)),
               ("empty", np.zeros((0, 4), np.float32))]
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "m.dlrm")
        write_dlrm(p, tensors, model, dtypes={"table.1": ("u4rw", [5, 4]), "table.2": ("i8rw", [3, 4])})
        put(t, "typed_tensors", open(p, "rb").read())
        write_dlrm(p, [("w", np.arange(6, dtype=np.float32).reshape(2, 3))], {})
        put(t, "one_tensor", open(p, "rb").read())
        write_dlrm(p, [], {"note": "no tensors"})
        put(t, "no_tensors", open(p, "rb").read())


def criteo_seeds(synth_dir):
    t = "fuzz_criteo_dataset"
    rec = rng.integers(0, 50, (4, 40), dtype=np.int32)
    rec[:, 0] = [0, 1, 1, 0]
    rec[1, 20] = -3                                      # a negative id: error / clamp / skip
    put(t, "bin", bytes([0, 3]) + parts(rec.tobytes()))
    put(t, "bin_skip", bytes([0, 9]) + parts(rec.tobytes()))
    dense = npy_bytes(rng.random((4, 13), dtype=np.float32))
    labels = npy_bytes(np.array([0, 1, 0, 1], np.int32))
    onehot = rng.integers(0, 1000, (4, 26), dtype=np.int32)
    put(t, "one_hot", bytes([1, 3]) + parts(dense, labels, npy_bytes(onehot)))
    put(t, "one_hot_u1_labels_clamp", bytes([1, 5]) +
        parts(dense, npy_bytes(np.array([0, 1, 0, 1], np.uint8).reshape(4, 1)), npy_bytes(onehot)))
    mh = npz_bytes({str(i): rng.integers(0, 40, (4, h), dtype=np.int32) for i, h in enumerate([1, 3, 2])})
    put(t, "multi_hot", bytes([2, 3]) + parts(dense, labels, mh))
    put(t, "multi_hot_tiny_tables_skip", bytes([2, 9]) + parts(dense, labels, mh))
    put(t, "multi_hot_tiny_tables_clamp", bytes([2, 4 + 1]) + parts(dense, labels, mh))
    if synth_dir:  # dlrm's own writers (npy_writer, npz_writer)
        f = [open(os.path.join(synth_dir, "day_0_" + n), "rb").read()
             for n in ("dense.npy", "labels.npy", "sparse_multi_hot.npz")]
        put(t, "synth_multi_hot", bytes([2, 3]) + parts(*f))
        put("fuzz_npy", "synth_dense", f[0])
        put("fuzz_zip_npz", "synth_sparse_multi_hot", f[2])


def tsv_seeds():
    t = "fuzz_tsv_line"
    put(t, "kaggle_line", b"1\t5\t110\t\t16\t\t1\t0\t14\t7\t1\t\t306\t\t62770d79\te21f5d58\tafea442f\t945c7fcf"
        b"\t38b02748\t6fcd6dcb\t3580aa21\t28808903\t46dedfa6\t2e027dc1\t0c7c4231\t95981d1f\t00c5ffb7\tbe4ee537"
        b"\t8a0b74cc\t4cdc3efa\td20856aa\tb8170bba\t9512c20b\tc38e2f28\t14f65a5d\t25b1b089\td7c1fc0b\t7caf609c"
        b"\t30436bfc\ted10571d")
    put(t, "empty_fields_crlf", b"0" + b"\t" * 39 + b"\r")
    put(t, "negative_dense_two_lines", b"0\t-1\t-2\t3\t4\t5\t6\t7\t8\t9\t10\t11\t12\t13" + b"\tffffffff" * 26 +
        b"\n1" + b"\t2147483647" * 13 + b"\t0" * 26)
    rec = np.arange(40, dtype=np.int32)
    rec[0] = 1
    put(t, "bin_record", rec.tobytes())


def torch_seeds():
    t, tp = "fuzz_torch_checkpoint", "fuzz_pickle"
    torch.manual_seed(0)
    sd = collections.OrderedDict([
        ("bot_l.0.weight", torch.randn(4, 3)), ("bot_l.0.bias", torch.randn(4)),
        ("emb_l.0.weight", torch.randn(5, 4)), ("top_l.0.weight", torch.randn(1, 10))])
    seeds = {
        "state_dict": sd,
        "nested_state_dict": {"state_dict": sd, "epoch": 3, "best_auc": 0.8, "name": "dlrm"},
        "mixed_dtypes": {"h": torch.ones(2, 3, dtype=torch.float16), "b": torch.zeros(3, dtype=torch.bfloat16),
                         "d": torch.arange(4, dtype=torch.float64), "i": torch.arange(3), "u": torch.ones(2, dtype=torch.uint8)},
        "shared_and_strided": {"w": sd["emb_l.0.weight"], "wt": sd["emb_l.0.weight"].t(), "row": sd["emb_l.0.weight"][2],
                               "scalar": torch.tensor(1.5)},
        "parameters": {"p": torch.nn.Parameter(torch.randn(2, 2)), "e": torch.zeros(0, 4)},
        "model_key": {"model": {"a.weight": torch.randn(2)}, "optimizer": {"lr": 0.1, "steps": [1, 2]}},
    }
    for name, obj in seeds.items():
        z = torch_bytes(obj)
        put(t, name, z)
        put(tp, name, data_pkl(z))
    # Pickles the reader must refuse safely: a forbidden global and the legacy format.
    put(tp, "forbidden_global", b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")
    b = io.BytesIO()
    torch.save({"w": torch.ones(2)}, b, _use_new_zipfile_serialization=False)
    put(t, "legacy_refused", b.getvalue())


def plan_seeds():
    # --plan files (by name, with and without the {"plan": ...} wrapper) and a stored quantization object.
    put("fuzz_plan_json", "overrides", b'{"top.0": "bf16", "emb.3": "int8", "bottom.0": "fp32"}')
    put("fuzz_plan_json", "wrapped", b'{"plan": {"emb.0": "uint4", "top.2": "fp16"}}')
    put("fuzz_plan_json", "bad_name", b'{"top.99": "fp32"}')
    acts = ", ".join(f'"{n}": {{"scale": 0.05, "zero_point": 3}}' for n in ("bottom.0", "bottom.1", "bottom.2", "top.0", "top.1", "top.2"))
    plan = ", ".join([f'"{n}": "int8"' for n in ("bottom.0", "bottom.1", "bottom.2", "top.0", "top.1", "top.2")] +
                     [f'"emb.{t}": "uint4"' for t in range(26)])
    put("fuzz_plan_json", "stored_small", ('{"plan": {' + plan + '}, "activations": {' + acts + '}, '
                                           '"calibration": {"rows": [0, 128000], "method": "histogram"}}').encode())


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    plan_seeds()
    npy_seeds()
    zip_seeds()
    weights_seeds()
    tsv_seeds()
    torch_seeds()
    synth_dir = None
    dlrm_bin = os.environ.get("DLRM_BIN", os.path.join(ROOT, "build", "tools", "dlrm"))
    with tempfile.TemporaryDirectory() as d:
        if os.access(dlrm_bin, os.X_OK):
            r = subprocess.run([dlrm_bin, "synth", "--rows-cap", "2", "--samples", "5", "--out", d],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                synth_dir = d
        criteo_seeds(synth_dir)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    assert total <= 1 << 20, f"corpus is {total} bytes: keep it under 1 MB"
    print(f"seed corpora in {OUT}: {total} bytes")


if __name__ == "__main__":
    main()

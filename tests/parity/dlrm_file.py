"""An independent Python reader/writer of the .dlrm weight format, written from
formats/weights/dlrm_format.md (not from the C++ code): tests use it to build models in PyTorch and
to craft damaged files. Checksums come from the reference xxHash library (Debian python3-xxhash)."""
import json
import struct

import numpy as np
import xxhash

MAGIC = b"DLRMWGT\x00"
ALIGN = 64
BIG_ALIGN = 2 << 20          # tensors of >= 16 MiB start on a 2 MiB boundary
BIG_TENSOR = 16 << 20
DTYPES = {np.dtype(np.float32): "f32", np.dtype(np.float16): "f16", np.dtype(np.int8): "i8",
          np.dtype(np.uint8): "u8", np.dtype(np.int32): "i32", np.dtype(np.int64): "i64"}


def _align(v, a):
    return (v + a - 1) // a * a


def write_dlrm(path, tensors, model, dtypes=None):
    """tensors: [(name, numpy array)] in file order; dtypes: optional {name: dtype name} for
    types numpy lacks (bf16 given as uint16 arrays, u4rw / i8rw given as uint8 (rows, row_bytes)
    arrays with the logical shape in `shapes`)."""
    dtypes = dtypes or {}
    entries, blobs, off = [], [], 64
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr)
        data = arr.tobytes()
        dt, shape = dtypes.get(name, (DTYPES[arr.dtype], list(arr.shape)))
        off = _align(off, BIG_ALIGN if len(data) >= BIG_TENSOR else ALIGN)
        entries.append({"name": name, "dtype": dt, "shape": shape, "offset": off, "bytes": len(data),
                        "xxh64": xxhash.xxh64(data).hexdigest()})
        blobs.append((off, data))
        off += len(data)
    meta_off = _align(off, ALIGN)
    meta = json.dumps({"format": "dlrm", "tensors": entries, "model": model}).encode()
    file_bytes = meta_off + len(meta)
    head = MAGIC + struct.pack("<IIQQQQQ", 0x01020304, 1, meta_off, len(meta), file_bytes,
                               xxhash.xxh64(meta).intdigest(), 0)
    head += struct.pack("<Q", xxhash.xxh64(head).intdigest())
    assert len(head) == 64
    with open(path, "wb") as f:
        f.write(head)
        for o, data in blobs:
            f.seek(o)
            f.write(data)
        f.seek(meta_off)
        f.write(meta)


def read_dlrm_metadata(path):
    """The metadata JSON of a .dlrm file (header fields checked)."""
    with open(path, "rb") as f:
        head = f.read(64)
        assert head[:8] == MAGIC, "not a .dlrm file"
        _, _, meta_off, meta_len, _, _, _ = struct.unpack("<IIQQQQQ", head[8:56])
        f.seek(meta_off)
        return json.loads(f.read(meta_len))


def tensor_entry(path, name):
    for e in read_dlrm_metadata(path)["tensors"]:
        if e["name"] == name:
            return e
    raise KeyError(name)


def read_dlrm_tensor(path, name, meta=None):
    """One tensor as a numpy array (f32, f16, i8, u8, i32, i64; bf16 widened to float32; u4rw/i8rw rows
    as uint8 (rows, row_bytes)). Checks the recorded checksum."""
    meta = meta or read_dlrm_metadata(path)
    e = next(t for t in meta["tensors"] if t["name"] == name)
    with open(path, "rb") as f:
        f.seek(e["offset"])
        data = f.read(e["bytes"])
    assert xxhash.xxh64(data).hexdigest() == e["xxh64"], f"{path}: tensor {name}: checksum mismatch"
    dt = e["dtype"]
    if dt == "bf16":
        return (np.frombuffer(data, np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(e["shape"])
    if dt in ("u4rw", "i8rw"):
        return np.frombuffer(data, np.uint8).reshape(e["shape"][0], -1)
    np_dt = {v: k for k, v in DTYPES.items()}[dt]
    return np.frombuffer(data, np_dt).reshape(e["shape"])

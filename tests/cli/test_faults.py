#!/usr/bin/python3
"""Fault tests: damaged inputs, a full or unwritable disk, signals, and the --on-bad-index policy.

Every input file type is truncated at many offsets and has bytes flipped at many offsets. The rule:
the command either fails cleanly (exit 1, a 'dlrm: error:' message, never a signal or exit >= 128,
no output left behind) or, where the format has no checksum to catch the damage (array data), the
damage stays local: at most the predictions of the one row the byte belongs to change. .dlrm files
carry checksums, so any flipped byte inside the header, a tensor or the metadata must be an error.
Output faults: a file-size limit (ulimit -f, SIGXFSZ ignored by dlrm) or an unwritable path must
fail with no partial output and no temporary left; SIGINT / SIGTERM during `dlrm run --out` and
`dlrm synth` must leave no half-written file.

Env: DLRM_BIN (default build/tools/dlrm). Prints "PASS name" / "FAIL name: why"; exit 1 on failure.
"""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from dlrm_file import read_dlrm_metadata  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_common as cli  # noqa: E402
from cli_common import DLRM, check, dlrm  # noqa: E402


def leftovers(d, prefix=""):
    return sorted(f for f in os.listdir(d) if f.startswith(prefix) and (".tmp-" in f or f == prefix))


def clean_failure(p):
    """'' if p failed the way dlrm must fail (exit 1, one 'dlrm: error:' message), else the problem."""
    if p.returncode < 0 or p.returncode >= 128:
        return f"crashed (status {p.returncode}): {p.stderr.strip()[-300:]}"
    if p.returncode != 1:
        return f"exit status {p.returncode}, expected 1"
    if "dlrm: error:" not in p.stderr:
        return f"no 'dlrm: error:' message: {p.stderr.strip()[-200:]}"
    if "runtime error" in p.stderr or "Sanitizer" in p.stderr:
        return "sanitizer report: " + p.stderr[-300:]
    return ""


class scorer:
    """Runs `dlrm run` on a dataset folder (or .bin) and compares with the undamaged predictions."""

    def __init__(self, root, model):
        self.root, self.model = root, model
        self.out = os.path.join(root, "pred.npy")

    def run(self, data, model=None, extra=()):
        if os.path.exists(self.out):
            os.remove(self.out)
        p = dlrm("run", model or self.model, data, "--out", self.out, "--threads", "2", *extra)
        pred = np.load(self.out) if p.returncode == 0 and os.path.exists(self.out) else None
        return p, pred


def local_damage(p, pred, base, row):
    """'' if the outcome of a flipped data byte is acceptable: a clean error, or only `row` changed."""
    if p.returncode != 0:
        return clean_failure(p)
    if pred is None or pred.shape != base.shape:
        return "exit 0 but predictions missing or mis-shaped"
    diff = np.nonzero(pred != base)[0]
    if not np.all(np.isfinite(pred)):
        return "non-finite predictions"
    if len(diff) > 1 or (len(diff) == 1 and diff[0] != row):
        return f"rows {diff[:5].tolist()} changed by a byte of row {row}: damage spread"
    return ""


def offsets_for(size, n=24):
    pts = {0, 1, 7, 8, 63, 64, 65, 127, 128, size - 1, size // 2}
    pts.update(int(x) for x in np.linspace(0, size - 1, n))
    return sorted(p for p in pts if 0 <= p < size)


# ---------------------------------------------------------------------------------------------
def test_dlrm_file(root, s, data, base):
    model = s.model
    blob = open(model, "rb").read()
    meta = read_dlrm_metadata(model)
    covered = [(0, 64)] + [(t["offset"], t["offset"] + t["bytes"]) for t in meta["tensors"]]
    head = np.frombuffer(blob[:64], np.uint8)
    meta_off, meta_len = int.from_bytes(blob[16:24], "little"), int.from_bytes(blob[24:32], "little")
    covered.append((meta_off, meta_off + meta_len))
    bad = os.path.join(root, "bad.dlrm")

    problems = []
    for off in offsets_for(len(blob), 40):
        open(bad, "wb").write(blob[:off])
        p, _ = s.run(data, bad)
        why = clean_failure(p)
        if why or os.path.exists(s.out):
            problems.append(f"truncated at {off}: {why or 'output written'}")
    check(f".dlrm truncated at {len(offsets_for(len(blob), 40))} offsets: clean error, no output",
          not problems, "; ".join(problems[:5]))

    problems, caught, benign = [], 0, 0
    flips = sorted(set(list(range(0, 64, 3)) + offsets_for(len(blob), 60) +
                       [t["offset"] + t["bytes"] // 2 for t in meta["tensors"]] + [meta_off + 5, meta_off + meta_len - 2]))
    for off in flips:
        b = bytearray(blob)
        b[off] ^= 0x5a
        open(bad, "wb").write(bytes(b))
        p, pred = s.run(data, bad)
        inside = any(a <= off < e for a, e in covered)
        if inside:
            why = clean_failure(p)
            if why:
                problems.append(f"byte {off} flipped (checksummed): {why}")
            else:
                caught += 1
        else:  # alignment padding: not read by anything, so the result must not change
            if p.returncode == 0 and pred is not None and np.array_equal(pred, base):
                benign += 1
            elif p.returncode != 0 and not clean_failure(p):
                caught += 1
            else:
                problems.append(f"padding byte {off} flipped changed the predictions")
    check(f".dlrm {len(flips)} flipped bytes: {caught} caught by checksums/validation, {benign} in padding harmless",
          not problems, "; ".join(problems[:5]))
    del head


def npy_data_offset(b):
    hl = int.from_bytes(b[8:10], "little") if b[6] == 1 else int.from_bytes(b[8:12], "little")
    return (10 if b[6] == 1 else 12) + hl


def test_npy(root, s, good, base):
    data = os.path.join(root, "npy_case")
    for name, row_bytes in (("day_0_dense.npy", 13 * 4), ("day_0_labels.npy", 4)):
        src = os.path.join(good, name)
        blob = open(src, "rb").read()
        d0 = npy_data_offset(blob)
        shutil.rmtree(data, ignore_errors=True)
        shutil.copytree(good, data)
        dst = os.path.join(data, name)
        problems = []
        offs = offsets_for(len(blob), 30)
        for off in offs:
            open(dst, "wb").write(blob[:off])
            p, _ = s.run(data)
            why = clean_failure(p)
            if why or os.path.exists(s.out):
                problems.append(f"truncated at {off}: {why or 'output written'}")
        check(f"{name} truncated at {len(offs)} offsets: clean error, no output", not problems, "; ".join(problems[:5]))
        if name != "day_0_dense.npy":
            continue  # `dlrm run` does not read labels
        problems, errors = [], 0
        flips = sorted(set(range(0, d0, 4)) | set(o for o in offsets_for(len(blob), 40) if o >= d0))
        for off in flips:
            b = bytearray(blob)
            b[off] ^= 0x40 if off >= d0 else 0x21
            open(dst, "wb").write(bytes(b))
            p, pred = s.run(data)
            row = (off - d0) // row_bytes if off >= d0 else -1
            why = clean_failure(p) if off < d0 and p.returncode != 0 else local_damage(p, pred, base, row)
            if off < d0 and p.returncode == 0 and not np.array_equal(pred, base):
                why = "header byte flipped, exit 0 with different predictions"
            if why:
                problems.append(f"byte {off} flipped: {why}")
            errors += p.returncode != 0
        check(f"{name} {len(flips)} flipped bytes (header + data): clean error ({errors}) or damage local to its row",
              not problems, "; ".join(problems[:5]))


def test_npz(root, s, good, base):
    data = os.path.join(root, "npz_case")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(good, data)
    name = "day_0_sparse_multi_hot.npz"
    src = os.path.join(good, name)
    dst = os.path.join(data, name)
    blob = open(src, "rb").read()
    problems = []
    offs = offsets_for(len(blob), 40)
    for off in offs:
        open(dst, "wb").write(blob[:off])
        p, _ = s.run(data)
        why = clean_failure(p)
        if why or os.path.exists(s.out):
            problems.append(f"truncated at {off}: {why or 'output written'}")
    check(f"{name} truncated at {len(offs)} offsets: clean error, no output", not problems, "; ".join(problems[:5]))

    # Where each member's array data lies, to know which row a flipped byte belongs to.
    regions = []
    with zipfile.ZipFile(src) as z:
        for info in z.infolist():
            lh = info.header_offset
            n, e = int.from_bytes(blob[lh + 26:lh + 28], "little"), int.from_bytes(blob[lh + 28:lh + 30], "little")
            start = lh + 30 + n + e
            arr = np.load(z.open(info.filename))
            d0 = start + npy_data_offset(blob[start:start + 64 + 4096])
            regions.append((d0, d0 + arr.nbytes, arr.shape[1] * 4))
    problems, errors = [], 0
    flips = sorted(set(offs) | {lh for lh in range(0, len(blob), max(1, len(blob) // 97))})
    for off in flips:
        b = bytearray(blob)
        b[off] ^= 0x7f
        open(dst, "wb").write(bytes(b))
        p, pred = s.run(data)
        row = next(((off - a) // rb for a, e, rb in regions if a <= off < e), None)
        if row is None:  # zip / npy structure: an error, or nothing read changed (e.g. a timestamp, the CRC)
            why = clean_failure(p) if p.returncode != 0 else ("" if np.array_equal(pred, base) else
                                                              "structure byte flipped, exit 0 with different predictions")
        else:
            why = local_damage(p, pred, base, row)
        if why:
            problems.append(f"byte {off} flipped: {why}")
        errors += p.returncode != 0
    check(f"{name} {len(flips)} flipped bytes: clean error ({errors}) or damage local to its row",
          not problems, "; ".join(problems[:5]))


def make_bin(path, rows, seed, negative_at=()):
    rng = np.random.default_rng(seed)
    rec = rng.integers(0, 1000, (rows, 40), dtype=np.int32)
    rec[:, 0] = rng.integers(0, 2, rows)
    rec[:, 1:14] = rng.integers(-1, 200, (rows, 13))
    for r, c in negative_at:
        rec[r, 14 + c] = -5
    rec.tofile(path)
    return rec


def test_bin(root, s):
    path = os.path.join(root, "day_0.bin")
    make_bin(path, 300, 11)
    blob = open(path, "rb").read()
    p, base = s.run(path)
    if p.returncode != 0:
        check(".bin baseline run", False, p.stderr.strip())
        return
    bad = os.path.join(root, "bad.bin")
    problems = []
    offs = offsets_for(len(blob), 40) + [160 * 7, 160 * 7 + 1]
    for off in offs:
        open(bad, "wb").write(blob[:off])
        p, pred = s.run(bad)
        if off % 160 == 0 and off > 0:  # a whole number of records: a shorter but valid file
            if p.returncode != 0 or not np.array_equal(pred, base[:off // 160]):
                problems.append(f"truncated at record boundary {off}: expected the first rows' predictions")
        else:
            why = clean_failure(p)
            if why or os.path.exists(s.out):
                problems.append(f"truncated at {off}: {why or 'output written'}")
    check(f".bin truncated at {len(offs)} offsets: clean error (or, at a record boundary, the first rows)",
          not problems, "; ".join(problems[:5]))
    problems, errors = [], 0
    flips = offsets_for(len(blob), 60) + [160 * 3 + 14 * 4 + 3]  # an id's sign byte
    for off in flips:
        b = bytearray(blob)
        b[off] ^= 0x80
        open(bad, "wb").write(bytes(b))
        p, pred = s.run(bad)
        why = local_damage(p, pred, base, off // 160)
        if why:
            problems.append(f"byte {off} flipped: {why}")
        errors += p.returncode != 0
    check(f".bin {len(flips)} flipped bytes: clean error ({errors}, negative ids) or damage local to its row",
          not problems, "; ".join(problems[:5]))


# ---------------------------------------------------------------------------------------------
def test_output_faults(root, s, good):
    out = s.out
    d = os.path.dirname(out)
    for f in os.listdir(d):
        if f.startswith("pred.npy"):
            os.remove(os.path.join(d, f))
    p = dlrm("run", s.model, good, "--out", out, fsize=1024)  # the predictions need 2528 bytes
    why = clean_failure(p)
    left = leftovers(d, "pred.npy")
    check("run --out past ulimit -f (1 KiB): EFBIG is an error, no output, no temporary",
          not why and not left and ("File too large" in p.stderr or "write" in p.stderr),
          f"{why} left={left} stderr={p.stderr.strip()[-200:]}")

    syn = os.path.join(root, "synth_full")
    os.makedirs(syn)
    p = dlrm("synth", "--rows-cap", "50", "--samples", "4000", "--out", syn, fsize=64 << 10)
    why = clean_failure(p)
    tmp = [f for f in os.listdir(syn) if ".tmp-" in f or f.startswith(".")]  # temporaries, staging folders
    bad = []
    for f in os.listdir(syn):  # whatever was committed must be whole
        fp = os.path.join(syn, f)
        if f.endswith(".npy"):
            try:
                np.load(fp)
            except Exception as e:  # noqa: BLE001
                bad.append(f"{f}: {e}")
        elif f.endswith(".dlrm") and dlrm("verify", fp).returncode != 0:
            bad.append(f"{f}: does not verify")
    check("synth past ulimit -f (64 KiB): clean error, no temporary, committed files whole",
          not why and not tmp and not bad, f"{why} tmp={tmp} bad={bad}")

    for name, target in (("a missing directory", os.path.join(root, "no", "such", "dir", "p.npy")),
                         ("a directory", d), ("/proc (read-only)", "/proc/dlrm-pred.npy")):
        p = dlrm("run", s.model, good, "--out", target)
        why = clean_failure(p)
        check(f"run --out into {name}: clean error", not why, why)


def wait_for_tmp(proc, d, prefix, timeout=20.0):
    t0 = time.time()
    while time.time() - t0 < timeout and proc.poll() is None:
        if any(f.startswith(prefix) and ".tmp-" in f for f in os.listdir(d)):
            return True
        time.sleep(0.001)
    return False


def test_signals(root, big):
    model = os.path.join(big, "model.dlrm")
    d = os.path.join(root, "sig")
    os.makedirs(d)
    out = os.path.join(d, "pred.npy")
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen([DLRM, "run", model, big, "--out", out, "--threads", "1", "--batch", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        seen = wait_for_tmp(proc, d, "pred.npy")
        time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(sig)
        proc.wait()
        left = os.listdir(d)
        ok = seen and proc.returncode == 128 + sig and not left
        check(f"{signal.Signals(sig).name} during run --out: exit {128 + sig}, no predictions, no temporary",
              ok, f"saw temporary={seen} status={proc.returncode} left={left}")
        for f in left:
            os.remove(os.path.join(d, f))

    syn = os.path.join(root, "sig_synth")
    os.makedirs(syn)
    proc = subprocess.Popen([DLRM, "synth", "--rows-cap", "50", "--samples", "4000000", "--out", syn],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Interrupt it while it writes: once its staging folder holds a file (not after a fixed sleep,
    # which a fast machine outruns).
    t0 = time.time()
    while time.time() - t0 < 30 and proc.poll() is None:
        stages = [os.path.join(syn, f) for f in os.listdir(syn) if f.startswith(".dlrm-synth-")]
        if any(os.path.isdir(st) and os.listdir(st) for st in stages):
            break
        time.sleep(0.001)
    time.sleep(0.05)
    running = proc.poll() is None
    if running:
        proc.send_signal(signal.SIGINT)
    proc.wait()
    tmp = [f for f in os.listdir(syn) if ".tmp-" in f or f.startswith(".")]  # temporaries, staging folders
    bad = []
    for f in os.listdir(syn):
        fp = os.path.join(syn, f)
        if f.endswith(".npy"):
            try:
                np.load(fp)
            except Exception as e:  # noqa: BLE001
                bad.append(f"{f}: {e}")
        elif f.endswith(".dlrm") and dlrm("verify", fp).returncode != 0:
            bad.append(f"{f}: does not verify")
    check(f"SIGINT during synth: exit 130, no temporary, committed files whole ({sorted(os.listdir(syn))})",
          running and proc.returncode == 130 and not tmp and not bad,
          f"interrupted={running} status={proc.returncode} tmp={tmp} bad={bad}")


# ---------------------------------------------------------------------------------------------
def run_json(model, data, *extra):
    p = dlrm("run", model, data, "--json", *extra)
    return p, (json.loads(p.stdout) if p.returncode == 0 else None)


def test_index_policy(root, s, good, base):
    rows = [t["rows"] for t in read_dlrm_metadata(s.model)["model"]["architecture"]["tables"]] \
        if "architecture" in read_dlrm_metadata(s.model).get("model", {}) else None
    z = np.load(os.path.join(good, "day_0_sparse_multi_hot.npz"))
    ids = {k: z[k].copy() for k in z.files}
    bad_dir = os.path.join(root, "bad_ids")
    shutil.rmtree(bad_dir, ignore_errors=True)
    shutil.copytree(good, bad_dir)
    limit3 = rows[3] if rows else 50
    ids["3"][5, 0] = limit3          # one past the end of table 3
    ids["7"][9, 0] = -1              # negative, row 9
    ids["2"][9, -1] = 10 ** 6        # row 9 again: a row counts once
    np.savez(os.path.join(bad_dir, "day_0_sparse_multi_hot.npz"), **ids)

    p = dlrm("run", s.model, bad_dir, "--out", s.out)
    why = clean_failure(p)
    check("bad id, default policy: clean error naming member, row and id",
          not why and "member 2.npy: row 9: id 1000000 is out of range" in p.stderr and not os.path.exists(s.out),
          why or p.stderr.strip())

    # clamp = the same as a dataset whose bad ids were clamped by hand.
    clamped = {k: v.copy() for k, v in ids.items()}
    clamped["3"][5, 0] = limit3 - 1
    clamped["7"][9, 0] = 0
    clamped["2"][9, -1] = (rows[2] if rows else 50) - 1
    hand = os.path.join(root, "hand_clamped")
    shutil.rmtree(hand, ignore_errors=True)
    shutil.copytree(good, hand)
    np.savez(os.path.join(hand, "day_0_sparse_multi_hot.npz"), **clamped)
    p_hand, hand_pred = s.run(hand)
    p, j = run_json(s.model, bad_dir, "--on-bad-index", "clamp", "--out", s.out)
    pred = np.load(s.out) if p.returncode == 0 else None
    check("--on-bad-index clamp: counted (3 ids, 2 rows) and equal to clamping by hand",
          j is not None and j["bad_index"] == {"policy": "clamp", "ids": 3, "rows": 2} and
          hand_pred is not None and np.array_equal(pred, hand_pred),
          f"{p.stderr.strip()} {j and j.get('bad_index')}")

    # skip: the other rows are untouched; the affected rows are scored; bytes and counts independent
    # of threads and batch.
    outs = []
    for extra in (("--threads", "1", "--batch", "7"), ("--threads", "2"), ("--threads", "2", "--batch", "64")):
        p, j = run_json(s.model, bad_dir, "--on-bad-index", "skip", "--out", s.out, *extra)
        outs.append((p, j, np.load(s.out) if p.returncode == 0 else None))
    p, j, pred = outs[0]
    ok = j is not None and j["bad_index"] == {"policy": "skip", "ids": 3, "rows": 2}
    others = np.ones(len(base), bool)
    others[[5, 9]] = False
    ok = ok and np.array_equal(pred[others], base[others]) and np.all((pred > 0) & (pred < 1))
    ok = ok and all(o[1] is not None and o[1]["bad_index"] == j["bad_index"] and np.array_equal(o[2], pred)
                    for o in outs[1:])
    check("--on-bad-index skip: counted (3 ids, 2 rows), other rows unchanged, same bytes for any threads/batch",
          ok, f"{[o[0].stderr.strip() for o in outs]} {[o[1] and o[1].get('bad_index') for o in outs]}")
    # Skipping an id must differ from clamping it (row 5 of table 3 loses its only id → empty bag).
    check("--on-bad-index skip drops the id (row 5 differs from clamp), unaffected by it elsewhere",
          pred is not None and hand_pred is not None and pred[5] != hand_pred[5], "skip scored like clamp")

    # .bin (one-hot): negative ids; clamp → 0, the same as writing 0 by hand.
    b = os.path.join(root, "neg.bin")
    rec = make_bin(b, 100, 3, negative_at=[(4, 0), (4, 25), (50, 3)])
    p = dlrm("run", s.model, b)
    check(".bin negative id, default policy: clean error", not clean_failure(p) and "is negative" in p.stderr,
          p.stderr.strip())
    hand_rec = rec.copy()
    hand_rec[hand_rec < 0] = 0
    hb = os.path.join(root, "neg_hand.bin")
    hand_rec.tofile(hb)
    p1, hp = s.run(hb)
    p2, j = run_json(s.model, b, "--on-bad-index", "clamp", "--out", s.out)
    cp = np.load(s.out) if p2.returncode == 0 else None
    check(".bin --on-bad-index clamp: counted (3 ids, 2 rows), equal to zeroing them by hand",
          j is not None and j["bad_index"] == {"policy": "clamp", "ids": 3, "rows": 2} and np.array_equal(cp, hp),
          f"{p2.stderr.strip()} {j and j.get('bad_index')}")
    p = dlrm("run", s.model, good, "--on-bad-index", "ignore")
    check("--on-bad-index ignore: refused with the valid choices", p.returncode != 0 and "error, clamp or skip" in p.stderr,
          p.stderr.strip())


def main():
    if not os.access(DLRM, os.X_OK):
        check("dlrm binary", False, f"{DLRM} not found: build first")
        return 1
    root = tempfile.mkdtemp(prefix="dlrm-faults-")
    try:
        good = os.path.join(root, "good")
        p = dlrm("synth", "--rows-cap", "50", "--samples", "600", "--seed", "7", "--out", good)
        if p.returncode != 0:
            check("synth", False, p.stderr)
            return 1
        model = os.path.join(root, "model.dlrm")
        shutil.move(os.path.join(good, "model.dlrm"), model)
        s = scorer(root, model)
        p, base = s.run(good)
        if p.returncode != 0:
            check("baseline run", False, p.stderr)
            return 1
        test_dlrm_file(root, s, good, base)
        test_npy(root, s, good, base)
        test_npz(root, s, good, base)
        test_bin(root, s)
        test_index_policy(root, s, good, base)
        test_output_faults(root, s, good)
        big = os.path.join(root, "big")
        p = dlrm("synth", "--rows-cap", "50", "--samples", "200000", "--seed", "2", "--out", big)
        if p.returncode != 0:
            check("synth (signal tests)", False, p.stderr)
        else:
            test_signals(root, big)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return cli.exit_code()


if __name__ == "__main__":
    sys.exit(main())

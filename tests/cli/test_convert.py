#!/usr/bin/env python3
"""dlrm convert: raw Criteo TSV (plain, gzip, several files) and Facebook .bin records → the MLPerf /
torchrec npy layout. Every value of a small hand-written day is checked against numpy (dense
transforms computed in float64, then cast to float32), errors name the file, line and rule and leave
no file behind, and the output opens with `dlrm info`.

Run with /usr/bin/python3 (numpy). DLRM_BIN selects the binary (default build/dlrm, else
build/tools/dlrm). Prints "PASS name" / "FAIL name: why"; exits 1 if anything failed.
"""
import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_common as cli  # noqa: E402
from cli_common import DLRM, check, dlrm  # noqa: E402


# --- the hand-written day -------------------------------------------------------------------------
# Each row: label, 13 integer fields, 26 categorical fields, as text ("" = empty).
def row(label, ints, cats):
    ints = list(ints) + [""] * (13 - len(ints))
    cats = list(cats) + [""] * (26 - len(cats))
    return [label] + [str(v) for v in ints] + cats


GOOD_ROWS = [
    # typical Kaggle line
    row("0", [1, 1, 5, 0, 1382, 4, 15, 2, 181, 1, 2, "", 2],
        ["68fd1e64", "80e26c9b", "fb936136", "7b4723c4", "25c83c98", "7e0ccccf", "de7995b8", "1f89b562",
         "a73ee510", "a8cd5504", "b2cb9c98", "37c9c164", "2824a5f6", "1adce6ef", "8ba8b39a", "891b62e7",
         "e5ba7672", "f54016b9", "21ddcdc9", "b1252a9d", "07b5194c", "", "3a171ecb", "c5c50484",
         "e8b83407", "9727dd16"]),
    # negative counts (I2 is -1..-3 in Criteo), empty ints, missing categoricals
    row("1", ["", -1, "", "", 8, "", 0, -2, "", "", "", "", -3],
        ["05db9164", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
         "", "", "", "ffffffff"]),
    # every field empty
    row("0", [], []),
    # big values, upper-case hex, short hex, int32 extremes
    row("1", [2147483647, -5, 65535, 65536, 23159456, 1, 2, 3, 4, 5, 6, 7, -2147483648],
        ["DEADBEEF", "a", "0", "80000000", "7fffffff"] + ["%08x" % (0x01000193 * k & 0xFFFFFFFF) for k in range(21)]),
]
BAD_ROW_LINE = 3  # 1-based line number of the malformed line in the file
BAD_ROW = row("0", [1, 2, "x3"], ["68fd1e64"])  # I3 is not an integer


def tsv_text(rows, crlf_line=None, final_newline=True):
    out = []
    for i, r in enumerate(rows):
        out.append("\t".join(r) + ("\r" if crlf_line == i + 1 else ""))
    return "\n".join(out) + ("\n" if final_newline else "")


def expected(rows, transform="log3", max_ind_range=0):
    labels = np.array([[int(r[0])] for r in rows], dtype=np.int32)
    ints = np.array([[int(v) if v else 0 for v in r[1:14]] for r in rows], dtype=np.float64)
    if transform == "log3":
        dense = np.log(np.maximum(ints, -2.0) + 3.0).astype(np.float32)
    else:
        dense = np.log(np.maximum(ints, 0.0) + 1.0).astype(np.float32)
    hashes = np.array([[int(v, 16) if v else 0 for v in r[14:]] for r in rows], dtype=np.uint64)
    ids = hashes % np.uint64(max_ind_range if max_ind_range else 2 ** 31)
    return dense, labels, ids.astype(np.int32)


def files_in(d):
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def check_day(name, out, rows, transform="log3", max_ind_range=0, day=0, multi_hot=False):
    dense_e, labels_e, ids_e = expected(rows, transform, max_ind_range)
    p = f"{out}/day_{day}_"
    try:
        dense = np.load(p + "dense.npy")
        labels = np.load(p + "labels.npy")
        if multi_hot:
            with np.load(p + "sparse_multi_hot.npz") as z:
                names = sorted(z.files, key=lambda s: int(s.split(".")[0]) if s.split(".")[0].isdigit() else -1)
                if names != [str(k) for k in range(26)]:
                    return check(name, False, f"npz members {z.files}")
                members = [z[str(k)] for k in range(26)]
            for k, m in enumerate(members):
                if m.dtype != np.int32 or m.shape != (len(rows), 1):
                    return check(name, False, f"member {k}.npy: {m.dtype} {m.shape}")
            ids = np.concatenate(members, axis=1)
        else:
            ids = np.load(p + "sparse.npy")
    except Exception as e:  # noqa: BLE001 — any load failure is a test failure
        return check(name, False, f"loading the output: {e}")
    problems = []
    for what, got, want in (("dense", dense, dense_e), ("labels", labels, labels_e), ("sparse", ids, ids_e)):
        if got.dtype != want.dtype or got.shape != want.shape:
            problems.append(f"{what}: {got.dtype} {got.shape}, expected {want.dtype} {want.shape}")
        elif not np.array_equal(got, want):
            bad = np.argwhere(got != want)[0]
            problems.append(f"{what}[{tuple(bad)}] = {got[tuple(bad)]!r}, expected {want[tuple(bad)]!r}")
    check(name, not problems, "; ".join(problems))


def same_bytes(name, a, b):
    fa, fb = files_in(a), files_in(b)
    if fa != fb:
        return check(name, False, f"{fa} vs {fb}")
    diff = [f for f in fa if open(os.path.join(a, f), "rb").read() != open(os.path.join(b, f), "rb").read()]
    check(name, not diff, f"files differ: {diff}")


def expect_fail(name, args, must_mention, out):
    p = dlrm(*args)
    msg = p.stderr.strip()
    problems = []
    if p.returncode == 0:
        problems.append("exit status 0")
    if p.returncode < 0 or p.returncode >= 128:
        problems.append(f"crashed (status {p.returncode})")
    for s in must_mention:
        if s not in msg:
            problems.append(f"message lacks {s!r}")
    left = files_in(out)
    if left:
        problems.append(f"files left in {out}: {left}")
    check(f"{name}: {msg.splitlines()[-1] if msg else '(no message)'}", not problems, "; ".join(problems) + f" | {msg}")


def main():
    if not os.path.exists(DLRM):
        print(f"FAIL setup: no dlrm binary at {DLRM} (set DLRM_BIN)")
        return 1
    root = tempfile.mkdtemp(prefix="dlrm-convert-")
    try:
        run_all(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return cli.exit_code()


def run_all(root):
    # The file with a malformed line 3; line 2 ends in \r\n; the last line has no newline.
    rows_with_bad = GOOD_ROWS[:2] + [BAD_ROW] + GOOD_ROWS[2:]
    tsv = os.path.join(root, "day.tsv")
    with open(tsv, "w") as f:
        f.write(tsv_text(rows_with_bad, crlf_line=2, final_newline=False))

    # 1. The malformed line is an error naming file, line and rule; nothing is written.
    out_err = os.path.join(root, "err")
    os.makedirs(out_err)
    expect_fail("malformed line stops the conversion", ["convert", "--from", "tsv", tsv, "--out", out_err],
                [f"{tsv}:{BAD_ROW_LINE}: I3 'x3': not a decimal integer", "--skip-bad-lines"], out_err)

    # 2. --skip-bad-lines skips it, reports it and converts the rest exactly.
    out = os.path.join(root, "skip")
    p = dlrm("convert", "--from", "tsv", tsv, "--out", out, "--skip-bad-lines")
    check("--skip-bad-lines succeeds", p.returncode == 0, p.stderr)
    check("--skip-bad-lines reports the count and the line",
          "skipped 1 bad line" in p.stderr and f"{tsv}:{BAD_ROW_LINE}: I3" in p.stderr, p.stderr)
    check("summary counts the rows", f"{len(GOOD_ROWS)} rows" in p.stdout, p.stdout)
    check_day("log3 dense, hash % 2^31 ids, labels: every value", out, GOOD_ROWS)
    check("only the three output files", files_in(out) == ["day_0_dense.npy", "day_0_labels.npy", "day_0_sparse.npy"],
          str(files_in(out)))

    # 3. A clean file: same bytes as the skipped one; gzip (one member, and two concatenated members)
    #    and two input files concatenated give identical bytes.
    clean = os.path.join(root, "clean.tsv")
    text = tsv_text(GOOD_ROWS, crlf_line=2)
    with open(clean, "w") as f:
        f.write(text)
    out_clean = os.path.join(root, "clean")
    p = dlrm("convert", "--from", "tsv", clean, "--out", out_clean)
    check("clean file converts", p.returncode == 0, p.stderr)
    same_bytes("clean file == file with the bad line skipped", out, out_clean)

    gz = os.path.join(root, "clean.tsv.gz")
    with gzip.open(gz, "wb") as f:
        f.write(text.encode())
    out_gz = os.path.join(root, "gz")
    p = dlrm("convert", "--from", "tsv", gz, "--out", out_gz)
    check("gzip input converts", p.returncode == 0, p.stderr)
    same_bytes("gzip input gives identical bytes", out_clean, out_gz)

    gz2 = os.path.join(root, "two_members.gz")
    half = len(text) // 2  # splits a line in the middle: members are one byte stream
    with open(gz2, "wb") as f:
        f.write(gzip.compress(text[:half].encode()) + gzip.compress(text[half:].encode()))
    out_gz2 = os.path.join(root, "gz2")
    p = dlrm("convert", "--from", "tsv", gz2, "--out", out_gz2)
    check("concatenated gzip members convert", p.returncode == 0, p.stderr)
    same_bytes("concatenated gzip members give identical bytes", out_clean, out_gz2)

    part1, part2 = os.path.join(root, "part1.tsv"), os.path.join(root, "part2.tsv")
    with open(part1, "w") as f:
        f.write(tsv_text(GOOD_ROWS[:1]))
    with open(part2, "w") as f:
        f.write(tsv_text(GOOD_ROWS[1:], crlf_line=1))
    out_parts = os.path.join(root, "parts")
    p = dlrm("convert", "--from", "tsv", part1, part2, "--out", out_parts)
    check("two inputs convert", p.returncode == 0, p.stderr)
    same_bytes("two inputs concatenate into one day", out_clean, out_parts)

    # 4. log1p and --max-ind-range, another day number.
    out_fb = os.path.join(root, "fb")
    p = dlrm("convert", "--from", "tsv", clean, "--out", out_fb, "--day", "3", "--dense-transform", "log1p",
             "--max-ind-range", "1000")
    check("log1p + --max-ind-range converts", p.returncode == 0, p.stderr)
    check_day("log1p dense, hash % 1000 ids: every value", out_fb, GOOD_ROWS, "log1p", 1000, day=3)

    # 5. Multi-hot npz: members 0..25 (rows, 1), same ids; dlrm info reads it as MLPerf multi-hot.
    out_mh = os.path.join(root, "mh")
    p = dlrm("convert", "--from", "tsv", clean, "--out", out_mh, "--sparse", "multi-hot", "--max-ind-range", "40000000")
    check("multi-hot converts", p.returncode == 0, p.stderr)
    check_day("multi-hot npz: every value", out_mh, GOOD_ROWS, "log3", 40000000, multi_hot=True)
    try:
        with zipfile.ZipFile(os.path.join(out_mh, "day_0_sparse_multi_hot.npz")) as z:
            bad = z.testzip()
            stored = all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
        check("npz CRCs and stored members", bad is None and stored, f"bad member {bad}, stored {stored}")
    except Exception as e:  # noqa: BLE001
        check("npz CRCs and stored members", False, str(e))
    p = dlrm("info", out_mh)
    check("dlrm info: multi-hot layout", p.returncode == 0 and "mlperf-multi-hot" in p.stdout
          and f"rows: {len(GOOD_ROWS)}" in p.stdout, p.stdout + p.stderr)
    p = dlrm("info", out_clean)
    check("dlrm info: torchrec one-hot layout", p.returncode == 0 and "torchrec-one-hot" in p.stdout
          and f"rows: {len(GOOD_ROWS)}" in p.stdout, p.stdout + p.stderr)

    # 6. Facebook .bin records: label, 13 counts, 26 ids as little-endian int32.
    rng = np.random.default_rng(7)
    n = 37
    rec = np.zeros((n, 40), dtype="<i4")
    rec[:, 0] = rng.integers(0, 2, n)
    rec[:, 1:14] = rng.integers(-3, 100000, (n, 13))
    rec[:, 14:] = rng.integers(0, 2 ** 31 - 1, (n, 26))
    rec[0, 1:14] = [-3, -2, -1, 0, 1, 2, 65535, 65536, 2 ** 31 - 1, -(2 ** 31), 7, 8, 9]
    binf = os.path.join(root, "day_0.bin")
    rec.tofile(binf)
    out_bin = os.path.join(root, "bin")
    p = dlrm("convert", "--from", "bin", binf, "--out", out_bin, "--dense-transform", "log1p", "--max-ind-range", "10000000")
    check(".bin converts", p.returncode == 0, p.stderr)
    bin_rows = [[str(r[0])] + [str(v) for v in r[1:14]] + ["%x" % v for v in r[14:]] for r in rec.tolist()]
    check_day(".bin: every value (log1p, id % 10000000)", out_bin, bin_rows, "log1p", 10000000)

    # 7. Errors: each names the file and the rule and leaves nothing.
    out_e = os.path.join(root, "e")
    os.makedirs(out_e)
    rec[:1].tofile(os.path.join(root, "short.bin"))
    with open(os.path.join(root, "short.bin"), "ab") as f:
        f.write(b"\0" * 10)
    expect_fail(".bin size not a multiple of 160", ["convert", "--from", "bin", os.path.join(root, "short.bin"), "--out", out_e],
                ["short.bin", "not a multiple of 160"], out_e)
    rec[5, 0] = 2
    rec.tofile(os.path.join(root, "badlabel.bin"))
    expect_fail(".bin label 2", ["convert", "--from", "bin", os.path.join(root, "badlabel.bin"), "--out", out_e],
                ["badlabel.bin: record 6: label 2: the label must be 0 or 1"], out_e)
    data = open(gz, "rb").read()
    with open(os.path.join(root, "cut.gz"), "wb") as f:
        f.write(data[: len(data) - 12])
    expect_fail("truncated gzip", ["convert", "--from", "tsv", os.path.join(root, "cut.gz"), "--out", out_e],
                ["cut.gz", "truncated"], out_e)
    expect_fail("missing input", ["convert", "--from", "tsv", os.path.join(root, "nope.tsv"), "--out", out_e],
                ["nope.tsv", "cannot open"], out_e)
    with open(os.path.join(root, "few.tsv"), "w") as f:
        f.write(tsv_text(GOOD_ROWS[:1]) + "1\t2\t3\n")
    expect_fail("too few fields on line 2", ["convert", "--from", "tsv", os.path.join(root, "few.tsv"), "--out", out_e],
                ["few.tsv:2: 3 fields: a Criteo line has 40"], out_e)
    with open(os.path.join(root, "hex.tsv"), "w") as f:
        bad = list(GOOD_ROWS[0])
        bad[20] = "12345678g"
        f.write(tsv_text([GOOD_ROWS[0], GOOD_ROWS[1], bad]))
    expect_fail("bad hex on line 3", ["convert", "--from", "tsv", os.path.join(root, "hex.tsv"), "--out", out_e],
                ["hex.tsv:3: C7 '12345678g': not a hexadecimal hash"], out_e)
    with open(os.path.join(root, "big.tsv"), "w") as f:
        bad = list(GOOD_ROWS[0])
        bad[5] = "2147483648"
        f.write(tsv_text([bad]))
    expect_fail("int32 overflow", ["convert", "--from", "tsv", os.path.join(root, "big.tsv"), "--out", out_e],
                ["big.tsv:1: I5 '2147483648': out of the int32 range"], out_e)
    with open(os.path.join(root, "allbad.tsv"), "w") as f:
        f.write("garbage\n")
    expect_fail("every line skipped → no rows", ["convert", "--from", "tsv", os.path.join(root, "allbad.tsv"),
                                                 "--out", out_e, "--skip-bad-lines"], ["no rows"], out_e)
    expect_fail("--max-ind-range too large", ["convert", "--from", "tsv", clean, "--out", out_e,
                                              "--max-ind-range", "4294967296"], ["--max-ind-range"], out_e)
    # A stale multi-hot npz would shadow a new one-hot file: refused before anything is written.
    expect_fail("one-hot next to a multi-hot npz", ["convert", "--from", "tsv", clean, "--out", out_mh],
                ["day_0_sparse_multi_hot.npz: exists"], out_e)
    check("the multi-hot folder is unchanged",
          files_in(out_mh) == ["day_0_dense.npy", "day_0_labels.npy", "day_0_sparse_multi_hot.npz"], str(files_in(out_mh)))


if __name__ == "__main__":
    sys.exit(main())

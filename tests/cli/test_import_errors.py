#!/usr/bin/env python3
"""`dlrm import` on hostile and broken checkpoints: a pickle that would run os.system is refused
without running (the marker file it would create stays absent), truncated archives, missing keys,
wrong shapes, the pre-1.6 format, non-checkpoints. Every case: a clear message, exit status 1 (not a
crash), and no output file (nor a temporary) left behind.

Prints one line per check: "PASS name" or "FAIL name: why". Exit status 1 if any check failed.
"""
import collections
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_common as cli  # noqa: E402
from cli_common import DLRM, check  # noqa: E402
work = tempfile.mkdtemp(prefix="dlrm-import-errors-")


def facebook_state_dict(seed=0, rows=(10, 7, 5), dim=4):
    g = torch.Generator().manual_seed(seed)
    sd = collections.OrderedDict()
    for k, r in enumerate(rows):
        sd[f"emb_l.{k}.weight"] = torch.randn(r, dim, generator=g)
    sd["bot_l.0.weight"] = torch.randn(8, 13, generator=g)
    sd["bot_l.0.bias"] = torch.randn(8, generator=g)
    sd["bot_l.2.weight"] = torch.randn(dim, 8, generator=g)
    sd["bot_l.2.bias"] = torch.randn(dim, generator=g)
    f = len(rows) + 1
    sd["top_l.0.weight"] = torch.randn(6, dim + f * (f - 1) // 2, generator=g)
    sd["top_l.0.bias"] = torch.randn(6, generator=g)
    sd["top_l.2.weight"] = torch.randn(1, 6, generator=g)
    sd["top_l.2.bias"] = torch.randn(1, generator=g)
    return sd


def expect_refusal(name, ckpt, must_contain, *args):
    out = os.path.join(work, name + ".dlrm")
    p = subprocess.run([DLRM, "import", ckpt, "-o", out, *args], capture_output=True, text=True, timeout=120)
    msg = p.stderr.strip()
    left = [f for f in os.listdir(work) if f.startswith(name + ".dlrm")]
    problems = []
    if p.returncode != 1:
        problems.append(f"exit status {p.returncode} (want 1)")
    for s in must_contain:
        if s not in msg:
            problems.append(f"message lacks {s!r}")
    if left:
        problems.append(f"left files {left}")
    check(f"{name}: refused" + (f" ({msg[:160]})" if not problems else ""), not problems, "; ".join(problems) + f"; stderr: {msg[:400]}")
    return msg


class Evil:
    """Unpickling this runs os.system: the payload a hostile checkpoint would carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def crafted_archive(path, payload_obj, protocol):
    """A real torch.save archive (storages, version, byteorder) whose data.pkl also holds payload_obj:
    torch's pickler honours __reduce__, so the forbidden global sits among genuine tensor records."""
    torch.save(payload_obj, path, pickle_protocol=protocol)
    with zipfile.ZipFile(path) as z:
        assert any(n.endswith("/data.pkl") for n in z.namelist())


def main():
    if not os.path.exists(DLRM):
        check("dlrm binary", False, f"{DLRM} does not exist (set DLRM_BIN)")
        sys.exit(1)

    # 1. A forbidden global is refused without being executed.
    for proto in (2, 4):
        marker = os.path.join(work, f"pwned-{proto}")
        live = os.path.join(work, f"live-{proto}")
        payload = collections.OrderedDict([("emb_l.0.weight", torch.zeros(2, 2)), ("x", Evil(marker))])
        ckpt = os.path.join(work, f"evil-{proto}.pt")
        crafted_archive(ckpt, payload, proto)
        # The payload is live: Python's own unpickler runs it (on a different marker).
        pickle.loads(pickle.dumps(Evil(live), protocol=proto))
        check(f"os.system payload (protocol {proto}) is live under pickle.loads", os.path.exists(live), "marker not created")
        msg = expect_refusal(f"evil-global-p{proto}", ckpt, ["global 'posix system' is not allowed", "refusing to load it"])
        check(f"os.system payload (protocol {proto}) was not run by dlrm", not os.path.exists(marker), f"{marker} exists")
    ckpt = os.path.join(work, "evil-eval.pt")
    crafted_archive(ckpt, {"a": (eval, ("1+1",))}, 2)  # a reference to builtins.eval as a value
    expect_refusal("evil-builtins-eval", ckpt, ["eval' is not allowed"])  # '__builtin__ eval' in protocol 2

    # 2. Truncated archives: at the end, in the central directory, in the data, in the header.
    good = os.path.join(work, "good.pt")
    torch.save({"state_dict": facebook_state_dict(), "epoch": 1}, good)
    blob = open(good, "rb").read()
    for cut in (len(blob) - 1, len(blob) - 30, len(blob) // 2, 200, 31, 3, 0):
        bad = os.path.join(work, f"trunc-{cut}.pt")
        open(bad, "wb").write(blob[:cut])
        expect_refusal(f"truncated-at-{cut}", bad, ["trunc-" + str(cut) + ".pt"])
    # ... and a sanity check that the untruncated file imports.
    out = os.path.join(work, "good.dlrm")
    p = subprocess.run([DLRM, "import", good, "-o", out], capture_output=True, text=True)
    check("the untruncated checkpoint imports", p.returncode == 0 and os.path.exists(out), p.stderr.strip())

    # ... a pickle cut short inside an intact archive, and a storage record that is not there.
    def rewrite(src, dst, change):
        with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as o:
            for n in z.namelist():
                data = change(n, z.read(n))
                if data is not None:
                    o.writestr(n, data)
    cutpkl = os.path.join(work, "cutpkl.pt")
    rewrite(good, cutpkl, lambda n, d: d[: len(d) // 2] if n.endswith("/data.pkl") else d)
    expect_refusal("truncated-data-pkl", cutpkl, ["data.pkl: offset"])
    nostorage = os.path.join(work, "nostorage.pt")
    rewrite(good, nostorage, lambda n, d: None if n.endswith("/data/3") else d)
    expect_refusal("missing-storage-record", nostorage, ["/data/3' is missing"])
    shortstorage = os.path.join(work, "shortstorage.pt")
    rewrite(good, shortstorage, lambda n, d: d[:8] if n.endswith("/data/3") else d)
    expect_refusal("short-storage-record", shortstorage, ["the record has 8"])
    p4 = os.path.join(work, "proto4.pt")
    torch.save(facebook_state_dict(), p4, pickle_protocol=4)
    p = subprocess.run([DLRM, "import", p4, "-o", os.path.join(work, "proto4.dlrm")], capture_output=True, text=True)
    check("a protocol-4 checkpoint (FRAME, MEMOIZE, SHORT_BINUNICODE) imports", p.returncode == 0, p.stderr.strip())

    # 3. Missing keys.
    sd = facebook_state_dict()
    del sd["bot_l.2.bias"]
    torch.save(sd, os.path.join(work, "nobias.pt"))
    expect_refusal("missing-bias", os.path.join(work, "nobias.pt"), ["tensor 'bot_l.2.bias' is missing"])
    sd = facebook_state_dict()
    del sd["emb_l.1.weight"]
    torch.save(sd, os.path.join(work, "notable.pt"))
    expect_refusal("missing-table", os.path.join(work, "notable.pt"), ["table 1 is missing"])
    torch.save({"epoch": 3, "lr": 0.1}, os.path.join(work, "nostate.pt"))
    expect_refusal("no-state-dict", os.path.join(work, "nostate.pt"), ["no state_dict", "'epoch'"])

    # 4. Wrong shapes name the tensor and the expected shape.
    sd = facebook_state_dict()
    sd["top_l.0.weight"] = torch.randn(6, 17)
    torch.save(sd, os.path.join(work, "topwidth.pt"))
    expect_refusal("wrong-top-width", os.path.join(work, "topwidth.pt"), ["'top_l.0.weight'", "(6, 17)", "fits no interaction"])
    sd = facebook_state_dict()
    sd["emb_l.2.weight"] = torch.randn(5, 3)
    torch.save(sd, os.path.join(work, "tabledim.pt"))
    expect_refusal("wrong-table-dim", os.path.join(work, "tabledim.pt"), ["'emb_l.2.weight'", "expected (5, 4)"])
    sd = facebook_state_dict()
    sd["bot_l.2.bias"] = torch.randn(5)
    torch.save(sd, os.path.join(work, "biasshape.pt"))
    expect_refusal("wrong-bias-shape", os.path.join(work, "biasshape.pt"), ["'bot_l.2.bias'", "expected (4,)"])
    sd = facebook_state_dict()
    torch.save(sd, os.path.join(work, "plain.pt"))
    expect_refusal("arch-dcn-on-dot-model", os.path.join(work, "plain.pt"), ["--arch dcn", "no cross-net tensors"], "--arch", "dcn")
    expect_refusal("arch-cat-on-dot-model", os.path.join(work, "plain.pt"), ["'top_l.0.weight'", "expected (6, 16)"], "--arch", "cat")
    sd["emb_l.0.weight"] = torch.randint(0, 5, (10, 4))
    torch.save(sd, os.path.join(work, "inttable.pt"))
    expect_refusal("integer-table", os.path.join(work, "inttable.pt"), ["'emb_l.0.weight'", "int64"])
    sd = facebook_state_dict()
    sd["v_W_l.0"] = torch.randn(3)
    torch.save(sd, os.path.join(work, "unknown.pt"))
    expect_refusal("unknown-tensor", os.path.join(work, "unknown.pt"), ["'v_W_l.0'", "not part of any DLRM naming scheme"])

    # 5. The pre-1.6 format and things that are not checkpoints.
    legacy = os.path.join(work, "legacy.pt")
    torch.save(facebook_state_dict(), legacy, _use_new_zipfile_serialization=False)
    expect_refusal("legacy-format", legacy, ["pre-1.6", "re-save", "torch.save"])
    noise = os.path.join(work, "noise.pt")
    open(noise, "wb").write(os.urandom(4096))
    expect_refusal("random-bytes", noise, ["not a zip archive"])
    empty = os.path.join(work, "empty.pt")
    open(empty, "wb").close()
    expect_refusal("empty-file", empty, ["empty.pt"])
    expect_refusal("missing-file", os.path.join(work, "nope.pt"), ["nope.pt"])
    if not cli.failures:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(cli.exit_code())


if __name__ == "__main__":
    main()

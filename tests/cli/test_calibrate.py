#!/usr/bin/env python3
"""`dlrm calibrate`, `run --int8 / --simulate / --bf16`, `requantize` end to end on a synth model:
every method writes a model that runs, the report has its fields, the fallback loop moves layers
until a budget that the default plan misses is met (or says that none can be), requantize keeps the
plan and the ranges, and bad input (unknown plan names, a uint4 Linear, empty ranges, a model whose
architecture differs, --int8 on an uncalibrated model) is a clear error that leaves nothing behind.

Prints "PASS name" / "FAIL name: why" lines; exit 1 if any failed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from dlrm_file import read_dlrm_metadata, read_dlrm_tensor, write_dlrm  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_common as cli  # noqa: E402
from cli_common import DLRM, check, dlrm  # noqa: E402


def expect_error(name, args, needles, out=None):
    p = dlrm(*args)
    lines = [l for l in p.stderr.splitlines() if l.startswith("dlrm: error")]
    msg = lines[-1] if lines else p.stderr.strip()
    missing = [n for n in needles if n not in msg]
    left = out is not None and os.path.exists(out)
    check(f"{name}: {msg.splitlines()[0] if msg else '(no message)'}",
          p.returncode != 0 and not missing and not left,
          f"exit {p.returncode}, missing {missing}, output left {left}")


def main():
    root = tempfile.mkdtemp(prefix="dlrm-calib-")
    try:
        d = os.path.join(root, "syn")
        p = dlrm("synth", "--shape", "small", "--samples", "60000", "--seed", "11", "--out", d)
        if p.returncode != 0:
            check("synth", False, p.stderr)
            return
        model = os.path.join(d, "model.dlrm")

        # Every range method gives a model that runs, with its own ranges.
        scales = {}
        for method in ("minmax", "histogram", "percentile", "entropy"):
            out = os.path.join(root, f"{method}.dlrm")
            rep = os.path.join(root, f"{method}.json")
            p = dlrm("calibrate", model, d, "--rows", "0:20000", "--method", method, "--eval-rows", "40000:60000",
                     "-o", out, "--report", rep)
            if p.returncode != 0:
                check(f"calibrate --method {method}", False, p.stderr.strip())
                continue
            r = json.load(open(rep))
            keys = all(k in r for k in ("layers", "tables", "bytes_fp32", "bytes_quantized", "auc_fp32", "auc_quantized"))
            lay = all("sqnr_db" in l and "dtype" in l for l in r["layers"])
            int8 = [l for l in r["layers"] if l["dtype"] == "int8"]
            qp = all("scale" in l and "zero_point" in l and 0 <= l["zero_point"] <= 255 for l in int8)
            cal = read_dlrm_metadata(out)["model"]["quantization"]["calibration"]
            prov = cal.get("method") == method and cal.get("rows") == [0, 20000] and "source_xxh64" in cal and "date" in cal
            scales[method] = [l["scale"] for l in int8]
            pr = dlrm("run", out, d, "--int8", "--rows", "40000:60000", "--json")
            check(f"--method {method}: report (layers, SQNR, qparams, bytes, AUC), provenance, runs with --int8 "
                  f"(drop {r['auc_fp32'] - r['auc_quantized']:.5f})",
                  keys and lay and qp and prov and len(int8) > 0 and pr.returncode == 0,
                  f"keys {keys} layers {lay} qparams {qp} provenance {prov} run {pr.stderr.strip()}")
        if len(scales) == 4:
            check("the four methods choose different ranges", len({tuple(v) for v in scales.values()}) == 4, str(scales))

        q = os.path.join(root, "histogram.dlrm")
        # --int8 is the default for a calibrated model; --simulate and --fp32 behave as documented.
        a = dlrm("run", q, d, "--rows", "0:5000", "--out", os.path.join(root, "a.npy"))
        b = dlrm("run", q, d, "--rows", "0:5000", "--int8", "--out", os.path.join(root, "b.npy"))
        same = a.returncode == 0 and b.returncode == 0 and \
            open(os.path.join(root, "a.npy"), "rb").read() == open(os.path.join(root, "b.npy"), "rb").read()
        check("a calibrated model runs its plan by default (same bytes as --int8)", same, a.stderr + b.stderr)
        expect_error("--fp32 on a quantized model", ["run", q, d, "--fp32", "--out", os.path.join(root, "c.npy")],
                     ["int8", "--int8"], os.path.join(root, "c.npy"))
        expect_error("--int8 on an uncalibrated model", ["run", model, d, "--int8", "--out", os.path.join(root, "c.npy")],
                     ["dlrm calibrate"], os.path.join(root, "c.npy"))
        pb = dlrm("run", model, d, "--bf16", "--rows", "0:5000", "--json")
        check("--bf16 runs an fp32 model", pb.returncode == 0 and json.loads(pb.stdout)["precision"] == "bf16", pb.stderr)

        # Fallback: a budget below the default plan's drop forces trials; the result meets it.
        r = json.load(open(os.path.join(root, "histogram.json")))
        drop = r["auc_fp32"] - r["auc_quantized"]
        budget = max(drop / 3, 0.0)
        out = os.path.join(root, "tuned.dlrm")
        rep = os.path.join(root, "tuned.json")
        p = dlrm("calibrate", model, d, "--rows", "0:20000", "--eval-rows", "40000:60000", "--max-auc-drop",
                 f"{budget:.6f}", "-o", out, "--report", rep)
        if p.returncode == 0:
            t = json.load(open(rep))
            moved = [x for x in t["trials"] if not x["what"].startswith(("start", "sensitivity"))]
            final = t["auc_fp32"] - t["auc_quantized"]
            plan = read_dlrm_metadata(out)["model"]["quantization"]["plan"]
            check(f"fallback: default drop {drop:.5f} > budget {budget:.5f}: {len(moved)} fallback trials, "
                  f"final drop {final:.5f}, {sum(v != 'fp32' for v in plan.values())} entries still quantized",
                  drop > budget and len(moved) >= 1 and final <= budget + 1e-12 and t["trials"][-1]["meets"],
                  json.dumps(t["trials"][-3:]))
            check("fallback trials are printed", "trial" in p.stderr and "meets the budget" in p.stderr, p.stderr[-500:])
        else:
            check("fallback: no plan meets the budget: said so, nothing written",
                  "no plan meets" in p.stderr and not os.path.exists(out), p.stderr.strip())
        expect_error("--max-auc-drop without --eval-rows",
                     ["calibrate", model, d, "--max-auc-drop", "0.5", "-o", os.path.join(root, "x.dlrm")], ["--eval-rows"], os.path.join(root, "x.dlrm"))

        # requantize: new weights of the same architecture keep the plan and the ranges.
        meta = read_dlrm_metadata(model)
        tensors, dtypes = [], {}
        rng = np.random.default_rng(3)
        for e in meta["tensors"]:
            arr = read_dlrm_tensor(model, e["name"], meta)
            if e["dtype"] == "f32" and not e["name"].startswith("emb."):
                arr = (arr * (1 + 0.05 * rng.standard_normal(arr.shape))).astype(np.float32)
            tensors.append((e["name"], arr))
        new = os.path.join(root, "retrained.dlrm")
        write_dlrm(new, tensors, meta["model"])
        nq = os.path.join(root, "retrained-int8.dlrm")
        p = dlrm("requantize", new, "--like", q, "-o", nq)
        if p.returncode != 0:
            check("requantize", False, p.stderr.strip())
        else:
            a, b = read_dlrm_metadata(q)["model"]["quantization"], read_dlrm_metadata(nq)["model"]["quantization"]
            w_old = read_dlrm_tensor(q, "top.0.weight")
            w_new = read_dlrm_tensor(nq, "top.0.weight")
            runs = dlrm("run", nq, d, "--rows", "0:2000", "--json").returncode == 0
            check("requantize: same plan and activation ranges, new int8 weights, provenance kept, runs",
                  a["plan"] == b["plan"] and a["activations"] == b["activations"] and not np.array_equal(w_old, w_new)
                  and "requantized_from" in b["calibration"] and runs, p.stderr)

        # Feature-group equalization of a DCN model (engine/quant/equalize.h): on by default, the same
        # network in fp32, its scales kept in the provenance, reapplied by requantize, off on request.
        dv = os.path.join(root, "v2")
        p = dlrm("synth", "--shape", "mlperf-v2", "--rows-cap", "2000", "--samples", "24000", "--seed", "5", "--out", dv)
        if p.returncode != 0:
            check("synth mlperf-v2 (capped)", False, p.stderr)
        else:
            vm = os.path.join(dv, "model.dlrm")
            vq, vrep = os.path.join(root, "v2-int8.dlrm"), os.path.join(root, "v2-int8.json")
            p = dlrm("calibrate", vm, dv, "--rows", "0:8000", "-o", vq, "--report", vrep)
            sc = json.load(open(vrep))["calibration"].get("equalization", {}).get("scales", []) if p.returncode == 0 else []
            runs = p.returncode == 0 and dlrm("run", vq, dv, "--int8", "--rows", "8000:10000", "--json").returncode == 0
            check(f"equalize: a DCN model is equalized by default ({len(sc)} group scales, "
                  f"{min(sc) if sc else 0:.2f}–{max(sc) if sc else 0:.2f}), runs --int8",
                  runs and len(sc) == 27 and min(sc) >= 1 and max(sc) > 1.2, p.stderr[-800:])
            vmeta = read_dlrm_metadata(vm)
            names = [e["name"][:-len(".weight")] for e in vmeta["tensors"] if e["name"].endswith(".weight")]
            names += [e["name"] for e in vmeta["tensors"] if e["name"].startswith(("emb.", "dcn.")) and not e["name"].endswith(".bias")]
            all_fp32 = os.path.join(root, "all_fp32.json")
            json.dump({n: "fp32" for n in names}, open(all_fp32, "w"))
            ve = os.path.join(root, "v2-equalized-fp32.dlrm")
            p = dlrm("calibrate", vm, dv, "--rows", "0:8000", "--plan", all_fp32, "-o", ve)
            if p.returncode != 0:
                check("equalize: calibrate with an all-fp32 plan", False, p.stderr.strip())
            else:
                pa, pb = os.path.join(root, "v2-orig.npy"), os.path.join(root, "v2-eq.npy")
                ra = dlrm("run", vm, dv, "--rows", "8000:12000", "--out", pa)
                rb = dlrm("run", ve, dv, "--int8", "--rows", "8000:12000", "--out", pb)
                dp = float(np.abs(np.load(pa) - np.load(pb)).max()) if ra.returncode == 0 and rb.returncode == 0 else float("inf")
                scaled = not np.array_equal(read_dlrm_tensor(vm, "emb.3"), read_dlrm_tensor(ve, "emb.3"))
                check(f"equalize: the equalized fp32 network (tables and dcn.V scaled) predicts as the original: "
                      f"max |dp| = {dp:.2e} <= 1e-5", scaled and dp <= 1e-5, ra.stderr + rb.stderr)
            vr = os.path.join(root, "v2-requantized.dlrm")
            p = dlrm("requantize", vm, "--like", vq, "-o", vr)
            same = p.returncode == 0 and all(
                np.array_equal(read_dlrm_tensor(vq, e["name"]), read_dlrm_tensor(vr, e["name"]))
                for e in read_dlrm_metadata(vq)["tensors"])
            check("equalize: requantize of the same fp32 weights reapplies the scales: every tensor identical", same, p.stderr)
            voff, voffrep = os.path.join(root, "v2-off.dlrm"), os.path.join(root, "v2-off.json")
            p = dlrm("calibrate", vm, dv, "--rows", "0:8000", "--equalize", "off", "-o", voff, "--report", voffrep)
            off = p.returncode == 0 and "equalization" not in json.load(open(voffrep))["calibration"]
            check("equalize: --equalize off calibrates the network as given", off, p.stderr[-500:])
            # A memory budget for the scaled copies: the largest tables stay unscaled (s = 1).
            vb, vbrep = os.path.join(root, "v2-budget.dlrm"), os.path.join(root, "v2-budget.json")
            os.environ["DLRM_EQUALIZE_MAX_BYTES"] = "3000000"
            try:
                p = dlrm("calibrate", vm, dv, "--rows", "0:8000", "-o", vb, "--report", vbrep)
            finally:
                del os.environ["DLRM_EQUALIZE_MAX_BYTES"]
            if p.returncode != 0:
                check("equalize: calibrate within a memory budget", False, p.stderr.strip())
            else:
                bs = json.load(open(vbrep))["calibration"]["equalization"]["scales"]
                rows = [t["rows"] for t in vmeta["model"]["architecture"]["tables"]]
                scaled_bytes = sum(r * 128 * 4 for r, sc in zip(rows, bs[1:]) if sc != 1)
                # the tables the budget reset: scaled by default (sc), unscaled now; none smaller than a kept one
                reset = [r for r, full, now in zip(rows, sc[1:], bs[1:]) if full != 1 and now == 1]
                largest_kept = max((r for r, now in zip(rows, bs[1:]) if now != 1), default=0)
                check(f"equalize: a 3 MB budget leaves the {len(reset)} largest tables unscaled, scales {scaled_bytes:,} bytes, says so",
                      "unscaled" in p.stderr and scaled_bytes <= 3000000 and reset and min(reset) >= largest_kept,
                      p.stderr[-500:])
            expect_error("--equalize with an unknown value",
                         ["calibrate", vm, dv, "--equalize", "always", "-o", os.path.join(root, "x.dlrm")],
                         ["--equalize always", "auto or off"], os.path.join(root, "x.dlrm"))

        # Bad input.
        bad_plan = os.path.join(root, "bad_plan.json")
        json.dump({"top.9": "fp32"}, open(bad_plan, "w"))
        expect_error("plan names a layer that does not exist",
                     ["calibrate", model, d, "--plan", bad_plan, "-o", os.path.join(root, "x.dlrm")],
                     ["bad_plan.json", "top.9"], os.path.join(root, "x.dlrm"))
        json.dump({"top.0": "uint4"}, open(bad_plan, "w"))
        expect_error("uint4 on a Linear layer", ["calibrate", model, d, "--plan", bad_plan, "-o", os.path.join(root, "x.dlrm")],
                     ["top.0", "uint4"], os.path.join(root, "x.dlrm"))
        json.dump({"emb.0": "int4"}, open(bad_plan, "w"))
        expect_error("unknown dtype", ["calibrate", model, d, "--plan", bad_plan, "-o", os.path.join(root, "x.dlrm")],
                     ["int4"], os.path.join(root, "x.dlrm"))
        expect_error("empty calibration range", ["calibrate", model, d, "--rows", "100:100", "-o", os.path.join(root, "x.dlrm")],
                     ["--rows", "empty"], os.path.join(root, "x.dlrm"))
        expect_error("unknown method", ["calibrate", model, d, "--method", "magic", "-o", os.path.join(root, "x.dlrm")],
                     ["magic"], os.path.join(root, "x.dlrm"))
        expect_error("report into a missing folder: no model written either",
                     ["calibrate", model, d, "--rows", "0:2000", "-o", os.path.join(root, "x.dlrm"),
                      "--report", os.path.join(root, "nope", "r.json")], ["nope"], os.path.join(root, "x.dlrm"))
        other = os.path.join(root, "other")
        dlrm("synth", "--shape", "small", "--samples", "2000", "--seed", "12", "--rows-cap", "50", "--out", other)
        expect_error("requantize a model of another architecture",
                     ["requantize", os.path.join(other, "model.dlrm"), "--like", q, "-o", os.path.join(root, "y.dlrm")],
                     ["architectures differ"], os.path.join(root, "y.dlrm"))
        expect_error("requantize --like an uncalibrated model",
                     ["requantize", model, "--like", model, "-o", os.path.join(root, "y.dlrm")],
                     ["no quantization plan"], os.path.join(root, "y.dlrm"))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(cli.exit_code())


if __name__ == "__main__":
    main()

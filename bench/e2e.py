#!/usr/bin/env python3
"""End-to-end speed, side by side in one session (issue 7): dlrm against PyTorch on the same model
and rows, and against oneDNN's GEMM-only bound for the same Linear layers.

  /usr/bin/python3 bench/e2e.py DIR [--model v1|v2] [--batch 2048] [--rows 32768] [--threads 2] [--skip-torch]

DIR holds an fp32 model.dlrm, its calibrated int8.dlrm (`dlrm calibrate`) and an MLPerf-layout day
(`dlrm synth` writes the model and the day). Prints, per precision: dlrm rows/s (`dlrm run` on rows
[0, ROWS), best of 3 after a warm-up, and `dlrm bench`'s fraction of the measured peak), PyTorch
rows/s on the same rows (bench/peers/pytorch_dlrm.py: fp32, bf16 autocast, dynamic int8 Linear on
the oneDNN backend), their ratio, and the oneDNN GEMM-only bound (build/bench/onednn_model_bound).
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLRM = os.environ.get("DLRM_BIN", os.path.join(ROOT, "build", "tools", "dlrm"))
BOUND = os.path.join(ROOT, "build", "bench", "onednn_model_bound")


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stderr}")
    return p.stdout


def dlrm_rows_per_s(model, data, rows, batch, threads, flag):
    best = 0.0
    for _ in range(4):  # the first pass is the warm-up (page cache, clocks)
        out = run([DLRM, "run", model, data, "--rows", f"0:{rows}", "--batch", str(batch), "--threads", str(threads),
                   flag, "--json"])
        best = max(best, json.loads(out)["rows_per_s"])
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--model", default="v2", choices=["v1", "v2"])
    ap.add_argument("--batch", type=int, default=2048)
    ap.add_argument("--rows", type=int, default=32768)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--skip-torch", action="store_true")
    a = ap.parse_args()
    fp32_model = os.path.join(a.dir, "model.dlrm")
    int8_model = os.path.join(a.dir, "int8.dlrm")

    bound = json.loads(run([BOUND, a.model, "--rows-per-thread", str(a.batch // a.threads), "--threads", str(a.threads),
                            "--json"]))
    peaks = {}
    for model, flags in ((fp32_model, ["--fp32", "--bf16"]), (int8_model, ["--int8"])):
        out = json.loads(run([DLRM, "bench", model, *flags, "--batch", str(a.batch), "--threads", str(a.threads),
                              "--rows", str(min(a.rows, 16384)), "--json"]))
        for r in out["throughput"]:
            peaks[r["precision"]] = (r["rows_per_s"], r["peak"])
    ours = {p: dlrm_rows_per_s(m, a.dir, a.rows, a.batch, a.threads, "--" + p)
            for p, m in (("fp32", fp32_model), ("bf16", fp32_model), ("int8", int8_model))}
    torch = {}
    torch_note = "PyTorch skipped"
    if not a.skip_torch:
        # PyTorch's fp32 Linear goes through the system BLAS: make deps installs OpenBLAS (Debian's
        # default libblas is the unoptimised reference), and OpenBLAS picks its own kernels for
        # this CPU (an inherited OPENBLAS_CORETYPE would pin it to an older core).
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        p = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "peers", "pytorch_dlrm.py"), fp32_model, a.dir,
                            "--rows", str(a.rows), "--batch", str(a.batch), "--threads", str(a.threads), "--torch-only",
                            "--json"], capture_output=True, text=True, env=env)
        if p.returncode != 0:
            sys.exit(f"pytorch_dlrm.py failed:\n{p.stderr}")
        out = p.stdout
        tj = json.loads(out)
        torch = tj["rows_per_s"]
        torch_note = (f"PyTorch {tj['torch']}; dynamic int8 per engine: "
                      + ", ".join(f"{e} {r:,.0f}" for e, r in tj["int8_by_engine"].items())
                      + f" rows/s (the best, {tj['int8_engine']}, is compared)")

    print(f"DLRM {a.model} at {a.dir}: rows [0, {a.rows}), batch {a.batch}, {a.threads} threads; "
          f"oneDNN {bound['onednn']} GEMM-only bound measured in the same run; {torch_note}")
    print("\nsteady = `dlrm bench` (warm executor, rows scored in a loop; what PyTorch's timing also measures);"
          "\nwhole command = `dlrm run` on the rows, best of 3 after a warm-up, including the first-touch page"
          "\nfaults of the fresh mapping. Ratios use the steady figure.")
    print(f"\n| precision | dlrm steady rows/s | of peak | dlrm whole command rows/s | PyTorch rows/s | dlrm ÷ PyTorch "
          f"| oneDNN GEMM-only bound | dlrm ÷ bound |")
    print("|---|---|---|---|---|---|---|---|")
    for p, bkey in (("fp32", "f32_rows_per_s"), ("bf16", "bf16_rows_per_s"), ("int8", "u8s8_rows_per_s")):
        steady, pk = peaks.get(p, (0, {}))
        frac = f"{100 * pk['fraction']:.1f} % {pk['instruction']}" if "fraction" in pk else "–"
        t = torch.get(p)
        b = bound.get(bkey)
        print(f"| {p} | {steady:,.0f} | {frac} | {ours[p]:,.0f} | {f'{t:,.0f}' if t else '–'} | "
              f"{f'{steady / t:.2f}×' if t else '–'} | {f'{b:,.0f}' if b else '–'} | {f'{steady / b:.2f}' if b else '–'} |")


if __name__ == "__main__":
    main()

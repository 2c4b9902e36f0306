#!/usr/bin/env python3
"""Markdown tables of the measured fractions from the benchmarks' JSON output, and the issue's targets.

Usage: summarize.py [--variants REGEX] build/bench/results/bench_gemm.json [bench_embbag.json] [bench_interact.json]
       [bench_convert.json]
Missing files are skipped. --variants keeps only the embedding-bag, interaction and convert variants whose name
matches (the targets still come from every variant). Only the Python standard library is used.
"""
import json
import os
import re
import sys


def load(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def threads_of(name):
    m = re.search(r"/threads:(\d+)$", name)
    return int(m.group(1)) if m else 1


def strip_threads(name):
    return re.sub(r"/threads:\d+$", "", name)


def pct(x):
    return "—" if x is None else f"{100 * x:.0f} %"


def peak_per_core(ctx, kind, threads):
    """The context's measured peak, e.g. peak_bf16_dot_2thread = "407.9 GFLOP/s per core", in FLOP/s."""
    v = ctx.get(f"peak_{kind}_{threads}thread")
    m = re.match(r"([\d.]+) G", v or "")
    return float(m.group(1)) * 1e9 if m else None


def gemm(doc, targets):
    # name: gemm_<t>/<variant>/<layers>/<shape>  or  peer/onednn_<t>/<layers>/<shape>
    rows = {}  # (layers, shape, threads) -> {col: (frac, rate)}
    skipped = {}
    for b in doc["benchmarks"]:
        name, th = strip_threads(b["name"]), threads_of(b["name"])
        parts = name.split("/")
        if parts[0] == "peer":
            t, who = parts[1].replace("onednn_", ""), "oneDNN"
        else:
            t, who = parts[0].replace("gemm_", ""), parts[1]
        layers, shape = parts[2], parts[3]
        key = (layers, shape, th)
        if b.get("error_occurred"):
            skipped[(t, who)] = b.get("error_message", "")
            continue
        frac = b.get("frac_vnni_peak", b.get("frac_fma_peak"))
        rate = b.get("op/s", b.get("FLOP/s"))
        # bf16 kernels count against the vdpbf16ps peak (the benchmark reports them against FMA).
        bf16_peak = peak_per_core(doc["context"], "bf16_dot", th) if t == "bf16" else None
        if bf16_peak:
            frac = rate / bf16_peak
        rows.setdefault(key, {})[(t, who)] = (frac, rate)
    cols = sorted({c for r in rows.values() for c in r}, key=lambda c: (["f32", "bf16", "u8s8"].index(c[0]), c[1] == "oneDNN", c[1]))
    print("### GEMM: fraction of the measured peak per core (f32: FMA peak, bf16: BF16 dot peak, u8s8: VNNI peak)\n")
    print("| layers | M N K | threads | " + " | ".join(f"{t} {w}" for t, w in cols) + " |")
    print("|---|---|---|" + "---|" * len(cols))
    for (layers, shape, th), r in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][2])):
        mnk = " ".join(re.findall(r"\d+", shape))
        print(f"| {layers} | {mnk} | {th} | " + " | ".join(pct(r[c][0]) if c in r else "—" for c in cols) + " |")
    for (t, who), why in sorted(skipped.items()):
        print(f"\n{t} {who}: {why}")
    print()
    # Targets (both cores = threads:2).
    ours = lambda r, t: max((v for (tt, w), v in r.items() if tt == t and w != "oneDNN"), default=None, key=lambda v: v[0])
    for t in ("f32", "bf16", "u8s8"):
        for (layers, shape, th), r in sorted(rows.items()):
            if th != 2:
                continue
            M, N, K = map(int, re.findall(r"\d+", shape))
            o, p = ours(r, t), r.get((t, "oneDNN"))
            if o is None:
                continue
            # The targets are on the DLRM v2 shapes with M = 2048 and K, N ≥ 256; the other
            # layers (K = 13, N = 1) are in the table above but carry no target.
            if not ("v2." in layers and M == 2048 and K >= 256 and N >= 256):
                continue
            if t == "u8s8":
                targets.append((f"int8 GEMM {layers} ({M} {N} {K}) ≥ 80 % of VNNI peak", pct(o[0]), o[0] >= 0.80))
            if p is None:
                if t != "bf16":
                    targets.append((f"{t} GEMM {layers} ({M} {N} {K}) ≥ oneDNN", "oneDNN not run", False))
            else:
                targets.append((f"{t} GEMM {layers} ({M} {N} {K}) ≥ oneDNN", f"{o[1] / p[1]:.2f}×", o[1] >= p[1]))
    if any(w == "oneDNN" for (t, w) in skipped if t == "bf16"):
        targets.append(("bf16 GEMM ≥ oneDNN", "not measurable: this CPU lacks avx512_bf16", None))


def embbag(doc, targets, keep):
    best = {}  # (table, pool) -> (ns, frac, variant): the fastest AVX-512 variant carries the target
    print("### Embedding bag, dim 128: ns per row per core and fraction of the gather ceiling\n")
    print("| variant | rows | table | pooling | ids | threads | ns/row | ceiling ns/row | frac_gather_ceiling |")
    print("|---|---|---|---|---|---|---|---|---|")
    for b in doc["benchmarks"]:
        name, th = strip_threads(b["name"]), threads_of(b["name"])
        parts = name.split("/")  # embbag/<variant>/<type>/table:X/pool:N/<dist>  or .../v2_mix/table:X/<dist>
        if b.get("error_occurred"):
            print(f"| {parts[1]} | {'/'.join(parts[2:])} | error: {b.get('error_message', '')} |||||||")
            continue
        variant, rtype = parts[1], parts[2]
        if parts[3] == "v2_mix":
            table, pool, dist = parts[4].split(":")[1] + " (v2 mix, 26 tables)", "v2 (214/sample)", parts[5]
        else:
            table, pool, dist = parts[3].split(":")[1], parts[4].split(":")[1], parts[5]
        ns, ceil, frac = b["ns_per_row"], b["ceiling_ns_per_row"], b["frac_gather_ceiling"]
        if keep.search(variant):
            print(f"| {variant} | {rtype} | {table} | {pool} | {dist} | {th} | {ns:.2f} | {ceil:.2f} | {pct(frac)} |")
        if th == 2 and rtype == "u4rw" and dist == "uniform" and "avx512" in variant:
            k = (table, pool)
            if k not in best or ns < best[k][0]:
                best[k] = (ns, frac, variant)
    print()
    for (table, pool), (ns, frac, variant) in sorted(best.items()):
        if table == "1MB":
            targets.append((f"u4 bag cache-resident pool {pool}: ≤ 3.7 ns/row/core ({variant})", f"{ns:.2f} ns", ns <= 3.7))
        if table == "40M_huge":
            targets.append((f"u4 bag 40M rows (huge pages) pool {pool}: ≥ 85 % of gather ceiling ({variant})", pct(frac), frac >= 0.85))
        if table == "40M_4k":
            targets.append((f"u4 bag 40M rows (4K pages) pool {pool}: ≥ 85 % of gather ceiling ({variant})", pct(frac), frac >= 0.85))


def variant_table(doc, keep, title, head, keys, values):
    """One Markdown row per benchmark of a kept variant (name part 1): keys(parts, threads) gives the
    leading cells, values(b) the measured ones; a benchmark that errored shows its message instead."""
    print(f"### {title}\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for b in doc["benchmarks"]:
        name, th = strip_threads(b["name"]), threads_of(b["name"])
        parts = name.split("/")
        k = keys(parts, th)
        if b.get("error_occurred"):
            print(f"| {' | '.join(k)} | error: {b.get('error_message', '')} " + "|" * (len(head) - len(k)))
            continue
        if keep.search(parts[1]):
            print("| " + " | ".join(k + values(b)) + " |")
    print()


def interact(doc, keep):
    variant_table(doc, keep, "Dot interaction, F = 27, D = 128: fraction of the FMA peak per core",
                  ["variant", "input", "threads", "ns/sample", "GFLOP/s per core", "frac_fma_peak"],
                  lambda parts, th: [parts[1], parts[3], str(th)],
                  lambda b: [f"{b['ns_per_sample']:.0f}", f"{b['FLOP/s'] / 1e9:.1f}", pct(b['frac_fma_peak'])])


def convert(doc, keep):
    variant_table(doc, keep, "Activation quantization (quantize_u8, one row per call): fraction of the copy ceiling per core",
                  ["variant", "width", "input", "threads", "ns/row", "G values/s per core", "frac_copy_ceiling"],
                  lambda parts, th: [parts[1], parts[2][1:], parts[3], str(th)],
                  lambda b: [f"{b['ns_per_row']:.0f}", f"{b['values/s'] / 1e9:.2f}", pct(b['frac_copy_ceiling'])])


def main():
    targets = []
    ctx_done = False
    args = sys.argv[1:]
    keep = re.compile("")
    if args[:1] == ["--variants"]:
        keep, args = re.compile(args[1]), args[2:]
    for path in args:
        doc = load(path)
        if doc is None:
            print(f"({path}: missing, skipped)\n")
            continue
        if not ctx_done:
            c = doc["context"]
            print(f"Machine: {c.get('num_cpus')} CPUs at {c.get('mhz_per_cpu')} MHz, load average at start "
                  f"{', '.join(f'{x:.1f}' for x in c.get('load_avg', []))}")
            for k in sorted(c):
                if k.startswith("peak_") or k == "onednn":
                    print(f"- {k}: {c[k]}")
            print()
            ctx_done = True
        base = os.path.basename(path)
        if base.startswith("bench_gemm"):
            gemm(doc, targets)
        elif base.startswith("bench_embbag"):
            embbag(doc, targets, keep)
        elif base.startswith("bench_interact"):
            interact(doc, keep)
        elif base.startswith("bench_convert"):
            convert(doc, keep)
    if targets:
        print("### Targets (issue 6; both cores = threads:2)\n")
        print("| target | measured | met |")
        print("|---|---|---|")
        for what, got, ok in targets:
            print(f"| {what} | {got} | {'—' if ok is None else ('yes' if ok else 'no')} |")


if __name__ == "__main__":
    main()

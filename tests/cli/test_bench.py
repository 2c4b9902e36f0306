#!/usr/bin/env python3
"""`dlrm bench`: the per-stage and per-layer report on a dot model and a DCN model (fp32, short runs).

Every Linear layer of the model (its weight tensors in `dlrm info --json`, with their shapes) has
one entry with real time and a rate; the layer times lie inside their stages (bottom.* in the bottom
MLP, dcn.* in the interaction, top.* in the top MLP); the stage fractions add up to 1; `--layers`
prints one line per layer; bad arguments are errors. No speed is asserted (bench/ holds the goals).

Prints "PASS name" / "FAIL name: why" lines; exit 1 if any failed.
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli_common as cli  # noqa: E402
from cli_common import check, dlrm  # noqa: E402

STAGE_OF = {"bottom": "bottom_mlp", "dcn": "interaction", "top": "top_mlp"}


def linear_layers(model):
    """name: (in, out) of every Linear layer, from the model's weight tensors (MLP layers are
    `X.weight`, the cross net's low-rank factors `dcn.L.V` and `dcn.L.W`)."""
    info = json.loads(dlrm("info", model, "--json").stdout)
    layers = {}
    for t in info["tensors"]:
        n = t["name"]
        name = n[: -len(".weight")] if n.endswith(".weight") else n if n.startswith("dcn.") and n[-2:] in (".V", ".W") else None
        if name:
            layers[name] = (t["shape"][1], t["shape"][0])
    return layers


def check_model(label, model):
    p = dlrm("bench", model, "--fp32", "--rows", "4096", "--seconds", "0", "--json")
    if p.returncode != 0:
        check(f"{label}: bench --json", False, p.stderr.strip())
        return
    r = json.loads(p.stdout)["throughput"][0]
    expected = linear_layers(model)
    got = {l["name"]: (l["in"], l["out"]) for l in r["layers"]}
    check(f"{label}: one entry per Linear layer with its shape ({len(expected)})", got == expected,
          f"bench {got} vs model {expected}")
    timed = [l for l in r["layers"] if l["seconds"] > 0 and l["gops_per_core"] > 0 and l["time_fraction"] > 0]
    check(f"{label}: every layer has time and a rate", len(timed) == len(r["layers"]),
          f"{[l['name'] for l in r['layers'] if l not in timed]}")
    f = r["stage_fraction"]
    check(f"{label}: stage fractions add up to 1", abs(sum(f.values()) - 1) < 1e-9, f"{f}")
    for prefix, stage in STAGE_OF.items():
        inside = sum(l["time_fraction"] for l in r["layers"] if l["name"].startswith(prefix + "."))
        check(f"{label}: {prefix}.* layers ({inside:.3f}) within the {stage} stage ({f[stage]:.3f})",
              inside <= f[stage] + 1e-9, f"{inside} > {f[stage]}")
    with_peak = all(("peak_fraction" in l) == ("fraction" in r["peak"]) for l in r["layers"])
    check(f"{label}: a peak fraction per layer exactly when the peak was measured", with_peak, f"{r['peak']}")

    p = dlrm("bench", model, "--fp32", "--rows", "2048", "--seconds", "0", "--layers")
    rows = [line.split()[0] for line in p.stdout.splitlines() if line.split() and line.split()[0] in expected]
    check(f"{label}: --layers prints one line per layer", p.returncode == 0 and sorted(rows) == sorted(expected),
          f"exit {p.returncode}, {rows}")


def main():
    root = tempfile.mkdtemp(prefix="dlrm-bench-test-")
    try:
        small = os.path.join(root, "small")
        v2 = os.path.join(root, "v2")
        for d, args in ((small, ["--shape", "small"]), (v2, ["--shape", "mlperf-v2", "--rows-cap", "1000"])):
            p = dlrm("synth", *args, "--samples", "4096", "--out", d)
            if p.returncode != 0:
                check(f"synth {args}", False, p.stderr.strip())
                return
        check_model("dot model", os.path.join(small, "model.dlrm"))
        check_model("dcn model", os.path.join(v2, "model.dlrm"))

        p = dlrm("bench", os.path.join(small, "model.dlrm"), "--rows", "0")
        check("--rows 0 is an error", p.returncode != 0 and "--rows 0" in p.stderr, p.stderr.strip())
        p = dlrm("bench", os.path.join(small, "model.dlrm"), "--int8", "--rows", "64")
        check("--int8 on an uncalibrated model says to calibrate",
              p.returncode != 0 and "dlrm calibrate" in p.stderr, p.stderr.strip())
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
    sys.exit(cli.exit_code())

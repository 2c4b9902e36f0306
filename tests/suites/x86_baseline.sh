#!/usr/bin/env bash
# The x86-64 portability suite: the dlrm binary this build made runs on CPUs older than the build
# machine and picks its kernels at run time. It runs under qemu-x86_64 (package qemu-user) with
#   -cpu qemu64   baseline x86-64 (SSE2 only; no SSE4.2, AVX, FMA or AVX-512)
#   -cpu Haswell  AVX2 + FMA, no AVX-512
# and on each: `dlrm info` must choose the best table that CPU has (generic, avx2); synth must write
# the same dataset bytes as the native run (the model's metadata holds a timestamp); run (fp32) and
# run --int8 of the natively made models must give the native predictions to 1e-5; calibrate and
# auc must run. (An emulated calibration is not compared byte for byte: its fp32 pass uses the
# emulated CPU's kernels, whose sums may differ in the last bit and move a range by one step.) Any instruction the CPU lacks in shared code would end the emulated
# process with SIGILL. Prints "PASS name" / "FAIL name: why" lines for tests/run_all.sh.
# Env: BUILD (build dir, default build), PYTHON (default /usr/bin/python3).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
DLRM="$BUILD/tools/dlrm"
work=$(mktemp -d "${TMPDIR:-/tmp}/dlrm-x86-baseline.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "FAIL $*"; failed=1; }

if [ "$(uname -m)" != x86_64 ]; then echo "SKIP x86 baseline suite: not an x86-64 host"; echo "PASS x86 baseline: not applicable"; exit 0; fi
if ! command -v qemu-x86_64 >/dev/null; then
    echo "FAIL x86 baseline: qemu-x86_64 missing: run make deps (package qemu-user)"
    exit 1
fi

# Native reference: a small model, its calibrated int8 version, and both predictions.
if ! "$DLRM" synth --shape small --samples 4000 --seed 11 --out "$work/data" >"$work/synth.log" 2>&1 ||
   ! "$DLRM" calibrate "$work/data/model.dlrm" "$work/data" --rows 0:2000 -o "$work/int8.dlrm" >"$work/cal.log" 2>&1 ||
   ! "$DLRM" run "$work/data/model.dlrm" "$work/data" --out "$work/native_fp32.npy" >/dev/null 2>&1 ||
   ! "$DLRM" run "$work/int8.dlrm" "$work/data" --int8 --out "$work/native_int8.npy" >/dev/null 2>&1; then
    tail -20 "$work"/*.log
    echo "FAIL x86 baseline: the native synth / calibrate / run failed"
    exit 1
fi

same() {  # a.npy b.npy: max |a - b| ≤ 1e-5
    "$PYTHON" -c 'import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
sys.exit(0 if a.shape == b.shape and float(np.abs(a - b).max()) <= 1e-5 else 1)' "$1" "$2"
}

for spec in "qemu64 generic" "Haswell avx2"; do
    set -- $spec
    cpu=$1 want=$2
    q() { qemu-x86_64 -cpu "$cpu" "$DLRM" "$@"; }
    table=$(q info 2>&1 | sed -n 's/^kernel table: *//p')
    if [ "$table" = "$want" ]; then echo "PASS x86 $cpu: dlrm info chooses the $want table"
    else fail "x86 $cpu: dlrm info chose '${table:-nothing}': expected $want"; fi

    d="$work/$cpu"
    mkdir -p "$d"
    if q synth --shape small --samples 4000 --seed 11 --out "$d/data" >"$d/synth.log" 2>&1 &&
       q verify "$d/data/model.dlrm" >/dev/null 2>&1 &&
       cmp -s "$d/data/day_0_dense.npy" "$work/data/day_0_dense.npy" &&
       cmp -s "$d/data/day_0_labels.npy" "$work/data/day_0_labels.npy" &&
       cmp -s "$d/data/day_0_sparse_multi_hot.npz" "$work/data/day_0_sparse_multi_hot.npz"; then
        echo "PASS x86 $cpu: synth writes a valid model and the same dataset bytes as the native run"
    else
        tail -5 "$d/synth.log"; fail "x86 $cpu: synth failed, its model does not verify, or its dataset differs"
    fi
    if q run "$work/data/model.dlrm" "$work/data" --out "$d/fp32.npy" >"$d/run.log" 2>&1 && same "$d/fp32.npy" "$work/native_fp32.npy"; then
        echo "PASS x86 $cpu: run (fp32, $want kernels) equals the native predictions to 1e-5"
    else
        tail -5 "$d/run.log"; fail "x86 $cpu: fp32 run failed or differs from the native predictions"
    fi
    if q run "$work/int8.dlrm" "$work/data" --int8 --out "$d/int8.npy" >"$d/run8.log" 2>&1 &&
       same "$d/int8.npy" "$work/native_int8.npy" &&
       q calibrate "$work/data/model.dlrm" "$work/data" --rows 0:2000 -o "$d/int8.dlrm" >"$d/cal.log" 2>&1 &&
       q run "$d/int8.dlrm" "$work/data" --int8 --out "$d/own8.npy" >/dev/null 2>&1 &&
       q auc "$d/int8.npy" "$work/data" >"$d/auc.log" 2>&1; then
        echo "PASS x86 $cpu: run --int8 equals the native predictions to 1e-5; calibrate, its model and auc run"
    else
        tail -5 "$d"/cal.log "$d"/run8.log "$d"/auc.log 2>/dev/null
        fail "x86 $cpu: calibrate / run --int8 / auc failed, or the int8 predictions differ"
    fi
done
exit $failed

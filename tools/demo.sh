#!/usr/bin/env bash
# make demo: generate a planted-teacher model and an MLPerf-layout dataset, score it in fp32, calibrate
# it to uint4 tables + int8 Linear layers, score that, and report both AUCs on held-out rows.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DEMO=${DEMO:-demo-data}
dlrm="$BUILD/tools/dlrm"
echo "== dlrm info (this CPU and its kernels)"
"$dlrm" info | head -4
echo
echo "== dlrm synth --shape small --samples 200000 --out $DEMO"
"$dlrm" synth --shape small --samples 200000 --seed 7 --out "$DEMO"
echo
echo "== dlrm run $DEMO/model.dlrm $DEMO --rows 128000: --out $DEMO/pred.npy"
"$dlrm" run "$DEMO/model.dlrm" "$DEMO" --rows 128000: --out "$DEMO/pred.npy"
echo
echo "== dlrm auc $DEMO/pred.npy $DEMO --rows 128000:"
"$dlrm" auc "$DEMO/pred.npy" "$DEMO" --rows 128000:
echo
echo "== dlrm calibrate $DEMO/model.dlrm $DEMO --rows 0:128000 -o $DEMO/int8.dlrm"
"$dlrm" calibrate "$DEMO/model.dlrm" "$DEMO" --rows 0:128000 -o "$DEMO/int8.dlrm" 2>&1 | grep -E '^(model bytes|wrote)'
echo
echo "== dlrm run $DEMO/int8.dlrm $DEMO --int8 --rows 128000: --out $DEMO/pred-int8.npy"
"$dlrm" run "$DEMO/int8.dlrm" "$DEMO" --int8 --rows 128000: --out "$DEMO/pred-int8.npy"
echo
echo "== dlrm auc $DEMO/pred-int8.npy $DEMO --rows 128000:"
"$dlrm" auc "$DEMO/pred-int8.npy" "$DEMO" --rows 128000:

#!/usr/bin/env bash
# make demo: generate a planted-teacher model and an MLPerf-layout dataset, score it, report AUC.
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
echo "== dlrm run $DEMO/model.dlrm $DEMO --out $DEMO/pred.npy"
"$dlrm" run "$DEMO/model.dlrm" "$DEMO" --out "$DEMO/pred.npy"
echo
echo "== dlrm auc $DEMO/pred.npy $DEMO"
"$dlrm" auc "$DEMO/pred.npy" "$DEMO"

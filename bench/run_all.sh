#!/usr/bin/env bash
# `make bench`: every kernel benchmark binary, then a summary table of the measured fractions.
# Env: BUILD (build dir, default build); DLRM_BENCH_FULL=1 for the long run (scalar reference
# variants, the 4K-page v2 table mix, 0.5 s per benchmark instead of 0.15 s); BENCH_FILTER
# (a --benchmark_filter regex); BENCH_OUT (folder for the JSON results, default $BUILD/bench/results).
# The machine's load is printed before each binary: the figures are only as good as the quiet.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=${BENCH_OUT:-$BUILD/bench/results}
mkdir -p "$OUT"
if [ -n "${DLRM_BENCH_FULL:-}" ] && [ "${DLRM_BENCH_FULL}" != 0 ]; then min_time=0.5; else min_time=0.15; fi
status=0
for b in bench_gemm bench_embbag bench_interact bench_convert; do
  bin="$BUILD/bench/$b"
  if [ ! -x "$bin" ]; then echo "bench: $bin is missing: build first (make build)"; status=1; continue; fi
  echo "== $b   ($(uptime | sed 's/.*load average/load average/'))"
  args=(--benchmark_min_time="$min_time" --benchmark_out="$OUT/$b.json" --benchmark_out_format=json)
  [ -n "${BENCH_FILTER:-}" ] && args+=(--benchmark_filter="$BENCH_FILTER")
  "$bin" "${args[@]}" || { echo "bench: $b failed (exit $?)"; status=1; }
done
echo "== summary (fractions of the ceilings measured in the same run)"
python3 bench/summarize.py "$OUT"/bench_gemm.json "$OUT"/bench_embbag.json "$OUT"/bench_interact.json "$OUT"/bench_convert.json || status=1
exit $status

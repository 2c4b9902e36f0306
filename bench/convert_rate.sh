#!/bin/sh
# dlrm convert throughput on a large generated Criteo TSV (Kaggle-like: ~245 bytes a line, 20 % of the
# integer fields and 10 % of the categoricals empty, some negative counts).
#   bench/convert_rate.sh [ROWS] [--gzip]     (default 4,000,000 rows ≈ 1 GB; DLRM_BIN, TMPDIR honoured)
# Prints MB/s (of uncompressed text), rows/s and peak memory for the plain file, and for a gzip -1 copy with --gzip.
set -eu
ROWS=${1:-4000000}
GZ=${2:-}
DLRM=${DLRM_BIN:-build/dlrm}
[ -x "$DLRM" ] || DLRM=build/tools/dlrm
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dlrm-convert-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

# 200,000 distinct random lines, written in a fresh shuffle per block of the file: fast to make, and
# the parser never sees a repeating short pattern.
"$PY" - "$WORK/day.tsv" "$ROWS" <<'PYEOF'
import sys
import numpy as np
path, rows = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(2024)
U = 200_000
ints = np.floor(np.exp(rng.uniform(0, 9, (U, 13)))).astype(np.int64) - 1
ints[:, 1] -= rng.integers(0, 3, U) * (rng.random(U) < 0.1)
empty_i = rng.random((U, 13)) < 0.2
cats = rng.integers(0, 2**32, (U, 26), dtype=np.uint64)
empty_c = rng.random((U, 26)) < 0.1
labels = (rng.random(U) < 0.25).astype(int)
lines = []
for r in range(U):
    f = [str(labels[r])]
    f += ["" if empty_i[r, k] else str(ints[r, k]) for k in range(13)]
    f += ["" if empty_c[r, k] else "%08x" % cats[r, k] for k in range(26)]
    lines.append("\t".join(f))
lines = np.array(lines, dtype=object)
with open(path, "w") as out:
    left = rows
    while left > 0:
        n = min(left, U)
        out.write("\n".join(lines[rng.permutation(U)[:n]]) + "\n")
        left -= n
PYEOF

BYTES=$(stat -c %s "$WORK/day.tsv")
echo "input: $ROWS rows, $BYTES bytes ($(nproc) cores), $DLRM"

run() {  # label, input file
    # Wall time gives the rate; CPU time (user + sys) shows what the rate would be on idle cores
    # when the machine is shared.
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" \
        "$DLRM" convert --from tsv "$2" --out "$WORK/out" --max-ind-range 40000000 >/dev/null 2>"$WORK/err" ||
        { cat "$WORK/err"; exit 1; }
    "$PY" -c "
wall, user, sys_, rss = map(float, open('$WORK/time').read().split()[-4:]); b = $BYTES; r = $ROWS; cpu = user + sys_
print(f'$1: {wall:.2f} s wall  {b / wall / 1e6:.0f} MB/s  {r / wall / 1e6:.2f} M rows/s'
      f'  (CPU {cpu:.2f} s = {b / cpu / 1e6:.0f} MB per CPU-second; max RSS {rss / 1024:.0f} MiB; load $(cut -d' ' -f1 /proc/loadavg))')"
    rm -rf "$WORK/out"
}

sync
run "plain TSV" "$WORK/day.tsv"
if [ "$GZ" = "--gzip" ]; then
    gzip -1 -c "$WORK/day.tsv" > "$WORK/day.tsv.gz"
    echo "gzip -1: $(stat -c %s "$WORK/day.tsv.gz") bytes"
    run "gzip TSV (MB/s of text)" "$WORK/day.tsv.gz"
fi

#!/usr/bin/env bash
# Builds the fuzz targets (tests/fuzz/build.sh) and runs each for FUZZ_SECONDS (default 60), FUZZ_JOBS
# at a time (default 2), starting from its committed seed corpus (tests/fuzz/corpus/<target>/, never
# modified: new inputs go to a scratch corpus). Prints "PASS fuzz_x: N executions in S s" or
# "FAIL fuzz_x: <finding>" with the crash input saved under $OUT/findings/ and its first bytes in hex.
# Env: FUZZ_SECONDS, FUZZ_JOBS, FUZZ_TARGETS (space-separated subset), OUT (default build-fuzz).
# Exit status: 0 if every target ran clean.
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-build-fuzz}
SECS=${FUZZ_SECONDS:-60}
PAR=${FUZZ_JOBS:-2}
mkdir -p "$OUT"
if ! targets=$(bash tests/fuzz/build.sh "$OUT" 2>"$OUT/build.log"); then
    echo "FAIL fuzz build: tests/fuzz/build.sh failed:"; tail -30 "$OUT/build.log"; exit 1
fi
targets=${FUZZ_TARGETS:-$targets}
mkdir -p "$OUT/findings"
work=$(mktemp -d "${TMPDIR:-/tmp}/dlrm-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

fuzz_one() {  # target → writes $work/<target>.result
    local t=$1 dir="$work/$1"
    mkdir -p "$dir/corpus" "$dir/crash"
    "$OUT/$t" "$dir/corpus" "tests/fuzz/corpus/$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/crash/" >"$dir/log" 2>&1
    local rc=$? execs
    execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$dir/log" | tail -1)
    local crash
    crash=$(ls "$dir/crash/" 2>/dev/null | head -1)
    if [ "$rc" -eq 0 ] && [ -z "$crash" ]; then
        echo "PASS $t: ${execs:-?} executions in $SECS s (corpus $(ls "$dir/corpus" | wc -l) new inputs)" >"$dir/result"
        return
    fi
    {
        local why
        why=$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY:' "$dir/log" | sed 's/^==[0-9]*==//')
        echo "FAIL $t: ${why:-exit $rc} (after ${execs:-?} executions)"
        if [ -n "$crash" ]; then
            local keep="$OUT/findings/$t-$crash"
            cp "$dir/crash/$crash" "$keep"
            echo "    input saved: $keep ($(stat -c %s "$keep") bytes); reproduce: $OUT/$t $keep; first bytes:"
            od -A x -t x1z -N 128 "$keep" | sed 's/^/    /'
        fi
        grep -E '^ *#[0-9]+ 0x' "$dir/log" | head -12 | sed 's/^/    /'
    } >"$dir/result"
}

running=0
for t in $targets; do
    fuzz_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$PAR" ]; then wait -n; running=$((running - 1)); fi
done
wait
rc=0
for t in $targets; do
    cat "$work/$t/result"
    grep -q '^FAIL' "$work/$t/result" && rc=1
done
exit $rc

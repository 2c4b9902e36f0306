#!/usr/bin/env bash
# CI sanitizer suite: the whole doctest unit suite built with ASan + UBSan (meson b_sanitize) in
# build-asan and run with halt_on_error and leak detection, once with the CPU's own kernel table and
# once with the scalar references. Only dlrm_tests is built (-j2) to stay inside the CI budget, at
# -O1 with line tables only (-g1): ASan's recommended level, still file:line in every report. With
# debugoptimized (-O2 -g) the suite took 763 s on a fresh clone, almost all of it the build; the
# -O1 -g1 build takes 334 s on the 2-core machine, and the unit run 51 s instead of 45.
# Prints "PASS sanitize ..." / "FAIL sanitize ...: why" lines. `make test-sanitize` runs the same.
set -u
cd "$(dirname "$0")/../.."
B=${ASAN_BUILD:-build-asan}
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/dlrm-asan.XXXXXX")
trap 'rm -rf "$log_dir"' EXIT
if [ ! -f "$B/build.ninja" ]; then
    if ! meson setup "$B" -Db_sanitize=address,undefined -Db_lundef=false --buildtype=plain \
        -Dcpp_args='-O1 -g1' -Dc_args='-O1 -g1' \
        >"$log_dir/setup.log" 2>&1; then
        echo "FAIL sanitize build: meson setup $B failed"; tail -30 "$log_dir/setup.log"; exit 1
    fi
fi
if ! ninja -C "$B" -j "${JOBS:-2}" tests/dlrm_tests >"$log_dir/build.log" 2>&1; then
    echo "FAIL sanitize build: ninja -C $B tests/dlrm_tests failed"; grep -E 'error|FAILED' "$log_dir/build.log" | head -30; exit 1
fi
echo "PASS sanitize build: $B/tests/dlrm_tests (ASan + UBSan, -O1 -g1)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
rc=0
for isa in default ref; do
    log="$log_dir/unit-$isa.log"
    if [ "$isa" = default ]; then "$B/tests/dlrm_tests" >"$log" 2>&1; else DLRM_ISA=$isa "$B/tests/dlrm_tests" >"$log" 2>&1; fi
    r=$?
    counts=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
    why=$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: ' "$log" | sed 's/^==[0-9]*==//')
    if [ "$r" -eq 0 ] && [ -z "$why" ]; then
        echo "PASS sanitize unit tests (DLRM_ISA=$isa): ${counts#\[doctest\] }"
    else
        echo "FAIL sanitize unit tests (DLRM_ISA=$isa): ${why:-exit $r: $counts}"
        grep -E -A25 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" | head -60 | sed 's/^/    /'
        grep -E '^[^ ]*ERROR|^  CHECK' "$log" | head -10 | sed 's/^/    /'
        rc=1
    fi
done
exit $rc

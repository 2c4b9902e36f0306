#!/usr/bin/env bash
# Runs every test: the unit suite once per kernel table this CPU can run, the command-line tests and
# the parity tests against PyTorch / scikit-learn. Ends with one line "N passed, N failed".
# Env: BUILD (build dir, default build), PYTHON (default /usr/bin/python3).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
export DLRM_BIN="$PWD/$BUILD/tools/dlrm"
export PYTHON
passed=0
failed=0
failures=()
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/dlrm-tests.XXXXXX")
trap 'rm -rf "$log_dir"' EXIT

note() { printf '%s\n' "$*"; }

# A doctest run: add its test-case counts.
run_doctest() {  # name, env..., binary args
    local name=$1; shift
    local log="$log_dir/$(echo "$name" | tr ' /=' '___').log"
    local t0=$SECONDS
    env "$@" >"$log" 2>&1
    local rc=$?
    local line
    line=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
    local p f
    p=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) passed.*/\1/p')
    f=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) failed.*/\1/p')
    if [ -z "$p" ]; then p=0; f=1; fi
    if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    note "$name: $p passed, $f failed  ($(grep -c 'MESSAGE\|skipped' "$log" 2>/dev/null) skip notes, $((SECONDS - t0)) s)"
    grep -E 'SKIP' "$log" | sort -u | head -20 | sed 's/^/    /'
    if [ "$f" -ne 0 ]; then failures+=("$name"); tail -60 "$log" | sed 's/^/    | /'; fi
}

# A script that prints "PASS name" / "FAIL name" lines (and exits non-zero on failure).
run_checks() {  # name, command...
    local name=$1; shift
    local log="$log_dir/$(echo "$name" | tr ' /=' '___').log"
    local t0=$SECONDS
    "$@" >"$log" 2>&1
    local rc=$?
    local p f
    p=$(grep -cE '^PASS ' "$log")
    f=$(grep -cE '^FAIL ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi  # a script that checked nothing is a failure
    passed=$((passed + p)); failed=$((failed + f))
    note "$name: $p passed, $f failed  ($((SECONDS - t0)) s)"
    grep -E '^SKIP ' "$log" | sed 's/^/    /'
    if [ "$f" -ne 0 ]; then failures+=("$name"); grep -E '^FAIL ' "$log" | sed 's/^/    /'; tail -40 "$log" | sed 's/^/    | /'; fi
}

# 1. Unit tests, once per kernel table the CPU can run (DESIGN.md decision 2).
tables=$("$DLRM_BIN" info --json | "$PYTHON" -c 'import json,sys; print(" ".join(json.load(sys.stdin)["available_tables"]))')
for t in ref generic avx2 avx512 neon; do
    case " $tables " in
        *" $t "*) run_doctest "unit tests (DLRM_ISA=$t)" DLRM_ISA=$t "$BUILD/tests/dlrm_tests" ;;
        *) note "unit tests (DLRM_ISA=$t): SKIPPED: this CPU cannot run the $t table" ;;
    esac
done

# 2. Command-line tests (bad input, atomic outputs, end to end).
for s in tests/cli/test_*.py; do
    [ -e "$s" ] && run_checks "cli $(basename "$s" .py)" "$PYTHON" "$s"
done

# 3. Parity against PyTorch and scikit-learn.
if "$PYTHON" -c 'import numpy, torch, sklearn' 2>/dev/null; then
    for s in tests/parity/test_*.py; do
        [ -e "$s" ] && run_checks "parity $(basename "$s" .py)" "$PYTHON" "$s"
    done
else
    note "parity tests: FAILED: $PYTHON lacks numpy/torch/sklearn (run make deps)"
    failed=$((failed + 1))
fi

# 4. Extra suites (cross-ISA builds, sanitizers) register themselves here.
for s in tests/suites/*.sh; do
    [ -e "$s" ] && run_checks "suite $(basename "$s" .sh)" bash "$s"
done

if [ ${#failures[@]} -gt 0 ]; then note "failed suites: ${failures[*]}"; fi
note "all suites: $SECONDS s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# The Arm suite: cross-compiles dlrm for aarch64 (Debian's g++-aarch64-linux-gnu, meson cross file
# cross/aarch64-linux-gnu.ini) and runs the whole unit-test suite under qemu-aarch64 once per
# kernel table an Arm CPU offers (ref, generic, neon), then checks that the dotprod GEMM is chosen
# only on a CPU that has dotprod. Prints "PASS <name>" / "FAIL <name>: why" lines for
# tests/run_all.sh, "SKIP ..." for what it could not run.
# Env: BUILD_AARCH64 (build dir, default build-aarch64), JOBS (default 2).
# Only the two targets the suite needs are built (dlrm_tests and the dlrm binary); benchmarks are
# skipped by the top-level meson.build for cross builds.
set -u
cd "$(dirname "$0")/../.."
BUILD_AARCH64=${BUILD_AARCH64:-build-aarch64}
JOBS=${JOBS:-2}
SYSROOT=/usr/aarch64-linux-gnu
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/dlrm-arm.XXXXXX")
trap 'rm -rf "$log_dir"' EXIT
failed=0

fail() { echo "FAIL $*"; failed=1; }

if ! command -v aarch64-linux-gnu-g++ >/dev/null || ! command -v qemu-aarch64 >/dev/null || [ ! -d "$SYSROOT/lib" ]; then
    echo "SKIP arm cross build and qemu tests: aarch64-linux-gnu-g++, qemu-aarch64 or $SYSROOT missing"
    echo "FAIL arm toolchain missing: run make deps (packages g++-aarch64-linux-gnu qemu-user)"
    exit 1
fi
qemu() { qemu-aarch64 -L "$SYSROOT" "$@"; }

# 1. Configure (once) and build.
if [ ! -f "$BUILD_AARCH64/build.ninja" ]; then
    if ! meson setup "$BUILD_AARCH64" --cross-file cross/aarch64-linux-gnu.ini --buildtype=release \
            >"$log_dir/setup.log" 2>&1; then
        tail -30 "$log_dir/setup.log"
        echo "FAIL arm cross configure: meson setup $BUILD_AARCH64 failed (log above)"
        exit 1
    fi
fi
if ! ninja -C "$BUILD_AARCH64" -j "$JOBS" tests/dlrm_tests tools/dlrm >"$log_dir/build.log" 2>&1; then
    grep -E 'error|FAILED' "$log_dir/build.log" | head -30
    echo "FAIL arm cross build: ninja -C $BUILD_AARCH64 tests/dlrm_tests tools/dlrm failed (errors above)"
    exit 1
fi
if file "$BUILD_AARCH64/tests/dlrm_tests" 2>/dev/null | grep -q 'ARM aarch64' || ! command -v file >/dev/null; then
    echo "PASS arm cross build"
else
    fail "arm cross build: $BUILD_AARCH64/tests/dlrm_tests is not an aarch64 executable"
fi

# 2. The unit suite once per table. qemu's default CPU ("max") has NEON, dotprod, bf16 and fp16,
#    so every Arm variant in the registry is compared with the ref in each run.
for t in ref generic neon; do
    log="$log_dir/unit_$t.log"
    DLRM_ISA=$t qemu "$BUILD_AARCH64/tests/dlrm_tests" >"$log" 2>&1
    rc=$?
    counts=$(grep -E '^\[doctest\] test cases:' "$log" | tail -1)
    active=$(sed -n 's/^dlrm_tests: kernel table //p' "$log" | head -1)
    if [ "$rc" -eq 0 ] && [ "$active" = "$t" ] && echo "$counts" | grep -qE '\| *0 failed'; then
        echo "PASS arm unit tests (DLRM_ISA=$t): $(echo "$counts" | sed 's/^\[doctest\] test cases: *//')"
    else
        grep -E 'ERROR|logged|error' "$log" | head -40
        tail -5 "$log"
        fail "arm unit tests (DLRM_ISA=$t): exit $rc, table '${active:-none}', ${counts:-no doctest summary}"
    fi
done

# 3. Dispatch on real HWCAPs: the SDOT GEMM only where the CPU has dotprod (Armv8.2+), the plain
#    NEON one on a Cortex-A72 (Armv8.0, no dotprod).
check_u8s8() {  # cpu, expected active variant
    local out
    out=$(DLRM_ISA=neon qemu -cpu "$1" "$BUILD_AARCH64/tools/dlrm" info 2>&1)
    local active
    active=$(echo "$out" | awk '$1 == "gemm_u8s8" && $NF == "*" {print $2}')
    if [ "$active" = "$2" ]; then
        echo "PASS arm dispatch on $1: gemm_u8s8 is $2"
    else
        echo "$out" | head -30
        fail "arm dispatch on $1: gemm_u8s8 is '${active:-none}': expected $2"
    fi
}
check_u8s8 max gemm_u8s8s32__neondot_4x16
check_u8s8 cortex-a72 gemm_u8s8s32__neon_4x16

exit "$failed"

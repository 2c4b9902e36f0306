#!/usr/bin/env bash
# CI fuzz suite: every libFuzzer target (tests/fuzz/) for FUZZ_SECONDS (default 20) from its seed
# corpus, two at a time. One "PASS fuzz_x: N executions" / "FAIL fuzz_x: finding" line per target; a
# finding's input is saved under build-fuzz/findings/ and printed in hex. `make fuzz` runs longer.
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-20} FUZZ_JOBS=${FUZZ_JOBS:-2} exec bash tests/fuzz/run.sh

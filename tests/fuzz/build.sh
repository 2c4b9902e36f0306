#!/usr/bin/env bash
# Builds the libFuzzer targets (one per reader) with clang and ASan + UBSan into $1 (default
# build-fuzz). Standalone on purpose: only the reader sources are compiled (no kernels, no meson
# option to keep in sync), with a generated build.ninja so rebuilds are incremental.
# Needs clang and libclang-rt-14-dev (make deps). Usage: tests/fuzz/build.sh [OUT_DIR]
set -eu
cd "$(dirname "$0")/../.."
OUT=${1:-build-fuzz}
CXX=${FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
[ -n "$CXX" ] || { echo "tests/fuzz/build.sh: clang++ not found: run make deps (clang, libclang-rt-14-dev)" >&2; exit 1; }
mkdir -p "$OUT"
ROOT=$PWD

# The readers and what they need (mapped_file, zip for npz, the writers npz.cpp links against).
LIB_SOURCES="formats/mapped_file.cpp formats/npy/npy.cpp
  formats/zip/crc32.cpp formats/zip/zip_reader.cpp formats/zip/zip_writer.cpp formats/zip/npz.cpp
  formats/weights/weights_dtype.cpp formats/weights/weights_header.cpp formats/weights/weights_metadata.cpp
  formats/weights/weights_reader.cpp formats/weights/weights_writer.cpp formats/weights/xxhash64.cpp
  formats/criteo/criteo_dataset.cpp formats/criteo_tsv/criteo_tsv.cpp
  formats/torch/pickle_reader.cpp formats/torch/torch_checkpoint.cpp
  engine/quant/plan.cpp engine/model_config.cpp kernels/row_type.cpp"
TARGETS=$(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')

FLAGS="-std=c++20 -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter -Wno-unknown-pragmas
  -fsanitize=address,undefined -fno-sanitize-recover=all -I$ROOT"
{
    echo "cxx = $CXX"
    echo "flags = $(echo $FLAGS)"
    echo "rule cc"
    echo "  command = \$cxx \$flags -fsanitize=fuzzer-no-link -MMD -MF \$out.d -c \$in -o \$out"
    echo "  depfile = \$out.d"
    echo "  deps = gcc"
    echo "  description = CXX \$out"
    echo "rule ar"
    echo "  command = rm -f \$out && ar rcs \$out \$in"
    echo "rule link"
    echo "  command = \$cxx \$flags -fsanitize=fuzzer \$in -o \$out"
    echo "  description = LINK \$out"
    objs=""
    for s in $LIB_SOURCES; do
        o="obj/$(echo "$s" | tr / _).o"
        echo "build $o: cc $ROOT/$s"
        objs="$objs $o"
    done
    echo "build libfuzzcore.a: ar$objs"
    for t in $TARGETS; do
        echo "build obj/$t.o: cc $ROOT/tests/fuzz/$t.cpp"
        echo "build $t: link obj/$t.o libfuzzcore.a"
    done
} > "$OUT/build.ninja"
ninja -C "$OUT" -j "${JOBS:-2}" >&2
echo "$TARGETS"

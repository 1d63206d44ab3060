#!/bin/sh
# Runs a libFuzzer target with a scratch folder as its first corpus (where
# libFuzzer writes what it finds) and the repository's seeds second, so the
# seeds are read but never changed.
# usage: run_fuzz.sh FUZZER SCRATCH_DIR SEED_DIR [libFuzzer options...]
set -eu
fuzzer=$1
scratch=$2
seeds=$3
shift 3
mkdir -p "$scratch"
exec "$fuzzer" "$@" "$scratch" "$seeds"

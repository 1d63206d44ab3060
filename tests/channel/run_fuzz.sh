#!/bin/sh
# Runs a libFuzzer target with a scratch corpus first (libFuzzer writes new
# inputs into its first corpus folder, which must not be the repo's seeds).
# usage: run_fuzz.sh FUZZER SCRATCH_DIR SEED_DIR [libFuzzer options...]
set -eu
fuzzer=$1 scratch=$2 seeds=$3
shift 3
mkdir -p "$scratch"
exec "$fuzzer" "$@" "$scratch" "$seeds"

#!/bin/sh
# Runs a libFuzzer target on a scratch copy of its seed corpus: libFuzzer
# writes new inputs into the first corpus folder, which must not be the repo.
# usage: run_fuzz.sh FUZZER SCRATCH_DIR SEED_DIR [libFuzzer options...]
set -eu
fuzzer=$1 scratch=$2 seeds=$3
shift 3
mkdir -p "$scratch"
exec "$fuzzer" "$@" "$scratch" "$seeds"

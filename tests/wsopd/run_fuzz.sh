#!/bin/sh
# Runs a libFuzzer target with a fresh scratch corpus first (libFuzzer writes
# new inputs into its first corpus folder) and the repo's seeds second.
# usage: run_fuzz.sh TARGET SCRATCH_DIR SEED_DIR [libFuzzer flags...]
set -eu
target=$1 scratch=$2 seeds=$3
shift 3
rm -rf "$scratch"
mkdir -p "$scratch"
exec "$target" "$@" "$scratch" "$seeds"

#!/bin/sh
# The one runner of every libFuzzer target under tests/. libFuzzer writes
# what it finds into the FIRST corpus folder it is given, so that folder is
# a scratch one in the build tree, emptied on each run for a repeatable
# start, and the repository's seeds come second, read but never changed.
# usage: run_fuzz.sh FUZZER SCRATCH_DIR SEED_DIR [libFuzzer options...]
set -eu
if [ "$#" -lt 3 ]; then
	echo "usage: $0 FUZZER SCRATCH_DIR SEED_DIR [libFuzzer options...]" >&2
	exit 2
fi
fuzzer=$1 scratch=$2 seeds=$3
shift 3
# An empty or shared path here would make the rm below hit the seeds.
if [ -z "$scratch" ] || [ "$scratch" = "$seeds" ]; then
	echo "$0: the scratch dir must be its own non-empty path" >&2
	exit 2
fi
rm -rf "$scratch"
mkdir -p "$scratch"
exec "$fuzzer" "$@" "$scratch" "$seeds"

#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine or a used checkout:
#   1. installs the missing Debian packages,
#   2. builds with gcc (warnings are errors) and runs every test,
#   3. builds with clang + AddressSanitizer + UBSan + libFuzzer and runs
#      every test again plus each fuzz target briefly.
# Exits non-zero when anything fails; the last line counts the tests.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/deps.sh --tests || exit 1

passed=0
failed=0
skipped=0
status=0

count_results() {
	# meson writes one JSON object per test to testlog.json.
	local log=$1/meson-logs/testlog.json
	[ -f "$log" ] || return 0
	local p f s
	read -r p f s < <(python3 - "$log" <<'PY'
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        ok += 1
    elif r == "SKIP":
        skip += 1
    else:
        bad += 1
print(ok, bad, skip)
PY
	)
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

# build DIR [meson setup args...]: configure (or reconfigure) and compile.
build() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null || return 1
	else
		meson setup "$dir" "$@" >/dev/null || return 1
	fi
	ninja -C "$dir" || return 1
}

run_suite() {
	local dir=$1
	shift
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --print-errorlogs "$@" || status=1
	count_results "$dir"
}

echo "== gcc build"
if build build; then
	run_suite build --no-suite fuzz
else
	echo "gcc build failed"
	status=1
	failed=$((failed + 1))
fi

echo "== clang ASan+UBSan+libFuzzer build"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The module's tests there use the gcc build's helper (see tests/meson.build).
if CC=clang build build-asan -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
	-Dtest_helper="$top/build/helper/pkcs11wsop-helper"; then
	run_suite build-asan
else
	echo "clang sanitizer build failed"
	status=1
	failed=$((failed + 1))
fi

echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status

#!/usr/bin/env bash
# Runs the benchmarks of bench/README.md against a fresh wsopd.
#
# usage: bench/run.sh [--smoke] [--compare] [--seconds S] [--runs N]
#                     [--results FILE] [BUILD_DIR]            (default build/)
#
# It makes a throw-away PKI (tools/pki.sh), starts wsopd on 127.0.0.1 with
# a fresh store on a free port, writes a pkcs11wsop.cfg (LOGLEVEL 2) and
# creates a softcard with softcardtool. Then, by mode:
#  (none)     the matrix: p11bench (through the module and its helper) and
#             restbench (raw REST over direct TLS, the baseline); one table.
#  --compare  our module beside SoftHSMv2 in-process and p11-kit remote
#             (p11-kit server exporting that SoftHSMv2 token on a unix
#             socket, p11-kit-client.so), the same p11bench cases for all
#             three, each run N times (default 3) in alternation; writes the
#             medians to bench/RESULTS.md (or --results FILE). It installs
#             softhsm2 and p11-kit through tools/deps.sh --bench.
#  --smoke    every workload (or, with --compare, every compare case on all
#             three modules) for a few operations; fails unless each run
#             exits 0 with zero errors: a functional check, no timing is
#             judged. --compare --smoke writes its report into the work
#             directory and prints it, never to bench/RESULTS.md.
#
# PKCS11WSOP_HELPER, when set, replaces the build's helper (e.g. a plain
# build's helper under a sanitizer build's module). WSOPD_LOG_LEVEL (default 2)
# sets wsopd's --log-level (4: a line per request). KEEP_WORK=1 keeps the
# temp dir (logs, JSON lines).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/common.sh
. "$here/common.sh"
smoke=0
compare=0
secs=3
runs=3
results_md=$here/RESULTS.md
build=$root/build
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1 ;;
	--compare) compare=1 ;;
	--seconds) secs=$2; shift ;;
	--runs) runs=$2; shift ;;
	--results) results_md=$2; shift ;;
	-h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) build=$1 ;;
	esac
	shift
done
build=$(cd "$build" 2>/dev/null && pwd) || { echo "run.sh: no build dir" >&2; exit 2; }
[[ $secs =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]] ||
	{ echo "run.sh: --seconds and --runs take a positive number" >&2; exit 2; }

p11bench=$build/bench/p11bench
restbench=$build/bench/restbench
module=$build/lib/libpkcs11wsop.so
wsopd=$build/server/wsopd
softcardtool=$build/tools/softcardtool
wsopctl=$build/tools/wsopctl
export PKCS11WSOP_HELPER=${PKCS11WSOP_HELPER:-$build/helper/pkcs11wsop-helper}
needed=("$p11bench" "$restbench" "$module" "$wsopd" "$softcardtool" "$PKCS11WSOP_HELPER")
[ $compare -eq 1 ] && needed+=("$wsopctl")
bench_need run.sh "build first: ninja -C $build" "${needed[@]}"

if [ $compare -eq 1 ]; then
	"$root/tools/deps.sh" --bench || { echo "run.sh: tools/deps.sh --bench failed" >&2; exit 1; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX") || exit 1
server_pid=
p11kit_pid=
stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
cleanup() {
	local status=$?
	stop "$server_pid"
	stop "$p11kit_pid"
	if [ "$status" -ne 0 ]; then
		echo "# --- tail of the module log ---"
		tail -n 20 "$work/p11.log" 2>/dev/null | sed 's/^/# /'
		echo "# --- tail of the wsopd log ---"
		tail -n 20 "$work/wsopd.log" 2>/dev/null | sed 's/^/# /'
		if [ -s "$work/p11kit.log" ]; then
			echo "# --- tail of the p11-kit server log ---"
			tail -n 20 "$work/p11kit.log" | sed 's/^/# /'
		fi
	fi
	bench_drop_work "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
die() { echo "run.sh: $*" >&2; exit 1; }

"$root/tools/pki.sh" "$work/pki" >/dev/null || die "pki.sh failed"
mkdir -m 0700 "$work/store"
# wsopd logs at level 2 too: a line per request would be measured as well.
# Its "listening on" line is INFO, so the port is read from ss instead.
"$wsopd" --listen 127.0.0.1:0 --cert "$work/pki/server.crt" --key "$work/pki/server.key" \
	--ca "$work/pki/ca.crt" --store "$work/store" --log-level "${WSOPD_LOG_LEVEL:-2}" 2>"$work/wsopd.log" &
server_pid=$!
port=$(bench_port "$server_pid") || die "wsopd did not start: $(cat "$work/wsopd.log")"

bench_client_config "$work/pkcs11wsop.cfg" "$work" 127.0.0.1 "$port"
export PKCS11WSOP_CONF=$work/pkcs11wsop.cfg

pin="Bench${RANDOM}pass${RANDOM}"
out=$(printf '%s\n' "$pin" | "$softcardtool" -g --name=bench 2>&1) || die "softcardtool -g: $out"
softcard=$("$softcardtool" -l 2>/dev/null | awk '$2 == "bench" { print $1 }')
[ -n "$softcard" ] || die "softcard 'bench' not listed by softcardtool -l"

results=$work/results.jsonl
failures=0

# record PREFIX LINE STATUS WHAT: appends a JSON line (PREFIX: members put
# in front, "" or '"a":1,'), counts a failure when the run failed.
record() {
	[ -n "$2" ] && echo "{$1${2#\{}" >>"$results"
	if [ "$3" -ne 0 ]; then
		echo "run.sh: $4 exited $3: $2" >&2
		failures=$((failures + 1))
	fi
}

# p11 ARGS...: one p11bench run through our module.
p11() {
	local line
	line=$(printf '%s\n' "$pin" | "$p11bench" --library "$module" --token bench --json "$@")
	record "" "$line" $? "p11bench $*"
}

rest() {
	local line
	line=$(printf '%s\n' "$pin" | "$restbench" --server "127.0.0.1:$port" \
		--cert "$work/pki/client.crt" --key "$work/pki/client.key" --ca "$work/pki/ca.crt" \
		--softcard "$softcard" --json "$@")
	record "" "$line" $? "restbench $*"
}

print_table() {
	printf '%-10s %-18s %7s %4s %9s %9s %9s %9s %9s %6s\n' tool workload bytes thr \
		ops/s p50_us p90_us p99_us max_us errors
	local line
	while IFS= read -r line; do
		printf '%-10s %-18s %7s %4s %9s %9s %9s %9s %9s %6s\n' \
			"$(field tool "$line")" "$(field workload "$line")" \
			"$(field size "$line")" "$(field threads "$line")" "$(field ops_per_sec "$line")" \
			"$(field p50_us "$line")" "$(field p90_us "$line")" "$(field p99_us "$line")" \
			"$(field max_us "$line")" "$(field errors "$line")"
	done <"$results"
}

# expect_clean N: every one of N runs printed a line with zero errors.
expect_clean() {
	[ "$(grep -c '"errors":0,' "$results")" -eq "$1" ] || failures=$((failures + 1))
	[ $failures -eq 0 ] || die "$failures run(s) failed"
}

echo "# wsopd on 127.0.0.1:$port, softcard bench ($softcard), $(nproc) cores"
if [ $compare -eq 1 ]; then
	# shellcheck source=bench/compare.sh
	. "$here/compare.sh"
	exit 0 # compare.sh leaves through die on any failure
fi
if [ $smoke -eq 1 ]; then
	for w in encrypt decrypt encrypt-multipart decrypt-multipart keygen generate find getattr; do
		p11 --workload "$w" --ops 50 --threads 2 --size 100 --part 32
	done
	p11 --workload init-finalize --ops 5 --warmup 1
	p11 --workload login-cycle --ops 3 --warmup 1
	rest --workload encrypt --ops 50 --threads 2
	rest --workload decrypt --ops 50 --threads 2
	print_table
	expect_clean 12
	echo "bench-smoke: ok"
	exit 0
fi

t="--seconds $secs"
# shellcheck disable=SC2086 # $t is two words on purpose
{
	for n in 1 2 4 8; do p11 --workload encrypt --size 64 --threads $n $t; done
	p11 --workload encrypt --size 4096 --threads 1 $t
	p11 --workload encrypt --size 4096 --threads 4 $t
	p11 --workload decrypt --size 64 --threads 4 $t
	p11 --workload encrypt-multipart --size 65536 --part 4096 --threads 1 $t
	p11 --workload find --threads 1 $t
	p11 --workload getattr --threads 1 $t
	p11 --workload keygen --threads 1 $t
	rest --workload encrypt --size 64 --threads 1 $t
	rest --workload encrypt --size 64 --threads 4 $t
	rest --workload encrypt --size 4096 --threads 1 $t
	rest --workload decrypt --size 64 --threads 4 $t
}
print_table
[ $failures -eq 0 ] || die "$failures run(s) failed"

#!/usr/bin/env bash
# Runs the benchmark matrix of bench/README.md against a fresh wsopd and
# prints one results table.
#
# usage: bench/run.sh [--smoke] [--seconds S] [BUILD_DIR]    (default build/)
#
# It makes a throw-away PKI (tools/pki.sh), starts wsopd on 127.0.0.1 with
# a fresh store on a free port, writes a pkcs11wsop.cfg (LOGLEVEL 2), creates
# a softcard with softcardtool, then runs p11bench (through the module and
# its helper) and restbench (raw REST over direct TLS: the baseline).
# --smoke (the meson test 'bench-smoke') runs every workload for 50
# operations in 2 threads instead and fails unless each exits 0 with zero
# errors: a functional check, no timing is judged.
#
# PKCS11WSOP_HELPER, when set, replaces the build's helper (e.g. a plain
# build's helper under a sanitizer build's module). WSOPD_LOG_LEVEL (default 2)
# sets wsopd's --log-level (4: a line per request). KEEP_WORK=1 keeps the
# temp dir (logs, JSON lines).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
smoke=0
secs=3
build=$root/build
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1 ;;
	--seconds) secs=$2; shift ;;
	-h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) build=$1 ;;
	esac
	shift
done
build=$(cd "$build" 2>/dev/null && pwd) || { echo "run.sh: no build dir" >&2; exit 2; }

p11bench=$build/bench/p11bench
restbench=$build/bench/restbench
module=$build/lib/libpkcs11wsop.so
wsopd=$build/server/wsopd
softcardtool=$build/tools/softcardtool
export PKCS11WSOP_HELPER=${PKCS11WSOP_HELPER:-$build/helper/pkcs11wsop-helper}
for f in "$p11bench" "$restbench" "$module" "$wsopd" "$softcardtool" "$PKCS11WSOP_HELPER"; do
	[ -e "$f" ] || { echo "run.sh: missing $f (build first: ninja -C $build)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX") || exit 1
server_pid=
cleanup() {
	local status=$?
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if [ "$status" -ne 0 ]; then
		echo "# --- tail of the module log ---"
		tail -n 20 "$work/p11.log" 2>/dev/null | sed 's/^/# /'
		echo "# --- tail of the wsopd log ---"
		tail -n 20 "$work/wsopd.log" 2>/dev/null | sed 's/^/# /'
	fi
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $work"; else rm -rf "$work"; fi
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
port=
for _ in $(seq 1 100); do
	port=$(ss -Hltnp 2>/dev/null | awk -v p="pid=$server_pid," \
		'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
	[ -n "$port" ] && break
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$port" ] || die "wsopd did not start: $(cat "$work/wsopd.log")"

cat >"$work/pkcs11wsop.cfg" <<-EOF2
	HOST 127.0.0.1
	PORT $port
	CERT $work/pki/client.crt
	KEY $work/pki/client.key
	AUTH $work/pki/ca.crt
	LOGLEVEL 2
	LOGFILEPATH $work/p11.log
EOF2
export PKCS11WSOP_CONF=$work/pkcs11wsop.cfg

pin="Bench${RANDOM}pass${RANDOM}"
out=$(printf '%s\n' "$pin" | "$softcardtool" -g --name=bench 2>&1) || die "softcardtool -g: $out"
softcard=$("$softcardtool" -l 2>/dev/null | awk '$2 == "bench" { print $1 }')
[ -n "$softcard" ] || die "softcard 'bench' not listed by softcardtool -l"

results=$work/results.jsonl
failures=0

# p11 ARGS...: one p11bench run; its JSON line goes to $results.
p11() {
	local line
	line=$(printf '%s\n' "$pin" | "$p11bench" --library "$module" --token bench --json "$@")
	local status=$?
	[ -n "$line" ] && echo "$line" >>"$results"
	if [ $status -ne 0 ]; then
		echo "run.sh: p11bench $* exited $status: $line" >&2
		failures=$((failures + 1))
	fi
}

rest() {
	local line
	line=$(printf '%s\n' "$pin" | "$restbench" --server "127.0.0.1:$port" \
		--cert "$work/pki/client.crt" --key "$work/pki/client.key" --ca "$work/pki/ca.crt" \
		--softcard "$softcard" --json "$@")
	local status=$?
	[ -n "$line" ] && echo "$line" >>"$results"
	if [ $status -ne 0 ]; then
		echo "run.sh: restbench $* exited $status: $line" >&2
		failures=$((failures + 1))
	fi
}

# field NAME LINE: a number or string member of a flat JSON line.
field() {
	sed -n "s/.*\"$1\":\\(\"[^\"]*\"\\|[^,}]*\\).*/\\1/p" <<<"$2" | tr -d '"'
}

print_table() {
	printf '%-10s %-18s %7s %4s %9s %9s %9s %9s %9s %6s\n' tool workload bytes thr \
		ops/s p50_us p90_us p99_us max_us errors
	local line
	while IFS= read -r line; do
		printf '%-10s %-18s %7s %4s %9s %9s %9s %9s %9s %6s\n' \
			"$(field tool "$line")" "$(field workload "$line")" "$(field size "$line")" \
			"$(field threads "$line")" "$(field ops_per_sec "$line")" \
			"$(field p50_us "$line")" "$(field p90_us "$line")" "$(field p99_us "$line")" \
			"$(field max_us "$line")" "$(field errors "$line")"
	done <"$results"
}

echo "# wsopd on 127.0.0.1:$port, softcard bench ($softcard), $(nproc) cores"
if [ $smoke -eq 1 ]; then
	for w in encrypt decrypt encrypt-multipart keygen find getattr; do
		p11 --workload "$w" --ops 50 --threads 2 --size 100 --part 32
	done
	rest --workload encrypt --ops 50 --threads 2
	rest --workload decrypt --ops 50 --threads 2
	print_table
	# Every line must say zero errors, and every run must have printed one.
	[ "$(grep -c '"errors":0,' "$results")" -eq 8 ] || failures=$((failures + 1))
	[ $failures -eq 0 ] || die "$failures run(s) failed"
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

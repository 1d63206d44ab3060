#!/usr/bin/env bash
# Encrypt and keygen throughput of wsopd on its two stores: one node on
# SQLite (a folder), then one, two and three nodes sharing a private
# PostgreSQL (tests/cluster/pg.sh). Prints one table (bench/CLUSTER.md
# keeps a run of it).
#
# usage: bench/cluster.sh [--seconds S] [BUILD_DIR]      (default build/, 3 s)
#
# Load: p11bench through the module, as many processes as nodes, each
# with its own pkcs11wsop.cfg whose HOST list starts at a different node
# (the module talks to the first healthy server of its list, so clients
# spread over a cluster by their configuration). encrypt: 6 threads in
# all, 64 bytes AES-CBC-PAD; keygen: 6 threads in all, C_GenerateKey +
# C_DestroyObject (two durable commits). ops/s is the sum over the
# processes; p50 is the median of their medians. Every node runs with
# --threads 4 and --log-level 2; the master key file is shared.
# KEEP_WORK=1 keeps the temp folder (logs, JSON lines).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=bench/common.sh
. "$here/common.sh"
secs=3
build=$root/build
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) secs=$2; shift ;;
	-h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
	*) build=$1 ;;
	esac
	shift
done
build=$(cd "$build" 2>/dev/null && pwd) || { echo "cluster.sh: no build dir" >&2; exit 2; }
p11bench=$build/bench/p11bench
module=$build/lib/libpkcs11wsop.so
wsopd=$build/server/wsopd
softcardtool=$build/tools/softcardtool
export PKCS11WSOP_HELPER=${PKCS11WSOP_HELPER:-$build/helper/pkcs11wsop-helper}
bench_need cluster.sh "build first" "$p11bench" "$module" "$wsopd" "$softcardtool" "$PKCS11WSOP_HELPER"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-cluster.XXXXXX") || exit 1
pgdir=$(mktemp -d /tmp/wsop-pg.XXXXXX) || exit 1
pids=()
stop_nodes() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	pids=()
}
cleanup() {
	local status=$?
	stop_nodes
	"$root/tests/cluster/pg.sh" stop "$pgdir"
	bench_drop_work "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
die() { echo "cluster.sh: $*" >&2; exit 1; }

"$root/tools/pki.sh" "$work/pki" >/dev/null || die "pki.sh failed"
head -c 32 /dev/urandom >"$work/master.key" && chmod 0600 "$work/master.key"
conninfo=$("$root/tests/cluster/pg.sh" start "$pgdir") || die "cannot start PostgreSQL"

# node STORE: starts one more wsopd on a free port; its port goes to ports[].
ports=()
node() {
	local log=$work/wsopd${#pids[@]}.log port= p
	"$wsopd" --listen 127.0.0.1:0 --cert "$work/pki/server.crt" --key "$work/pki/server.key" \
		--ca "$work/pki/ca.crt" --store "$1" --master-key "$work/master.key" \
		--log-level 2 2>"$log" &
	p=$!
	pids+=("$p")
	port=$(bench_port "$p") || die "wsopd did not start: $(cat "$log")"
	ports+=("$port")
}

# config I: the module's configuration starting at node I, then the others.
config() {
	local n=${#ports[@]} hosts= j
	for j in $(seq 0 $((n - 1))); do
		hosts="$hosts${hosts:+, }127.0.0.1:${ports[$(((${1} + j) % n))]}"
	done
	bench_client_config "$work/p11-$1.cfg" "$work" "$hosts"
}

pin="Bench${RANDOM}pass${RANDOM}"
# run STORE-NAME WORKLOAD TOTAL-THREADS: p11bench on every node at once.
run() {
	local n=${#ports[@]} i out=() threads=$(($3 / ${#ports[@]})) sum=0 p50s=() line
	[ "$threads" -ge 1 ] || threads=1
	for i in $(seq 0 $((n - 1))); do
		PKCS11WSOP_CONF=$work/p11-$i.cfg "$p11bench" --library "$module" --token bench \
			--pin "$pin" --label "bench$i" --workload "$2" --threads "$threads" \
			--seconds "$secs" --json >"$work/run-$i.json" 2>>"$work/p11bench.err" &
		out+=($!)
	done
	for i in "${out[@]}"; do wait "$i" || die "p11bench failed: $(tail -n 3 "$work/p11bench.err")"; done
	for i in $(seq 0 $((n - 1))); do
		line=$(cat "$work/run-$i.json")
		[ "$(field errors "$line")" = 0 ] || die "errors in $line"
		sum=$(awk -v a="$sum" -v b="$(field ops_per_sec "$line")" 'BEGIN { print a + b }')
		p50s+=("$(field p50_us "$line")")
	done
	printf '%-22s %-8s %5s %4s %10.0f %8s\n' "$1" "$2" "$n" "$((threads * n))" "$sum" \
		"$(printf '%s\n' "${p50s[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
}

# matrix STORE-NAME: the softcard on the first node, then both workloads.
matrix() {
	local i
	for i in $(seq 0 $((${#ports[@]} - 1))); do config "$i"; done
	if ! PKCS11WSOP_CONF=$work/p11-0.cfg "$softcardtool" -l 2>/dev/null | awk '$2 == "bench" { f = 1 } END { exit !f }'; then
		printf '%s\n' "$pin" | PKCS11WSOP_CONF=$work/p11-0.cfg "$softcardtool" -g --name=bench \
			>/dev/null 2>&1 || die "softcardtool -g failed"
	fi
	run "$1" encrypt 6
	run "$1" keygen 6
}

echo "# $(nproc) cores, $secs s per run; $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-22s %-8s %5s %4s %10s %8s\n' store workload nodes thr ops/s p50_us
mkdir -m 0700 "$work/store"
node "$work/store"
matrix "SQLite (folder)"
stop_nodes
ports=()
for n in 1 2 3; do
	while [ ${#ports[@]} -lt "$n" ]; do node "$conninfo"; done
	matrix "PostgreSQL"
done

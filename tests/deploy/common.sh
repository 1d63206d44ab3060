# shellcheck shell=bash
# Shared by the tests of this folder (sourced, never run): TAP counting,
# the work folder and its EXIT trap, a system account, and a wsopd on a
# fresh PKI and store.
#
# deploy_begin PREFIX  makes $work (removed on exit unless KEEP_WORK is
#                      set; on failure the tail of $work/wsopd.log is shown)
# ok / not_ok / check NAME COMMAND...   one TAP point each
# deploy_finish        prints the plan and exits 1 when anything failed
# system_user NAME     makes the system account NAME when missing (it owns
#                      nothing and cannot log in; left in place)
# start_wsopd [COMMAND...]  runs wsopd (after COMMAND, e.g. strace or
#                      setpriv) on $work/pki and $work/store, 127.0.0.1:0;
#                      sets server_pid, and port from its log
set -uo pipefail

server_pid=
tests=0
failures=0

skip() {
	echo "SKIP: $*"
	exit 77
}
die() {
	echo "Bail out! $*"
	exit 1
}

# shellcheck disable=SC2317 # run by the EXIT trap
deploy_cleanup() {
	local status=$?
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if [ "$status" -ne 0 ] && [ "$status" -ne 77 ] && [ -f "$work/wsopd.log" ]; then
		echo "# --- tail of the wsopd log ---"
		tail -n 10 "$work/wsopd.log" | sed 's/^/# /'
	fi
	[ -z "${KEEP_WORK:-}" ] && rm -rf -- "$work"
	exit "$status"
}

deploy_begin() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || die "mktemp"
	chmod 0755 "$work"
	trap deploy_cleanup EXIT
	trap 'exit 1' INT TERM
}

ok() {
	tests=$((tests + 1))
	echo "ok $tests - $*"
}
not_ok() {
	tests=$((tests + 1))
	failures=$((failures + 1))
	echo "not ok $tests - $*"
}
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
deploy_finish() {
	echo "1..$tests"
	if [ "$failures" -ne 0 ]; then
		echo "# $failures of $tests failed"
		exit 1
	fi
	exit 0
}

system_user() {
	getent passwd "$1" >/dev/null && return 0
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		--user-group "$1" || die "useradd $1 failed"
}

start_wsopd() {
	[ -d "$work/pki" ] || "$WSOP_PKI_SH" "$work/pki" >/dev/null || die "pki.sh failed"
	[ -d "$work/store" ] || mkdir -m 0700 "$work/store"
	"$@" "$WSOPD" --listen 127.0.0.1:0 --cert "$work/pki/server.crt" \
		--key "$work/pki/server.key" --ca "$work/pki/ca.crt" --store "$work/store" \
		2>"$work/wsopd.log" &
	server_pid=$!
	port=
	for _ in $(seq 1 200); do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/wsopd.log" |
			head -n 1)
		[ -n "$port" ] && return 0
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	die "wsopd did not start: $(cat "$work/wsopd.log")"
}

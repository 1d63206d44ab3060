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

# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

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

check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
deploy_finish() {
	tap_finish
}

system_user() {
	getent passwd "$1" >/dev/null && return 0
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		--user-group "$1" || die "useradd $1 failed"
}

start_wsopd() {
	lib_start_wsopd "$work" "$@" || die "wsopd did not start"
}

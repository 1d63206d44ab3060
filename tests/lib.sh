# shellcheck shell=bash
# Shared by the shell tests (sourced, never run; tests/clients/harness.sh,
# tests/deploy/common.sh and tests/privsep/privsep_test.sh source it):
#
# skip WHY / die WHY   exit 77 with "SKIP: WHY" / exit 1 with "Bail out! WHY"
# ok / not_ok NAME     one TAP point each
# expect NAME STATUS PATTERN... -- COMMAND...
#                      COMMAND (stdin from $EXPECT_STDIN, else /dev/null)
#                      must exit with STATUS (* for any, ! for any
#                      non-zero) and its stdout+stderr must match every
#                      grep -E PATTERN (a leading ! inverts); the output is
#                      kept in $OUT for further checks
# tap_finish           prints the plan and exits 1 when anything failed
# lib_start_wsopd DIR [COMMAND...]
#                      runs wsopd (after COMMAND, e.g. strace or setpriv) on
#                      127.0.0.1:0 with DIR/pki (made by $WSOP_PKI_SH when
#                      missing) and DIR/store, its stderr in DIR/wsopd.log;
#                      sets server_pid, and port from its "listening on"
#                      line. 1 (the log printed) when it does not start.
# lib_write_p11_cfg FILE PORT CERT KEY CA LOGFILE
#                      a pkcs11wsop.cfg for localhost:PORT with LOGLEVEL 6
#                      into LOGFILE and no retries
tap_tests=0
tap_failures=0
server_pid=
port=

skip() {
	echo "SKIP: $*"
	exit 77
}

die() {
	echo "Bail out! $*"
	exit 1
}

ok() {
	tap_tests=$((tap_tests + 1))
	echo "ok $tap_tests - $*"
}

not_ok() {
	tap_tests=$((tap_tests + 1))
	tap_failures=$((tap_failures + 1))
	echo "not ok $tap_tests - $*"
}

OUT=
expect() {
	local name=$1 want=$2
	shift 2
	local patterns=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		patterns+=("$1")
		shift
	done
	shift
	local status
	OUT=$("$@" 2>&1 <"${EXPECT_STDIN:-/dev/null}")
	status=$?
	local lib_why=() p
	if [ "$want" = "!" ]; then
		[ "$status" -ne 0 ] || lib_why+=("exit status 0, want a failure")
	elif [ "$want" != "*" ] && [ "$status" -ne "$want" ]; then
		lib_why+=("exit status $status, want $want")
	fi
	for p in "${patterns[@]}"; do
		if [ "${p:0:1}" = "!" ]; then
			grep -qE -- "${p:1}" <<<"$OUT" && lib_why+=("unexpected: ${p:1}")
		else
			grep -qE -- "$p" <<<"$OUT" || lib_why+=("missing: $p")
		fi
	done
	if [ ${#lib_why[@]} -eq 0 ]; then
		ok "$name"
		return 0
	fi
	not_ok "$name"
	printf '#   %s\n' "${lib_why[@]}"
	printf '#   command: %s\n' "$*"
	# shellcheck disable=SC2001 # a prefix on every line
	sed 's/^/#   | /' <<<"$OUT" | head -n 40
	return 1
}

tap_finish() {
	echo "1..$tap_tests"
	if [ "$tap_failures" -ne 0 ]; then
		echo "# $tap_failures of $tap_tests failed"
		exit 1
	fi
	exit 0
}

lib_start_wsopd() {
	local dir=$1 _
	shift
	[ -d "$dir/pki" ] || "$WSOP_PKI_SH" "$dir/pki" >/dev/null || die "pki.sh failed"
	[ -d "$dir/store" ] || mkdir -m 0700 "$dir/store"
	"$@" "$WSOPD" --listen 127.0.0.1:0 --cert "$dir/pki/server.crt" \
		--key "$dir/pki/server.key" --ca "$dir/pki/ca.crt" --store "$dir/store" \
		2>"$dir/wsopd.log" &
	server_pid=$!
	port=
	for _ in $(seq 1 200); do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$dir/wsopd.log" |
			head -n 1)
		[ -n "$port" ] && return 0
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/wsopd.log"
	return 1
}

lib_write_p11_cfg() {
	cat >"$1" <<-EOF
		HOST localhost
		PORT $2
		CERT $3
		KEY $4
		AUTH $5
		LOGLEVEL 6
		LOGFILEPATH $6
		MAXRETRIES 0
		RETRYDELAY 0
	EOF
}

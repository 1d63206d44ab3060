# shellcheck shell=bash
# Shared set-up of the real-client tests: sourced (never run) by each
# *_test.sh in this folder. It builds nothing: meson hands it the paths.
#
# Environment (tests/clients/meson.build sets it):
#   PKCS11WSOP_MODULE  libpkcs11wsop.so        PKCS11WSOP_HELPER  the helper
#   WSOPD              the reference server    SOFTCARDTOOL       softcardtool
#   WSOP_PKI_SH        tools/pki.sh
#
# harness_up [SOFTCARD_NAME] makes a private temp dir ($WORK) holding a fresh
# PKI, starts wsopd on a fresh store on 127.0.0.1:0 (the port is read from
# its "listening on 127.0.0.1:PORT" line), writes $WORK/pkcs11wsop.cfg
# (LOGLEVEL 6 into $WORK/p11.log, no retries), exports PKCS11WSOP_CONF and
# PKCS11WSOP_HELPER, and creates one softcard with softcardtool (passphrase
# on stdin). Afterwards: MODULE, PIN (the passphrase), TOKEN (the softcard
# name = token label), SOFTCARD_ID, WORK, P11_LOG. An EXIT trap stops the
# server and removes $WORK; on failure it prints the tails of both logs.
#
# H_ALSO_REMOVE, when set before harness_up, names one more folder that the
# trap removes (a sourcing script's own temp dir, whose trap this replaces).
#
# ok/not_ok/expect_* count results in TAP style; harness_finish exits 1
# when anything failed.

set -uo pipefail

h_server_pid=
h_failures=0
h_tests=0

h_cleanup() {
	local status=$?
	if [ -n "$h_server_pid" ] && kill -0 "$h_server_pid" 2>/dev/null; then
		kill -TERM "$h_server_pid" 2>/dev/null
		wait "$h_server_pid" 2>/dev/null
	fi
	if [ "$status" -ne 0 ] && [ "$status" -ne 77 ] && [ -n "${WORK:-}" ]; then
		echo "# --- tail of the module log ($P11_LOG) ---"
		tail -n 30 "$P11_LOG" 2>/dev/null | sed 's/^/# /'
		echo "# --- tail of the wsopd log ---"
		tail -n 20 "$WORK/wsopd.log" 2>/dev/null | sed 's/^/# /'
	fi
	[ -n "${WORK:-}" ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
	[ -n "${H_ALSO_REMOVE:-}" ] && rm -rf "$H_ALSO_REMOVE"
	exit "$status"
}

# A client that is not installed is the only reason to skip.
harness_need() {
	local what=$1
	shift
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "SKIP: $c not installed (Debian package $what)"
			exit 77
		fi
	done
}

h_die() {
	echo "Bail out! $*"
	exit 1
}

harness_up() {
	local name=${1:-clients}
	local v
	for v in PKCS11WSOP_MODULE PKCS11WSOP_HELPER WSOPD SOFTCARDTOOL WSOP_PKI_SH; do
		[ -n "${!v:-}" ] || h_die "$v is not set (run through meson test)"
	done
	# shellcheck disable=SC2034 # used by the scripts that source this one
	MODULE=$PKCS11WSOP_MODULE
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/clients-test.XXXXXX") || h_die "mktemp"
	P11_LOG=$WORK/p11.log
	trap h_cleanup EXIT
	trap 'exit 1' INT TERM

	"$WSOP_PKI_SH" "$WORK/pki" >/dev/null || h_die "pki.sh failed"
	mkdir -m 0700 "$WORK/store"
	"$WSOPD" --listen 127.0.0.1:0 --cert "$WORK/pki/server.crt" --key "$WORK/pki/server.key" \
		--ca "$WORK/pki/ca.crt" --store "$WORK/store" 2>"$WORK/wsopd.log" &
	h_server_pid=$!
	local port='' _
	for _ in $(seq 1 100); do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/wsopd.log" | head -n 1)
		[ -n "$port" ] && break
		kill -0 "$h_server_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$port" ] || { cat "$WORK/wsopd.log"; h_die "wsopd did not start"; }

	cat >"$WORK/pkcs11wsop.cfg" <<-EOF
		HOST localhost
		PORT $port
		CERT $WORK/pki/client.crt
		KEY $WORK/pki/client.key
		AUTH $WORK/pki/ca.crt
		LOGLEVEL 6
		LOGFILEPATH $P11_LOG
		MAXRETRIES 0
		RETRYDELAY 0
	EOF
	export PKCS11WSOP_CONF=$WORK/pkcs11wsop.cfg
	export PKCS11WSOP_HELPER

	TOKEN=$name
	# Letters and digits only: the manual allows no special characters.
	PIN="Pass${RANDOM}word${RANDOM}"
	local out
	out=$(printf '%s\n' "$PIN" | "$SOFTCARDTOOL" -g --name="$TOKEN" 2>&1) ||
		h_die "softcardtool -g failed: $out"
	SOFTCARD_ID=$("$SOFTCARDTOOL" -l 2>/dev/null | awk -v n="$TOKEN" '$2 == n { print $1 }')
	[ -n "$SOFTCARD_ID" ] || h_die "softcard $TOKEN not listed by softcardtool -l"
	echo "# wsopd on 127.0.0.1:$port, softcard $TOKEN ($SOFTCARD_ID), work dir $WORK"
}

ok() {
	h_tests=$((h_tests + 1))
	echo "ok $h_tests - $*"
}

not_ok() {
	h_tests=$((h_tests + 1))
	h_failures=$((h_failures + 1))
	echo "not ok $h_tests - $*"
}

# expect NAME STATUS PATTERN... -- COMMAND...: COMMAND (stdin from
# $EXPECT_STDIN or /dev/null) must exit with STATUS (* for any) and its stdout+stderr
# must match every grep -E PATTERN (a leading ! inverts). The output is kept
# in $OUT for further checks.
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
	local why=() p
	[ "$want" = "*" ] || [ "$status" -eq "$want" ] || why+=("exit status $status, want $want")
	for p in "${patterns[@]}"; do
		if [ "${p:0:1}" = "!" ]; then
			grep -qE -- "${p:1}" <<<"$OUT" && why+=("unexpected: ${p:1}")
		else
			grep -qE -- "$p" <<<"$OUT" || why+=("missing: $p")
		fi
	done
	if [ ${#why[@]} -eq 0 ]; then
		ok "$name"
		return 0
	fi
	not_ok "$name"
	printf '#   %s\n' "${why[@]}"
	printf '#   command: %s\n' "$*"
	sed 's/^/#   | /' <<<"$OUT" | head -n 40
	return 1
}

harness_finish() {
	echo "1..$h_tests"
	if [ "$h_failures" -ne 0 ]; then
		echo "# $h_failures of $h_tests failed"
		exit 1
	fi
	exit 0
}

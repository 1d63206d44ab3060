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
# ok/not_ok/expect (tests/lib.sh) count results in TAP style;
# harness_finish exits 1 when anything failed.

set -uo pipefail

# shellcheck source=tests/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

h_cleanup() {
	local status=$?
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
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

harness_up() {
	local name=${1:-clients}
	local v
	for v in PKCS11WSOP_MODULE PKCS11WSOP_HELPER WSOPD SOFTCARDTOOL WSOP_PKI_SH; do
		[ -n "${!v:-}" ] || die "$v is not set (run through meson test)"
	done
	# shellcheck disable=SC2034 # used by the scripts that source this one
	MODULE=$PKCS11WSOP_MODULE
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/clients-test.XXXXXX") || die "mktemp"
	P11_LOG=$WORK/p11.log
	trap h_cleanup EXIT
	trap 'exit 1' INT TERM

	lib_start_wsopd "$WORK" || die "wsopd did not start"
	lib_write_p11_cfg "$WORK/pkcs11wsop.cfg" "$port" "$WORK/pki/client.crt" \
		"$WORK/pki/client.key" "$WORK/pki/ca.crt" "$P11_LOG"
	export PKCS11WSOP_CONF=$WORK/pkcs11wsop.cfg
	export PKCS11WSOP_HELPER

	TOKEN=$name
	# Letters and digits only: the manual allows no special characters.
	PIN="Pass${RANDOM}word${RANDOM}"
	local out
	out=$(printf '%s\n' "$PIN" | "$SOFTCARDTOOL" -g --name="$TOKEN" 2>&1) ||
		die "softcardtool -g failed: $out"
	SOFTCARD_ID=$("$SOFTCARDTOOL" -l 2>/dev/null | awk -v n="$TOKEN" '$2 == n { print $1 }')
	[ -n "$SOFTCARD_ID" ] || die "softcard $TOKEN not listed by softcardtool -l"
	echo "# wsopd on 127.0.0.1:$port, softcard $TOKEN ($SOFTCARD_ID), work dir $WORK"
}

harness_finish() {
	tap_finish
}

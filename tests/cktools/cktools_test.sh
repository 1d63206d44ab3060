#!/usr/bin/env bash
# The generic ck tools against a real PKCS #11 module.
# Usage: cktools_test.sh CKINFO CKMECHINFO CKLIST BACKEND
#   BACKEND  softhsm: SoftHSMv2 with a token and objects made by OpenSC's
#            pkcs11-tool (skips, exit 77, when either package is missing).
#   pkcs11wsop: our module on a fresh wsopd and softcard (tests/clients/
#            harness.sh; environment PKCS11WSOP_MODULE, PKCS11WSOP_HELPER,
#            WSOPD, SOFTCARDTOOL, WSOP_PKI_SH), objects made by pkcs11-tool
#            (skips, exit 77, when opensc is missing).
# Another module is another setup_<backend> function that sets MODULE,
# PIN, LABEL and creates the same objects: a data object "data1"
# (application "app1", value "hello"), an AES key "aes1" with id 0102
# (public where the module has public objects) and a private AES key
# "priv1". PUBLIC=no says the module has no public objects at all (ours:
# the manual makes every object CKA_PRIVATE), so without a login nothing
# is listed. STABLE_SLOTS=no says slot ids change from one process to the
# next, so no command is given a --slot found by an earlier one (ours are
# derived from the softcard id and stable).
set -uo pipefail

ckinfo=$1 ckmechinfo=$2 cklist=$3 backend=$4
work=$(mktemp -d "${TMPDIR:-/tmp}/cktools-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

setup_softhsm() {
	MODULE=
	for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so; do
		[ -f "$m" ] && MODULE=$m && break
	done
	if [ -z "$MODULE" ] || ! command -v softhsm2-util >/dev/null || ! command -v pkcs11-tool >/dev/null; then
		echo "SKIP: softhsm2 or opensc not installed"
		exit 77
	fi
	mkdir -p "$work/tokens"
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
		"$work" >"$work/softhsm2.conf"
	export SOFTHSM2_CONF=$work/softhsm2.conf
	PIN=1234 LABEL=cktools
	softhsm2-util --init-token --free --label "$LABEL" --pin "$PIN" --so-pin 87654321 >/dev/null || return 1
	printf 'hello' >"$work/data.bin"
	local p11=(pkcs11-tool --module "$MODULE" --login --pin "$PIN")
	"${p11[@]}" --write-object "$work/data.bin" --type data --label data1 \
		--application-label app1 >/dev/null 2>&1 || return 1
	"${p11[@]}" --keygen --key-type AES:32 --label aes1 --id 0102 >/dev/null 2>&1 || return 1
	"${p11[@]}" --keygen --key-type AES:16 --label priv1 --private >/dev/null 2>&1 || return 1
}

setup_pkcs11wsop() {
	if ! command -v pkcs11-tool >/dev/null; then
		echo "SKIP: opensc not installed"
		exit 77
	fi
	# shellcheck source=../clients/harness.sh
	. "$(dirname "$0")/../clients/harness.sh"
	# harness.sh's trap stops the server and replaces ours: it removes $work.
	# shellcheck disable=SC2034 # read by harness.sh
	H_ALSO_REMOVE=$work
	harness_up cktools >/dev/null || return 1
	PIN=$PIN LABEL=$TOKEN PUBLIC=no STABLE_SLOTS=yes
	printf 'hello' >"$work/data.bin"
	local p11=(pkcs11-tool --module "$MODULE" --token-label "$LABEL" --login --pin "$PIN")
	"${p11[@]}" --write-object "$work/data.bin" --type data --label data1 \
		--application-label app1 --private >/dev/null 2>&1 || return 1
	"${p11[@]}" --keygen --key-type AES:32 --label aes1 --id 0102 --private --sensitive \
		>/dev/null 2>&1 || return 1
	"${p11[@]}" --keygen --key-type AES:16 --label priv1 --private --sensitive >/dev/null 2>&1 ||
		return 1
}

# check NAME EXPECTED_STATUS PATTERN... -- COMMAND...: runs COMMAND, wants
# that exit status and every grep -E pattern in its stdout+stderr; a
# pattern starting with ! must not match.
check() {
	local name=$1 want=$2
	shift 2
	local patterns=()
	while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
	shift
	local out status
	out=$("$@" 2>&1 </dev/null)
	status=$?
	local ok=1
	[ "$status" -eq "$want" ] || { echo "  exit status $status, want $want"; ok=0; }
	for p in "${patterns[@]}"; do
		if [ "${p:0:1}" = "!" ]; then
			grep -qE -- "${p:1}" <<<"$out" && { echo "  unexpected: ${p:1}"; ok=0; }
		else
			grep -qE -- "$p" <<<"$out" || { echo "  missing: $p"; ok=0; }
		fi
	done
	if [ $ok -eq 1 ]; then
		echo "ok - $name"
	else
		echo "not ok - $name"
		sed 's/^/    | /' <<<"$out" | head -60
		failures=$((failures + 1))
	fi
}

PUBLIC=yes STABLE_SLOTS=yes
"setup_$backend" || { echo "setup of $backend failed"; exit 1; }
slot=$("$ckinfo" --library "$MODULE" | awk -v l="$LABEL" '
	/^Token in slot/ { s = $4 } $1 == "label:" && $2 == l { print s; exit }')
[ -n "$slot" ] || { echo "no slot with token $LABEL"; exit 1; }
slot_args=(--slot "$slot")
if [ "$STABLE_SLOTS" = no ]; then
	slot='[0-9]+'
	slot_args=()
fi

check "help_exits_zero" 0 "Usage: ckinfo" -- "$ckinfo" --help
check "help_cklist" 0 "--pin-stdin" -- "$cklist" --help
check "help_ckmechinfo" 0 "Usage: ckmechinfo" -- "$ckmechinfo" --help
check "bad_option_fails" 2 "Usage" -- "$cklist" --bogus
check "unloadable_library_named" 1 "^ckinfo: cannot load $work/none.so: " -- "$ckinfo" --library "$work/none.so"
check "not_a_pkcs11_library" 1 "no C_GetFunctionList" -- "$ckmechinfo" --library "$(ldd "$ckinfo" | awk '/libc\.so/ { print $3 }')"
check "ckinfo_library_and_token" 0 "cryptoki version: 2\.[0-9]+" "^Slot $slot" \
	"label: $LABEL\$" "flags: 0x[0-9a-f]+ .*CKF_TOKEN_INITIALIZED" "min pin length: [0-9]+" \
	"serial number: " "hardware version: " -- "$ckinfo" --library "$MODULE"
check "ckmechinfo_aes" 0 "^CKM_AES_CBC_PAD \(0x1085\)" "flags: 0x[0-9a-f]+ CKF_ENCRYPT CKF_DECRYPT" \
	"^CKM_AES_KEY_GEN" "key size: 16\.\.32" "CKF_GENERATE" -- "$ckmechinfo" --library "$MODULE" "${slot_args[@]}"
check "ckmechinfo_unknown_slot" 1 "no token in slot 4242" -- "$ckmechinfo" --library "$MODULE" --slot 4242
check "cklist_with_pin_lists_private" 0 "^Slot $slot: 3 objects\$" 'CKA_LABEL: "data1"' \
	'CKA_APPLICATION: "app1"' "CKA_VALUE: 68656c6c6f\$" "CKA_CLASS: CKO_SECRET_KEY" \
	"CKA_KEY_TYPE: CKK_AES" "CKA_ID: 0102" "CKA_VALUE: sensitive" "CKA_VALUE_LEN: 32" \
	'CKA_LABEL: "priv1"' "CKA_PRIVATE: true" "CKA_ENCRYPT: true" \
	-- "$cklist" --library "$MODULE" "${slot_args[@]}" --pin "$PIN"
if [ "$PUBLIC" = yes ]; then
	check "cklist_no_login_hides_private" 0 "public only" 'CKA_LABEL: "aes1"' '!priv1' \
		-- "$cklist" --library "$MODULE" "${slot_args[@]}" --no-login
	check "cklist_without_terminal_lists_public" 0 'CKA_LABEL: "data1"' '!priv1' \
		-- setsid "$cklist" --library "$MODULE" "${slot_args[@]}"
else
	check "cklist_no_login_lists_nothing" 0 "public only" "^Slot $slot: 0 objects" '!aes1' '!priv1' \
		'!data1' -- "$cklist" --library "$MODULE" "${slot_args[@]}" --no-login
	check "cklist_without_terminal_lists_nothing" 0 '!data1' '!priv1' \
		-- setsid "$cklist" --library "$MODULE" "${slot_args[@]}"
fi
check "cklist_pin_stdin" 0 'CKA_LABEL: "priv1"' \
	-- sh -c 'p=$1 c=$2 m=$3; shift 3; echo "$p" | "$c" --library "$m" "$@" --pin-stdin' sh "$PIN" "$cklist" "$MODULE" "${slot_args[@]}"
check "cklist_wrong_pin_fails" 1 "^cklist: C_Login: CKR_PIN_INCORRECT\$" \
	-- "$cklist" --library "$MODULE" "${slot_args[@]}" --pin 99999999
check "cklist_pin_options_exclusive" 2 "exclude each other" \
	-- "$cklist" --library "$MODULE" --pin 1 --no-login

# What a user of our module sees when something is wrong: configuration
# warnings on stderr (and each in the module's log), the log and the file to
# look at after a failed call, a non-zero exit whenever a needed call failed.
if [ "$backend" = pkcs11wsop ]; then
	good_conf=$PKCS11WSOP_CONF
	typo_conf=$work/typo.cfg
	{ cat "$good_conf"; printf 'LOGLEVLE 6\nloglevel 6\nPORT=18001\n'; } >"$typo_conf"
	check "config_warnings_on_stderr" 0 "^ckinfo: warning: .*typo\.cfg:[0-9]+: unknown directive 'LOGLEVLE' ignored" \
		"^ckinfo: warning: .*unknown directive 'loglevel' ignored" "^ckinfo: warning: .*'PORT=18001'" \
		"label: $LABEL\$" -- env PKCS11WSOP_CONF="$typo_conf" "$ckinfo" --library "$MODULE"
	log=$(awk '$1 == "LOGFILEPATH" { print $2 }' "$good_conf")
	check "config_warnings_in_module_log" 0 "WARNING .*audit event=config_warning .*unknown directive 'LOGLEVLE' ignored" \
		"WARNING .*audit event=config_warning .*unknown directive 'loglevel' ignored" -- cat "$log"

	# At the default level a tool run is its audit trail: initialize, the
	# helper's start and exit, finalize.
	quiet_conf=$work/quiet.cfg quiet_log=$work/quiet.log
	sed -e 's/^LOGLEVEL .*/LOGLEVEL 4/' -e "s|^LOGFILEPATH .*|LOGFILEPATH $quiet_log|" \
		"$good_conf" >"$quiet_conf"
	PKCS11WSOP_CONF=$quiet_conf "$ckinfo" --library "$MODULE" >/dev/null 2>&1
	check "default_level_run_is_four_lines" 0 "^4\$" -- sh -c 'wc -l <"$1"' sh "$quiet_log"
	check "default_level_lines" 0 "INFO .*audit event=initialize outcome=success .*config=" \
		"INFO .*audit event=helper_start outcome=success" \
		"INFO .*audit event=helper_exit outcome=success" "INFO .*audit event=finalize" \
		-- cat "$quiet_log"

	dead_conf=$work/dead.cfg
	sed "s/^PORT .*/PORT $(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')/" \
		"$good_conf" >"$dead_conf"
	check "server_down_fails_and_points_at_log" 1 "^ckinfo: C_GetSlotList: CKR_" \
		"^ckinfo: the module's log $log says why \(configuration $dead_conf\)\$" \
		-- env PKCS11WSOP_CONF="$dead_conf" "$ckinfo" --library "$MODULE"
	check "cklist_server_down_fails" 1 "^cklist: C_GetSlotList: CKR_" "the module's log" \
		-- env PKCS11WSOP_CONF="$dead_conf" "$cklist" --library "$MODULE" --no-login
	check "ckmechinfo_server_down_fails" 1 "^ckmechinfo: C_GetSlotList: CKR_" "the module's log" \
		-- env PKCS11WSOP_CONF="$dead_conf" "$ckmechinfo" --library "$MODULE"
	check "missing_config_fails_and_points_at_it" 1 "^ckinfo: C_Initialize: CKR_GENERAL_ERROR\$" \
		"configuration $work/none\.cfg\)\$" \
		-- env PKCS11WSOP_CONF="$work/none.cfg" "$ckinfo" --library "$MODULE"
fi

[ $failures -eq 0 ] || { echo "$failures failed"; exit 1; }

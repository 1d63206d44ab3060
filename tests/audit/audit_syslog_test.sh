#!/usr/bin/env bash
# The audit trail through a real syslog daemon: rsyslogd with its own
# configuration, listening on /dev/log in a private mount namespace (the
# machine's syslog is never touched), receives the lines of a session of
# real programs on the real module, helper and wsopd: a wrong and a right
# login with logout (cklist), key generation, encryption, a data object whose
# label tries to forge a field, destruction (pkcs11-tool), a softcard created
# and deleted (softcardtool). Each expected audit line is checked in
# rsyslog's output with its facility (authpriv by default, LOGFACILITY's
# otherwise; ordinary lines stay on user), its fields, and in the module's
# log file; wsopd's own audit lines in its log; the PINs nowhere.
#
# Usage: audit_syslog_test.sh CKLIST CKINFO, with the environment of
# tests/clients/harness.sh (tests/audit/meson.build).
set -uo pipefail
CKLIST=$1 CKINFO=$2

here=$(cd "$(dirname "$0")" && pwd)

# --- outside: a mount namespace of our own, then this script again in it ---
if [ "${AUDIT_IN_NS:-}" != 1 ]; then
	for c in rsyslogd unshare pkcs11-tool logger; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "SKIP: $c not installed (tools/deps.sh --tests installs rsyslog, util-linux, opensc, bsdutils)"
			exit 77
		fi
	done
	# As root a mount namespace of our own; otherwise one inside a user
	# namespace where we keep our uid (so the helper has no root to drop)
	# and the capabilities to mount.
	if [ "$(id -u)" -eq 0 ]; then ns=(unshare -m); else ns=(unshare -c -m --keep-caps); fi
	if ! "${ns[@]}" true 2>/dev/null; then
		echo "SKIP: cannot make a private mount namespace (${ns[*]}): needs root or user namespaces"
		exit 77
	fi
	top=$(mktemp -d "${TMPDIR:-/tmp}/audit-syslog.XXXXXX") || exit 1
	# Removed only here, after the namespace (and every mount in it) is gone.
	trap 'rm -rf --one-file-system "$top"' EXIT
	AUDIT_IN_NS=1 AUDIT_TOP=$top "${ns[@]}" "$0" "$@"
	exit $?
fi

# --- inside the namespace ---
top=$AUDIT_TOP
# A /dev of our own: the character devices and links of the real one, bound
# or copied file by file (no directory is bound, so nothing below it can
# ever be removed through ours), and room for rsyslogd's /dev/log socket.
mkdir "$top/dev" || exit 1
for e in /dev/* /dev/.[!.]*; do
	[ -e "$e" ] || [ -L "$e" ] || continue
	n=${e##*/}
	[ "$n" = log ] && continue
	if [ -L "$e" ]; then
		ln -s "$(readlink "$e")" "$top/dev/$n"
	elif [ -c "$e" ]; then
		: >"$top/dev/$n" && mount --bind "$e" "$top/dev/$n" 2>/dev/null || rm -f "$top/dev/$n"
	fi
done
mount --bind "$top/dev" /dev || { echo "Bail out! cannot bind our /dev"; exit 1; }

# shellcheck source=../clients/harness.sh
. "$here/../clients/harness.sh"
harness_up audit || exit 1

syslog_out=$top/syslog.out
mkdir "$top/rsyslog"
cat >"$top/rsyslog.conf" <<EOF
global(workDirectory="$top/rsyslog")
module(load="imuxsock" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
template(name="facility" type="string"
         string="%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg%\n")
*.* action(type="omfile" file="$syslog_out" template="facility")
EOF
rsyslogd -n -f "$top/rsyslog.conf" -i "$top/rsyslog.pid" 2>"$top/rsyslogd.err" &
rsyslog_pid=$!
# After harness_up, whose trap this replaces: h_cleanup stops wsopd and
# reads the exit status from $?, kept across stopping rsyslogd.
trap 's=$?; kill -TERM "$rsyslog_pid" 2>/dev/null; wait "$rsyslog_pid" 2>/dev/null; (exit $s); h_cleanup' EXIT
for _ in $(seq 1 100); do
	[ -S /dev/log ] && break
	sleep 0.1
done
[ -S /dev/log ] || { cat "$top/rsyslogd.err"; echo "Bail out! rsyslogd made no /dev/log"; exit 1; }

echo "# rsyslogd $rsyslog_pid on /dev/log of a private mount namespace, output $syslog_out"

# The session's configuration: the defaults a user keeps (LOGLEVEL 4), syslog on.
audit_log=$WORK/audit.log
cfg=$WORK/audit.cfg
grep -E '^(HOST|PORT|CERT|KEY|AUTH) ' "$PKCS11WSOP_CONF" >"$cfg"
printf 'LOGFILEPATH %s\nLOGSYS 1\nMAXRETRIES 0\n' "$audit_log" >>"$cfg"
export PKCS11WSOP_CONF=$cfg
WRONG_PIN="Wrong${RANDOM}pin${RANDOM}"
p11=(pkcs11-tool --module "$MODULE" --token-label "$TOKEN" --login --pin "$PIN")
printf 'audit trail plaintext %s' "$RANDOM" >"$WORK/plain.txt"
iv=$(openssl rand -hex 16)
serial=${SOFTCARD_ID:0:16}
forged='x" outcome=success rv=CKR_OK'

expect "wrong PIN refused" 1 "CKR_PIN_INCORRECT" -- "$CKLIST" --library "$MODULE" --pin "$WRONG_PIN"
printf '%s\n' "$PIN" >"$WORK/pin"
EXPECT_STDIN=$WORK/pin expect "login, list, logout" 0 "" -- \
	"$CKLIST" --library "$MODULE" --pin-stdin
expect "key generated" 0 "" -- "${p11[@]}" --keygen --key-type AES:32 --label "audit key" \
	--id 0a0b --private --sensitive
expect "encrypted" 0 "" -- "${p11[@]}" --encrypt --label "audit key" -m AES-CBC-PAD --iv "$iv" \
	--input-file "$WORK/plain.txt" --output-file "$WORK/plain.enc"
expect "data object with a forging label created" 0 "" -- "${p11[@]}" --write-object \
	"$WORK/plain.txt" --type data --label "$forged" --private
expect "key destroyed" 0 "" -- "${p11[@]}" --delete-object --type secrkey --label "audit key"
expect "data object destroyed" 0 "" -- "${p11[@]}" --delete-object --type data --label "$forged"
PIN2="Second${RANDOM}card${RANDOM}"
printf '%s\n' "$PIN2" >"$WORK/pin2"
EXPECT_STDIN=$WORK/pin2 expect "softcard created" 0 "" -- \
	"$SOFTCARDTOOL" -g --name=audit2
id2=$(awk '{ print $1 }' <<<"$OUT")
expect "softcard deleted" 0 "" -- "$SOFTCARDTOOL" -d --id "$id2"
# A server the configuration's CA does not vouch for: a TLS failure.
sed "s|^AUTH .*|AUTH $WORK/pki/other-ca.crt|" "$cfg" >"$WORK/bad-ca.cfg"
PKCS11WSOP_CONF=$WORK/bad-ca.cfg expect "TLS failure" 1 "" -- "$CKINFO" --library "$MODULE"
# LOGFACILITY routes the audit lines elsewhere; ordinary lines stay on user.
printf 'LOGFACILITY local5\n' >>"$cfg"
expect "a run with LOGFACILITY local5" 0 "" -- "$CKINFO" --library "$MODULE"

# Every line sent before the marker has been written once the marker has.
marker="audit-test-end-$RANDOM$RANDOM"
logger -u /dev/log -t audit-test "$marker"
for _ in $(seq 1 100); do
	grep -qF "$marker" "$syslog_out" 2>/dev/null && break
	sleep 0.1
done

# in_syslog NAME FACILITY.SEVERITY FIELDS...: one line of rsyslog's output
# at that facility and severity, from pkcs11wsop, holding every field.
in_syslog() {
	local name=$1 where=$2
	shift 2
	local re="^${where} pkcs11wsop\\[[0-9]+\\]: ?audit event=" line
	line=$(grep -E "$re" "$syslog_out" | grep -F -- "$1" | while IFS= read -r l; do
		local f ok=1
		for f in "$@"; do [[ "$l" == *" $f"* ]] || ok=0; done
		[ $ok -eq 1 ] && { printf '%s\n' "$l"; break; }
	done)
	if [ -n "$line" ]; then
		ok "syslog: $name"
		LINE=$line
	else
		not_ok "syslog: $name"
		printf '#   want %s with: %s\n' "$where" "$*"
		grep -E "$re" "$syslog_out" | grep -F -- "$1" | sed 's/^/#   | /' | head -n 5
		LINE=
	fi
}

in_syslog "failed login, with token, session and CKR" authpriv.warning "event=login" \
	"outcome=failure" "prog=cklist" "uid=$(id -u)" "session=" "token=audit" "serial=$serial" \
	"rv=CKR_PIN_INCORRECT"
# the pid field is the process's, as in syslog's own tag
if [[ "$LINE" =~ pkcs11wsop\[([0-9]+)\]:.*\ pid=([0-9]+) ]] &&
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]; then
	ok "pid field matches the syslog tag"
else
	not_ok "pid field matches the syslog tag"
fi
in_syslog "the server's refusal with its cause" authpriv.warning "event=server_refusal" \
	"outcome=failure" "code=wrong_passphrase" "rv=CKR_PIN_INCORRECT"
in_syslog "login" authpriv.info "event=login" "outcome=success" "prog=cklist" "token=audit" \
	"serial=$serial" "rv=CKR_OK"
in_syslog "logout" authpriv.info "event=logout" "outcome=success" "prog=cklist" "token=audit" \
	"rv=CKR_OK"
in_syslog "initialize" authpriv.info "event=initialize" "outcome=success" "prog=cklist" \
	"config=$cfg" "host=localhost" "helper_pid=" "rv=CKR_OK"
in_syslog "helper started" authpriv.info "event=helper_start" "outcome=success" "helper_pid="
in_syslog "helper exited" authpriv.info "event=helper_exit" "outcome=success" "exit_status=0"
in_syslog "finalize" authpriv.info "event=finalize" "outcome=success"
in_syslog "key generated" authpriv.info "event=generate_key" "outcome=success" \
	"prog=pkcs11-tool" "class=CKO_SECRET_KEY" 'label="audit key"' "id=0a0b" "key_bits=256" \
	"handle=" "rv=CKR_OK"
in_syslog "data object created, its label one quoted value" authpriv.info "event=create_object" \
	"outcome=success" "class=CKO_DATA" 'label="x\" outcome=success rv=CKR_OK"' "rv=CKR_OK"
in_syslog "key destroyed" authpriv.info "event=destroy_object" "outcome=success" \
	"class=CKO_SECRET_KEY" 'label="audit key"' "id=0a0b" "key_bits=256" "rv=CKR_OK"
in_syslog "softcard created" authpriv.info "event=softcard_create" "outcome=success" \
	"prog=softcardtool" "name=audit2" "softcard=$id2"
in_syslog "softcard deleted" authpriv.info "event=softcard_delete" "outcome=success" \
	"softcard=$id2"
in_syslog "TLS failure with its cause" authpriv.warning "event=server_unreachable" \
	"outcome=failure" "prog=ckinfo" 'request="listing softcards"' "cause=" \
	"rv=CKR_DEVICE_ERROR"
[[ "$LINE" == *' cause="unknown CA ('* ]] && ok "the cause names the certificate" ||
	{ not_ok "the cause names the certificate"; echo "#   $LINE"; }
in_syslog "LOGFACILITY local5" local5.info "event=initialize" "outcome=success" "prog=ckinfo"
if grep -qE "^user\.err pkcs11wsop\[[0-9]+\]: ?C_Login \(session [0-9]+\): CKR_PIN_INCORRECT" \
	"$syslog_out"; then
	ok "ordinary lines keep facility user"
else
	not_ok "ordinary lines keep facility user"
fi
if grep -E "^(authpriv|local5)\." "$syslog_out" | grep -vqE "pkcs11wsop\[[0-9]+\]: ?audit event="; then
	not_ok "only audit lines on the audit facility"
else
	ok "only audit lines on the audit facility"
fi
# No audit line is cut in two, nor carries a raw quote outside a value.
if grep -E "audit event=" "$syslog_out" | grep -qE "#0[0-9][0-9]"; then
	not_ok "no control character reached syslog"
else
	ok "no control character reached syslog"
fi

# The log file has the same lines, after the manual's prefix.
expect "log file: failed login at WARNING" 0 \
	"^\[[0-9-]+ [0-9:]+\] WARNING pkcs11wsop [0-9]+: audit event=login outcome=failure .*rv=CKR_PIN_INCORRECT" \
	-- cat "$audit_log"
expect "log file: key generated at INFO" 0 \
	"^\[[0-9-]+ [0-9:]+\] INFO pkcs11wsop [0-9]+: audit event=generate_key outcome=success .*label=\"audit key\"" \
	-- cat "$audit_log"

# wsopd's own audit lines: who (certificate subject and serial), what, the answer.
expect "wsopd: key generation" 0 \
	"INFO wsopd [0-9]+: audit event=request outcome=success .*action=key_generate .*softcard=$SOFTCARD_ID subject=\"CN=test client,O=pkcs11wsop test\" serial=[0-9A-F]+ status=201" \
	"INFO wsopd [0-9]+: audit event=request outcome=success .*action=key_delete .*softcard=$SOFTCARD_ID .*status=204" \
	"INFO wsopd [0-9]+: audit event=request outcome=success .*action=softcard_create .*softcard=$id2 .*status=201" \
	"INFO wsopd [0-9]+: audit event=request outcome=success .*action=softcard_delete .*softcard=$id2 .*status=204" \
	"INFO wsopd [0-9]+: audit event=request outcome=success .*action=object_create .*softcard=$SOFTCARD_ID" \
	"WARNING wsopd [0-9]+: audit event=request outcome=failure .*action=activate .*softcard=$SOFTCARD_ID .*status=403 code=wrong_passphrase" \
	-- cat "$WORK/wsopd.log"

# No PIN or passphrase anywhere, at any level.
for f in "$syslog_out" "$audit_log" "$P11_LOG" "$WORK/wsopd.log"; do
	for secret in "$PIN" "$WRONG_PIN" "$PIN2"; do
		if grep -qF -- "$secret" "$f"; then
			not_ok "no PIN in ${f##*/}"
			continue 2
		fi
	done
	ok "no PIN in ${f##*/}"
done
if grep -qF -- "$(cat "$WORK/plain.txt")" "$syslog_out" "$audit_log" "$WORK/wsopd.log"; then
	not_ok "no plaintext in the logs"
else
	ok "no plaintext in the logs"
fi

harness_finish

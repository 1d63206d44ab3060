#!/usr/bin/env bash
# packaging/systemd/wsopd.service: `systemd-analyze verify` accepts it (in a
# root holding wsopd at its installed path), `systemd-analyze security
# --offline=yes` rates it no worse than the exposure written in
# packaging/README.md and README.md (and a copy stripped of its sandboxing
# far worse, so that the figure means something), and every system call a
# real wsopd makes in a session (TLS, softcard creation with scrypt,
# activation, key generation, encryption, SIGTERM) is one the unit's
# SystemCallFilter= allows, with no socket outside RestrictAddressFamilies=
# and no writable executable memory. systemd is not
# PID 1 in CI, so the unit itself cannot be started here (systemd-run needs
# a running manager); the system calls are checked with strace instead.
#
# Usage: systemd_unit_test.sh SOURCE_DIR
# Environment: WSOPD, WSOPCTL, WSOP_PKI_SH; DEPLOY_SKIP (a reason to skip).
set -uo pipefail

SVC_USER=pkcs11wsop-svc

# shellcheck source=tests/deploy/common.sh
. "$(dirname "$0")/common.sh"

[ -z "${DEPLOY_SKIP:-}" ] || skip "$DEPLOY_SKIP"
srcdir=$1
unit=$srcdir/packaging/systemd/wsopd.service
for v in WSOPD WSOPCTL WSOP_PKI_SH; do
	[ -n "${!v:-}" ] || die "$v is not set (run through meson test)"
done
for c in systemd-analyze strace; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (tools/deps.sh --tests installs it)"
done
[ -f "$unit" ] || die "no $unit"

deploy_begin deploy-unit

# ---- verify ----------------------------------------------------------------

# A root with what the unit names: wsopd at the installed path, /bin/sh for
# ExecStartPre=, the system's units for the default dependencies.
root=$work/root
mkdir -p "$root/opt/nfast/wsop/pkcs11/bin" "$root/bin" "$root/usr/lib/systemd" \
	"$root/etc/systemd/system"
cp "$WSOPD" "$root/opt/nfast/wsop/pkcs11/bin/wsopd"
cp "$(readlink -f /bin/sh)" "$root/bin/sh"
cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/system"
cp "$unit" "$root/etc/systemd/system/wsopd.service"
if out=$(systemd-analyze verify --root="$root" wsopd.service 2>&1) && [ -z "$out" ]; then
	ok "systemd-analyze verify: no complaint"
else
	not_ok "systemd-analyze verify"
	sed 's/^/#   | /' <<<"$out"
fi
# The negative control: verify notices a unit whose program is missing.
rm "$root/opt/nfast/wsop/pkcs11/bin/wsopd"
if ! systemd-analyze verify --root="$root" wsopd.service >/dev/null 2>&1; then
	ok "control: verify fails when wsopd is missing from the root"
else
	not_ok "control: verify fails when wsopd is missing from the root"
fi

# ---- security ----------------------------------------------------------------

exposure() {
	systemd-analyze security --offline=yes "$1" 2>/dev/null |
		sed -nE 's/.*Overall exposure level for [^:]+: ([0-9]+\.[0-9]+).*/\1/p'
}
documented=$(sed -nE 's/.*`systemd-analyze security` rates it ([0-9]+\.[0-9]+).*/\1/p' \
	"$srcdir/packaging/README.md" | head -n 1)
[ -n "$documented" ] || die "packaging/README.md states no exposure figure"
# README.md's Deployment section states the same figure.
if tr '\n' ' ' <"$srcdir/README.md" | grep -qE "rates its exposure +\*\*${documented//./\\.}\*\*"; then
	ok "README.md states the same exposure, $documented"
else
	not_ok "README.md does not state the exposure $documented of packaging/README.md"
fi
rated=$(exposure "$unit")
if [ -n "$rated" ] && awk -v r="$rated" -v d="$documented" 'BEGIN { exit !(r <= d) }'; then
	ok "systemd-analyze security: exposure $rated, documented $documented"
else
	not_ok "systemd-analyze security: exposure '${rated}' above the documented $documented"
fi
# Without its sandboxing the same unit rates far worse.
mkdir "$work/bare"
sed '/^# ---- sandboxing/,/^\[Install\]/{/^\[Install\]/!d}' "$unit" >"$work/bare/wsopd.service"
bare=$(exposure "$work/bare/wsopd.service")
if [ -n "$bare" ] && awk -v b="$bare" 'BEGIN { exit !(b >= 5.0) }'; then
	ok "control: the unit without its sandboxing section rates $bare"
else
	not_ok "control: the unit without its sandboxing section rates '${bare}' (want >= 5.0)"
fi

# ---- the system calls of a real session -------------------------------------

# The unit's filter: every call of the allowed sets, minus those of the
# denied ones (systemd-analyze knows the sets of this systemd).
expand_set() {
	local item
	systemd-analyze syscall-filter "$1" | sed -nE 's/^[[:space:]]+([@a-z_0-9-]+)$/\1/p' |
		while read -r item; do
			case $item in
			@*) expand_set "$item" ;;
			*) echo "$item" ;;
			esac
		done
}
filter_sets() {
	local set
	for set in "$@"; do
		expand_set "$set"
	done | sort -u
}
read -r -a allowed_sets <<<"$(sed -nE 's/^SystemCallFilter=([^~].*)/\1/p' "$unit" | tr '\n' ' ')"
denied_line=$(sed -nE 's/^SystemCallFilter=~(.*)/\1/p' "$unit")
read -r -a denied_sets <<<"$denied_line"
filter_sets "${allowed_sets[@]}" >"$work/allowed.all"
filter_sets "${denied_sets[@]}" >"$work/denied"
comm -23 "$work/allowed.all" "$work/denied" >"$work/allowed"
[ -s "$work/allowed" ] || die "cannot read the filter's system call sets"

# As the unit runs it: not root (DynamicUser=). Root would also make SQLite
# fchown its journal, which the filter denies (a call it never makes as the
# service's user). The account is made when missing and left in place.
if [ "$(id -u)" -eq 0 ]; then
	system_user "$SVC_USER"
	as_svc=(setpriv --reuid="$(id -u "$SVC_USER")" --regid="$(id -g "$SVC_USER")" --clear-groups
		--inh-caps=-all --)
else
	as_svc=()
fi
"$WSOP_PKI_SH" "$work/pki" >/dev/null || die "pki.sh failed"
mkdir -m 0700 "$work/store"
if [ "$(id -u)" -eq 0 ]; then
	chmod 0755 "$work"
	chown -R "$SVC_USER:" "$work/store" "$work/pki"
fi
start_wsopd strace -f -qq -o "$work/trace" "${as_svc[@]}"

ctl() {
	"$WSOPCTL" --server "localhost:$port" --cert "$work/pki/client.crt" \
		--key "$work/pki/client.key" --ca "$work/pki/ca.crt" "$@"
}
session() {
	local card token group key cipher
	ctl health >/dev/null || return 1
	echo unitpass1 | ctl softcard-create unit >/dev/null || return 1
	card=$(ctl softcard-list | awk '$2 == "unit" { print $1 }')
	token=$(echo unitpass1 | ctl activate "$card" | sed -n 's/^activation //p')
	[ -n "$token" ] || return 1
	export WSOPCTL_ACTIVATION=$token
	group=$(ctl group-create g "$card" | awk '{ print $1 }') || return 1
	key=$(ctl key-generate "$group" k 256 | awk '{ print $1 }') || return 1
	cipher=$(printf 'sandboxed' | ctl encrypt "$key" AES_CBC_PAD 000102030405060708090a0b0c0d0e0f) ||
		return 1
	[ "$(printf '%s' "$cipher" | ctl decrypt "$key" AES_CBC_PAD 000102030405060708090a0b0c0d0e0f)" = sandboxed ] ||
		return 1
	ctl deactivate "$card" >/dev/null
}
if session; then ok "a session against wsopd under strace"; else not_ok "a session against wsopd under strace"; fi

# SIGTERM stops it cleanly (status 0, its last line "stopped"). The
# signal goes to wsopd (its pid is in its log), not to strace.
wsopd_pid=$(sed -nE 's/^\[[^]]+\] INFO wsopd ([0-9]+): listening on .*/\1/p' "$work/wsopd.log" | head -n 1)
[ -n "$wsopd_pid" ] || die "no pid in the wsopd log"
kill -TERM "$wsopd_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
if [ "$status" -eq 0 ] && tail -n 1 "$work/wsopd.log" | grep -q ': stopped$'; then
	ok "SIGTERM: wsopd exits 0 after 'stopped'"
else
	not_ok "SIGTERM: exit status $status, last line: $(tail -n 1 "$work/wsopd.log")"
fi

# The calls of wsopd itself, from its execve on (setpriv's come before; the
# execve of wsopd is the manager's, not wsopd's).
sed -n '/execve(".*wsopd"/,$p' "$work/trace" >"$work/trace.wsopd"
sed -nE 's/^[0-9]+ +([a-z_0-9]+)\(.*/\1/p' "$work/trace.wsopd" | sort -u >"$work/used"
outside=$(comm -23 "$work/used" "$work/allowed" | grep -vx execve | tr '\n' ' ')
if [ -s "$work/used" ] && [ -z "$outside" ]; then
	ok "every system call wsopd made ($(wc -l <"$work/used") distinct) passes SystemCallFilter="
else
	not_ok "system calls outside the unit's filter: ${outside:-none traced}"
fi
families=$(sed -nE 's/^[0-9]+ +socket\(([A-Z_0-9]+),.*/\1/p' "$work/trace.wsopd" | sort -u | tr '\n' ' ')
want_families=$(sed -nE 's/^RestrictAddressFamilies=(.*)/\1/p' "$unit")
bad=
for f in $families; do
	grep -qw -- "$f" <<<"$want_families" || bad+="$f "
done
if [ -n "$families" ] && [ -z "$bad" ]; then
	ok "sockets of families $families- all in RestrictAddressFamilies=$want_families"
else
	not_ok "sockets outside RestrictAddressFamilies=: ${bad:-no socket traced}"
fi
# MemoryDenyWriteExecute=: no mapping both writable and executable, and
# no mprotect that makes memory executable.
wx=$(grep -E '(mmap|mprotect)\(.*PROT_WRITE\|PROT_EXEC|mprotect\(.*PROT_EXEC' "$work/trace.wsopd" | head -n 3)
if [ -z "$wx" ]; then
	ok "no writable and executable memory (MemoryDenyWriteExecute=)"
else
	not_ok "writable and executable memory: $wx"
fi
# The control: a call the filter denies is noticed (reboot is in @reboot).
if ! grep -qx reboot "$work/allowed" && grep -qx setuid "$work/denied"; then
	ok "control: the computed filter denies reboot and setuid"
else
	not_ok "control: the computed filter denies reboot and setuid"
fi

deploy_finish

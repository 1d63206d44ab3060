#!/usr/bin/env bash
# The set-group-id install of the helper, run by an unprivileged account.
#
# As root it makes (when missing) the system group pkcs11wsop-key and the
# system user pkcs11wsop-app (left in place afterwards: they own nothing
# and cannot log in), starts wsopd on a fresh PKI, and lays out in
# $PRIVSEP_DIR (the folder the test helper was built to read its
# configuration from under AT_SECURE):
#   creds/client.key   root:pkcs11wsop-key 0640   (client.crt, ca.crt 0644)
#   bin/helper-setgid  root:pkcs11wsop-key 2755   (a copy of $PRIVSEP_HELPER)
#   bin/helper-plain   root:root 0755             (the same binary, no setgid)
#   pkcs11wsop.cfg     the helper's configuration; app/pkcs11wsop.cfg the
#                      library's (same content)
#   log/               owned by pkcs11wsop-app
# Then, as pkcs11wsop-app (setpriv, no supplementary groups), it checks that
# the account cannot open the key, that softcardtool and the module work
# through the setgid helper, that the running helper has the key group as
# its effective gid and seccomp filter mode, and, as the negative control,
# that the plain copy fails naming the key file.
#
# Environment (tests/privsep/meson.build): PRIVSEP_DIR, PRIVSEP_HELPER,
# PRIVSEP_HOLD, PRIVSEP_SKIP, PKCS11WSOP_MODULE, SOFTCARDTOOL, WSOPD,
# WSOP_PKI_SH. Skips (exit 77) when not root, when useradd, groupadd,
# setpriv or findmnt is missing, when $PRIVSEP_DIR is on a nosuid mount or
# the test runs with no_new_privs (both make the kernel ignore the setgid
# bit), and in sanitizer builds (PRIVSEP_SKIP).
set -uo pipefail

KEY_GROUP=pkcs11wsop-key
APP_USER=pkcs11wsop-app

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

[ -z "${PRIVSEP_SKIP:-}" ] || skip "$PRIVSEP_SKIP"
[ "$(id -u)" -eq 0 ] || skip "needs root (to create $APP_USER and install a setgid helper)"
for c in useradd groupadd setpriv findmnt; do
	command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
done
for v in PRIVSEP_DIR PRIVSEP_HELPER PRIVSEP_HOLD PKCS11WSOP_MODULE SOFTCARDTOOL WSOPD WSOP_PKI_SH; do
	[ -n "${!v:-}" ] || die "$v is not set (run through meson test)"
done
if grep -qE '^NoNewPrivs:[[:space:]]*1' /proc/self/status; then
	skip "running with no_new_privs: the kernel would ignore the setgid bit"
fi

dir=$PRIVSEP_DIR
hold_pid=

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local status=$?
	[ -n "$hold_pid" ] && kill -KILL "$hold_pid" 2>/dev/null
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
	fi
	if [ "$status" -ne 0 ] && [ "$status" -ne 77 ] && [ -d "$dir" ]; then
		echo "# --- tail of the module and helper log ---"
		tail -n 30 "$dir/log/p11.log" 2>/dev/null | sed 's/^/# /'
		echo "# --- tail of the wsopd log ---"
		tail -n 10 "$dir/wsopd.log" 2>/dev/null | sed 's/^/# /'
	fi
	[ -z "${KEEP_WORK:-}" ] && rm -rf -- "$dir"
	exit "$status"
}

# The whole account switch: real, effective and saved ids of the user, no
# supplementary groups, no capabilities, and an environment of our choice.
as_app() {
	local helper=$1 conf=$2
	shift 2
	setpriv --reuid="$app_uid" --regid="$app_gid" --clear-groups --inh-caps=-all -- \
		env -i PATH=/usr/bin:/bin HOME=/ PKCS11WSOP_CONF="$conf" PKCS11WSOP_HELPER="$helper" "$@"
}

# ---- the accounts ----------------------------------------------------------

getent group "$KEY_GROUP" >/dev/null || groupadd --system "$KEY_GROUP" ||
	die "groupadd $KEY_GROUP failed"
if ! getent passwd "$APP_USER" >/dev/null; then
	useradd --system --no-create-home --shell /usr/sbin/nologin "$APP_USER" ||
		die "useradd $APP_USER failed"
fi
key_gid=$(getent group "$KEY_GROUP" | cut -d: -f3)
app_uid=$(id -u "$APP_USER")
app_gid=$(id -g "$APP_USER")
[ "$app_gid" != "$key_gid" ] || die "$APP_USER has $KEY_GROUP as its primary group"
[ "$app_uid" -ne 0 ] || die "$APP_USER is uid 0"

# ---- the work folder -------------------------------------------------------

# A fixed name (the helper was compiled with it): remove whatever is there,
# then create it with mkdir, which fails rather than reuse a folder that
# someone else made in between.
rm -rf -- "$dir"
mkdir -m 0755 -- "$dir" || die "cannot create $dir"
trap cleanup EXIT
trap 'exit 1' INT TERM
chmod 0755 "$dir"
if findmnt -no OPTIONS -T "$dir" | tr ',' '\n' | grep -qx nosuid; then
	skip "$dir is on a filesystem mounted nosuid"
fi

lib_start_wsopd "$dir" || die "wsopd did not start"

mkdir -m 0755 "$dir/creds" "$dir/bin" "$dir/app"
install -o root -g root -m 0644 "$dir/pki/client.crt" "$dir/creds/client.crt"
install -o root -g root -m 0644 "$dir/pki/ca.crt" "$dir/creds/ca.crt"
install -o root -g "$KEY_GROUP" -m 0640 "$dir/pki/client.key" "$dir/creds/client.key"
key=$dir/creds/client.key
# install sets the mode after the owner, so the setgid bit survives.
install -o root -g "$KEY_GROUP" -m 2755 "$PRIVSEP_HELPER" "$dir/bin/helper-setgid"
install -o root -g root -m 0755 "$PRIVSEP_HELPER" "$dir/bin/helper-plain"
# Copies, so that the build tree need not be reachable by the user.
install -o root -g root -m 0755 "$SOFTCARDTOOL" "$dir/bin/softcardtool"
install -o root -g root -m 0755 "$PRIVSEP_HOLD" "$dir/bin/privsep_hold"
install -o root -g root -m 0755 "$PKCS11WSOP_MODULE" "$dir/bin/libpkcs11wsop.so"
install -d -o "$app_uid" -g "$app_gid" -m 0700 "$dir/log"

write_config() {
	lib_write_p11_cfg "$1" "$port" "$dir/creds/client.crt" "$2" "$dir/creds/ca.crt" \
		"$dir/log/p11.log"
	chmod 0644 "$1"
}
write_config "$dir/pkcs11wsop.cfg" "$key"
write_config "$dir/app/pkcs11wsop.cfg" "$key"
# What the library hands a set-id helper with --config is never read.
write_config "$dir/app/decoy.cfg" "$dir/creds/no-such.key"

setgid=$dir/bin/helper-setgid
plain=$dir/bin/helper-plain
conf=$dir/app/pkcs11wsop.cfg
sct=$dir/bin/softcardtool

# ---- as the application's account ----------------------------------------

expect "the install: setgid helper root:$KEY_GROUP 2755, key root:$KEY_GROUP 0640" 0 \
	"^2755 root:$KEY_GROUP\$" "^640 root:$KEY_GROUP\$" -- \
	stat -c '%a %U:%G' "$setgid" "$key"
# shellcheck disable=SC2016 # expanded by the inner sh
expect "$APP_USER can read CERT but cannot open KEY (EACCES)" 1 \
	"Permission denied" -- \
	as_app "$setgid" "$conf" sh -c 'head -c 1 "$1" >/dev/null || exit 2; exec head -c 1 "$2"' \
	sh "$dir/creds/client.crt" "$key"

printf 'Privsep%sPass%s\n' "$RANDOM" "$RANDOM" >"$dir/pin"
EXPECT_STDIN=$dir/pin expect \
	"softcardtool -g as $APP_USER through the setgid helper" 0 "" -- \
	as_app "$setgid" "$conf" "$sct" -g --name privsep
expect "softcardtool -l as $APP_USER through the setgid helper lists it" 0 \
	"[[:space:]]privsep([[:space:]]|\$)" -- \
	as_app "$setgid" "$conf" "$sct" -l
expect "the setgid helper ignores the caller's config (its KEY does not exist)" 0 \
	"[[:space:]]privsep([[:space:]]|\$)" -- \
	as_app "$setgid" "$dir/app/decoy.cfg" "$sct" -l

# A module-driven application that keeps its helper running.
fifo=$dir/hold.in
mkfifo -m 0600 "$fifo" && chown "$app_uid" "$fifo"
as_app "$setgid" "$conf" "$dir/bin/privsep_hold" "$dir/bin/libpkcs11wsop.so" \
	<"$fifo" >"$dir/hold.out" 2>&1 &
hold_pid=$!
exec 9>"$fifo"
for _ in $(seq 1 100); do
	grep -q '^ready' "$dir/hold.out" 2>/dev/null && break
	kill -0 "$hold_pid" 2>/dev/null || break
	sleep 0.1
done
if grep -q '^ready' "$dir/hold.out"; then
	ok "module as $APP_USER: C_Initialize and C_GetSlotList through the setgid helper"
else
	not_ok "module as $APP_USER: C_Initialize and C_GetSlotList through the setgid helper"
	sed 's/^/#   | /' "$dir/hold.out"
fi
# The application is a grandchild of $hold_pid (as_app is a function, so
# the background job is a subshell): find the helper by its executable.
helper_pid=
for e in /proc/[0-9]*/exe; do
	if [ "$(readlink "$e" 2>/dev/null)" = "$setgid" ]; then
		helper_pid=${e#/proc/}
		helper_pid=${helper_pid%/exe}
	fi
done
if [ -n "$helper_pid" ]; then
	st=$(cat "/proc/$helper_pid/status")
	# Uid/Gid: real, effective, saved set, filesystem.
	want_uid="Uid:	$app_uid	$app_uid	$app_uid	$app_uid"
	want_gid="Gid:	$app_gid	$key_gid	$key_gid	$key_gid"
	if grep -qx "$want_uid" <<<"$st" && grep -qx "$want_gid" <<<"$st"; then
		ok "running helper $helper_pid: user $APP_USER, effective gid $KEY_GROUP ($key_gid)"
	else
		not_ok "running helper $helper_pid: user $APP_USER, effective gid $KEY_GROUP ($key_gid)"
		grep -E '^(Uid|Gid|Groups):' <<<"$st" | sed 's/^/#   | /'
	fi
	if grep -qE '^Seccomp:[[:space:]]+2$' <<<"$st" && grep -qE '^NoNewPrivs:[[:space:]]+1$' <<<"$st"; then
		ok "running helper $helper_pid: Seccomp 2 (filter), NoNewPrivs 1"
	else
		not_ok "running helper $helper_pid: Seccomp 2 (filter), NoNewPrivs 1"
		grep -E '^(Seccomp|NoNewPrivs):' <<<"$st" | sed 's/^/#   | /'
	fi
else
	not_ok "running helper found (no process runs $setgid)"
fi
exec 9>&-
hold_status=0
wait "$hold_pid" || hold_status=$?
hold_pid=
if [ "$hold_status" -eq 0 ]; then
	ok "module as $APP_USER: C_Finalize"
else
	not_ok "module as $APP_USER: exit status $hold_status"
	sed 's/^/#   | /' "$dir/hold.out"
fi

# Group read is all the setgid install allows: group write is still refused.
chmod 0660 "$key"
expect "setgid helper refuses a key its group may write (0660)" '!' \
	"permissions 0660 \\(group $key_gid\\) for KEY ${key//./\\.} are too open" -- \
	as_app "$setgid" "$conf" "$sct" -v -l
chmod 0640 "$key"

# The negative control: the same binary without the setgid bit runs with
# the user's own groups and cannot read the key. softcardtool says that the
# helper could not load its credentials and where the log is; with -v the log lines, which
# name the key file, go to stderr too.
key_denied="cannot open KEY ${key//./\\.}: Permission denied"
expect "without setgid: softcardtool -l fails and points at the log" '!' \
	"cannot start the helper: it could not load the configuration or the client credentials" \
	"log file ${dir//./\\.}/log/p11\\.log" -- \
	as_app "$plain" "$conf" "$sct" -l
expect "without setgid: softcardtool -v -l names the key file it cannot open" '!' \
	"$key_denied" -- \
	as_app "$plain" "$conf" "$sct" -v -l
expect "without setgid: the module's first call fails (CKR_DEVICE_ERROR)" 1 "^C_GetSlotList: 0x30\$" -- \
	as_app "$plain" "$conf" "$dir/bin/privsep_hold" "$dir/bin/libpkcs11wsop.so"
if grep -qE "helper: $key_denied" "$dir/log/p11.log"; then
	ok "without setgid: the helper logged that it cannot open the key"
else
	not_ok "without setgid: the helper logged that it cannot open the key"
fi

tap_finish

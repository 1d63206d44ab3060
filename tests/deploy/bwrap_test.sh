#!/usr/bin/env bash
# The application container's confinement, proven without a container
# engine: the demo (softcardtool makes a softcard; through the module,
# pkcs11-tool logs in, generates an AES key, encrypts and decrypts) runs
# under bubblewrap with
#   * a read-only root holding only /usr (and the /lib*, /bin links), a few
#     files of /etc, the tarball's prefix at /opt/nfast/wsop/pkcs11, the
#     configuration and the credentials (all read-only);
#   * a non-root account: the test creates the system user pkcs11wsop-box
#     (left in place; it owns nothing and cannot log in) and runs bwrap as
#     that user, so the sandbox's user namespace maps it to itself;
#   * no /dev/log, a private /tmp (tmpfs), every namespace unshared but the
#     network, so that wsopd on the host's loopback is reachable;
# as in packaging/container/Containerfile.app: LOGSTDOUT 1 and LOGFILEPATH
# /dev/null. It checks that each step works, that every log line of the
# module and of its helper arrives on standard output (none on stderr), that
# the only writable mounts are /tmp, /dev (bwrap's own tmpfs) and /proc, that
# /tmp, /dev/shm and /dev hold no file afterwards, and that the credentials
# and the prefix cannot be written.
#
# When unprivileged user namespaces are refused (some CI containers), the
# test runs bwrap as root with --uid/--gid instead and says so; when
# neither works it skips with the reason. Then, if podman can build and run
# images here, it builds Containerfile.app and runs the same demo in it;
# otherwise it prints why that part is skipped.
#
# Usage: bwrap_test.sh MAKE_TARBALL BUILDDIR SOURCE_DIR
# Environment: WSOPD, WSOP_PKI_SH; DEPLOY_SKIP (a reason to skip),
# DEPLOY_BWRAP_AS_ROOT (see as_box), KEEP_WORK (keep the work folder).
set -uo pipefail

BOX_USER=pkcs11wsop-box
PREFIX=/opt/nfast/wsop/pkcs11

# shellcheck source=tests/deploy/common.sh
. "$(dirname "$0")/common.sh"

[ -z "${DEPLOY_SKIP:-}" ] || skip "$DEPLOY_SKIP"
[ $# -eq 3 ] || die "usage: $0 MAKE_TARBALL BUILDDIR SOURCE_DIR"
make_tarball=$1 builddir=$2 srcdir=$3
for v in WSOPD WSOP_PKI_SH; do
	[ -n "${!v:-}" ] || die "$v is not set (run through meson test)"
done
for c in bwrap pkcs11-tool setpriv useradd; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (tools/deps.sh --tests installs it)"
done
[ "$(id -u)" -eq 0 ] || skip "needs root (to create $BOX_USER and its files)"

deploy_begin deploy-bwrap

# ---- the account, the install, the server ----------------------------------

system_user "$BOX_USER"
box_uid=$(id -u "$BOX_USER")
box_gid=$(id -g "$BOX_USER")
[ "$box_uid" -ne 0 ] || die "$BOX_USER is uid 0"

tarball=$("$make_tarball" --no-rebuild "$builddir" "$work/dist" | tail -n 1) ||
	die "make-tarball.sh failed"
mkdir "$work/root"
tar -C "$work/root" -xzf "$tarball" || die "cannot extract $tarball"
install=$work/root$PREFIX
[ -x "$install/libexec/pkcs11wsop-helper" ] || die "the tarball has no helper"

start_wsopd env

# The credentials as a container secret: the key readable by the box
# account alone, the certificates by anyone; the folder root's.
mkdir -m 0755 "$work/secrets"
install -o root -g root -m 0644 "$work/pki/client.crt" "$work/secrets/client.crt"
install -o root -g root -m 0644 "$work/pki/ca.crt" "$work/secrets/ca.crt"
install -o "$box_uid" -g "$box_gid" -m 0600 "$work/pki/client.key" "$work/secrets/client.key"
# The configuration folder replaces the tarball's conf/ (a bind mount
# needs its mount point, and the tarball ships no pkcs11wsop.cfg).
mkdir -m 0755 "$work/conf"
cat >"$work/conf/pkcs11wsop.cfg" <<-EOF
	HOST localhost
	PORT $port
	CERT /run/secrets/pkcs11wsop/client.crt
	KEY /run/secrets/pkcs11wsop/client.key
	AUTH /run/secrets/pkcs11wsop/ca.crt
	LOGLEVEL 6
	LOGSTDOUT 1
	LOGFILEPATH /dev/null
	MAXRETRIES 1
	RETRYDELAY 0
EOF
chmod 0644 "$work/conf/pkcs11wsop.cfg"
# What runs inside: the command, then a report of every file left in the
# writable places (bwrap's /dev is a tmpfs too) and of the writable mounts.
cat >"$work/inside.sh" <<-'EOF'
	#!/bin/sh
	"$@"
	status=$?
	find /tmp /dev/shm -mindepth 1 -exec echo "LEFTOVER {}" \; >&2
	# test -f follows the bind mounts of device nodes (find's -type would
	# see the regular files under them).
	find /dev -mindepth 1 -exec sh -c '[ -f "$1" ] && [ ! -L "$1" ] && echo "LEFTOVER $1"' _ {} \; >&2
	while read -r _ _ _ _ mnt opts _; do
		case ",$opts," in *,rw,*) echo "RWMOUNT $mnt" >&2 ;; esac
	done </proc/self/mountinfo
	exit $status
EOF
chmod 0755 "$work/inside.sh"
chmod -R go-w "$work/secrets" "$work/root"
printf 'Box%sPass%s\n' "$RANDOM" "$RANDOM" >"$work/pin"
chmod 0644 "$work/pin"

# ---- the sandbox -------------------------------------------------------------

box_args=(--unshare-all --share-net --die-with-parent --new-session --clearenv
	--setenv PATH /usr/bin:/bin --setenv HOME /nonexistent --setenv LANG C.UTF-8
	--ro-bind /usr /usr)
for d in /bin /sbin /lib /lib32 /lib64 /libx32; do
	if [ -L "$d" ]; then
		box_args+=(--symlink "$(readlink "$d")" "$d")
	elif [ -d "$d" ]; then
		box_args+=(--ro-bind "$d" "$d")
	fi
done
# /etc: name resolution of HOST, the library cache, time zone, OpenSSL.
for f in /etc/hosts /etc/nsswitch.conf /etc/ld.so.cache /etc/localtime /etc/ssl/openssl.cnf; do
	[ -e "$f" ] && box_args+=(--ro-bind "$f" "$f")
done
box_args+=(--ro-bind "$install" "$PREFIX"
	--ro-bind "$work/conf" "$PREFIX/conf"
	--ro-bind "$work/secrets" /run/secrets/pkcs11wsop
	--ro-bind "$work/inside.sh" /run/inside.sh
	--ro-bind "$work/pin" /run/pin
	--proc /proc --dev /dev --tmpfs /tmp)

# How bwrap gets its non-root account: as that user (an unprivileged user
# namespace, the uid mapped to itself), or, where the kernel or the
# surrounding container refuses those, as root with --uid/--gid (then the
# uid inside is mapped to root outside: weaker, and said so).
# DEPLOY_BWRAP_AS_ROOT=1 forces the second way, to try it by hand.
mode=user
[ -n "${DEPLOY_BWRAP_AS_ROOT:-}" ] && mode=root
as_box() {
	if [ "$mode" = user ]; then
		setpriv --reuid="$box_uid" --regid="$box_gid" --clear-groups --inh-caps=-all -- \
			env -i PATH=/usr/bin:/bin bwrap "${box_args[@]}" --remount-ro / -- /run/inside.sh "$@"
	else
		env -i PATH=/usr/bin:/bin bwrap --unshare-user --uid "$box_uid" --gid "$box_gid" \
			"${box_args[@]}" --remount-ro / -- /run/inside.sh "$@"
	fi
}
if [ "$mode" = user ] && ! why=$(as_box /usr/bin/true 2>&1); then
	echo "# bwrap as $BOX_USER fails ($why); trying bwrap as root with --uid/--gid"
	mode=root
	why=$(as_box /usr/bin/true 2>&1) || skip "bwrap cannot make its namespaces here: $why"
fi
echo "# bwrap runs as $mode (uid $box_uid inside)"
# The account outside that the one inside is: the key (and the files
# reopened through /dev/fd) belong to it, so only it can read them.
if [ "$mode" = user ]; then
	own_uid=$box_uid own_gid=$box_gid
else
	own_uid=0 own_gid=0
fi
chown "$own_uid:$own_gid" "$work/secrets/client.key"

# step NAME COMMAND...: runs COMMAND in the sandbox (stdin /run/pin),
# keeping its stdout, its stderr and its status in $work/NAME.{out,err,rc}.
step() {
	local name=$1
	shift
	# Reopened inside through /dev/fd/3, which checks the file's owner.
	install -o "$own_uid" -g "$own_gid" -m 0600 /dev/null "$work/$name.fd3"
	as_box "$@" <"$work/pin" >"$work/$name.out" 2>"$work/$name.err" 3>"$work/$name.fd3"
	echo $? >"$work/$name.rc"
}
# A step's checks: status 0, no file left in a writable place, no writable
# mount but /tmp, /dev and /proc (no storage), no log line (or complaint about one) on stderr.
verify() {
	local name=$1 why=()
	[ "$(cat "$work/$name.rc")" = 0 ] || why+=("exit status $(cat "$work/$name.rc")")
	grep -q '^LEFTOVER ' "$work/$name.err" && why+=("$(grep '^LEFTOVER ' "$work/$name.err" | head -3)")
	local rw
	rw=$(sed -n 's/^RWMOUNT //p' "$work/$name.err" | grep -vxE '/tmp|/dev(/.*)?|/proc' | tr '\n' ' ')
	if [ -n "$rw" ] || ! grep -qx 'RWMOUNT /tmp' "$work/$name.err"; then
		why+=("writable mounts: ${rw:-none, not even /tmp}")
	fi
	grep -qE '^\[[0-9-]+ [0-9:]+\] [A-Z]+ pkcs11wsop ' "$work/$name.err" &&
		why+=("a log line on stderr")
	grep -qi 'cannot open log' "$work/$name.err" && why+=("a log file could not be opened")
	if [ ${#why[@]} -eq 0 ]; then
		ok "$name: works, nothing written outside stdout, read-only but /tmp and /dev"
		return 0
	fi
	not_ok "$name"
	printf '#   %s\n' "${why[@]}"
	sed 's/^/#   out| /' "$work/$name.out" | tail -n 15
	grep -v '^RWMOUNT ' "$work/$name.err" | sed 's/^/#   err| /' | tail -n 15
	return 1
}

# ---- the demo in the sandbox -----------------------------------------------

M=$PREFIX/lib/libpkcs11wsop.so
p11=(pkcs11-tool --module "$M" --token-label box)
pin=$(cat "$work/pin")
iv=000102030405060708090a0b0c0d0e0f
message="confined round trip $RANDOM"
printf '%s' "$message" >"$work/message.txt"
chmod 0644 "$work/message.txt"
box_args+=(--ro-bind "$work/message.txt" /run/message.txt)

step softcard "$PREFIX/bin/softcardtool" -g --name=box
verify softcard
step keygen "${p11[@]}" --login --pin "$pin" --keygen --key-type AES:32 --label box-aes \
	--private --sensitive
verify keygen
# pkcs11-tool writes its result to fd 3, a file outside the sandbox, since
# the sandbox has nowhere to write it and stdout carries the log.
step encrypt "${p11[@]}" --login --pin "$pin" --encrypt --label box-aes -m AES-CBC-PAD \
	--iv "$iv" --input-file /run/message.txt --output-file /dev/fd/3
verify encrypt
cp "$work/encrypt.fd3" "$work/cipher.bin" && chmod 0644 "$work/cipher.bin"
box_args+=(--ro-bind "$work/cipher.bin" /run/cipher.bin)
step decrypt "${p11[@]}" --login --pin "$pin" --decrypt --label box-aes -m AES-CBC-PAD \
	--iv "$iv" --input-file /run/cipher.bin --output-file /dev/fd/3
verify decrypt
if [ -s "$work/cipher.bin" ] && ! cmp -s "$work/cipher.bin" "$work/message.txt" &&
	[ "$(cat "$work/decrypt.fd3")" = "$message" ]; then
	ok "the message made the round trip (encrypted, then decrypted to the same bytes)"
else
	not_ok "the message made the round trip"
fi

# Every line of the module and of its helper is on stdout: the library's
# start and end, the helper's own start-up lines (another pid), the
# session's trace lines; and the PIN nowhere.
# shellcheck disable=SC2317 # run through check
lines_ok() {
	local out=$work/keygen.out lib_pid helper_pid
	grep -qE '^\[[^]]+\] INFO pkcs11wsop [0-9]+: .*initiali[sz]ed' "$out" || return 1
	grep -qE '^\[[^]]+\] [A-Z]+ pkcs11wsop [0-9]+: helper: confinement applied' "$out" ||
		return 1
	grep -qE '^\[[^]]+\] TRACE pkcs11wsop [0-9]+ [0-9]+ [0-9]+: ' "$out" || return 1
	lib_pid=$(sed -nE 's/^\[[^]]+\] INFO pkcs11wsop ([0-9]+): .*initiali[sz]ed.*/\1/p' "$out" | head -1)
	helper_pid=$(sed -nE 's/^\[[^]]+\] [A-Z]+ pkcs11wsop ([0-9]+): helper: confinement applied.*/\1/p' "$out" | head -1)
	[ -n "$lib_pid" ] && [ -n "$helper_pid" ] && [ "$lib_pid" != "$helper_pid" ]
}
check "stdout carries the module's and the helper's log lines (INFO, DEBUG, TRACE)" lines_ok
# shellcheck disable=SC2016 # expanded by the inner bash
check "the PIN appears in no output" \
	bash -c '! grep -rqF -- "$1" "$2"/*.out "$2"/*.err' _ "$pin" "$work"

# The confinement itself, seen from inside.
step probe sh -c '
	id -u; id -g
	[ -e /dev/log ] && echo "HAS /dev/log"
	touch /run/secrets/pkcs11wsop/x 2>/dev/null && echo "WROTE secrets"
	touch '"$PREFIX"'/log/x 2>/dev/null && echo "WROTE prefix"
	touch /usr/x /x 2>/dev/null && echo "WROTE root"
	head -c1 /run/secrets/pkcs11wsop/client.key >/dev/null || echo "KEY unreadable"
	echo "probe done"'
probe=$(cat "$work/probe.out")
check "inside: uid and gid $box_uid:$box_gid, not root" \
	test "$(head -2 <<<"$probe" | tr '\n' :)" = "$box_uid:$box_gid:"
# shellcheck disable=SC2016 # expanded by the inner bash
check "inside: no /dev/log; prefix, root and credentials not writable; the key readable" \
	bash -c '! grep -qE "HAS|WROTE|KEY unreadable" <<<"$1" && grep -qx "probe done" <<<"$1"' _ "$probe"
verify probe

# Negative controls: a writable bind mount, and a file left in /tmp, are
# both noticed.
saved=("${box_args[@]}")
box_args+=(--bind "$work/dist" /run/rwprobe)
step control touch /tmp/left-behind
box_args=("${saved[@]}")
check "control: a writable bind mount is detected" grep -qx 'RWMOUNT /run/rwprobe' "$work/control.err"
check "control: a file left in /tmp is detected" grep -qx 'LEFTOVER /tmp/left-behind' "$work/control.err"

# ---- the image, where podman can build and run one ---------------------------

base=docker.io/library/debian:bookworm-slim
podman_part() {
	command -v podman >/dev/null 2>&1 || {
		echo "# podman part skipped: podman is not installed"
		return 0
	}
	if ! podman image exists "$base" 2>/dev/null; then
		echo "# podman part skipped: the base image $base is not present and cannot be" \
			"pulled (the machine reaches only Debian's mirror)"
		return 0
	fi
	local out
	if ! out=$(podman run --rm --network none "$base" true 2>&1); then
		echo "# podman part skipped: podman cannot run a container here: $out"
		return 0
	fi
	cp "$tarball" "$work/dist/ctx.tar.gz"
	if ! out=$(podman build -f "$srcdir/packaging/container/Containerfile.app" \
		--build-arg TARBALL=ctx.tar.gz -t pkcs11wsop-app-test "$work/dist" 2>&1); then
		not_ok "podman build of Containerfile.app"
		tail -n 20 <<<"$out" | sed 's/^/#   | /'
		return 0
	fi
	ok "podman build of Containerfile.app"
	sed -e 's|^CERT .*|CERT /run/secrets/client.crt|' -e 's|^KEY .*|KEY /run/secrets/client.key|' \
		-e 's|^AUTH .*|AUTH /run/secrets/ca.crt|' "$work/conf/pkcs11wsop.cfg" >"$work/podman.cfg"
	out=$(podman run --rm --read-only --network host --user "$box_uid:$box_gid" \
		-v "$work/podman.cfg:$PREFIX/conf/pkcs11wsop.cfg:ro" \
		-v "$work/secrets:/run/secrets:ro" \
		pkcs11wsop-app-test pkcs11-tool --module "$M" --token-label box --login --pin "$pin" \
		--list-objects 2>&1)
	if grep -q 'box-aes' <<<"$out" && grep -qE '^\[[^]]+\] INFO pkcs11wsop' <<<"$out"; then
		ok "the image lists the key through the module, log lines on stdout"
	else
		not_ok "the image lists the key through the module"
		tail -n 20 <<<"$out" | sed 's/^/#   | /'
	fi
	podman rmi -f pkcs11wsop-app-test >/dev/null 2>&1
}
podman_part

deploy_finish

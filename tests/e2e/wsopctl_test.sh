#!/bin/sh
# wsopctl_test.sh WSOPD WSOPCTL PKI_SH
# End-to-end test of the wsopctl command line against a real wsopd: every
# command once on the success path, the documented failures with their exit
# status and "wsopctl: <code>: <message>" lines.
set -eu

[ $# -eq 3 ] || {
	echo "usage: $0 WSOPD WSOPCTL PKI_SH" >&2
	exit 2
}
wsopd=$1
wsopctl=$2
pki_sh=$3

work=$(mktemp -d "${TMPDIR:-/tmp}/wsopctl-test.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

fail() {
	echo "FAIL: $*" >&2
	echo "---- wsopd log ----" >&2
	cat "$work/wsopd.log" >&2 || true
	exit 1
}

sh "$pki_sh" "$work/pki"
mkdir -m 0700 "$work/store"
"$wsopd" --listen 127.0.0.1:0 --cert "$work/pki/server.crt" --key "$work/pki/server.key" \
	--ca "$work/pki/ca.crt" --store "$work/store" 2>"$work/wsopd.log" &
server_pid=$!
port=
i=0
while [ $i -lt 100 ]; do
	port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/wsopd.log" | head -n 1)
	[ -n "$port" ] && break
	kill -0 "$server_pid" 2>/dev/null || fail "wsopd exited"
	sleep 0.1
	i=$((i + 1))
done
[ -n "$port" ] || fail "wsopd did not report its port"

ctl() {
	"$wsopctl" --server "localhost:$port" --cert "$work/pki/client.crt" \
		--key "$work/pki/client.key" --ca "$work/pki/ca.crt" "$@"
}

# expect_in INPUT STATUS PATTERN CMD...: with INPUT on stdin, exit status
# STATUS and stderr matching PATTERN
expect_in() {
	input=$1
	want=$2
	pattern=$3
	shift 3
	set +e
	printf '%s' "$input" | "$@" >"$work/out" 2>"$work/err"
	got=$?
	set -e
	[ "$got" -eq "$want" ] || fail "$* exited $got, not $want: $(cat "$work/err")"
	grep -q -- "$pattern" "$work/err" || fail "$*: stderr '$(cat "$work/err")' lacks '$pattern'"
}

expect() {
	expect_in "" "$@"
}

[ "$(ctl health)" = "ok 1.0.0" ] || fail "health"
ctl --help | grep -q "^Usage: wsopctl" || fail "--help"

sc=$(printf 'a pass phrase\n' | ctl softcard-create alice | awk '{print $1}')
[ ${#sc} -eq 40 ] || fail "softcard-create printed '$sc'"
ctl softcard-list | grep -q "^$sc alice inactive " || fail "softcard-list"

expect_in "nope
" 1 "^wsopctl: wrong_passphrase: " ctl activate "$sc"
printf 'a pass phrase\n' | ctl activate "$sc" >"$work/activated" || fail "activate"
grep -q " active " "$work/activated" || fail "activate: $(cat "$work/activated")"
token=$(awk '$1 == "activation" {print $2}' "$work/activated")
[ ${#token} -gt 100 ] || fail "activate printed no token"
WSOPCTL_ACTIVATION=$token
export WSOPCTL_ACTIVATION

group=$(ctl group-create keys "$sc" | awk '{print $1}')
[ ${#group} -eq 36 ] || fail "group-create printed '$group'"
key=$(ctl key-generate "$group" k1 256 | awk '{print $1}')
case $key in km/v1/groups/"$group"/keys/*) ;; *) fail "key-generate printed '$key'" ;; esac
[ "$(ctl key-list "$group")" = "$key 256 k1" ] || fail "key-list"
# Without the token, nothing that needs the softcard active works.
(
	unset WSOPCTL_ACTIVATION
	expect 1 "^wsopctl: not_active: " ctl key-list "$group"
) || exit 1

iv=000102030405060708090a0b0c0d0e0f
for mech in AES_CBC AES_CBC_PAD; do
	msg="sixteen byte msg"
	ct=$(printf '%s' "$msg" | ctl encrypt "$key" "$mech" "$iv")
	[ -n "$ct" ] || fail "encrypt $mech"
	pt=$(printf '%s\n' "$ct" | ctl decrypt "$key" "$mech" "$iv")
	[ "$pt" = "$msg" ] || fail "decrypt $mech gave '$pt'"
done

expect_in "short" 1 "^wsopctl: bad_data_length: " ctl encrypt "$key" AES_CBC "$iv"
expect 1 "^wsopctl: not_empty: " ctl softcard-delete "$sc"
expect 1 "^wsopctl: not_found: " ctl softcard-delete 0000000000000000000000000000000000000000
expect 2 "invalid mechanism" ctl encrypt "$key" AES_ECB "$iv"
expect 2 "unknown command" ctl frobnicate
expect 2 "takes 1 argument" ctl key-list
expect 2 "required" "$wsopctl" health
expect 1 "refused" "$wsopctl" --server "localhost:1" --cert "$work/pki/client.crt" \
	--key "$work/pki/client.key" --ca "$work/pki/ca.crt" health
expect 1 "wsopctl: " "$wsopctl" --server "localhost:$port" --cert "$work/pki/other-client.crt" \
	--key "$work/pki/other-client.key" --ca "$work/pki/ca.crt" health

# The option overrides the variable.
expect 1 "^wsopctl: not_active: " ctl --activation AAAA key-list "$group"
ctl deactivate "$sc" | grep -q " inactive " || fail "deactivate"
# The ended activation's token is refused from now on.
expect 1 "^wsopctl: not_active: " ctl key-list "$group"
unset WSOPCTL_ACTIVATION
expect 1 "^wsopctl: not_active: " ctl key-list "$group"

printf 'other pass\n' | ctl softcard-create bob >/dev/null
bob=$(ctl softcard-list | awk '$2 == "bob" {print $1}')
ctl softcard-delete "$bob" || fail "softcard-delete"
ctl softcard-list | grep -q " bob " && fail "bob still listed"

kill -TERM "$server_pid"
wait "$server_pid" || fail "wsopd did not exit 0 on SIGTERM"
server_pid=
echo "wsopctl end-to-end: all checks passed"

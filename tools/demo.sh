#!/usr/bin/env bash
# The main job on one machine: build pkcs11wsop, make a throw-away PKI, start
# the reference server wsopd on loopback, then create a softcard, generate an
# AES-256 key in it, encrypt and decrypt a message, and stop the server.
# Safe to run again: every run uses a fresh temporary folder.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/deps.sh

step() { printf '\n==> %s\n' "$*"; }

step "building (meson, ninja) in build-demo/"
if [ -f build-demo/build.ninja ]; then
	meson setup --reconfigure build-demo -Dtests=false >/dev/null
else
	meson setup build-demo -Dtests=false >/dev/null
fi
ninja -C build-demo >/dev/null

work=$(mktemp -d /tmp/pkcs11wsop-demo.XXXXXX)
server_pid=
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid"
		wait "$server_pid" || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

step "making a throw-away PKI in $work/pki"
tools/pki.sh "$work/pki" >/dev/null

step "starting wsopd on 127.0.0.1 (store in $work/store)"
mkdir -m 0700 "$work/store"
build-demo/server/wsopd --listen 127.0.0.1:0 --cert "$work/pki/server.crt" \
	--key "$work/pki/server.key" --ca "$work/pki/ca.crt" --store "$work/store" \
	2>"$work/wsopd.log" &
server_pid=$!
port=
for _ in $(seq 1 100); do
	port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/wsopd.log" | head -n 1)
	[ -n "$port" ] && break
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$port" ]; then
	echo "wsopd did not start:" >&2
	cat "$work/wsopd.log" >&2
	exit 1
fi
echo "wsopd (pid $server_pid) listens on 127.0.0.1:$port"

ctl() {
	build-demo/tools/wsopctl --server "localhost:$port" --cert "$work/pki/client.crt" \
		--key "$work/pki/client.key" --ca "$work/pki/ca.crt" "$@"
}

step "health"
ctl health

passphrase="demo-passphrase-$RANDOM"
step "creating softcard 'demo'"
softcard=$(printf '%s\n' "$passphrase" | ctl softcard-create demo | awk '{print $1}')
echo "softcard id: $softcard"
ctl softcard-list

step "activating it with its passphrase"
printf '%s\n' "$passphrase" | ctl activate "$softcard"

step "creating a key group and an AES-256 key"
group=$(ctl group-create demo-keys "$softcard" | awk '{print $1}')
keypath=$(ctl key-generate "$group" demo-aes-256 256 | awk '{print $1}')
echo "key: $keypath"

message="Hello from pkcs11wsop: AES-256-CBC-PAD through wsopd"
iv=$(openssl rand -hex 16)
step "encrypting \"$message\" with AES_CBC_PAD, IV $iv"
ciphertext=$(printf '%s' "$message" | ctl encrypt "$keypath" AES_CBC_PAD "$iv")
echo "ciphertext: $ciphertext"

step "decrypting it again"
plaintext=$(printf '%s' "$ciphertext" | ctl decrypt "$keypath" AES_CBC_PAD "$iv")
echo "plaintext:  $plaintext"
if [ "$plaintext" != "$message" ]; then
	echo "MISMATCH: the round trip did not give the message back" >&2
	exit 1
fi

step "deactivating the softcard and stopping wsopd"
ctl deactivate "$softcard" >/dev/null
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=
echo "demo finished: the message made the round trip through the key server"

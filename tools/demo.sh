#!/usr/bin/env bash
# The main job on one machine, through the PKCS #11 library: build
# pkcs11wsop, make a throw-away PKI, start the reference server wsopd on
# loopback, write a pkcs11wsop.cfg, create a softcard with softcardtool,
# then with OpenSC's pkcs11-tool log in, generate an AES-256 key and run an
# AES-CBC-PAD encrypt/decrypt round trip, show the token with the ck tools,
# and stop the server.
# Safe to run again: every run uses a fresh temporary folder. With
# PKCS11WSOP_BUILD=DIR an existing build folder is used instead of
# build-demo/ (it is brought up to date with ninja).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/deps.sh

step() { printf '\n==> %s\n' "$*"; }
# Prints the command (the passphrase masked), then runs it.
show() {
	local line="$*"
	[ -n "${passphrase:-}" ] && line=${line//"$passphrase"/'****'}
	printf '$ %s\n' "$line"
	"$@"
}

build=${PKCS11WSOP_BUILD:-build-demo}
if [ -z "${PKCS11WSOP_BUILD:-}" ]; then
	step "building (meson, ninja) in build-demo/"
	if [ -f build-demo/build.ninja ]; then
		meson setup --reconfigure build-demo -Dtests=false >/dev/null
	else
		meson setup build-demo -Dtests=false >/dev/null
	fi
else
	step "using the build in $build"
fi
ninja -C "$build" >/dev/null
build=$(cd "$build" && pwd)
module=$build/lib/libpkcs11wsop.so

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
"$build/server/wsopd" --listen 127.0.0.1:0 --cert "$work/pki/server.crt" \
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

step "writing the library's configuration $work/pkcs11wsop.cfg"
cat >"$work/pkcs11wsop.cfg" <<EOF
HOST localhost
PORT $port
CERT $work/pki/client.crt
KEY $work/pki/client.key
AUTH $work/pki/ca.crt
LOGLEVEL 4
LOGFILEPATH $work/pkcs11wsop.log
MAXRETRIES 2
RETRYDELAY 1
EOF
cat "$work/pkcs11wsop.cfg"
# The library and softcardtool read this file and start the helper from
# the build instead of the installed prefix.
export PKCS11WSOP_CONF=$work/pkcs11wsop.cfg
export PKCS11WSOP_HELPER=$build/helper/pkcs11wsop-helper

# Letters and digits only: softcard passphrases take no special characters.
passphrase="demo${RANDOM}passphrase${RANDOM}"
step "creating softcard 'demo' with softcardtool (passphrase on stdin)"
printf '%s\n' "$passphrase" | show "$build/tools/softcardtool" -g --name=demo
show "$build/tools/softcardtool" -vl

p11=(pkcs11-tool --module "$module" --token-label demo)
step "the token as pkcs11-tool sees it"
show "${p11[@]}" --list-slots
show "${p11[@]}" --list-mechanisms

step "logging in and generating an AES-256 key 'demo-aes-256' on the softcard"
# pkcs11-tool marks keys private and sensitive only when asked; the library
# accepts only keys that are both.
show "${p11[@]}" --login --pin "$passphrase" --keygen --key-type AES:32 --label demo-aes-256 \
	--private --sensitive

message="Hello from pkcs11wsop: AES-256-CBC-PAD through the PKCS #11 library"
printf '%s' "$message" >"$work/message.txt"
iv=$(openssl rand -hex 16)
step "encrypting \"$message\" with CKM_AES_CBC_PAD, IV $iv"
show "${p11[@]}" --login --pin "$passphrase" --encrypt --label demo-aes-256 -m AES-CBC-PAD \
	--iv "$iv" --input-file "$work/message.txt" --output-file "$work/message.enc"
echo "ciphertext: $(od -An -tx1 "$work/message.enc" | tr -d ' \n')"

step "decrypting it again"
show "${p11[@]}" --login --pin "$passphrase" --decrypt --label demo-aes-256 -m AES-CBC-PAD \
	--iv "$iv" --input-file "$work/message.enc" --output-file "$work/message.dec"
plaintext=$(cat "$work/message.dec")
echo "plaintext:  $plaintext"
if [ "$plaintext" != "$message" ]; then
	echo "MISMATCH: the round trip did not give the message back" >&2
	exit 1
fi

step "the ck tools of the build against the library"
show "$build/tools/ckinfo" --library "$module"
show "$build/tools/ckmechinfo" --library "$module"
printf '%s\n' "$passphrase" | show "$build/tools/cklist" --library "$module" --pin-stdin

step "stopping wsopd"
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=
echo "demo finished: the message made the round trip through the PKCS #11 library and the key server"

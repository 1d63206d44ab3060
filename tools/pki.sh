#!/bin/sh
# pki.sh DIR [--days N]
#
# Makes a throw-away test PKI in DIR with the openssl command line:
#   ca.crt ca.key                      the CA that wsopd and the clients trust
#   server.crt server.key              CN=localhost, SAN localhost/127.0.0.1/::1
#   client.crt client.key              a client of the CA
#   client2.crt client2.key            a second, distinct client of the CA
#   other-ca.crt other-ca.key          an unrelated CA
#   other-client.crt other-client.key  a client of the unrelated CA
#   expired-client.crt .key            a client of the CA whose validity ended
#   wrong-name-server.crt .key         a server of the CA named other.invalid
# Keys are EC P-256 and mode 0600. Running it again on a complete DIR changes
# nothing; an incomplete DIR is made again from scratch. Quiet on success;
# on failure it prints openssl's output and exits non-zero.
#
# This is test material only: nothing here is fit to protect real keys.
set -eu

usage() {
	echo "usage: $0 DIR [--days N]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
dir=$1
shift
days=30
while [ $# -gt 0 ]; do
	case $1 in
	--days)
		[ $# -ge 2 ] || usage
		days=$2
		shift 2
		;;
	*) usage ;;
	esac
done
case $days in
'' | *[!0-9]*) usage ;;
esac
[ "$days" -ge 1 ] || usage

outputs="ca.crt ca.key server.crt server.key client.crt client.key client2.crt client2.key
other-ca.crt other-ca.key other-client.crt other-client.key
expired-client.crt expired-client.key wrong-name-server.crt wrong-name-server.key"

mkdir -p "$dir"
complete=yes
for f in $outputs; do
	[ -s "$dir/$f" ] || complete=no
done
if [ $complete = yes ] && openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" \
	"$dir/client.crt" >/dev/null 2>&1; then
	exit 0
fi

# Everything is made in a scratch folder and moved in at the end, so that an
# interrupted run never leaves a half-made PKI that looks complete.
umask 077
work=$(mktemp -d "$dir/.pki.XXXXXX")
log=$work/openssl.log
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

run() {
	if ! "$@" >>"$log" 2>&1; then
		echo "pki.sh: failed: $*" >&2
		cat "$log" >&2
		exit 1
	fi
}

newkey() {
	run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/$1.key"
}

# $1 name, $2 subject
selfsigned_ca() {
	newkey "$1"
	run openssl req -x509 -new -sha256 -key "$work/$1.key" -subj "$2" -days "$days" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash" \
		-out "$work/$1.crt"
}

# $1 name, $2 CA name, $3 subject, $4 extensions (one per line)
issue() {
	newkey "$1"
	run openssl req -new -sha256 -key "$work/$1.key" -subj "$3" -out "$work/$1.csr"
	printf '%s\n' "$4" >"$work/$1.ext"
	run openssl x509 -req -sha256 -in "$work/$1.csr" -CA "$work/$2.crt" \
		-CAkey "$work/$2.key" -CAcreateserial -CAserial "$work/$2.srl" \
		-days "$days" -extfile "$work/$1.ext" -out "$work/$1.crt"
}

client_ext='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
authorityKeyIdentifier=keyid'

server_ext() {
	printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
		'keyUsage=critical,digitalSignature' \
		'extendedKeyUsage=serverAuth' \
		'authorityKeyIdentifier=keyid' \
		"subjectAltName=$1"
}

selfsigned_ca ca "/O=pkcs11wsop test/CN=pkcs11wsop test CA"
issue server ca "/O=pkcs11wsop test/CN=localhost" \
	"$(server_ext 'DNS:localhost,IP:127.0.0.1,IP:::1')"
issue client ca "/O=pkcs11wsop test/CN=test client" "$client_ext"
issue client2 ca "/O=pkcs11wsop test/CN=second test client" "$client_ext"
issue wrong-name-server ca "/O=pkcs11wsop test/CN=other.invalid" \
	"$(server_ext 'DNS:other.invalid')"

selfsigned_ca other-ca "/O=pkcs11wsop other/CN=unrelated test CA"
issue other-client other-ca "/O=pkcs11wsop other/CN=other client" "$client_ext"

# `openssl x509 -req` cannot backdate in OpenSSL 3.0; `openssl ca` can, given
# a minimal configuration of its own.
newkey expired-client
run openssl req -new -sha256 -key "$work/expired-client.key" \
	-subj "/O=pkcs11wsop test/CN=expired client" -out "$work/expired-client.csr"
mkdir "$work/ca-db"
: >"$work/ca-db/index.txt"
echo 1000 >"$work/ca-db/serial"
cat >"$work/ca-db/ca.cnf" <<EOF
[ca]
default_ca = expired_ca
[expired_ca]
database = $work/ca-db/index.txt
new_certs_dir = $work/ca-db
serial = $work/ca-db/serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[any_name]
organizationName = optional
commonName = supplied
[client_ext]
$client_ext
EOF
run openssl ca -batch -notext -config "$work/ca-db/ca.cnf" -cert "$work/ca.crt" \
	-keyfile "$work/ca.key" -in "$work/expired-client.csr" \
	-startdate 20200101000000Z -enddate 20200201000000Z -extensions client_ext \
	-out "$work/expired-client.crt"

for f in $outputs; do
	case $f in
	*.key) chmod 600 "$work/$f" ;;
	*) chmod 644 "$work/$f" ;;
	esac
	mv -f "$work/$f" "$dir/$f"
done

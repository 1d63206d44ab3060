#!/usr/bin/env bash
# GnuTLS p11tool against libpkcs11wsop.so (environment: harness.sh).
# p11tool names tokens and objects by RFC 7512 URLs (pkcs11:token=NAME;...)
# and reads the PIN from GNUTLS_PIN. Its certificate template (seen through
# OpenSC's pkcs11-spy): CKA_CLASS, CKA_ID (20 bytes), CKA_VALUE, CKA_TOKEN,
# CKA_CERTIFICATE_TYPE, CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER,
# CKA_LABEL and CKA_PRIVATE false unless --mark-private. Our policy wants
# CKA_PRIVATE CK_TRUE (CKR_ATTRIBUTE_VALUE_INVALID otherwise, which p11tool
# reports as "PKCS #11 error in attribute"), so --mark-private is part of
# the write; the refusal without it is checked too.
# The AES key in the listing is made by pkcs11-tool when OpenSC is installed
# (p11tool cannot generate secret keys); without it that check is left out.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$here/harness.sh"
harness_need gnutls-bin p11tool
harness_up gnutlstest

p11=(p11tool --provider "$MODULE")
url="pkcs11:token=$TOKEN"

expect "list-tokens" 0 "Label: $TOKEN\$" "URL: pkcs11:.*token=$TOKEN" "Manufacturer: pkcs11wsop" \
	"Serial: ${SOFTCARD_ID:0:16}" "Flags: .*Requires login" -- "${p11[@]}" --list-tokens
expect "list-token-urls" 0 "^pkcs11:.*serial=${SOFTCARD_ID:0:16};token=$TOKEN\$" \
	-- "${p11[@]}" --list-token-urls
expect "list-mechanisms" 0 "CKM_AES_CBC keysize range \(16, 32\) encrypt decrypt" \
	"CKM_AES_CBC_PAD keysize range \(16, 32\) encrypt decrypt" \
	"CKM_AES_KEY_GEN keysize range \(16, 32\) generate" -- "${p11[@]}" --list-mechanisms "$url"

export GNUTLS_PIN="Wrong$PIN"
expect "login-wrong-pin" 1 "Wrong PIN" -- "${p11[@]}" --login --list-all "$url"
export GNUTLS_PIN=$PIN

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/cert.key" \
	-out "$WORK/cert.pem" -days 2 -subj "/CN=p11tool test" >/dev/null 2>&1 ||
	{ echo "Bail out! openssl req"; exit 1; }
expect "write-public-certificate-refused" 1 "Error writing certificate: PKCS #11 error in attribute" \
	-- "${p11[@]}" --login --write --batch --load-certificate "$WORK/cert.pem" --label pubcert "$url"
expect "write-private-certificate" 0 \
	-- "${p11[@]}" --login --write --batch --mark-private --load-certificate "$WORK/cert.pem" \
	--label cert1 "$url"

have_key=0
if command -v pkcs11-tool >/dev/null 2>&1; then
	pkcs11-tool --module "$MODULE" --token-label "$TOKEN" --login --pin "$PIN" --keygen \
		--key-type AES:32 --label aes1 --private --sensitive >/dev/null 2>&1 && have_key=1
	[ $have_key -eq 1 ] && ok "pkcs11-tool made a key" || not_ok "pkcs11-tool made a key"
fi

expect "list-all-with-login" 0 "Type: X\.509 Certificate" "Label: cert1" \
	"URL: pkcs11:.*object=cert1;type=cert" -- "${p11[@]}" --login --list-all "$url"
if [ $have_key -eq 1 ]; then
	grep -qE "Type: Secret key" <<<"$OUT" && grep -qE "Label: aes1" <<<"$OUT" &&
		ok "list-all-shows-secret-key" || not_ok "list-all-shows-secret-key"
fi
expect "list-all-certs" 0 "Label: cert1" "!aes1" -- "${p11[@]}" --login --list-all-certs "$url"
# Every object is private: nothing is listed without a login.
expect "list-all-without-login" "*" "!Label: cert1" -- "${p11[@]}" --list-all "$url"
expect "export-certificate" 0 -- "${p11[@]}" --login --export "$url;object=cert1;type=cert"
if openssl x509 -noout -fingerprint -sha256 -in "$WORK/cert.pem" >"$WORK/fp.want" 2>/dev/null &&
	openssl x509 -noout -fingerprint -sha256 <<<"$OUT" >"$WORK/fp.got" 2>/dev/null &&
	cmp -s "$WORK/fp.want" "$WORK/fp.got"; then
	ok "exported-certificate-is-the-written-one"
else
	not_ok "exported-certificate-is-the-written-one"
fi
expect "delete-certificate" 0 -- "${p11[@]}" --login --batch --delete "$url;object=cert1;type=cert"
expect "certificate-gone" "*" "!Label: cert1" -- "${p11[@]}" --login --list-all-certs "$url"
harness_finish

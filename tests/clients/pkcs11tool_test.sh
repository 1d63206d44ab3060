#!/usr/bin/env bash
# OpenSC's pkcs11-tool against libpkcs11wsop.so (environment: harness.sh).
#
# What pkcs11-tool 0.23 sends (seen through OpenSC's pkcs11-spy) and what our
# template policy (lib/p11_template.h) makes of it:
#  - --keygen --key-type AES:N: CKA_CLASS, CKA_TOKEN=true, CKA_KEY_TYPE,
#    CKA_SENSITIVE (false unless --sensitive), CKA_EXTRACTABLE=false,
#    CKA_PRIVATE (false unless --private), CKA_ENCRYPT=true, CKA_DECRYPT=true,
#    CKA_VALUE_LEN, CKA_LABEL. Without --sensitive and --private the module
#    refuses it (CKR_ATTRIBUTE_VALUE_INVALID: both must be CK_TRUE), so both
#    are part of every key generation here; the refusal is checked too.
#  - --write-object --type data: CKA_PRIVATE false unless --private.
#  - --encrypt/--decrypt: single-part C_Encrypt/C_Decrypt with the IV as
#    the mechanism parameter.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$here/harness.sh"
harness_need opensc pkcs11-tool
harness_up p11tooltest

p11=(pkcs11-tool --module "$MODULE" --token-label "$TOKEN")
login=("${p11[@]}" --login --pin "$PIN")

expect "show-info" 0 "Cryptoki version 2\.40" "Manufacturer +pkcs11wsop" \
	-- pkcs11-tool --module "$MODULE" --show-info
expect "list-slots" 0 "token label +: $TOKEN\$" "token initialized" "login required" \
	"serial num +: ${SOFTCARD_ID:0:16}" -- pkcs11-tool --module "$MODULE" --list-slots
expect "list-mechanisms" 0 "AES-CBC, keySize=\{16,32\}, encrypt, decrypt" \
	"AES-CBC-PAD, keySize=\{16,32\}, encrypt, decrypt" "AES-KEY-GEN, keySize=\{16,32\}, generate" \
	-- "${p11[@]}" --list-mechanisms
expect "login-wrong-pin" 1 "CKR_PIN_INCORRECT" -- "${p11[@]}" --login --pin "Wrong${PIN}" --list-objects
expect "login-right-pin" 0 '!error' -- "${login[@]}" --list-objects

# pkcs11-tool's default template: CKA_SENSITIVE and CKA_PRIVATE false.
expect "keygen-default-template-refused" 1 "C_GenerateKey failed: rv = CKR_ATTRIBUTE_VALUE_INVALID" \
	-- "${login[@]}" --keygen --key-type AES:32 --label refused
expect "keygen-aes256" 0 "Secret Key Object; AES length 32" "label: +aes256" \
	-- "${login[@]}" --keygen --key-type AES:32 --label aes256 --id 0a0b --private --sensitive
expect "keygen-aes128" 0 "Secret Key Object; AES length 16" \
	-- "${login[@]}" --keygen --key-type AES:16 --label aes128 --private --sensitive
expect "keygen-bad-size" 1 "CKR_KEY_SIZE_RANGE" \
	-- "${login[@]}" --keygen --key-type AES:20 --label badsize --private --sensitive

printf 'hello from pkcs11-tool' >"$WORK/data.bin"
expect "write-data-object" 0 "Data object" \
	-- "${login[@]}" --write-object "$WORK/data.bin" --type data --label data1 \
	--application-label app1 --private
expect "list-objects" 0 "label: +aes256" "label: +aes128" "ID: +0a0b" "Usage: +encrypt, decrypt" \
	"label: +'data1'" "application: +'app1'" "!label: +refused" -- "${login[@]}" --list-objects
# Everything on a softcard is private: nothing shows without a login.
expect "list-objects-without-login" 0 "!label: +aes256" -- "${p11[@]}" --list-objects
expect "read-data-object" 0 -- "${login[@]}" --read-object --type data --label data1 \
	--output-file "$WORK/data.out"
cmp -s "$WORK/data.bin" "$WORK/data.out" && ok "data-object-value" || not_ok "data-object-value"

iv=000102030405060708090a0b0c0d0e0f
# 45 bytes: not a multiple of the block size, so the padding is exercised.
printf 'the quick brown fox jumps over the lazy dog!!' >"$WORK/plain45"
expect "encrypt-aes-cbc-pad" 0 -- "${login[@]}" --encrypt --label aes256 -m AES-CBC-PAD \
	--iv "$iv" --input-file "$WORK/plain45" --output-file "$WORK/cipher45"
size=$(stat -c %s "$WORK/cipher45" 2>/dev/null || echo 0)
[ "$size" -eq 48 ] && ok "cbc-pad-ciphertext-is-48-bytes" || not_ok "cbc-pad-ciphertext-is-48-bytes (got $size)"
expect "decrypt-aes-cbc-pad" 0 -- "${login[@]}" --decrypt --label aes256 -m AES-CBC-PAD \
	--iv "$iv" --input-file "$WORK/cipher45" --output-file "$WORK/back45"
cmp -s "$WORK/plain45" "$WORK/back45" && ok "cbc-pad-round-trip" || not_ok "cbc-pad-round-trip"

head -c 32 /dev/urandom >"$WORK/plain32"
expect "encrypt-aes-cbc" 0 -- "${login[@]}" --encrypt --label aes128 -m AES-CBC \
	--iv "$iv" --input-file "$WORK/plain32" --output-file "$WORK/cipher32"
size=$(stat -c %s "$WORK/cipher32" 2>/dev/null || echo 0)
[ "$size" -eq 32 ] && ok "cbc-ciphertext-is-32-bytes" || not_ok "cbc-ciphertext-is-32-bytes (got $size)"
expect "decrypt-aes-cbc" 0 -- "${login[@]}" --decrypt --label aes128 -m AES-CBC \
	--iv "$iv" --input-file "$WORK/cipher32" --output-file "$WORK/back32"
cmp -s "$WORK/plain32" "$WORK/back32" && ok "cbc-round-trip" || not_ok "cbc-round-trip"
# Raw CBC takes whole blocks only.
expect "encrypt-aes-cbc-partial-block" 1 "CKR_DATA_LEN_RANGE" \
	-- "${login[@]}" --encrypt --label aes128 -m AES-CBC --iv "$iv" --input-file "$WORK/plain45" \
	--output-file "$WORK/cipher-bad"
expect "delete-data-object" 0 -- "${login[@]}" --delete-object --type data --label data1
# The token's self-test: random numbers come from the server's generator.
expect "self-test" 0 "C_GenerateRandom" "seems to be OK" "No errors" -- "${login[@]}" --test
expect "generate-random" 0 -- "${p11[@]}" --generate-random 40 --output-file "$WORK/random40"
size=$(stat -c %s "$WORK/random40" 2>/dev/null || echo 0)
[ "$size" -eq 40 ] && ok "random-is-40-bytes" || not_ok "random-is-40-bytes (got $size)"
expect "data-object-gone" 0 "!label: +'data1'" "label: +aes256" -- "${login[@]}" --list-objects
harness_finish

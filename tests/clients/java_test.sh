#!/usr/bin/env bash
# Java's SunPKCS11 (openjdk-17-jdk-headless) against libpkcs11wsop.so:
# SunPkcs11Test.java, compiled with javac in the temp dir (no build tool),
# on a fresh softcard (environment: harness.sh).
#
# The provider configuration makes generated AES keys fit our template
# policy: token and private (the manual requires both), sensitive and not
# extractable (the must-be-true/false lists), encrypt and decrypt (required)
# and a label (required; given in hex, as SunPKCS11 wants byte values).
# It runs twice: the token chosen by slotListIndex, then by its slot id.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$here/harness.sh"
harness_need openjdk-17-jdk-headless java javac
harness_up javatest

# write_cfg FILE SELECTOR LABEL: a provider configuration choosing the token
# by SELECTOR ("slotListIndex = 0" or "slot = ID") and labelling generated
# keys LABEL.
write_cfg() {
	cat >"$1" <<-CFG
		name = pkcs11wsop
		library = $MODULE
		$2
		attributes(generate, CKO_SECRET_KEY, CKK_AES) = {
		  CKA_TOKEN = true
		  CKA_PRIVATE = true
		  CKA_SENSITIVE = true
		  CKA_EXTRACTABLE = false
		  CKA_ENCRYPT = true
		  CKA_DECRYPT = true
		  CKA_LABEL = 0h$(printf '%s' "$3" | od -An -tx1 | tr -d ' \n')
		}
	CFG
}
mkdir "$WORK/classes"
javac -d "$WORK/classes" "$here/SunPkcs11Test.java" || { echo "Bail out! javac failed"; exit 1; }
write_cfg "$WORK/by-index.cfg" "slotListIndex = 0" javakey
java -cp "$WORK/classes" SunPkcs11Test "$WORK/by-index.cfg" "$PIN" javakey || exit 1
# The slot id the way a deployment writes it down: derived from the softcard
# id (its first 7 hex digits above 2^28), the same in every process, and used
# by Java without a slot list of its own first.
slot_id=$((0x${SOFTCARD_ID:0:7} | 0x10000000))
write_cfg "$WORK/by-id.cfg" "slot = $slot_id" javaslot
java -cp "$WORK/classes" SunPkcs11Test "$WORK/by-id.cfg" "$PIN" javaslot

#!/usr/bin/env bash
# Java's SunPKCS11 (openjdk-17-jdk-headless) against libpkcs11wsop.so:
# SunPkcs11Test.java, compiled with javac in the temp dir (no build tool),
# on a fresh softcard (environment: harness.sh).
#
# The provider configuration makes generated AES keys fit our template
# policy: token and private (the manual requires both), sensitive and not
# extractable (the must-be-true/false lists), encrypt and decrypt (required)
# and a label (required; "javakey", hex, as SunPKCS11 wants byte values).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$here/harness.sh"
harness_need openjdk-17-jdk-headless java javac
harness_up javatest

cat >"$WORK/sunpkcs11.cfg" <<-CFG
	name = pkcs11wsop
	library = $MODULE
	slotListIndex = 0
	attributes(generate, CKO_SECRET_KEY, CKK_AES) = {
	  CKA_TOKEN = true
	  CKA_PRIVATE = true
	  CKA_SENSITIVE = true
	  CKA_EXTRACTABLE = false
	  CKA_ENCRYPT = true
	  CKA_DECRYPT = true
	  CKA_LABEL = 0h$(printf 'javakey' | od -An -tx1 | tr -d ' \n')
	}
CFG
mkdir "$WORK/classes"
javac -d "$WORK/classes" "$here/SunPkcs11Test.java" || { echo "Bail out! javac failed"; exit 1; }
java -cp "$WORK/classes" SunPkcs11Test "$WORK/sunpkcs11.cfg" "$PIN"

#!/usr/bin/env bash
# PyKCS11 (Debian python3-pykcs11) over the manual's function list:
# pykcs11_scenario.py on a fresh softcard (environment: harness.sh).
# Debian's package installs for /usr/bin/python3, which need not be the
# first python3 on PATH, so the interpreter that can import it is chosen.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$here/harness.sh"
py=
for p in /usr/bin/python3 python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import PyKCS11' 2>/dev/null; then
		py=$p
		break
	fi
done
[ -n "$py" ] || { echo "SKIP: PyKCS11 not installed (Debian package python3-pykcs11)"; exit 77; }
harness_up pykcs11test

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/cert.key" \
	-outform DER -out "$WORK/cert.der" -days 2 -subj "/CN=pykcs11 test" >/dev/null 2>&1 ||
	{ echo "Bail out! openssl req"; exit 1; }
"$py" "$here/pykcs11_scenario.py" "$MODULE" "$TOKEN" "$PIN" "${SOFTCARD_ID:0:16}" "$WORK/cert.der"

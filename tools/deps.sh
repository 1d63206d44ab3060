#!/usr/bin/env bash
# Installs the Debian 12 packages that building, the demo and the tests need
# (--tests), or the benchmark's comparison (--bench), and only those that are
# missing. Sourced or run by tools/demo.sh, tests/run.sh and bench/run.sh;
# safe to run again.
set -euo pipefail

packages=(
	gcc make pkg-config meson ninja-build
	openssl libssl-dev libjson-c-dev libseccomp-dev libsqlite3-dev libpq-dev libcmocka-dev libp11-kit-dev
	clang libclang-rt-14-dev
	python3 procps
	# pkcs11-tool: the demo drives the library with it.
	opensc
)
# softhsm2, p11-kit (its server) and p11-kit-modules (p11-kit-client.so):
# the two modules bench/run.sh --compare measures ours beside.
bench_packages=(softhsm2 p11-kit p11-kit-modules)
if [ "${1:-}" = "--tests" ]; then
	# valgrind: leak checks of the module; strace: which process opens the
	# key; softhsm2 + opensc: a second PKCS #11 module and pkcs11-tool for
	# the ck tools' tests; gnutls-bin (p11tool), python3-pykcs11 and
	# openjdk-17-jdk-headless (SunPKCS11): the real clients of tests/clients;
	# the bench peers for the bench-compare-smoke test. bubblewrap: the
	# confined-container test; systemd: systemd-analyze for the wsopd unit's
	# test; apparmor: apparmor_parser for the helper's profile (tests/deploy).
	# rsyslog: the syslog daemon the audit trail's test starts on a /dev/log
	# of its own (tests/audit), never the machine's. postgresql: the private
	# server of the shared-store tests (tests/cluster).
	packages+=(valgrind strace softhsm2 opensc gnutls-bin python3-pykcs11 openjdk-17-jdk-headless
		bubblewrap systemd apparmor rsyslog postgresql)
	packages+=("${bench_packages[@]}")
elif [ "${1:-}" = "--bench" ]; then
	packages+=("${bench_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1; then
	sudo=(sudo)
else
	echo "error: need root or sudo to install: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

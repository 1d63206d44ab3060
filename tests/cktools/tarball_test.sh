#!/usr/bin/env bash
# packaging/make-tarball.sh on this build: the tarball extracts to
# opt/nfast/wsop/pkcs11, is root-owned, reproducible, carries only the
# example configuration, and holds each installed product (with the p11-kit
# module file and the helper's AppArmor profile for this prefix).
# Usage: tarball_test.sh MAKE_TARBALL BUILDDIR VERSION MEMBER...
set -uo pipefail

make_tarball=$1 builddir=$2 version=$3
shift 3
work=$(mktemp -d "${TMPDIR:-/tmp}/tarball-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "not ok - $*"; exit 1; }

out=$("$make_tarball" "$builddir" "$work/a") || fail "make-tarball.sh failed: $out"
tarball=$work/a/pkcs11-$version.tar.gz
[ "$(tail -n1 <<<"$out")" = "$tarball" ] || fail "printed $(tail -n1 <<<"$out"), want $tarball"
tar -tzf "$tarball" >"$work/list" || fail "tarball unreadable"

prefix=opt/nfast/wsop/pkcs11
for member in "$@" conf/example_pkcs11wsop.cfg log/ share/p11-kit/modules/pkcs11wsop.module \
	share/apparmor/pkcs11wsop-helper; do
	grep -qxF "$prefix/$member" "$work/list" || fail "member $prefix/$member missing"
done
echo "ok - members present"
grep -qv "^opt/" "$work/list" && fail "member outside opt/: $(grep -v '^opt/' "$work/list" | head -1)"
grep -qxF "$prefix/conf/pkcs11wsop.cfg" "$work/list" && fail "tarball ships conf/pkcs11wsop.cfg"
echo "ok - only the example configuration"
tar -tvzf "$tarball" | awk '$2 != "0/0" { bad = 1 } END { exit bad }' || fail "members not owned by 0/0"
echo "ok - root owned"
sort -c "$work/list" 2>/dev/null || fail "members not in sorted order"
"$make_tarball" "$builddir" "$work/b" >/dev/null || fail "second run failed"
cmp -s "$tarball" "$work/b/pkcs11-$version.tar.gz" || fail "two runs differ"
echo "ok - reproducible"
mkdir "$work/root"
tar -C "$work/root" -xzf "$tarball" || fail "extraction failed"
module=$work/root/$prefix/share/p11-kit/modules/pkcs11wsop.module
grep -qxF "module: /$prefix/lib/libpkcs11wsop.so" "$module" || fail "module file: $(cat "$module")"
profile=$work/root/$prefix/share/apparmor/pkcs11wsop-helper
grep -qxF "profile pkcs11wsop-helper /$prefix/libexec/pkcs11wsop-helper {" "$profile" ||
	fail "the AppArmor profile does not name /$prefix/libexec/pkcs11wsop-helper"
for tool in ckinfo cklist ckmechinfo; do
	if grep -qxF "bin/$tool" <<<"$(printf '%s\n' "$@")"; then
		[ "$(readlink "$work/root/$prefix/bin/$tool-dynamic")" = "$tool" ] || fail "bin/$tool-dynamic is no link to $tool"
		"$work/root/$prefix/bin/$tool-dynamic" --help >/dev/null || fail "$tool-dynamic --help"
	fi
done
echo "ok - extracts with working tools"

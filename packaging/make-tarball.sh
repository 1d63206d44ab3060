#!/usr/bin/env bash
# Builds the binary tarball pkcs11-<version>.tar.gz whose members are
# opt/nfast/wsop/pkcs11/..., so that `cd / && tar -xzf pkcs11-<version>.tar.gz`
# installs the library as the manual says.
#
# Usage: packaging/make-tarball.sh [--no-rebuild] [BUILDDIR [OUTDIR]]
#   BUILDDIR  an existing meson build directory with the default prefix
#             (default: a fresh release build in a temporary directory)
#   OUTDIR    where the tarball is written (default: the current directory)
#   --no-rebuild  install what BUILDDIR already built (used by the tests)
# Prints the tarball's path on its last line.
set -euo pipefail

prefix=/opt/nfast/wsop/pkcs11
top=$(cd "$(dirname "$0")/.." && pwd)

no_rebuild=()
if [ "${1:-}" = "--no-rebuild" ]; then
	no_rebuild=(--no-rebuild)
	shift
fi
builddir=${1:-}
outdir=${2:-$PWD}

work=$(mktemp -d "${TMPDIR:-/tmp}/pkcs11-tarball.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -z "$builddir" ]; then
	builddir=$work/build
	meson setup "$builddir" "$top" -Dtests=false --buildtype=release >/dev/null
	ninja -C "$builddir" >/dev/null
fi
[ -f "$builddir/build.ninja" ] || { echo "make-tarball: $builddir is not a meson build directory" >&2; exit 1; }

# The members must land in $prefix: refuse a build configured elsewhere.
read -r build_prefix version < <(python3 - "$builddir" <<'PY'
import json, subprocess, sys
d = sys.argv[1]
opts = json.loads(subprocess.check_output(["meson", "introspect", "--buildoptions", d]))
info = json.loads(subprocess.check_output(["meson", "introspect", "--projectinfo", d]))
prefix = next(o["value"] for o in opts if o["name"] == "prefix")
print(prefix, info["version"])
PY
)
if [ "$build_prefix" != "$prefix" ]; then
	echo "make-tarball: $builddir has prefix $build_prefix, need $prefix" >&2
	exit 1
fi

stage=$work/stage
if ! meson install -C "$builddir" --destdir "$stage" "${no_rebuild[@]}" >"$work/install.log" 2>&1; then
	cat "$work/install.log" >&2
	echo "make-tarball: meson install failed" >&2
	exit 1
fi
root=$stage$prefix
[ -d "$root" ] || { echo "make-tarball: nothing installed under $prefix" >&2; exit 1; }

# A reinstall must never overwrite the user's configuration: ship only
# the example, which the manual says to copy.
rm -f "$root/conf/pkcs11wsop.cfg"
[ -f "$root/conf/example_pkcs11wsop.cfg" ] || { echo "make-tarball: conf/example_pkcs11wsop.cfg missing" >&2; exit 1; }
mkdir -p "$root/log"
# Static libraries and headers are build leftovers, not part of the product.
find "$root" -name '*.a' -delete

# Same inputs, same bytes: sorted names, fixed owner, times and modes.
mtime=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 0)}
chmod -R u+rwX,go+rX,go-w "$stage/opt"
mkdir -p "$outdir"
tarball=$(cd "$outdir" && pwd)/pkcs11-$version.tar.gz
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime="@$mtime" --format=gnu -cf - opt | gzip -9 -n >"$tarball.tmp"
mv "$tarball.tmp" "$tarball"
echo "$tarball"

#!/bin/sh
# Checks that the module's code calls in one direction only: an object
# file may use what its own or a lower layer defines, never what a higher
# layer (or another file of its own layer) defines. The layers are those of
# lib/p11_core.h; files not named below (attributes, templates, the CBC
# stream, the handle map, CKR mapping) are the floor and may use none of
# the layered files.
#
# Usage: layering.sh LIBRARY.a   (nm from $NM, else nm)
set -eu

if [ $# -ne 1 ] || [ ! -r "$1" ]; then
	echo "usage: $0 LIBRARY.a" >&2
	exit 2
fi
nm_prog=${NM:-nm}

layers='
p11_lock 1
p11_core 2
p11_slots 3
p11_objstore 4
p11_sessions 5
p11_find 6
p11_crypto 6
p11_audit 7
p11_login 8
p11_objects 8
p11_keygen 8
p11_random 8
p11_mechanisms 8
p11_module 9
p11_general 10
p11_funclist 11
'

defined=$("$nm_prog" -A --defined-only "$1")
undefined=$("$nm_prog" -A -u "$1")
if [ -z "$defined" ]; then
	echo "$0: $nm_prog found no symbols in $1" >&2
	exit 2
fi

# Lines "D member symbol" and "U member symbol" for global symbols, the
# member being the object's base name without .c.o / .o.
{
	printf '%s\n' "$layers" | awk 'NF == 2 { print "L", $1, $2 }'
	printf '%s\n' "$defined" | awk '$(NF - 1) ~ /^[A-Z]$/ { print "D", $1, $NF }'
	printf '%s\n' "$undefined" | awk '$(NF - 1) == "U" { print "U", $1, $NF }'
} | awk '
function member(path,    n, parts) {
	n = split(path, parts, ":")
	path = parts[n - 1]
	sub(/.*\//, "", path)
	sub(/\.c\.o$|\.o$/, "", path)
	return path
}
function layer(m) { return (m in level) ? level[m] : 0 }
$1 == "L" { level[$2] = $3; next }
$1 == "D" { owner[$3] = member($2); next }
$1 == "U" {
	m = member($2); s = $3
	if (!(s in owner))
		next
	o = owner[s]
	if (o == m)
		next
	if (layer(o) > layer(m) || (layer(o) == layer(m) && layer(m) > 0) ||
	    (layer(m) == 0 && layer(o) > 0)) {
		printf "%s (layer %d) uses %s of %s (layer %d)\n", m, layer(m), s, o, layer(o)
		bad++
	}
	checked++
}
END {
	if (checked == 0) {
		print "no reference between the objects was found: wrong library?"
		exit 2
	}
	if (bad > 0) {
		printf "%d reference(s) against the layering\n", bad
		exit 1
	}
	printf "%d references between the objects, all downwards\n", checked
}'

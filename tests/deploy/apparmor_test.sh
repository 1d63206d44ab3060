#!/usr/bin/env bash
# The helper's AppArmor profile (packaging/apparmor/pkcs11wsop-helper.in, as
# configured by this build): apparmor_parser -Q compiles it; it grants no
# execution, writes only to the log (and /dev/null), no network but the TCP
# families of the sockets the library hands over, no capability but
# setuid/setgid; and every file a real helper opens while serving
# softcardtool -l (seen with strace) is one of its rules, once the
# profile's variables name this test's configuration, credentials and log,
# as an administrator would set them. The kernel here may have no AppArmor
# (then the profile cannot be loaded, only compiled and matched).
#
# Usage: apparmor_test.sh PROFILE
# Environment: WSOPD, WSOP_PKI_SH, SOFTCARDTOOL, PKCS11WSOP_HELPER;
# DEPLOY_SKIP (a reason to skip).
set -uo pipefail
# shellcheck source=tests/deploy/common.sh
. "$(dirname "$0")/common.sh"

[ -z "${DEPLOY_SKIP:-}" ] || skip "$DEPLOY_SKIP"
profile=$1
for v in WSOPD WSOP_PKI_SH SOFTCARDTOOL PKCS11WSOP_HELPER; do
	[ -n "${!v:-}" ] || die "$v is not set (run through meson test)"
done
for c in apparmor_parser strace python3; do
	command -v "$c" >/dev/null 2>&1 || die "$c is missing (tools/deps.sh --tests installs it)"
done
[ -f "$profile" ] || die "no profile $profile"
deploy_begin deploy-apparmor

if out=$(apparmor_parser -Q "$profile" 2>&1 | grep -v '^Cache read/write disabled'); [ -z "$out" ] &&
	apparmor_parser -Q "$profile" >/dev/null 2>&1; then
	ok "apparmor_parser -Q accepts the profile"
else
	not_ok "apparmor_parser -Q: $out"
fi
# The control: a broken copy is refused.
sed 's/network inet stream,/network inet stream/' "$profile" >"$work/broken"
check "control: apparmor_parser -Q refuses a broken copy" \
	bash -c '! apparmor_parser -Q "$1" >/dev/null 2>&1' _ "$work/broken"

# The rules of the profile, one per line, without comments.
rules=$(sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e '/^$/d' "$profile")
check "no execute permission (no ix, px, ux, cx)" \
	bash -c '! grep -E "^/[^ ]* [a-z]*[iupc]x" <<<"$1"' _ "$rules"
check "writes only to the log and /dev/null" \
	bash -c '[ "$(grep -E "^[/@][^ ]* [a-z]*[wa]" <<<"$1" | awk "{print \$1}" | sort | tr "\n" " ")" = "/dev/null @{PKCS11WSOP_LOG} " ]' _ "$rules"
check "network: only inet and inet6 stream" \
	bash -c '[ "$(grep -E "^network" <<<"$1" | sort | tr "\n" " ")" = "network inet stream, network inet6 stream, " ]' _ "$rules"
check "capabilities: only setuid and setgid" \
	bash -c '[ "$(grep -E "^capability" <<<"$1" | sort | tr "\n" " ")" = "capability setgid, capability setuid, " ]' _ "$rules"

# ---- what a real helper opens --------------------------------------------------

start_wsopd env
lib_write_p11_cfg "$work/pkcs11wsop.cfg" "$port" "$work/pki/client.crt" "$work/pki/client.key" \
	"$work/pki/ca.crt" "$work/log/p11.log"
mkdir "$work/log"
PKCS11WSOP_CONF=$work/pkcs11wsop.cfg strace -f -qq -e trace=openat,open -o "$work/trace" \
	"$SOFTCARDTOOL" -l >"$work/sct.out" 2>&1
status=$?
check "softcardtool -l through the helper (exit 0)" test "$status" -eq 0
helper_pid=$(sed -nE 's/^([0-9]+) +execve\(".*pkcs11wsop-helper".*/\1/p' "$work/trace" | head -n 1)
if [ -z "$helper_pid" ]; then
	# -e trace=openat hides execve: find the helper by its first open of
	# the configuration after the tool's own.
	helper_pid=$(awk -v cfg="\"$work/pkcs11wsop.cfg\"" 'index($0, cfg) { print $1 }' "$work/trace" |
		sort -u | tail -n 1)
fi
# Successful opens of the helper, with the access each asked for.
grep -E "^$helper_pid +open(at)?\(" "$work/trace" | grep -v ' = -1 ' |
	sed -nE 's/.*open(at)?\((AT_FDCWD, )?"([^"]+)", ([A-Z_|]+).*/\3 \4/p' | sort -u >"$work/opened"
# The installed helper's path stands for the build's in the profile.
cat >"$work/match.py" <<'PY'
import re, sys
profile, work, helper = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(profile).read()
vars = {"multiarch": "*-linux-gnu*", "PROC": "/proc/", "pid": "[0-9]*"}
# The administrator's settings for this test's files.
overrides = {"PKCS11WSOP_CONF": work + "/pkcs11wsop.cfg",
             "PKCS11WSOP_CREDS": work + "/pki/*.{crt,key}",
             "PKCS11WSOP_LOG": work + "/log/*.log"}
for name, value in re.findall(r"^@\{(\w+)\}=(\S+)", text, re.M):
    vars[name] = overrides.get(name, value)
m = re.search(r"^profile \S+ (\S+) \{", text, re.M)
installed_helper = m.group(1)
def expand(s):
    for _ in range(5):
        s = re.sub(r"@\{(\w+)\}", lambda v: vars[v.group(1)], s)
    return s
def braces(s):
    m = re.search(r"\{([^{}]*)\}", s)
    if not m:
        return [s]
    return [x for alt in m.group(1).split(",") for x in braces(s[:m.start()] + alt + s[m.end():])]
def to_re(glob):
    out = ""
    i = 0
    while i < len(glob):
        if glob.startswith("**", i):
            out += ".*"; i += 2
        elif glob[i] == "*":
            out += "[^/]*"; i += 1
        elif glob[i] == "[":
            j = glob.index("]", i); out += glob[i:j + 1]; i = j + 1
        else:
            out += re.escape(glob[i]); i += 1
    return re.compile(out + r"\Z")
rules = []
body = text[m.end():]
for line in body.splitlines():
    line = line.split("#")[0].strip()
    r = re.match(r"^(/\S+|@\{\w+\}\S*)\s+([a-z]+),$", line)
    if r:
        for path in braces(expand(r.group(1))):
            rules.append((to_re(path), r.group(2)))
for line in sys.stdin:
    path, flags = line.rstrip("\n").rsplit(" ", 1)
    if path == helper:
        path = installed_helper
    need = "w" if ("O_WRONLY" in flags or "O_RDWR" in flags) else "r"
    if not any(rx.match(path) and need in perm for rx, perm in rules):
        print(path, need)
PY
python3 "$work/match.py" "$profile" "$work" "$PKCS11WSOP_HELPER" <"$work/opened" >"$work/uncovered"
if [ -s "$work/opened" ] && [ ! -s "$work/uncovered" ]; then
	ok "every file the helper opened ($(wc -l <"$work/opened")) is allowed by a rule"
else
	not_ok "files the helper opened that no rule allows: $(tr '\n' ' ' <"$work/uncovered")"
	sed 's/^/#   opened: /' "$work/opened"
fi
# The control: the matcher notices a file outside the profile.
printf '%s\n' "/etc/shadow O_RDONLY" "$work/pki/ca.crt O_WRONLY" |
	python3 "$work/match.py" "$profile" "$work" "$PKCS11WSOP_HELPER" >"$work/uncovered.control"
check "control: reading /etc/shadow and writing a certificate are noticed" \
	test "$(wc -l <"$work/uncovered.control")" -eq 2

deploy_finish

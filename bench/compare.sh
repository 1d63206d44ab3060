# shellcheck shell=bash disable=SC2154 # work, pin, module...: set by run.sh
# Sourced by run.sh --compare, with wsopd running and the softcard made:
# sets up the two peers, runs the same p11bench cases on all three modules
# in alternation, and has compare_report.py write the medians.
#
# The peers: SoftHSMv2 in-process, with a private SOFTHSM2_CONF and token
# directory under the work dir; and p11-kit remote: `p11-kit server`
# exporting that same SoftHSMv2 token on a unix socket in the work dir,
# reached through p11-kit-client.so with P11_KIT_SERVER_ADDRESS.

find_file() {
	local f
	for f in "$@"; do
		[ -e "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}
softhsm_lib=$(find_file /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so) ||
	die "no libsofthsm2.so (tools/deps.sh --bench installs softhsm2)"
p11kit_client=$(find_file /usr/lib/*/pkcs11/p11-kit-client.so) ||
	die "no p11-kit-client.so (tools/deps.sh --bench installs p11-kit-modules)"

mkdir -m 0700 "$work/softhsm" "$work/softhsm/tokens"
cat >"$work/softhsm/softhsm2.conf" <<EOF2
directories.tokendir = $work/softhsm/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF2
export SOFTHSM2_CONF=$work/softhsm/softhsm2.conf
hsm_pin="Hsm${RANDOM}pin${RANDOM}"
out=$(softhsm2-util --init-token --free --label bench --pin "$hsm_pin" \
	--so-pin "So${RANDOM}pin${RANDOM}" 2>&1) || die "softhsm2-util --init-token: $out"

p11kit_sock=$work/p11kit.sock
p11-kit server -f -n "$p11kit_sock" --provider "$softhsm_lib" "pkcs11:token=bench" \
	>/dev/null 2>"$work/p11kit.log" &
p11kit_pid=$!
for _ in $(seq 1 100); do
	[ -S "$p11kit_sock" ] && break
	kill -0 "$p11kit_pid" 2>/dev/null || break
	sleep 0.1
done
[ -S "$p11kit_sock" ] || die "p11-kit server did not start: $(cat "$work/p11kit.log")"
export P11_KIT_SERVER_ADDRESS="unix:path=$p11kit_sock"

ctl=("$wsopctl" --server "127.0.0.1:$port" --cert "$work/pki/client.crt"
	--key "$work/pki/client.key" --ca "$work/pki/ca.crt")
runs_done=0

# pb MODULE CASE RUN ARGS...: one p11bench run on MODULE (wsop, softhsm,
# p11kit), its JSON line tagged with the module, the case and the run.
# The CPU time counts p11bench and its children (our helper) and, for wsop,
# wsopd; for p11kit, the p11-kit server and its per-connection child.
pb() {
	local mod=$1 name=$2 run=$3 lib pinv line
	local cpu=()
	shift 3
	case $mod in
	wsop) lib=$module pinv=$pin cpu=(--cpu-pid "$server_pid") ;;
	softhsm) lib=$softhsm_lib pinv=$hsm_pin ;;
	p11kit) lib=$p11kit_client pinv=$hsm_pin cpu=(--cpu-pid "$p11kit_pid") ;;
	esac
	line=$(printf '%s\n' "$pinv" | "$p11bench" --library "$lib" --token bench --json \
		"${cpu[@]}" "$@")
	record "\"module\":\"$mod\",\"case\":\"$name\",\"run\":$run," "$line" $? "p11bench ($mod) $*"
	runs_done=$((runs_done + 1))
}

# p11-kit 0.24 cannot forward the CBC parameter (C_EncryptInit answers
# CKR_MECHANISM_INVALID): then its data cases use AES-ECB, which needs no
# parameter, as a stand-in for its transport cost. The probe also makes
# the benchmark key in the SoftHSMv2 token.
probe=$(printf '%s\n' "$hsm_pin" | "$p11bench" --library "$p11kit_client" --token bench --json \
	--workload encrypt --size 16 --ops 1 --warmup 0 2>&1)
if grep -q '"errors":0,' <<<"$probe"; then
	p11kit_mech=cbc-pad
elif grep -q CKR_MECHANISM_INVALID <<<"$probe"; then
	p11kit_mech=ecb
else
	die "p11bench through p11-kit failed: $probe"
fi
echo "# peers: SoftHSMv2 ($softhsm_lib), p11-kit remote ($p11kit_client, $p11kit_mech)"

# The cases: NAME|MODULES|ARGS|SMOKE_OPS. @MECH@ is the module's mechanism.
cases=(
	"enc16x1|wsop softhsm p11kit|--workload encrypt --size 16 --threads 1 --mechanism @MECH@|40"
	"enc16x8|wsop softhsm p11kit|--workload encrypt --size 16 --threads 8 --mechanism @MECH@|40"
	"enc64kx1|wsop softhsm p11kit|--workload encrypt --size 65536 --threads 1 --mechanism @MECH@|8"
	"enc64kx8|wsop softhsm p11kit|--workload encrypt --size 65536 --threads 8 --mechanism @MECH@|16"
	"initfin|wsop softhsm p11kit|--workload init-finalize|3"
	"login|wsop softhsm p11kit|--workload login-cycle|3"
	"login_active|wsop|--workload login-cycle|3"
	"gen1|wsop softhsm p11kit|--workload generate --threads 1|4"
	"gen2|wsop softhsm p11kit|--workload generate --threads 2|4"
	"gen8|wsop softhsm p11kit|--workload generate --threads 8|8"
	"bulkenc|wsop softhsm p11kit|--workload encrypt-multipart --size 1048576 --part 4096 --mechanism @MECH@|2"
	"bulkdec|wsop softhsm p11kit|--workload decrypt-multipart --size 1048576 --part 4096 --mechanism @MECH@|2"
)
modules=(wsop softhsm p11kit)

# cpu_busy: "busy total" jiffies of the whole machine from /proc/stat.
cpu_busy() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
read -r busy0 total0 < <(cpu_busy)
started=$(date -u +%s)
[ "$smoke" -eq 1 ] && runs=1

for run in $(seq 1 "$runs"); do
	for c in "${cases[@]}"; do
		IFS='|' read -r name mods args smoke_ops <<<"$c"
		if [ "$smoke" -eq 1 ]; then
			plan="--ops $smoke_ops --warmup 1"
		else
			plan="--seconds $secs"
		fi
		# The module order turns with each run, so that no module always
		# follows the same one.
		for k in 0 1 2; do
			mod=${modules[$(((k + run - 1) % 3))]}
			[[ " $mods " == *" $mod "* ]] || continue
			mech=cbc-pad
			[ "$mod" = p11kit ] && mech=$p11kit_mech
			# A softcard already active on the server: another activation
			# (wsopctl's) is held while the cycles log in and out.
			activation=
			if [ "$name" = login_active ]; then
				activation=$(printf '%s\n' "$pin" | "${ctl[@]}" activate "$softcard" |
					awk '$1 == "activation" { print $2 }')
				[ -n "$activation" ] || die "wsopctl activate failed"
			fi
			# shellcheck disable=SC2086 # $args and $plan are word lists
			pb "$mod" "$name" "$run" ${args//@MECH@/$mech} $plan
			if [ -n "$activation" ]; then
				WSOPCTL_ACTIVATION=$activation "${ctl[@]}" deactivate "$softcard" >/dev/null ||
					die "wsopctl deactivate failed"
			fi
		done
	done
done

read -r busy1 total1 < <(cpu_busy)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
busy_pct=$(((busy1 - busy0) * 100 / (total1 - total0 > 0 ? total1 - total0 : 1)))
elapsed=$(($(date -u +%s) - started))

report=$results_md
[ "$smoke" -eq 1 ] && report=$work/RESULTS.md
python3 -B "$here/compare_report.py" --results "$results" --out "$report" --root "$root" \
	--build "$build" --seconds "$secs" --runs "$runs" --smoke "$smoke" \
	--p11kit-mechanism "$p11kit_mech" --load-start "$load_start" --load-end "$load_end" \
	--busy-pct "$busy_pct" --elapsed "$elapsed" || die "compare_report.py failed"
if [ "$smoke" -eq 1 ]; then
	cat "$report"
	expect_clean "$runs_done"
	echo "bench-compare-smoke: ok"
else
	[ "$failures" -eq 0 ] || die "$failures run(s) failed"
	echo "# wrote $report"
fi

# shellcheck shell=bash
# Shared by bench/run.sh and bench/cluster.sh (sourced, never run).
#
# bench_port PID             waits up to 10 s for process PID to listen on
#                            TCP and prints the port (read from ss: wsopd
#                            at --log-level 2 does not log its "listening
#                            on" line); 1 when it does not
# field NAME LINE            a number or string member of a flat JSON line
# bench_need NAME HINT FILE...
#                            exits 2 ("NAME: missing FILE (HINT)") unless
#                            every FILE exists
# bench_client_config FILE WORK HOSTS [PORT]
#                            writes the module's configuration: the
#                            servers, the client PKI of WORK/pki, level 2
#                            logging to WORK/p11.log
# bench_drop_work WORK       removes WORK unless KEEP_WORK is set

bench_port() {
	local port='' _
	for _ in $(seq 1 100); do
		port=$(ss -Hltnp 2>/dev/null | awk -v p="pid=$1," \
			'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
		[ -n "$port" ] && break
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$port" ] && echo "$port"
}

field() {
	sed -n "s/.*\"$1\":\\(\"[^\"]*\"\\|[^,}]*\\).*/\\1/p" <<<"$2" | tr -d '"'
}

bench_need() {
	local name=$1 hint=$2 f
	shift 2
	for f in "$@"; do
		[ -e "$f" ] || { echo "$name: missing $f ($hint)" >&2; exit 2; }
	done
}

bench_client_config() {
	{
		echo "HOST $3"
		[ -n "${4:-}" ] && echo "PORT $4"
		cat <<-EOF
			CERT $2/pki/client.crt
			KEY $2/pki/client.key
			AUTH $2/pki/ca.crt
			LOGLEVEL 2
			LOGFILEPATH $2/p11.log
		EOF
	} >"$1"
}

bench_drop_work() {
	if [ -n "${KEEP_WORK:-}" ]; then echo "# kept $1"; else rm -rf "$1"; fi
}

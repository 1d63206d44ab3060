# shellcheck shell=bash
# Shared by bench/run.sh and bench/cluster.sh (sourced, never run).
#
# bench_port PID             waits up to 10 s for process PID to listen on
#                            TCP and prints the port (read from ss: wsopd
#                            at --log-level 2 does not log its "listening
#                            on" line); 1 when it does not
# field NAME LINE            a number or string member of a flat JSON line

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

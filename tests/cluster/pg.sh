#!/bin/sh
# A private PostgreSQL for tests and benchmarks: a cluster in a folder of
# its own, reachable only through a unix socket in that folder
# (listen_addresses=''), trust authentication on that socket.
#
#   pg.sh start DIR   initdb + pg_ctl start in DIR (an empty or absent
#                     folder); prints the libpq connection string
#   pg.sh stop DIR    pg_ctl stop (fast, then immediate), removes DIR and
#                     the user made for it
#
# initdb and postgres refuse to run as root. As root, the server runs as a
# user made for the purpose (wsop-pg-<pid>, no home, no shell) that stop
# removes again; otherwise as the caller. DIR's path must stay short: the
# socket's path is limited to about 100 bytes.
set -eu

bindir=$(pg_config --bindir 2>/dev/null || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	echo "pg.sh: no initdb (Debian package postgresql; tools/deps.sh --tests installs it)" >&2
	exit 1
fi

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
	echo "usage: pg.sh start|stop DIR" >&2
	exit 2
}

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$(cat "$dir/.owner")" -- "$@"
	else
		"$@"
	fi
}

case "$cmd" in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ "$(id -u)" -eq 0 ]; then
		owner="wsop-pg-$$"
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$owner"
	else
		owner=$(id -un)
	fi
	echo "$owner" >"$dir/.owner"
	mkdir -p "$dir/data"
	chmod 0755 "$dir"
	chown "$owner" "$dir" "$dir/data"
	as_owner "$bindir/initdb" -D "$dir/data" -U wsop --auth=trust -E UTF8 \
		--locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=100" \
		start >/dev/null || {
		cat "$dir/postgres.log" >&2
		exit 1
	}
	echo "host=$dir dbname=postgres user=wsop"
	;;
stop)
	[ -d "$dir" ] || exit 0
	dir=$(cd "$dir" && pwd)
	if [ -f "$dir/.owner" ]; then
		owner=$(cat "$dir/.owner")
		if [ -f "$dir/data/postmaster.pid" ]; then
			as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
				as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop \
					>/dev/null 2>&1 || true
		fi
		if [ "$(id -u)" -eq 0 ] && [ "${owner#wsop-pg-}" != "$owner" ]; then
			userdel "$owner" 2>/dev/null || true
		fi
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: pg.sh start|stop DIR" >&2
	exit 2
	;;
esac

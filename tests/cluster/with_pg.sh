#!/bin/sh
# Runs a command with a private PostgreSQL (pg.sh) up for it: the
# connection string is in $WSOP_TEST_PG; the server and its folder go
# when the command ends, whatever the outcome.
#   with_pg.sh COMMAND [ARG]...
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/wsop-pg.XXXXXX)
trap '"$here/pg.sh" stop "$dir"' EXIT INT TERM
WSOP_TEST_PG=$("$here/pg.sh" start "$dir")
export WSOP_TEST_PG
status=0
"$@" || status=$?
exit $status

#!/usr/bin/env bash
# A throwaway PostgreSQL for the history tests and benchmarks: initdb into a
# temporary directory, pg_ctl on a free port with its unix socket in that
# directory, stopped and removed on exit. It never uses a PostgreSQL that may
# already run on this machine. Installs Debian's postgresql with apt-get when
# initdb is missing and running as root.
#
#   scripts/postgres.sh CMD ARGS...   run CMD with TRTCD_TEST_POSTGRES set
#   . scripts/postgres.sh             (from another script) define
#                                     start_throwaway_postgres / stop_throwaway_postgres
set -euo pipefail

PGTMP="" PGAS="" PGBIN=""

find_initdb() {
  command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1
}

# start_throwaway_postgres exports TRTCD_TEST_POSTGRES, or returns 1 when no
# PostgreSQL can be found or installed.
start_throwaway_postgres() {
  local initdb port
  initdb=$(find_initdb || true)
  if [ -z "$initdb" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing postgresql" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
    initdb=$(find_initdb || true)
  fi
  [ -n "$initdb" ] || return 1
  PGBIN=$(dirname "$(readlink -f "$initdb")")
  PGTMP=$(mktemp -d)
  mkdir -p "$PGTMP/sock"
  if [ "$(id -u)" = 0 ]; then # initdb refuses to run as root
    chown -R postgres "$PGTMP"
    PGAS="runuser -u postgres --"
  fi
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  $PGAS "$PGBIN/initdb" -D "$PGTMP/data" -U postgres --auth=trust -E UTF8 >"$PGTMP/initdb.log" 2>&1
  $PGAS "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 60 start \
    -o "-p $port -k $PGTMP/sock -c listen_addresses=127.0.0.1 -c max_connections=300" >/dev/null
  export TRTCD_TEST_POSTGRES="postgres://postgres@/postgres?host=$PGTMP/sock&port=$port&sslmode=disable"
  echo "== throwaway PostgreSQL on port $port ($PGTMP)" >&2
}

stop_throwaway_postgres() {
  if [ -n "$PGTMP" ]; then
    $PGAS "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGTMP"
    PGTMP=""
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  trap stop_throwaway_postgres EXIT
  start_throwaway_postgres || { echo "no PostgreSQL (initdb) found" >&2; exit 1; }
  "$@"
fi

#!/usr/bin/env bash
# A private PostgreSQL cluster for the test suite (and local runs against the
# PostgreSQL engine). Never touches a system cluster: its own data directory,
# its own port, its socket inside its own directory.
#
#   scripts/pg-test-cluster.sh start   # initdb once, start, create the test database, print the URL
#   scripts/pg-test-cluster.sh stop
#   scripts/pg-test-cluster.sh url     # print the URL only
#
# Environment: PILLARBOX_PG_DIR (default /tmp/pillarbox-pg; must be a directory
# the `postgres` user can enter, so not under /root), PILLARBOX_PG_PORT
# (default 55432), PILLARBOX_PG_BIN (default: Debian's newest
# /usr/lib/postgresql/*/bin, else whatever is on PATH).
set -euo pipefail

DIR=${PILLARBOX_PG_DIR:-/tmp/pillarbox-pg}
PORT=${PILLARBOX_PG_PORT:-55432}
DB=pillarbox_test
URL="postgres://postgres@127.0.0.1:${PORT}/${DB}"

if [ -z "${PILLARBOX_PG_BIN:-}" ]; then
  PILLARBOX_PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$PILLARBOX_PG_BIN" ]; then PILLARBOX_PG_BIN=$(dirname "$(command -v pg_ctl)"); fi
fi
BIN=$PILLARBOX_PG_BIN

# The server refuses to run as root: run its tools as `postgres` when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

running() {
  as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

case "${1:-}" in
  start)
    if [ ! -d "$DIR/data" ]; then
      mkdir -p "$DIR"
      [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
      chmod 700 "$DIR"
      # trust: the cluster listens on 127.0.0.1 and a socket only its owner can reach, for tests only.
      as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
        as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U postgres -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 ||
        { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    if ! running; then
      # fsync stays on (the default): the durability contract is tested on it too.
      as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null ||
        { tail -20 "$DIR/server.log" >&2; exit 1; }
    fi
    if ! as_pg "$BIN/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
      as_pg "$BIN/createdb" -h "$DIR" -p "$PORT" -U postgres "$DB"
    fi
    echo "$URL"
    ;;
  stop)
    if [ -d "$DIR/data" ] && running; then as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null; fi
    ;;
  url)
    echo "$URL"
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac

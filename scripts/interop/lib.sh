# Shared by scripts/interop/*/run: start and stop the interop Pillarbox
# (scripts/interop/server.ts). Sourced, not run.
#   pb_start            sets PB_PORT (HTTPS), PB_HTTP_PORT, PB_CERT, PB_DATA, PB_PID
#   pb_stop             QUIT on the control pipe, then removes the data dir
# PB_SNAPSHOT=1 runs the server from a copy of the repository's committed
# HEAD (git archive, node_modules linked) instead of the working tree, so a
# run names exactly one commit while others edit the tree; PB_REF=<commit>
# archives that commit instead of HEAD.
# PB_PG_URL=postgres://USER@HOST:PORT/DB puts each run's store on PostgreSQL
# in a fresh schema (interop_<random>, dropped by pb_stop with psql).
# PB_LOG=debug|info|warn|error sets the server's log level (default warn);
# the server log is $PB_DATA/server.log, and PB_KEEP=1 keeps $PB_DATA.

PB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PB_BUN="${PB_BUN:-$PB_ROOT/node_modules/.bin/bun}"
[ -x "$PB_BUN" ] || PB_BUN="$(command -v bun || true)"

pb_start() {
  PB_DATA="$(mktemp -d "${TMPDIR:-/tmp}/pillarbox-interop-XXXXXX")"
  mkfifo "$PB_DATA/ctl"
  PB_TREE="$PB_ROOT"
  PB_COMMIT="$(git -C "$PB_ROOT" rev-parse --short "${PB_REF:-HEAD}" 2>/dev/null)"
  if [ "${PB_SNAPSHOT:-0}" = 1 ]; then
    PB_TREE="$PB_DATA/tree"
    mkdir -p "$PB_TREE"
    git -C "$PB_ROOT" archive "${PB_REF:-HEAD}" | tar -x -C "$PB_TREE"
    ln -s "$PB_ROOT/node_modules" "$PB_TREE/node_modules"
    mkdir -p "$PB_TREE/scripts/interop"
    cp "$PB_ROOT/scripts/interop/server.ts" "$PB_TREE/scripts/interop/server.ts"
  else
    [ -z "$(git -C "$PB_ROOT" status --porcelain -- protocols src storage mail 2>/dev/null)" ] || PB_COMMIT="$PB_COMMIT+working-tree"
  fi
  export PB_COMMIT
  if [ -n "${PB_PG_URL:-}" ]; then
    PB_PG_SCHEMA="interop_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    export PB_DATABASE_URL="$PB_PG_URL?schema=$PB_PG_SCHEMA"
    psql -q "$PB_PG_URL" -c "CREATE EXTENSION IF NOT EXISTS pg_trgm" >/dev/null 2>&1 || true
  fi
  "$PB_BUN" "$PB_TREE/scripts/interop/server.ts" --data "$PB_DATA" --log "${PB_LOG:-warn}" \
    <"$PB_DATA/ctl" >"$PB_DATA/ready" 2>"$PB_DATA/server.log" &
  PB_PID=$!
  exec {PB_CTL}>"$PB_DATA/ctl"
  local i
  for i in $(seq 1 300); do
    if grep -q '^READY ' "$PB_DATA/ready" 2>/dev/null; then break; fi
    if ! kill -0 "$PB_PID" 2>/dev/null; then echo "interop: the server did not start:" >&2; cat "$PB_DATA/server.log" >&2; return 1; fi
    sleep 0.1
  done
  read -r _ PB_PORT PB_CERT PB_HTTP_PORT <"$PB_DATA/ready"
  [ -n "$PB_PORT" ] || { echo "interop: no READY line from the server" >&2; return 1; }
  export PB_PORT PB_CERT PB_HTTP_PORT PB_DATA
  echo "interop: Pillarbox $PB_COMMIT${PB_PG_URL:+ (PostgreSQL schema $PB_PG_SCHEMA)} on https://127.0.0.1:$PB_PORT (data $PB_DATA)"
}

pb_stop() {
  [ -n "${PB_PID:-}" ] || return 0
  echo QUIT >&"$PB_CTL" 2>/dev/null || true
  exec {PB_CTL}>&- 2>/dev/null || true
  local i
  for i in $(seq 1 70); do kill -0 "$PB_PID" 2>/dev/null || break; sleep 0.1; done
  kill "$PB_PID" 2>/dev/null || true
  wait "$PB_PID" 2>/dev/null || true
  if [ "${PB_KEEP:-0}" = 1 ]; then echo "interop: kept $PB_DATA" >&2; else
    rm -rf "$PB_DATA"
    [ -z "${PB_PG_SCHEMA:-}" ] || psql -q "$PB_PG_URL" -c "DROP SCHEMA IF EXISTS $PB_PG_SCHEMA CASCADE" >/dev/null 2>&1 || true
  fi
  PB_PID=
}

# Copies a client checkout to a fresh temp dir (a bare git dir is exported
# with git archive), never into this repository. Prints the copy's path.
copy_checkout() {
  local src="$1" dst
  dst="$(mktemp -d "${TMPDIR:-/tmp}/interop-client-XXXXXX")"
  if [ -d "$src/.git" ] || [ ! -e "$src/HEAD" ]; then
    cp -a "$src/." "$dst/"
  else
    git -C "$src" archive HEAD | tar -x -C "$dst"
  fi
  echo "$dst"
}

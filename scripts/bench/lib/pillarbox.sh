#!/usr/bin/env bash
# Starts and stops a Pillarbox instance for benchmarks: its own data dir, only
# the IMAP listener on 127.0.0.1:PORT (plaintext LOGIN allowed), logs to
# DIR/pillarbox.log. Uses $PILLARBOX_BIN, else dist/pillarbox when it is newer
# than every source file, else `bun src/main.ts serve`.
#
#   source scripts/bench/lib/pillarbox.sh
#   pillarbox_start DIR PORT [REPO]  # sets PILLARBOX_PID, waits until the port accepts
#   pillarbox_stop [PID]             # SIGTERM, then SIGKILL after 10 s (default $PILLARBOX_PID)
#   pillarbox_cmd [REPO]             # prints the command used
#   pillarbox_processes              # server processes a start runs ($PILLARBOX_WORKERS, default one per core)
# REPO: another checkout to run (e.g. /tmp/pb-base for a side-by-side run); its
# dist/pillarbox when newer than its sources, else its bun and src/main.ts.
# $PILLARBOX_BIN applies to this checkout only.

_PB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)

pillarbox_cmd() {
  local repo=${1:-$_PB_REPO}
  if [ -n "${PILLARBOX_BIN:-}" ] && [ "$repo" = "$_PB_REPO" ]; then
    echo "$PILLARBOX_BIN serve"
  elif [ -x "$repo/dist/pillarbox" ] && [ -z "$(find "$repo/src" "$repo/protocols" "$repo/storage" -name '*.ts' -newer "$repo/dist/pillarbox" -print -quit)" ]; then
    echo "$repo/dist/pillarbox serve"
  else
    echo "$repo/node_modules/.bin/bun $repo/src/main.ts serve"
  fi
}

# pillarbox_start DIR PORT [REPO]
pillarbox_start() {
  local dir=$1 port=$2 repo=${3:-$_PB_REPO} n
  mkdir -p "$dir"
  local env=(
    PILLARBOX_DATA_DIR="$dir"
    PILLARBOX_HOSTNAME=bench.pillarbox.test
    PILLARBOX_LOG_LEVEL="${PILLARBOX_LOG_LEVEL:-warn}"
    PILLARBOX_IMAP_LISTEN="127.0.0.1:$port"
    PILLARBOX_IMAP_ALLOW_PLAINTEXT_AUTH=true
    PILLARBOX_MAX_CONNECTIONS="${PILLARBOX_MAX_CONNECTIONS:-20000}"
    PILLARBOX_MAX_CONNECTIONS_PER_IP="${PILLARBOX_MAX_CONNECTIONS_PER_IP:-20000}"
    PILLARBOX_MAX_CONNECTIONS_IMAP="${PILLARBOX_MAX_CONNECTIONS_IMAP:-20000}"
    PILLARBOX_AUTH_FAILURES_PER_IP=1000000
    PILLARBOX_SMTP_VERIFY_INBOUND=false
    # server processes: PILLARBOX_WORKERS from the caller, else serve's default (one per core)
    PILLARBOX_WORKERS="${PILLARBOX_WORKERS:-0}"
  )
  for n in SMTP SUBMISSION SUBMISSIONS IMAPS POP3 POP3S HTTP HTTPS MANAGESIEVE; do env+=("PILLARBOX_${n}_LISTEN=off"); done
  # shellcheck disable=SC2046
  env "${env[@]}" $(pillarbox_cmd "$repo") </dev/null >>"$dir/pillarbox.log" 2>&1 &
  PILLARBOX_PID=$!
  local want
  want=$(pillarbox_processes)
  for n in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      # the lead listens first; its workers join within a moment: measure once all of them serve
      for n in $(seq 1 100); do
        [ "$(( $(pgrep -P "$PILLARBOX_PID" -c || true) + 1 ))" -ge "$want" ] && break
        sleep 0.1
      done
      [ "$want" -gt 1 ] && sleep 1
      return 0
    fi
    if ! kill -0 "$PILLARBOX_PID" 2>/dev/null; then
      echo "pillarbox exited during start-up; log:" >&2
      tail -20 "$dir/pillarbox.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "pillarbox did not listen on $port within 30 s" >&2
  return 1
}

# The server processes a start runs (the lead and its workers).
pillarbox_processes() {
  local w=${PILLARBOX_WORKERS:-0}
  if [ "$w" = 0 ]; then nproc; else echo "$w"; fi
}

pillarbox_stop() {
  local pid=${1:-${PILLARBOX_PID:-}}
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  [ "$pid" = "${PILLARBOX_PID:-}" ] && PILLARBOX_PID=
  return 0
}

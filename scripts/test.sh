#!/usr/bin/env bash
# Runs the test suite with Bun and ends with one plain line "N passed, N failed"
# (bun prints " N pass" / " N fail"), keeping a non-zero exit code when any
# test failed or bun itself crashed.
#   scripts/test.sh                 # every test under tests/
#   scripts/test.sh tests/kernel    # only these paths (any bun test arguments)
set -uo pipefail
cd "$(dirname "$0")/.."
BUN=node_modules/.bin/bun
[ -x "$BUN" ] || BUN=bun
mkdir -p .tmp
LOG=.tmp/test-output.log
if [ "$#" -eq 0 ]; then set -- tests/; fi
"$BUN" test "$@" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
# Strip colour codes before reading the summary.
summary=$(sed -E 's/\x1b\[[0-9;]*m//g' "$LOG")
pass=$(printf '%s\n' "$summary" | grep -E '^ *[0-9]+ pass$' | tail -1 | grep -oE '[0-9]+')
fail=$(printf '%s\n' "$summary" | grep -E '^ *[0-9]+ fail$' | tail -1 | grep -oE '[0-9]+')
if [ -z "$pass" ] && [ -z "$fail" ]; then
  # bun crashed or found no tests: count it as a failure so CI does not go green.
  pass=0
  fail=1
  [ "$rc" -eq 0 ] && rc=1
fi
pass=${pass:-0}
fail=${fail:-0}
# Errors outside tests (an unhandled rejection, a file that fails to load) make bun exit non-zero.
errors=$(printf '%s\n' "$summary" | grep -E '^ *[0-9]+ errors?$' | tail -1 | grep -oE '[0-9]+')
if [ -n "$errors" ]; then fail=$((fail + errors)); fi
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
if [ "$fail" -gt 0 ] && [ "$rc" -eq 0 ]; then rc=1; fi
echo "${pass} passed, ${fail} failed"
exit "$rc"

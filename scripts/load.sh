#!/usr/bin/env bash
# Load and fault tests (issue 8): a fresh stack of its own (devstack + the all-in-one Worker under
# `wrangler dev`), then the node:test files in tests/load/:
#   - one open-loop load test per function (a fixed request schedule for a fixed time), which
#     counts statuses, checks there is no 5xx and that the database holds exactly what the
#     accepted requests wrote;
#   - Postgres stopped and restarted during a load run, then frozen (SIGSTOP on every process,
#     backends started meanwhile included) and thawed (SIGCONT): the longest answer while frozen,
#     the time to the first 2xx after the thaw, and no acknowledged write lost;
#   - tenants that break off mid-body, answer late or never answer;
#   - the task pipeline (tests/load/pipeline.test.mjs): 200 tasks from 20 users through 2
#     inference workers, p50/p99 from filing to `done` as the app sees it over Realtime.
# Bounded in time: every test has its own timeout and the whole node run is killed after
# LOAD_TIMEOUT seconds (default 900).
#
# Settings (environment):
#   LOAD_RATE=20         requests per second of each load test (accept-invitation: 10, since each
#                        accept hashes a password with bcrypt); LOAD_RATE_<FN> sets one function's,
#                        e.g. LOAD_RATE_GUEST_SIGNUP=50
#   LOAD_SECONDS=30      how long each load test sends (LOAD_SECONDS_<FN> likewise)
#   FAULT_RATE=12        requests per second during the Postgres fault run (25 s: 6 up, down, up)
#   FAULT_DOWN_SECONDS=5 how long Postgres stays down
#   FAULT_STOP_MODE=fast pg_ctl's stop mode (immediate: as good as a crash)
#   FREEZE_SECONDS=15    how long every Postgres process stays frozen (SIGSTOP) in the freeze run
#   LOAD_RATE_PIPELINE=10 tasks filed per second in the pipeline run (200 in all)
#   LOAD_TESTS="tests/load/a.test.mjs ..."   a selection (default: every tests/load/*.test.mjs)
#   LOAD_PORT_BASE=27400, LOAD_STATE=/tmp/devstack-load-<hash>   ports and state of the stack
source "$(dirname "$0")/lib.sh"

LOAD_STATE="${LOAD_STATE:-${TMPDIR:-/tmp}/devstack-load-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)}"
LOAD_PORT_BASE="${LOAD_PORT_BASE:-27400}"
LOAD_PORT=$((LOAD_PORT_BASE + 21))
LOAD_DB_PORT=$((LOAD_PORT_BASE + 22))
LOAD_FUNCTIONS_PORT=$((LOAD_PORT_BASE + 29))
# tests/load/tenant-faults.test.mjs runs its fake tenants on base+40 ...
export LOAD_FAKE_TENANT_PORT=$((LOAD_PORT_BASE + 40))
# The load tests, then the tenant faults, then the Postgres fault (last: it stops the database).
default_tests="$(ls tests/load/*.test.mjs | grep -v -e /tenant-faults. -e /postgres-fault. | tr '\n' ' ') tests/load/tenant-faults.test.mjs tests/load/postgres-fault.test.mjs"
read -r -a LOAD_TESTS <<<"${LOAD_TESTS:-$default_tests}"
LOAD_TIMEOUT="${LOAD_TIMEOUT:-900}"
# tenant-proxy's upstream timeout on this stack (short, so the slow-tenant tests stay quick).
export TENANT_TIMEOUT_MS="${TENANT_TIMEOUT_MS:-3000}"
# ... and its wait for the next bytes of a tenant's body (short too, for the stalling tenant).
export TENANT_IDLE_TIMEOUT_MS="${TENANT_IDLE_TIMEOUT_MS:-3000}"
# guest-signup's per-IP limit on this stack; the load test checks it is exact under load.
export GUEST_SIGNUP_RATE_LIMIT="${GUEST_SIGNUP_RATE_LIMIT:-5/3600}"

started=$(date +%s)
ensure_postgres
ensure_node_modules
ensure_wasm_tools

log "building devstack and the functions (release wasm)"
cargo build --quiet -p devstack
# The reference inference backend tests/load/pipeline.test.mjs runs twice.
cargo build --quiet -p inference-worker
bash scripts/build-functions.sh router
build_web_app

start_function_stack "$LOAD_STATE" "$LOAD_PORT_BASE" \
  "TENANT_TIMEOUT_MS=\"$TENANT_TIMEOUT_MS\"" "TENANT_IDLE_TIMEOUT_MS=\"$TENANT_IDLE_TIMEOUT_MS\"" \
  "GUEST_SIGNUP_RATE_LIMIT=\"$GUEST_SIGNUP_RATE_LIMIT\""

# What the fault test needs to stop and start this stack's Postgres, and to check that
# nothing else died meanwhile.
export LOAD_PGDATA="$LOAD_STATE/pgdata"
export LOAD_DB_PORT LOAD_PORT LOAD_FUNCTIONS_PORT
export LOAD_DEVSTACK_PID="$DEVSTACK_PID" LOAD_FUNCTIONS_PID="$FUNCTIONS_PID"
export LOAD_REPORT="$LOAD_STATE/report.jsonl"
rm -f "$LOAD_REPORT"

log "load and fault tests (node --test ${LOAD_TESTS[*]}), at most ${LOAD_TIMEOUT}s"
# One node run per file, in this order (node --test would sort them), all within one deadline.
status=0
deadline=$(($(date +%s) + LOAD_TIMEOUT))
for file in "${LOAD_TESTS[@]}"; do
  left=$((deadline - $(date +%s)))
  if [ "$left" -le 0 ]; then
    log "out of time (LOAD_TIMEOUT=${LOAD_TIMEOUT}s) before $file"
    status=124
    break
  fi
  code=0
  timeout --kill-after=15 "$left" node --test --test-timeout=600000 "$file" || code=$?
  if [ "$code" = 124 ] || [ "$code" = 137 ]; then log "$file did not finish within the ${LOAD_TIMEOUT}s budget"; fi
  [ "$code" = 0 ] || status=$code
done

if [ -f "$LOAD_REPORT" ]; then
  log "figures"
  node tests/load/support/summary.mjs "$LOAD_REPORT"
fi
log "load.sh finished in $(($(date +%s) - started)) s (exit $status)"
exit "$status"

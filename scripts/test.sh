#!/usr/bin/env bash
# Runs every test: formatting and lints, the native unit tests, then the end-to-end suite in
# tests/ against a fresh stack of its own (its own ports and data, so a running dev stack is
# left alone).
source "$(dirname "$0")/lib.sh"

E2E_STATE="${E2E_STATE:-${TMPDIR:-/tmp}/devstack-e2e-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)}"
# Ports and the test selection can be overridden, so that two checkouts can test at once:
#   E2E_PORT_BASE=55400 E2E_TESTS=tests/connections.test.mjs E2E_ONLY=1 scripts/test.sh
# E2E_ONLY=1 skips fmt, clippy and the unit tests.
E2E_PORT_BASE="${E2E_PORT_BASE:-54400}"
E2E_PORT=$((E2E_PORT_BASE + 21))
E2E_DB_PORT=$((E2E_PORT_BASE + 22))
E2E_TENANT_PORT=$((E2E_PORT_BASE + 31))
E2E_FUNCTIONS_PORT=$((E2E_PORT_BASE + 29))
E2E_INSPECTOR_PORT=$((E2E_PORT_BASE + 30))
read -r -a E2E_TESTS <<<"${E2E_TESTS:-$(echo tests/*.test.mjs)}"

ensure_postgres
ensure_node_modules
ensure_wasm_tools
ensure_chromium

if [ "${E2E_ONLY:-}" != 1 ]; then
  log "cargo fmt --check"
  cargo fmt --all -- --check
  log "cargo clippy"
  cargo clippy --quiet --workspace --all-targets -- -D warnings
  log "unit tests (cargo test)"
  cargo test --quiet --workspace
fi

log "building devstack and the functions (release wasm)"
cargo build --quiet -p devstack
bash scripts/build-functions.sh router
build_web_app

log "starting the test stack in $E2E_STATE"
mkdir -p "$E2E_STATE"
rm -f "$E2E_STATE/dev.vars"
trap 'stop_process "${FUNCTIONS_PID:-}" "${DEVSTACK_PID:-}"' EXIT INT TERM
start_devstack "$E2E_STATE/devstack.log" "$E2E_PORT" \
  --db-port "$E2E_DB_PORT" --state-dir "$E2E_STATE" \
  start --reset \
  --migrations migrations --migrations tests/fixtures/migrations \
  --dev-vars "$E2E_STATE/dev.vars" \
  --functions-url "http://127.0.0.1:$E2E_FUNCTIONS_PORT" \
  --tenant "tenant=$E2E_TENANT_PORT=tests/fixtures/tenant" \
  --web-dir build/web
ensure_worker_secrets "$E2E_STATE/dev.vars"
ensure_invitation_link_base "$E2E_STATE/dev.vars" "$E2E_PORT"
start_functions "$E2E_FUNCTIONS_PORT" "$E2E_INSPECTOR_PORT" "$E2E_STATE/dev.vars" "$E2E_STATE/functions.log"
export DEVSTACK_DEV_VARS="$E2E_STATE/dev.vars"

log "end-to-end tests (node --test tests/)"
DEVSTACK_STATUS="$E2E_STATE/status.json" node --test --test-concurrency=1 "${E2E_TESTS[@]}"

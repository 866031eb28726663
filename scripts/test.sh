#!/usr/bin/env bash
# Runs every test: formatting and lints, the native unit tests, then the end-to-end suite in
# tests/ against a fresh stack of its own (its own ports and data, so a running dev stack is
# left alone).
source "$(dirname "$0")/lib.sh"

E2E_STATE="${E2E_STATE:-${TMPDIR:-/tmp}/devstack-e2e-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)}"
E2E_PORT=54421
E2E_DB_PORT=54422
E2E_TENANT_PORT=54431

ensure_postgres
ensure_node_modules

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --quiet --workspace --all-targets -- -D warnings
log "unit tests (cargo test)"
cargo test --quiet --workspace

log "starting the test stack in $E2E_STATE"
mkdir -p "$E2E_STATE"
trap 'stop_process "${DEVSTACK_PID:-}"' EXIT INT TERM
start_devstack "$E2E_STATE/devstack.log" "$E2E_PORT" \
  --db-port "$E2E_DB_PORT" --state-dir "$E2E_STATE" \
  start --reset \
  --migrations migrations --migrations tests/fixtures/migrations \
  --dev-vars "$E2E_STATE/dev.vars" \
  --tenant "tenant=$E2E_TENANT_PORT=tests/fixtures/tenant"

log "end-to-end tests (node --test tests/)"
DEVSTACK_STATUS="$E2E_STATE/status.json" node --test --test-concurrency=1 tests/*.test.mjs

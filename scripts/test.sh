#!/usr/bin/env bash
# Runs every test: formatting and lints, the native unit tests, then the end-to-end suite in
# tests/ against a fresh stack of its own (its own ports and data, so a running dev stack is
# left alone).
source "$(dirname "$0")/lib.sh"

E2E_STATE="${E2E_STATE:-${TMPDIR:-/tmp}/devstack-e2e-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)}"
# Ports and the test selection can be overridden, so that two checkouts can test at once:
#   E2E_PORT_BASE=25400 E2E_TESTS=tests/connections.test.mjs E2E_ONLY=1 scripts/test.sh
# E2E_ONLY=1 skips fmt, clippy and the unit tests.
# The stack listens on E2E_PORT_BASE + 21 (API), +22 (database), +23 (mail catcher), +29 (functions), +31 (tenant);
# tests that start stacks of their own use +39/+40 and +121/+122/+131.
# The default base sits below Linux's ephemeral range (32768-60999 here): a port in that range can
# be held, at the moment a stack starts, by any outgoing connection of the run (a pooled
# Postgres or keep-alive HTTP connection), and wrangler dev then fails with "Address already in use".
export E2E_PORT_BASE="${E2E_PORT_BASE:-24400}"
# Intervals the tests would otherwise sleep through, short on the test stacks: Auth's refresh
# token reuse interval (10 s by default; tests/auth.test.mjs waits it out) and, for the
# functions, the least time between two JWKS fetches (30 s by default; tests/signing-keys.test.mjs
# waits for a rotation to reach them). Stacks that tests start themselves inherit both.
export GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL="${GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL:-2}"
JWKS_MIN_REFETCH_SECS="${JWKS_MIN_REFETCH_SECS:-1}"
read -r -a E2E_TESTS <<<"${E2E_TESTS:-$(echo tests/*.test.mjs)}"

# Every phase's wall time is printed at the end, also when a phase fails (docs/testing.md).
ON_EXIT=print_phases
trap on_exit EXIT
mkdir -p "$E2E_STATE"
PHASE_FILE_TIMES="$E2E_STATE/e2e-file-times.tsv"
rm -f "$PHASE_FILE_TIMES"
# node --test with the spec reporter on the terminal and the per-file times into the table.
e2e() {
  local status=0
  node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=./tests/support/file-times-reporter.mjs --test-reporter-destination="$PHASE_FILE_TIMES.part" "$@" ||
    status=$?
  cat "$PHASE_FILE_TIMES.part" >>"$PHASE_FILE_TIMES"
  return "$status"
}

phase "tools: Postgres (apt)"
ensure_postgres
phase "tools: npm packages (npm ci)"
ensure_node_modules
phase "tools: wasm target, wasm-bindgen, worker-build"
ensure_wasm_tools
phase "tools: Chromium (apt)"
ensure_chromium

if [ "${E2E_ONLY:-}" != 1 ]; then
  phase "cargo fmt --check"
  cargo fmt --all -- --check
  phase "cargo clippy"
  cargo clippy --quiet --workspace --all-targets -- -D warnings
fi

# One native build for the unit tests and the e2e suite's binaries (devstack, inference-worker,
# the send-webhook example the browser tests run): `cargo test --workspace` resolves features
# for the whole workspace with its dev-dependencies, so a `cargo build -p devstack` of its own
# would build many dependencies a second time with other features (docs/testing.md).
phase "native build (workspace, all targets)"
cargo build --quiet --workspace --all-targets
if [ "${E2E_ONLY:-}" != 1 ]; then
  phase "unit tests (cargo test)"
  cargo test --quiet --workspace
fi
phase "wasm release build (functions/router)"
bash scripts/build-functions.sh router
phase "web app bundle"
build_web_app

phase "start the test stack"
start_function_stack "$E2E_STATE" "$E2E_PORT_BASE" "JWKS_MIN_REFETCH_SECS=\"$JWKS_MIN_REFETCH_SECS\""

phase "e2e on the default stack (ES256): ${#E2E_TESTS[@]} files"
e2e "${E2E_TESTS[@]}"

# The files about tokens and keys once more, on a --legacy-jwt stack (HS256 only, as projects
# made before Supabase's signing keys), on ports of their own: base + 71, 72, 79, 80, 81.
read -r -a LEGACY_TESTS <<<"${E2E_LEGACY_TESTS:-tests/auth.test.mjs tests/rest.test.mjs tests/rls.test.mjs tests/connections.test.mjs tests/signing-keys.test.mjs}"
LEGACY_SELECTED=()
for file in "${LEGACY_TESTS[@]}"; do
  [[ " ${E2E_TESTS[*]} " == *" $file "* ]] && LEGACY_SELECTED+=("$file")
done
if [ "${#LEGACY_SELECTED[@]}" -gt 0 ]; then
  phase "start the --legacy-jwt stack"
  stop_process "${FUNCTIONS_PID:-}" "${DEVSTACK_PID:-}"
  DEVSTACK_START_ARGS=--legacy-jwt start_function_stack "$E2E_STATE-legacy" "$((E2E_PORT_BASE + 50))" \
    "JWKS_MIN_REFETCH_SECS=\"$JWKS_MIN_REFETCH_SECS\""
  phase "e2e on the --legacy-jwt stack: ${LEGACY_SELECTED[*]}"
  E2E_FILE_TAG=legacy e2e "${LEGACY_SELECTED[@]}"
fi

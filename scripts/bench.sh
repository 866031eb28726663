#!/usr/bin/env bash
# The benchmarks: builds the release Workers, starts a stack of its own (devstack with a tenant
# project, ports BENCH_PORT_BASE+21/22/31; devstack's default ES256 signing keys), serves the built Workers with `workerd serve` (not
# `wrangler dev`, whose proxy adds ~12 ms per request), drives them with wrk and prints one
# markdown table. See bench/README.md for what each row measures.
#
# Settings (environment):
#   BENCH_SECONDS=8        seconds per measured row
#   BENCH_CONNECTIONS=8    concurrent connections per row
#   BENCH_PORT_BASE=26400  ports: stack base+21/22, tenant base+31, Workers base+40…67, latency base+68…70
#   BENCH_PIN=1            pin workerd to CPU 0 and wrk to CPU 1 (taskset), 0 to let them float
#   BENCH_SECTIONS="latency flows functions proxy peer ops sizes startup"   what to run
#   BENCH_LATENCY_REQUESTS=30  requests per flow and delay in the latency section
#   BENCH_OUT=file         also write the table there
#   BENCH_SKIP_BUILD=1     use build/ as it is (when iterating on the harness)
#   BENCH_DEVSTACK_BIN=path  another devstack binary (e.g. a debug build) instead of building a release one
source "$(dirname "$0")/lib.sh"

BENCH_PORT_BASE="${BENCH_PORT_BASE:-26400}"
BENCH_STATE="${BENCH_STATE:-${TMPDIR:-/tmp}/bench-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)}"
FUNCTIONS=(save-connection tenant-proxy process-webhook create-invitation accept-invitation guest-signup)

# wrk, the load generator (Debian's package).
ensure_wrk() {
  command -v wrk >/dev/null && return
  log "installing wrk (apt-get install wrk)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq wrk >/dev/null
}

# The benchmark-only Rust Worker (bench/rust-worker) into build/bench-worker/, like
# scripts/build-functions.sh builds the functions.
build_bench_worker() {
  local out="build/bench-worker"
  if [ -f "$out/index.js" ] && [ -z "$(find bench/rust-worker shared Cargo.toml Cargo.lock -newer "$out/index.js" -type f -print -quit)" ]; then
    return
  fi
  log "building bench/rust-worker for wasm32 (release)"
  WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen" \
  ESBUILD_BIN="$REPO/node_modules/.bin/esbuild" \
  WASM_OPT_BIN="$REPO/node_modules/.bin/wasm-opt" \
    worker-build --release --out-dir "../../$out" bench/rust-worker
}

ensure_postgres
ensure_node_modules
ensure_wasm_tools
ensure_wrk

# A release devstack, so the floors (PostgREST/Auth called directly) and the functions'
# subrequests are not slowed by a debug build.
if [ -n "${BENCH_DEVSTACK_BIN:-}" ]; then
  export DEVSTACK_BIN="$BENCH_DEVSTACK_BIN"
else
  log "building devstack (release)"
  cargo build --quiet --release -p devstack
  export DEVSTACK_BIN="$REPO/target/release/devstack"
fi
if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
  log "building the Workers (release wasm)"
  for name in router "${FUNCTIONS[@]}"; do
    bash scripts/build-functions.sh "$name"
  done
  build_bench_worker
fi

log "starting the benchmark stack in $BENCH_STATE"
mkdir -p "$BENCH_STATE"
rm -f "$BENCH_STATE/dev.vars"
trap 'stop_process "${DEVSTACK_PID:-}"' EXIT INT TERM
# The loops sign up (anonymously) and sign in far more often than Auth's per-client limits allow.
start_devstack "$BENCH_STATE/devstack.log" "$((BENCH_PORT_BASE + 21))" \
  --db-port "$((BENCH_PORT_BASE + 22))" --mail-port "$((BENCH_PORT_BASE + 23))" --state-dir "$BENCH_STATE" \
  start --reset "${RAISED_AUTH_RATE_LIMITS[@]}" \
  --migrations supabase/migrations \
  --dev-vars "$BENCH_STATE/dev.vars" \
  --functions-url "http://127.0.0.1:$((BENCH_PORT_BASE + 40))" \
  --tenant "tenant=$((BENCH_PORT_BASE + 31))=bench/tenant"
ensure_worker_secrets "$BENCH_STATE/dev.vars"

BENCH_PORT_BASE="$BENCH_PORT_BASE" BENCH_STATE="$BENCH_STATE" \
  node bench/bench.mjs

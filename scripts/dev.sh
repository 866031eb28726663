#!/usr/bin/env bash
# Starts the whole local stack: Postgres, /rest/v1, /auth/v1 and the functions at /functions/v1
# on http://127.0.0.1:54321, like `supabase start` + `supabase functions serve`, and the mail catcher
# on http://127.0.0.1:54324 (as the CLI's Mailpit). Ctrl-C stops it.
# Arguments are passed to `devstack start` (e.g. --reset, --tenant acme=54331), but for
# --no-inference-worker: without it the reference inference backend (inference-worker) runs
# too, so a task filed in the app gets its mask; with it, run your own backend against the
# stack (docs/pipeline.md).
source "$(dirname "$0")/lib.sh"

FUNCTIONS_PORT=8787
INFERENCE_WORKER=1
DEVSTACK_ARGS=()
for arg in "$@"; do
  if [ "$arg" = --no-inference-worker ]; then INFERENCE_WORKER=0; else DEVSTACK_ARGS+=("$arg"); fi
done

ensure_postgres
ensure_node_modules
ensure_wasm_tools
log "building devstack and the functions"
cargo build --quiet -p devstack
[ "$INFERENCE_WORKER" = 0 ] || cargo build --quiet -p inference-worker
bash scripts/build-functions.sh router
build_web_app

mkdir -p .devstack
trap 'stop_process "${INFERENCE_PID:-}" "${FUNCTIONS_PID:-}" "${DEVSTACK_PID:-}"' EXIT INT TERM
start_devstack .devstack/devstack.log 54321 start --functions-url "http://127.0.0.1:$FUNCTIONS_PORT" \
  --web-dir build/web ${DEVSTACK_ARGS[@]+"${DEVSTACK_ARGS[@]}"}
ensure_worker_secrets .dev.vars
ensure_invitation_link_base .dev.vars 54321
log "starting the functions (wrangler dev on port $FUNCTIONS_PORT; it rebuilds on changes)"
start_functions "$FUNCTIONS_PORT" 9229 .dev.vars .devstack/functions.log
if [ "$INFERENCE_WORKER" = 1 ]; then
  log "starting the reference inference backend (inference-worker; --no-inference-worker to run your own)"
  start_inference_worker .dev.vars "http://127.0.0.1:54321/functions/v1" .devstack/inference-worker.log
fi
cat .devstack/devstack.log
log "ready: http://127.0.0.1:54321 (logs: .devstack/devstack.log, .devstack/functions.log, .devstack/inference-worker.log). Ctrl-C stops everything."
log "the reference web app: http://127.0.0.1:54321/ (examples/web; rebuild with: node examples/web/build.mjs)"
log "caught mail: http://127.0.0.1:54324/ (the mail catcher, Mailpit's API at /api/v1/)"
wait "$DEVSTACK_PID"

#!/usr/bin/env bash
# Starts the whole local stack: Postgres, /rest/v1, /auth/v1 and the functions at /functions/v1
# on http://127.0.0.1:54321, like `supabase start` + `supabase functions serve`, and the mail catcher
# on http://127.0.0.1:54324 (as the CLI's Mailpit). Ctrl-C stops it.
# Arguments are passed to `devstack start` (e.g. --reset, --tenant acme=54331).
source "$(dirname "$0")/lib.sh"

FUNCTIONS_PORT=8787

ensure_postgres
ensure_node_modules
ensure_wasm_tools
log "building devstack and the functions"
cargo build --quiet -p devstack
bash scripts/build-functions.sh router
build_web_app

mkdir -p .devstack
trap 'stop_process "${FUNCTIONS_PID:-}" "${DEVSTACK_PID:-}"' EXIT INT TERM
start_devstack .devstack/devstack.log 54321 start --functions-url "http://127.0.0.1:$FUNCTIONS_PORT" \
  --web-dir build/web "$@"
ensure_worker_secrets .dev.vars
ensure_invitation_link_base .dev.vars 54321
log "starting the functions (wrangler dev on port $FUNCTIONS_PORT; it rebuilds on changes)"
start_functions "$FUNCTIONS_PORT" 9229 .dev.vars .devstack/functions.log
cat .devstack/devstack.log
log "ready: http://127.0.0.1:54321 (logs: .devstack/devstack.log, .devstack/functions.log). Ctrl-C stops everything."
log "the reference web app: http://127.0.0.1:54321/ (examples/web; rebuild with: node examples/web/build.mjs)"
log "caught mail: http://127.0.0.1:54324/ (the mail catcher, Mailpit's API at /api/v1/)"
wait "$DEVSTACK_PID"

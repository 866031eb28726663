#!/usr/bin/env bash
# Starts the whole local stack: Postgres, /rest/v1, /auth/v1 and /functions/v1 on
# http://127.0.0.1:54321, like `supabase start`. Ctrl-C stops everything.
# Arguments are passed to `devstack start` (e.g. --reset, --tenant acme=54331).
source "$(dirname "$0")/lib.sh"

ensure_postgres
ensure_node_modules
log "building devstack"
cargo build --quiet -p devstack

trap 'stop_process "${DEVSTACK_PID:-}"' EXIT INT TERM
start_devstack .devstack/devstack.log 54321 start "$@"
cat .devstack/devstack.log
log "devstack is up (log: .devstack/devstack.log). Ctrl-C to stop."
wait "$DEVSTACK_PID"

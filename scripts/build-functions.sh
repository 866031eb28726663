#!/usr/bin/env bash
# Builds a Worker to wasm (release: opt-level "z", LTO, one codegen unit, wasm-opt), offline:
# worker-build is pointed at the pinned local wasm-bindgen, esbuild and wasm-opt.
#   scripts/build-functions.sh            the all-in-one Worker (functions/router), what wrangler.toml serves
#   scripts/build-functions.sh NAME       one function as its own Worker (wrangler deploy --env NAME)
source "$(dirname "$0")/lib.sh"

target="${1:-router}"
crate="functions/$target"
[ -f "$crate/Cargo.toml" ] || { log "no crate at $crate"; exit 2; }
extra=()
[ "$target" = router ] || extra=(--features standalone)

ensure_node_modules
ensure_wasm_tools

# Nothing to do when the build is newer than every input (wrangler dev calls this on start).
# Output goes to build/<name>/ at the top, outside the folders `wrangler dev` watches.
out="build/$target"
shim="$out/worker/shim.mjs"
if [ -f "$shim" ] && [ -z "$(find functions shared Cargo.toml Cargo.lock -newer "$shim" -type f -print -quit)" ]; then
  exit 0
fi

log "building $crate for wasm32 (release)"
WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen" \
ESBUILD_BIN="$REPO/node_modules/.bin/esbuild" \
WASM_OPT_BIN="$REPO/node_modules/.bin/wasm-opt" \
  worker-build --release --out-dir "../../$out" "$crate" "${extra[@]}"

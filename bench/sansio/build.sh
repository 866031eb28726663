#!/usr/bin/env bash
# Builds issue 30's sans-IO prototype of save-connection into $1 (default
# build/sansio-save-connection): index.js (driver.mjs and wasm-bindgen's glue, one ES module)
# and index_bg.wasm, the shape bench/lib/workerd.mjs serves. The same release profile and
# wasm-opt pass as scripts/build-functions.sh (worker-build) gives the function.
source "$(dirname "$0")/../../scripts/lib.sh"

out="${1:-build/sansio-save-connection}"
ensure_node_modules
ensure_wasm_tools

log "building bench/sansio for wasm32 (release)"
cargo build --quiet --release --target wasm32-unknown-unknown -p sansio-save-connection
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
wasm-bindgen --target web --experimental-reset-state-function --out-dir "$work" --out-name glue \
  "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/sansio_save_connection.wasm"
mkdir -p "$out"
# worker-build's wasm-opt pass: -O with the features workerd's V8 has.
wasm-opt -O --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling \
  "$work/glue_bg.wasm" -o "$out/index_bg.wasm"
cp bench/sansio/driver.mjs "$work/driver.mjs"
# Whitespace and syntax minified, names kept: the bench's CPU profiles read them.
esbuild "$work/driver.mjs" --bundle --format=esm --minify-whitespace --minify-syntax --log-level=warning \
  --external:./index_bg.wasm --outfile="$out/index.js"
log "built $out ($(wc -c <"$out/index_bg.wasm") bytes of wasm)"

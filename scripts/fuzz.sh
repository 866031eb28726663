#!/usr/bin/env bash
# Fuzzes every cargo-fuzz target in fuzz/ for a bounded time and fails if any of them finds a
# crash (a panic, a failed property assertion, an overflow, a timeout or running out of memory).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      # default 30 s per target, one target at a time
#
# FUZZ_TARGETS="jwt_verify envelope" selects targets; FUZZ_SANITIZER=address builds with
# AddressSanitizer (default: none, since every crate under test forbids unsafe code and ASan
# halves the executions per second). Seeds come from fuzz/corpus/<target>/ (committed, small)
# and fuzz/regressions/<target>/ (inputs that once crashed, replayed first); what libFuzzer
# learns goes to fuzz/target/corpus/<target>/ (not committed), a crashing input to
# fuzz/artifacts/<target>/. The machine's toolchain is stable: RUSTC_BOOTSTRAP=1 lets
# cargo-fuzz pass its -Z flags.
set -euo pipefail

cd "$(dirname "$0")/../fuzz"
SECONDS_PER_TARGET="${1:-30}"
CARGO_FUZZ_VERSION=0.13.2
SANITIZER="${FUZZ_SANITIZER:-none}"
export RUSTC_BOOTSTRAP=1

if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
  exit 2
fi
if [[ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
  echo "==> installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --locked cargo-fuzz --version "=$CARGO_FUZZ_VERSION"
fi

read -r -a targets <<<"${FUZZ_TARGETS:-$(cargo fuzz list | tr '\n' ' ')}"
started=$(date +%s)
echo "==> building ${#targets[@]} fuzz targets (sanitizer: $SANITIZER)"
cargo fuzz build --sanitizer "$SANITIZER"
built=$(date +%s)

mkdir -p target/fuzz-logs
failed=()
summary=()
for target in "${targets[@]}"; do
  work="target/corpus/$target"
  mkdir -p "$work"
  corpora=("$work" "corpus/$target")
  [[ -d "regressions/$target" ]] && corpora+=("regressions/$target")
  options=(-max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
  # Request bodies are JSON: the dictionary hands libFuzzer the field names and tricky values.
  [[ "$target" == *_body || "$target" == webhook_signature ]] && options+=(-dict=dicts/json.dict)
  log="target/fuzz-logs/$target.log"
  echo "==> $target: ${SECONDS_PER_TARGET}s"
  status=0
  cargo fuzz run --sanitizer "$SANITIZER" "$target" "${corpora[@]}" -- "${options[@]}" \
    >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  if [[ $status -ne 0 ]]; then
    failed+=("$target")
    summary+=("$(printf '%-26s CRASH (exit %s), see %s' "$target" "$status" "fuzz/$log")")
    grep -E 'panicked at|Test unit written to|ERROR: libFuzzer' "$log" | head -n 5 || true
  else
    summary+=("$(printf '%-26s %10s runs %8s exec/s  cov %s' "$target" "${runs:-?}" "${rate:-?}" "${cov:-?}")")
  fi
done

finished=$(date +%s)
echo
echo "==> fuzz summary (${SECONDS_PER_TARGET}s per target; build $((built - started))s, total $((finished - started))s)"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FAILED: ${failed[*]} (reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run <target> artifacts/<target>/<file>)" >&2
  exit 1
fi
echo "${#targets[@]} passed, 0 failed"

// Per-operation times inside workerd. A Worker's clock stands still while it computes, so the
// time is taken outside: the wall time of `GET /ops?op=X&n=N` minus that of `n=0`, over N.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const OPS = {
  hs256_verify: 'HS256 access token verify (signature + claims)',
  es256_verify: 'ES256 access token verify (JWKS key cached)',
  seal: 'seal a connection secret (AES-256-GCM envelope)',
  open: 'open that envelope',
  webhook_verify: 'Standard Webhooks verify (512 B body, 2 secrets)',
  hmac: 'HMAC-SHA256 of an access token\'s signing input alone (Rust: hmac crate)',
  hmac_webcrypto: 'the same HMAC through WebCrypto called from Rust',
  aes_gcm_seal: 'AES-256-GCM encrypt of the secret alone (Rust: aes-gcm crate)',
  aes_gcm_seal_webcrypto: 'the same encrypt through WebCrypto called from Rust',
  aes_gcm_open: 'AES-256-GCM decrypt of it alone (Rust: aes-gcm crate)',
  aes_gcm_open_webcrypto: 'the same decrypt through WebCrypto called from Rust',
  await_promise: 'await an already resolved promise (Rust: wasm-bindgen-futures\' JsFuture)',
};

/** Which criterion benchmark (the benches of shared/auth and shared/crypto) measures the same operation as each op here. */
const CRITERION = {
  hs256_verify: /^verify hs256/,
  es256_verify: /^verify es256 \(jwks key cached\)/,
  seal: /^seal a /,
  open: /^open a /,
  webhook_verify: /^verify a webhook signature.*\/512$/,
};

const TRIALS = 7;
const TARGET_MS = 80;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeOnce(base, op, n) {
  const started = performance.now();
  const res = await fetch(`${base}/ops?op=${op}&n=${n}`);
  const text = await res.text();
  const elapsed = performance.now() - started;
  if (!res.ok) throw new Error(`${base} ${op}: ${res.status} ${text}`);
  return elapsed;
}

/** Microseconds per operation at `base` (bench-worker or peer-js). */
export async function perOp(base, op) {
  await timeOnce(base, op, 20);
  const probe = await timeOnce(base, op, 200);
  const n = Math.max(50, Math.min(100_000, Math.round((TARGET_MS / Math.max(probe, 0.5)) * 200)));
  const zero = [];
  const full = [];
  for (let i = 0; i < TRIALS; i++) {
    zero.push(await timeOnce(base, op, 0));
    full.push(await timeOnce(base, op, n));
  }
  return ((median(full) - median(zero)) / n) * 1000;
}

/** Criterion's mean estimates (µs) from target/criterion, keyed by the op they measure. */
function criterionEstimates(root) {
  const found = {};
  if (!existsSync(root)) return found;
  const walk = (dir, rel) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (!statSync(path).isDirectory()) continue;
      if (entry === 'new' && existsSync(join(path, 'estimates.json'))) {
        const id = rel.toLowerCase();
        const op = Object.keys(CRITERION).find((key) => CRITERION[key].test(id));
        if (op && !(op in found)) {
          const estimates = JSON.parse(readFileSync(join(path, 'estimates.json'), 'utf8'));
          found[op] = estimates.mean.point_estimate / 1000;
        }
      } else if (entry !== 'report' && entry !== 'base' && entry !== 'change') {
        walk(path, rel ? `${rel}/${entry}` : entry);
      }
    }
  };
  walk(root, '');
  return found;
}

/** Every op in both Workers, and the native figure where criterion has one. */
export async function measureOps({ rust, js }, criterionRoot = new URL('../../target/criterion', import.meta.url).pathname) {
  const native = criterionEstimates(criterionRoot);
  const rows = [];
  const selected = process.env.BENCH_OPS ? process.env.BENCH_OPS.split(',') : Object.keys(OPS);
  for (const op of selected.filter((name) => name in OPS)) {
    rows.push({ op, rust_us: await perOp(rust, op), js_us: await perOp(js, op), native_us: native[op] ?? null });
  }
  return rows;
}

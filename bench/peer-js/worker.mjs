// The benchmark's peer: the per-request work of a function written as the plain JavaScript
// Worker a user would otherwise write, with WebCrypto. `POST /peer` does what bench-worker's
// `POST /peer` (Rust/wasm, shared crates) does: verify the caller's HS256 Supabase access token
// (alg, signature, exp/nbf/iat with 30 s leeway, aud, iss, sub), open the AES-256-GCM envelope
// `enc:v1:<key-id>:<base64url(nonce ‖ ciphertext ‖ tag)>` bound to (caller, connection name,
// field) exactly as edge-crypto binds it, seal it again with a fresh nonce, answer JSON.
// `GET /ops?op=<name>&n=<count>` runs one operation n times, like bench-worker's.

import { fromBase64, fromBase64Url, importKeyRing, open as openEnvelope, seal as sealEnvelope } from './envelope.mjs';

const LEEWAY_SECS = 30;
const FIELD = 'service_role_key';
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Per-isolate state, built on the first request (imported keys are reused, as a real Worker would). */
let statePromise;
function state(env) {
  statePromise ??= buildState(env);
  return statePromise;
}

async function buildState(env) {
  const hmacKey = await crypto.subtle.importKey('raw', encoder.encode(env.SUPABASE_JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const ring = await importKeyRing(env.ENCRYPTION_KEY_RING);
  const issuer = `${env.SUPABASE_URL.replace(/\/$/, '')}/auth/v1`;
  const s = { hmacKey, ring, issuer, esKey: null, webhookKeys: [] };
  if (env.BENCH_JWKS) {
    const jwk = JSON.parse(env.BENCH_JWKS).keys[0];
    s.esKey = await crypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  }
  if (env.BENCH_SECRET) {
    // The HMAC and AES-GCM primitives alone (bench-worker's `hmac`/`aes_gcm_*` ops, same key
    // bytes, nonce and AAD): what WebCrypto costs from JavaScript, beside calling it from Rust.
    s.hmacSignKey = await crypto.subtle.importKey('raw', encoder.encode(env.SUPABASE_JWT_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    s.aesKey = await crypto.subtle.importKey('raw', new Uint8Array(32).fill(7), 'AES-GCM', false, ['encrypt', 'decrypt']);
    s.aesParams = { name: 'AES-GCM', iv: new Uint8Array(12).fill(9), additionalData: encoder.encode(`${env.BENCH_OWNER}:${env.BENCH_ROW}`) };
    s.sealed = await crypto.subtle.encrypt(s.aesParams, s.aesKey, encoder.encode(env.BENCH_SECRET));
    s.signingInput = encoder.encode(env.BENCH_HS256_TOKEN.slice(0, env.BENCH_HS256_TOKEN.lastIndexOf('.')));
  }
  if (env.BENCH_WEBHOOK_SECRET) {
    s.webhookKeys = await Promise.all(
      env.BENCH_WEBHOOK_SECRET.split(/[\s,]+/).filter(Boolean).map((secret) =>
        crypto.subtle.importKey('raw', fromBase64(secret.replace(/^whsec_/, '')), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])),
    );
  }
  return s;
}

class Refused extends Error {
  constructor(status, code) {
    super(code);
    this.status = status;
    this.code = code;
  }
}

/** Verifies a Supabase access token (HS256 with the secret, or ES256 with the JWKS key) and returns its claims. */
async function verifyToken(s, token, nowSecs) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Refused(401, 'token_malformed');
  let header;
  let claims;
  try {
    header = JSON.parse(decoder.decode(fromBase64Url(parts[0])));
    claims = JSON.parse(decoder.decode(fromBase64Url(parts[1])));
  } catch {
    throw new Refused(401, 'token_malformed');
  }
  const signed = encoder.encode(`${parts[0]}.${parts[1]}`);
  const signature = fromBase64Url(parts[2]);
  let valid;
  if (header.alg === 'HS256') {
    valid = await crypto.subtle.verify('HMAC', s.hmacKey, signature, signed);
  } else if (header.alg === 'ES256' && s.esKey) {
    valid = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, s.esKey, signature, signed);
  } else {
    throw new Refused(401, 'token_unsupported_algorithm');
  }
  if (!valid) throw new Refused(401, 'token_bad_signature');
  if (typeof claims.exp !== 'number') throw new Refused(401, 'token_missing_expiry');
  if (nowSecs >= claims.exp + LEEWAY_SECS) throw new Refused(401, 'token_expired');
  if ([claims.nbf, claims.iat].some((t) => typeof t === 'number' && t > nowSecs + LEEWAY_SECS)) throw new Refused(401, 'token_not_yet_valid');
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes('authenticated')) throw new Refused(401, 'token_wrong_audience');
  if (claims.iss !== s.issuer) throw new Refused(401, 'token_wrong_issuer');
  if (typeof claims.sub !== 'string' || !UUID.test(claims.sub)) throw new Refused(401, 'token_bad_subject');
  return claims;
}

async function open(s, envelope, owner, row) {
  const plain = await openEnvelope(s.ring, envelope, owner, row, FIELD);
  if (!plain) throw new Refused(400, 'envelope_unreadable');
  return plain;
}

const seal = (s, plaintext, owner, row) => sealEnvelope(s.ring, plaintext, owner, row, FIELD);

/** Standard Webhooks: some `v1,<base64>` entry is the HMAC-SHA256 of `id.timestamp.body` under one of the secrets. */
async function verifyWebhook(s, id, timestamp, signatures, body) {
  const content = encoder.encode(`${id}.${timestamp}.${body}`);
  const candidates = signatures.split(' ').filter((e) => e.startsWith('v1,')).map((e) => fromBase64(e.slice(3)));
  let matched = false;
  for (const key of s.webhookKeys) {
    const expected = new Uint8Array(await crypto.subtle.sign('HMAC', key, content));
    for (const candidate of candidates) matched = timingSafeEqual(expected, candidate) || matched;
  }
  if (!matched) throw new Refused(401, 'webhook_bad_signature');
  return true;
}

function timingSafeEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

const json = (status, value) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

async function reseal(request, s) {
  const authorization = request.headers.get('authorization') ?? '';
  if (!authorization.startsWith('Bearer ')) throw new Refused(401, 'missing_token');
  const claims = await verifyToken(s, authorization.slice(7).trim(), Math.floor(Date.now() / 1000));
  let body;
  try {
    body = await request.json();
  } catch {
    throw new Refused(400, 'invalid_body');
  }
  if (typeof body?.name !== 'string' || typeof body?.envelope !== 'string') throw new Refused(400, 'invalid_body');
  const plain = await open(s, body.envelope, claims.sub, body.name);
  const envelope = await seal(s, plain, claims.sub, body.name);
  return json(200, { user_id: claims.sub, name: body.name, key_id: s.ring.active, envelope });
}

async function ops(url, env, s) {
  const op = url.searchParams.get('op');
  const n = Number(url.searchParams.get('n') ?? 1);
  const now = Math.floor(Date.now() / 1000);
  const owner = env.BENCH_OWNER;
  const row = env.BENCH_ROW;
  const secret = encoder.encode(env.BENCH_SECRET);
  const runs = {
    hs256_verify: async () => (await verifyToken(s, env.BENCH_HS256_TOKEN, now)).exp,
    es256_verify: async () => (await verifyToken(s, env.BENCH_ES256_TOKEN, now)).exp,
    seal: async () => (await seal(s, secret, owner, row)).length,
    open: async () => (await open(s, env.BENCH_ENVELOPE, owner, row)).length,
    webhook_verify: async () =>
      (await verifyWebhook(s, env.BENCH_WEBHOOK_ID, env.BENCH_WEBHOOK_TIMESTAMP, env.BENCH_WEBHOOK_SIGNATURE, env.BENCH_WEBHOOK_BODY)) ? 1 : 0,
    hmac: async () => new Uint8Array(await crypto.subtle.sign('HMAC', s.hmacSignKey, s.signingInput)).length,
    aes_gcm_seal: async () => new Uint8Array(await crypto.subtle.encrypt(s.aesParams, s.aesKey, secret)).length,
    aes_gcm_open: async () => new Uint8Array(await crypto.subtle.decrypt(s.aesParams, s.aesKey, s.sealed)).length,
  };
  // bench-worker's `*_webcrypto` ops call WebCrypto from Rust; from JavaScript they are the same call.
  runs.hmac_webcrypto = runs.hmac;
  runs.aes_gcm_seal_webcrypto = runs.aes_gcm_seal;
  runs.aes_gcm_open_webcrypto = runs.aes_gcm_open;
  runs.await_promise = async () => await Promise.resolve(1);
  const run = runs[op];
  if (!run) return json(400, { error: 'unknown op' });
  let checksum = 0;
  for (let i = 0; i < n; i++) checksum = (checksum * 31 + (await run())) % 2 ** 32;
  return json(200, { op, n, checksum });
}

export default {
  async fetch(request, env) {
    try {
      const s = await state(env);
      const url = new URL(request.url);
      if (request.method === 'POST' && url.pathname === '/peer') return await reseal(request, s);
      if (request.method === 'GET' && url.pathname === '/ops') return await ops(url, env, s);
      if (request.method === 'GET' && url.pathname === '/noop') return json(200, { ok: true });
      return json(404, { error: 'not found' });
    } catch (e) {
      if (e instanceof Refused) return json(e.status, { error: e.code, code: e.code });
      console.error(e);
      return json(500, { error: 'internal_error' });
    }
  },
};

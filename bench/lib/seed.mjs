// The benchmark's data: users, tokens, a connection to the tenant, a finished task, a profile
// with a pending invitation, and the inputs of the micro-benchmarks.
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createClient } from '@supabase/supabase-js';
import { importKeyRing, seal } from '../peer-js/envelope.mjs';

const clientOptions = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };
const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Runs SQL as the superuser. */
export function sql(project, query) {
  return execFileSync('psql', [project.dbUrl, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8' }).trim();
}

/** A fresh e-mail/password user of `project`: { id, token, client }. */
export async function signedUpUser(project, tag) {
  const client = createClient(project.url, project.anonKey, clientOptions);
  const { data, error } = await client.auth.signUp({ email: `${tag}-${randomUUID()}@bench.test`, password: `pw-${randomUUID()}` });
  if (error) throw error;
  return { id: data.user.id, token: data.session.access_token, client };
}

export const sha256Hex = (text) => createHash('sha256').update(text).digest('hex');

/** The Standard Webhooks signature of a delivery. */
export function webhookSignature(whsec, id, timestamp, body) {
  const key = Buffer.from(whsec.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * A JWT of `header` and `claims` (objects, or strings sent as they are): HS256 with `secret`,
 * or ES256 with the node `privateKey`.
 */
export function signJwt(header, claims, { secret, privateKey }) {
  const part = (v) => b64url(typeof v === 'string' ? v : JSON.stringify(v));
  const signed = `${part(header)}.${part(claims)}`;
  const signature = secret !== undefined
    ? createHmac('sha256', secret).update(signed).digest()
    : sign('sha256', Buffer.from(signed), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signed}.${b64url(signature)}`;
}

/** The claims of a JWT, unverified. */
export const jwtClaims = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

/** The key a project's Auth signs access tokens with (devstack's GoTrue-format key file): { kid, privateKey, jwk }. */
export function projectSigningKey(project) {
  const keys = JSON.parse(readFileSync(project.signingKeysPath, 'utf8'));
  const jwk = keys.find((k) => (k.key_ops ?? []).includes('sign'));
  const { d, key_ops, ...publicJwk } = jwk;
  return { kid: jwk.kid, privateKey: createPrivateKey({ key: { ...publicJwk, d }, format: 'jwk' }), jwk: publicJwk };
}

/** The HS256 token a legacy project (signing with its JWT secret) would have issued for the same session. */
export const hs256Twin = (project, token) => signJwt({ alg: 'HS256', typ: 'JWT' }, jwtClaims(token), { secret: project.jwtSecret });

/** An ES256 key pair as a JWKS and a token signed with it, with Supabase's claims. */
function es256Token(issuer, sub) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = 'bench-es256';
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt({ alg: 'ES256', typ: 'JWT', kid }, {
    iss: issuer, sub, aud: 'authenticated', role: 'authenticated', exp: now + 4 * 3600, iat: now,
    email: 'es256@bench.test', is_anonymous: false, session_id: randomUUID(), aal: 'aal1',
  }, { privateKey });
  return { token, jwks: JSON.stringify({ keys: [jwk] }) };
}

/**
 * The settings both peer Workers get: the project's secret and URL, the key ring, and the
 * micro-benchmarks' inputs (an HS256 token from Supabase Auth, an ES256 token and its JWKS,
 * an envelope, a signed 512-byte webhook delivery).
 */
export async function peerInputs(main, vars, owner, tenant) {
  const ring = await importKeyRing(vars.ENCRYPTION_KEY_RING);
  const row = 'bench';
  const envelope = await seal(ring, new TextEncoder().encode(tenant.serviceKey), owner.id, row, 'service_role_key');
  const es = es256Token(`${main.url}/auth/v1`, owner.id);
  // As during a rotation: two secrets, the delivery signed with the second.
  const whsec = vars.WEBHOOK_SECRETS.split(/[\s,]+/)[0];
  const otherSecret = `whsec_${randomBytes(32).toString('base64')}`;
  // A 512-byte delivery, the size of criterion's native webhook benchmark.
  const delivery = { task_id: randomUUID(), status: 'done', mask_url: 'https://masks.example.test/m.png', labels: [{ label: 'cat', score: 0.97 }], metadata: { model: 'sam2', note: '' } };
  delivery.metadata.note = 'x'.repeat(512 - JSON.stringify(delivery).length);
  const webhookBody = JSON.stringify(delivery);
  const webhookId = 'msg_bench';
  const webhookTimestamp = String(Math.floor(Date.now() / 1000));
  return {
    SUPABASE_URL: main.url,
    SUPABASE_JWT_SECRET: main.jwtSecret,
    ENCRYPTION_KEY_RING: vars.ENCRYPTION_KEY_RING,
    BENCH_OWNER: owner.id,
    BENCH_ROW: row,
    BENCH_SECRET: tenant.serviceKey,
    BENCH_ENVELOPE: envelope,
    BENCH_HS256_TOKEN: owner.hs256,
    BENCH_ES256_TOKEN: es.token,
    BENCH_JWKS: es.jwks,
    BENCH_WEBHOOK_SECRET: `${otherSecret} ${whsec}`,
    BENCH_WEBHOOK_ID: webhookId,
    BENCH_WEBHOOK_TIMESTAMP: webhookTimestamp,
    BENCH_WEBHOOK_BODY: webhookBody,
    BENCH_WEBHOOK_SIGNATURE: webhookSignature(whsec, webhookId, webhookTimestamp, webhookBody),
  };
}

/** The connection fields save-connection seals, sealed here the same way (for its floor). */
export async function sealedConnectionArgs(vars, ownerId, body) {
  const ring = await importKeyRing(vars.ENCRYPTION_KEY_RING);
  // Bound to owner, "<name> <url>" and field (edge-tenant's key binding 2).
  const row = `${body.name} ${new URL(body.url).origin}`;
  const enc = (text, field) => seal(ring, new TextEncoder().encode(text), ownerId, row, field);
  return {
    p_user_id: ownerId,
    p_name: body.name,
    p_url: body.url,
    p_anon_key_encrypted: await enc(body.anon_key, 'anon_key'),
    p_service_role_key_encrypted: await enc(body.service_role_key, 'service_role_key'),
    p_anon_key_hint: body.anon_key.slice(0, 6),
    p_service_role_key_hint: body.service_role_key.slice(0, 6),
    p_key_id: ring.active,
    p_key_binding: 2,
    p_allow_writes: false,
  };
}

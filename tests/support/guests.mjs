// Guests and webhook deliveries the way the app and the inference backend make them, for the
// end-to-end tests that need one without testing guest-signup or process-webhook themselves.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { anonClient, stack } from './stack.mjs';
import { call } from './functions.mjs';

/** A setting of the functions under test (the test stack's .dev.vars). */
export function devVar(name) {
  const path = process.env.DEVSTACK_DEV_VARS ?? new URL('../../.dev.vars', import.meta.url).pathname;
  const match = new RegExp(`^${name}="?(.*?)"?$`, 'm').exec(readFileSync(path, 'utf8'));
  assert.ok(match, `${path} has ${name}`);
  return match[1];
}

/** A client address no other test used, so guest-signup's per-network limit is never hit. */
export function freshIp() {
  const groups = [0, 2, 4, 6].map(() => randomBytes(2).readUInt16BE(0).toString(16));
  return `2001:db8:${groups.join(':')}::5`;
}

/** A guest made by guest-signup from `ip`, with a supabase-js client holding its session. */
export async function functionGuest({ ip = freshIp() } = {}) {
  const res = await call(`${stack.functionsUrl}/guest-signup`, {
    method: 'POST',
    headers: { apikey: stack.anonKey, Authorization: `Bearer ${stack.anonKey}`, 'Content-Type': 'application/json', 'CF-Connecting-IP': ip },
    body: '{}',
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const client = anonClient();
  const { error } = await client.auth.setSession({ access_token: res.body.access_token, refresh_token: res.body.refresh_token });
  assert.equal(error, null);
  return { client, ...res.body };
}

/** One process-webhook delivery with X-API-Key; `idempotencyKey` makes retries replay. */
export function webhook(body, { idempotencyKey } = {}) {
  const headers = { 'content-type': 'application/json', 'x-api-key': devVar('WEBHOOK_API_KEYS').split(',')[0].trim() };
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  return call(`${stack.functionsUrl}/process-webhook`, { method: 'POST', headers, body: JSON.stringify(body) });
}

// Following Auth's mailed links as a browser does: GET the /verify link, read the session (or
// the error) from the fragment of the redirect; and the codes an authenticator app shows.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';

/** GETs a mailed /verify link; returns the redirect's base URL and its fragment as an object. */
export async function followLink(link) {
  const res = await fetch(link, { redirect: 'manual' });
  assert.equal(res.status, 303, `verify answered ${res.status}: ${await res.text()}`);
  const location = new URL(res.headers.get('location'));
  const fragment = Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
  location.hash = '';
  return { to: location.toString(), fragment };
}

/** A supabase-js client signed in with the session a followed link carried. */
export async function clientWithSession(project, fragment) {
  assert.ok(fragment.access_token, `no session in the redirect: ${JSON.stringify(fragment)}`);
  const client = createClient(project.url, project.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
  const { error } = await client.auth.setSession({
    access_token: fragment.access_token,
    refresh_token: fragment.refresh_token,
  });
  assert.equal(error, null);
  return client;
}

/** The JSON error GoTrue answers, with its status (auth-js hides the status on some paths). */
export async function authRequest(project, path, { method = 'GET', body, token, key = project.anonKey } = {}) {
  const res = await fetch(`${project.url}/auth/v1${path}`, {
    method,
    headers: {
      apikey: key,
      'content-type': 'application/json',
      'x-supabase-api-version': '2024-01-01',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** The code an authenticator app shows for a base32 TOTP secret, `stepOffset` 30-second steps from now (RFC 6238). */
export function totpCode(secret, stepOffset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bits = [...secret.replace(/=+$/, '')].map((c) => alphabet.indexOf(c).toString(2).padStart(5, '0')).join('');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + stepOffset));
  const hash = createHmac('sha1', key).update(counter).digest();
  const offset = hash[hash.length - 1] & 0xf;
  return String((hash.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

// What the flows send and answer, shared by the JavaScript peer (flows.mjs) and the runtime
// floor (floor.mjs), so that the floor's subrequests and answers are the peer's, byte for byte:
// the CORS headers of each function, PostgREST calls' headers and arguments, the tenant's key
// headers, the answers' shapes. (A Worker's main module may export only handlers, hence a
// module of its own.)

import { fromBase64Url } from './envelope.mjs';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const CLIENT_HEADERS = 'authorization, x-client-info, apikey, content-type, x-region';
export const PROXY_RESPONSE_HEADERS = ['content-type', 'content-range', 'content-location', 'location', 'preference-applied', 'range-unit'];

export const SPECS = {
  'save-connection': { methods: ['GET', 'POST', 'DELETE'], extra: [], expose: [] },
  'tenant-proxy': { methods: ['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE'], extra: ['accept', 'accept-profile', 'content-profile', 'prefer', 'range', 'range-unit'], expose: PROXY_RESPONSE_HEADERS },
  'accept-invitation': { methods: ['GET', 'POST'], extra: [], expose: [] },
  'process-webhook': { methods: ['POST'], extra: ['x-api-key', 'idempotency-key', 'webhook-id', 'webhook-timestamp', 'webhook-signature'], expose: [] },
};
for (const spec of Object.values(SPECS)) {
  spec.cors = [
    ['access-control-allow-origin', '*'],
    ['access-control-allow-headers', [CLIENT_HEADERS, ...spec.extra].join(', ')],
    ['access-control-allow-methods', [...spec.methods, 'OPTIONS'].join(', ')],
    ...(spec.expose.length ? [['access-control-expose-headers', spec.expose.join(', ')]] : []),
  ];
}

/** The headers of a PostgREST call. */
export function restHeaders(apikey, token, withBody) {
  const headers = { accept: 'application/json', apikey, authorization: `Bearer ${token}` };
  if (withBody) headers['content-type'] = 'application/json';
  return headers;
}

/** sb_publishable_/sb_secret_ keys, or a legacy JWT key with its role claim. */
export function keyFormat(key) {
  const opaque = (body) => /^[A-Za-z0-9_-]+$/.test(body);
  if (key.startsWith('sb_publishable_')) return opaque(key.slice(15)) ? { kind: 'publishable' } : null;
  if (key.startsWith('sb_secret_')) return opaque(key.slice(10)) ? { kind: 'secret' } : null;
  const parts = key.split('.');
  if (parts.length !== 3 || !parts[2] || !/^[A-Za-z0-9_-]+$/.test(parts[2])) return null;
  try {
    const header = JSON.parse(decoder.decode(fromBase64Url(parts[0])));
    const payload = JSON.parse(decoder.decode(fromBase64Url(parts[1])));
    if (typeof header?.alg !== 'string' || typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
    return { kind: 'jwt', role: typeof payload.role === 'string' ? payload.role : null };
  } catch {
    return null;
  }
}

export const hint = (key) => Array.from(key).slice(0, 6).join('');

/** What a connection's envelopes are bound to, by `connections.key_binding` (edge-tenant's key_binding.rs). */
export const KEY_ROWS = { 1: (name) => name, 2: (name, url) => `${name} ${url}` };
export const CURRENT_KEY_BINDING = 2;
export const keyRow = (binding, name, url) => KEY_ROWS[binding](name, url);

/** rpc/save_connection's arguments for a validated input and its two sealed keys. */
export function saveConnectionArgs(userId, input, url, anonSealed, serviceSealed, keyId) {
  return {
    p_user_id: userId, p_name: input.name, p_url: url, p_anon_key_encrypted: anonSealed, p_service_role_key_encrypted: serviceSealed,
    p_anon_key_hint: hint(input.anon_key), p_service_role_key_hint: hint(input.service_role_key), p_key_id: keyId,
    p_key_binding: CURRENT_KEY_BINDING, p_allow_writes: input.allow_writes ?? null,
  };
}

/** The saved row as save-connection answers it (no envelopes). */
export function connectionView(saved) {
  return {
    id: saved.id, name: saved.name, url: saved.url, allow_writes: saved.allow_writes, anon_key_hint: saved.anon_key_hint,
    service_role_key_hint: saved.service_role_key_hint, key_id: saved.key_id, created_at: saved.created_at, updated_at: saved.updated_at,
  };
}

/** The connection lookup (POST, body { p_user_id, p_name }, service key). */
export const RELAY_LOOKUP = '/rest/v1/rpc/connection_for_relay?select=url%2Callow_writes%2Cservice_role_key_encrypted%2Ckey_binding';

/** The tenant's key as the relayed request carries it (a JWT key also as the bearer token). */
export function tenantKeyHeaders(secret) {
  const format = keyFormat(secret);
  return !format || format.kind === 'jwt' ? { apikey: secret, authorization: `Bearer ${secret}` } : { apikey: secret };
}

export async function sha256Hex(text) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  let hex = '';
  for (const b of digest) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** rpc/preview_profile_invitation's answer as accept-invitation shows it. */
export const invitationPreview = (data) => ({ email: data.email, expires_at: data.expires_at, profile: { first_name: data.profile.first_name, last_name: data.profile.last_name ?? null } });

/** rpc/apply_segmentation_webhook's answer as process-webhook gives it. */
export function webhookOutcome(data) {
  return {
    task_id: data.task_id, status: data.status, outcome: data.outcome, charged: data.charged, credits_charged: data.credits_charged,
    credits_shortfall: data.credits_shortfall, credits_remaining: data.credits_remaining, replayed: data.replayed,
  };
}

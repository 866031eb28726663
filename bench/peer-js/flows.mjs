// The real flows as a competent TypeScript team would write them for Workers: plain JavaScript,
// WebCrypto and fetch, no framework. Same answers as the Rust functions (statuses, bodies,
// CORS, `x-request-id`) for the requests bench/bench.mjs's flows section sends to both:
//   POST /functions/v1/save-connection          upsert through rpc/save_connection (service key)
//   GET  /functions/v1/tenant-proxy/<c>/rest/v1/… relay with the tenant's key (reads only)
//   GET  /functions/v1/accept-invitation?token=… preview through rpc/preview_profile_invitation
//   POST /functions/v1/process-webhook           X-API-Key or Standard Webhooks signature, the
//                                                body validated, rpc/apply_segmentation_webhook
// Access tokens: HS256 with SUPABASE_JWT_SECRET when set, ES256/RS256 through the JWKS
// (access-token.mjs). Not here: the other methods of these functions, process-webhook's
// /retention route.

import { AuthRefusal, bearerToken, TokenVerifier } from './access-token.mjs';
import { importKeyRing, open as openEnvelope, seal as sealEnvelope } from './envelope.mjs';
import {
  connectionView, CURRENT_KEY_BINDING, invitationPreview, KEY_ROWS, keyFormat, keyRow, PROXY_RESPONSE_HEADERS, RELAY_LOOKUP, restHeaders,
  saveConnectionArgs, sha256Hex, SPECS, tenantKeyHeaders, webhookOutcome,
} from './wire.mjs';
import { authenticateSender, parseWebhook, Refusal, rpcArgs, senderCredentials } from './webhook.mjs';
// tenant-proxy's own relay.js (the header deadline and the body's idle timeout).
import { endedWhenIdle, fetchWithin } from './relay.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** How long a PostgREST call may take, headers and body (edge-worker's REST_TIMEOUT). */
const REST_TIMEOUT_MS = 9000;
const PROXY_REQUEST_HEADERS = ['accept', 'accept-profile', 'content-profile', 'content-type', 'prefer', 'range', 'range-unit'];

class ApiError extends Error {
  constructor(status, code, message, headers = []) {
    super(message);
    Object.assign(this, { status, code, headers });
  }
}
const internal = (context, detail) => {
  console.error(`internal error while ${context}: ${detail}`);
  return new ApiError(500, 'internal_error', 'internal server error');
};
const json = (status, value) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

/** Per-isolate configuration: read and imported once. */
let configPromise;
function config(env) {
  configPromise ??= (async () => {
    const url = env.SUPABASE_URL.replace(/\/+$/, '');
    return {
      url,
      anonKey: env.SUPABASE_ANON_KEY,
      serviceKey: env.SUPABASE_SERVICE_ROLE_KEY,
      verifier: new TokenVerifier({ url, jwtSecret: env.SUPABASE_JWT_SECRET?.trim() ? env.SUPABASE_JWT_SECRET : null }),
      // Checked when a delivery arrives: a bad setting is that request's 500, as in Rust.
      webhookCredentials: senderCredentials(env.WEBHOOK_API_KEYS, env.WEBHOOK_SECRETS).then((credentials) => ({ credentials }), (error) => ({ error })),
      ring: await importKeyRing(env.ENCRYPTION_KEY_RING),
      allowLoopback: env.ALLOW_LOOPBACK_TENANTS === 'true',
      tenantTimeoutMs: Number(env.TENANT_TIMEOUT_MS) || 15000,
      tenantIdleTimeoutMs: Number(env.TENANT_IDLE_TIMEOUT_MS) || 10000,
    };
  })();
  return configPromise;
}

// --- auth ----------------------------------------------------------------------------------------
async function authenticate(request, cfg) {
  try {
    const token = bearerToken(request.headers.get('authorization'));
    const caller = await cfg.verifier.verify(token, Math.floor(Date.now() / 1000));
    return { ...caller, token };
  } catch (e) {
    if (e instanceof AuthRefusal) throw new ApiError(e.status, e.code, e.message);
    throw e;
  }
}

// --- PostgREST -----------------------------------------------------------------------------------
/**
 * One PostgREST call: parsed 2xx body, or { restError } for a 4xx; 502 for the rest. The
 * database refusing a blocked or deleted account is that account's 403, whatever the flow.
 */
async function rest(url, { method = 'GET', apikey, token, body }) {
  const headers = restHeaders(apikey, token, body !== undefined);
  // The Rust functions' deadline (edge-worker's REST_TIMEOUT): headers and body within 9 s.
  const signal = AbortSignal.timeout(REST_TIMEOUT_MS);
  const timedOut = () => new ApiError(504, 'gateway_timeout', 'The database did not answer in time; a change it was asked for may or may not have been made');
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if (e?.name === 'TimeoutError') throw timedOut();
    console.error(`PostgREST sending failed: ${e}`);
    throw new ApiError(502, 'bad_gateway', 'The database is not reachable');
  }
  let text;
  try {
    text = await response.text();
  } catch (e) {
    if (e?.name === 'TimeoutError') throw timedOut();
    throw new ApiError(502, 'bad_gateway', "The database's answer could not be read");
  }
  if (response.status >= 500) throw new ApiError(502, 'bad_gateway', 'The database failed to answer');
  if (response.status >= 400) {
    let error = {};
    try {
      error = JSON.parse(text) ?? {};
    } catch {}
    if (response.status === 403 && error.hint === 'account_blocked') {
      throw new ApiError(403, 'account_blocked', 'This account is blocked or deleted; contact the administrator');
    }
    return { restError: { status: response.status, ...error } };
  }
  return { data: text ? JSON.parse(text) : null };
}

// --- save-connection POST ------------------------------------------------------------------------
const FIELDS = { name: 'string', url: 'string', anon_key: 'string', service_role_key: 'string', allow_writes: 'boolean' };
const invalid = (code, message) => new ApiError(400, code, message);

/** The body's bytes: 413 past `limit` (declared or actual), 400 for a Content-Length that is not a u64. */
async function readBody(request, limit) {
  const tooLarge = () => new ApiError(413, 'payload_too_large', `request body is larger than ${limit} bytes`);
  const declared = request.headers.get('content-length')?.trim();
  if (declared !== undefined) {
    if (!/^\+?\d+$/.test(declared) || BigInt(declared) >= 2n ** 64n) throw invalid('invalid_content_length', 'Content-Length is not a number');
    if (BigInt(declared) > BigInt(limit)) throw tooLarge();
  }
  let bytes;
  try {
    bytes = new Uint8Array(await request.arrayBuffer());
  } catch {
    throw invalid('unreadable_body', 'The request body could not be read');
  }
  if (bytes.length > limit) throw tooLarge();
  return bytes;
}

async function readJsonObject(request, limit) {
  const text = decoder.decode(await readBody(request, limit));
  if (!text.trim()) throw invalid('invalid_json', 'request body is empty; expected JSON');
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid('invalid_json', `invalid JSON: ${e.message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('invalid_body', 'request body must be a JSON object');
  return value;
}

function connectionInput(body) {
  for (const [key, value] of Object.entries(body)) {
    if (!(key in FIELDS)) throw invalid('invalid_body', `unknown field \`${key}\`, expected one of ${Object.keys(FIELDS).map((f) => `\`${f}\``).join(', ')}`);
    if (value !== null || FIELDS[key] !== 'boolean') {
      if (typeof value !== FIELDS[key]) throw invalid('invalid_body', `field \`${key}\`: invalid type, expected a ${FIELDS[key]}`);
    }
  }
  for (const key of Object.keys(FIELDS)) {
    if (FIELDS[key] === 'string' && !(key in body)) throw invalid('invalid_body', `missing field \`${key}\``);
  }
  return body;
}

function checkName(name) {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(name)) {
    throw invalid('invalid_name', "name must be 1-63 characters of letters, digits, '_' or '-', starting with a letter or digit");
  }
}

const isLoopback = (host) => host === 'localhost' || /^127\./.test(host) || host === '[::1]';
function isPublic(host) {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    const [a, b, c] = host.split('.').map(Number);
    return !(a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 169 && b === 254)
      || host === '255.255.255.255' || (a === 192 && b === 0 && c === 2) || (a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)
      || (a === 100 && (b & 0xc0) === 64));
  }
  if (host.startsWith('[')) {
    const first = parseInt(host.slice(1).split(':')[0] || '0', 16);
    return !(host === '[::1]' || host === '[::]' || (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || host.startsWith('[::ffff:'));
  }
  return host !== 'localhost' && host.includes('.');
}

function tenantUrl(raw, allowLoopback) {
  const bad = (message) => invalid('invalid_url', message);
  if (raw.length > 2048) throw bad('url is longer than 2048 characters');
  let url;
  try {
    url = new URL(raw.trim());
  } catch {
    throw bad('url is not a valid absolute URL');
  }
  if (!url.hostname) throw bad('url is not a valid absolute URL');
  const loopback = isLoopback(url.hostname);
  if (!(url.protocol === 'https:' || (url.protocol === 'http:' && allowLoopback && loopback))) throw bad('url must use https');
  if (url.username || url.password) throw bad('url must not contain a user name or password');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || raw.trim().endsWith('?') || raw.trim().endsWith('#')) {
    throw bad("url must be the project's base URL, with no path, query or fragment");
  }
  if (!(isPublic(url.hostname) || (loopback && allowLoopback))) throw bad('url must point to a public host');
  return url.origin;
}

function checkKey(key, field) {
  if (key.length > 2048) throw invalid('invalid_key', `${field} is too long to be a Supabase key`);
  const format = keyFormat(key);
  const anon = field === 'anon_key';
  const fits = format && (anon ? format.kind === 'publishable' || (format.kind === 'jwt' && format.role === 'anon') : format.kind === 'secret' || (format.kind === 'jwt' && format.role === 'service_role'));
  if (!fits) {
    const expected = anon
      ? 'the project\'s anon key (a JWT with role "anon") or an sb_publishable_ key'
      : 'the project\'s service_role key (a JWT with role "service_role") or an sb_secret_ key';
    throw invalid('invalid_key', `${field} must be ${expected}`);
  }
}

async function saveConnection(request, cfg) {
  const caller = await authenticate(request, cfg);
  if (caller.isAnonymous) throw new ApiError(403, 'guest_not_allowed', 'Guest accounts cannot save connections; sign up with an e-mail address first');
  if (request.method !== 'POST') throw new ApiError(405, 'method_not_allowed', `method ${request.method} is not served by this peer`);
  const input = connectionInput(await readJsonObject(request, 16 * 1024));
  checkName(input.name);
  const url = tenantUrl(input.url, cfg.allowLoopback);
  checkKey(input.anon_key, 'anon_key');
  checkKey(input.service_role_key, 'service_role_key');
  const row = keyRow(CURRENT_KEY_BINDING, input.name, url);
  const [anonSealed, serviceSealed] = await Promise.all([
    sealEnvelope(cfg.ring, encoder.encode(input.anon_key), caller.userId, row, 'anon_key'),
    sealEnvelope(cfg.ring, encoder.encode(input.service_role_key), caller.userId, row, 'service_role_key'),
  ]);
  // The caller's id comes from the verified token; only the service role may run save_connection.
  const { data, restError } = await rest(`${cfg.url}/rest/v1/rpc/save_connection`, {
    method: 'POST', apikey: cfg.serviceKey, token: cfg.serviceKey,
    body: saveConnectionArgs(caller.userId, input, url, anonSealed, serviceSealed, cfg.ring.active),
  });
  if (restError) throw internal('saving a connection', `PostgREST ${restError.status} ${restError.code}: ${restError.message}`);
  const saved = data?.[0];
  if (!saved) throw internal('saving a connection', 'no row returned');
  return json(saved.created_at === saved.updated_at ? 201 : 200, connectionView(saved));
}

// --- tenant-proxy GET ----------------------------------------------------------------------------
async function tenantProxy(request, cfg, subPath) {
  const caller = await authenticate(request, cfg);
  const notFound = () => new ApiError(404, 'not_found', 'Use /tenant-proxy/<connection>/rest/v1/<table or rpc/fn>');
  if (!subPath.startsWith('/')) throw notFound();
  const slash = subPath.indexOf('/', 1);
  if (slash < 0) throw notFound();
  const connection = subPath.slice(1, slash);
  const tail = subPath.slice(slash + 1);
  const climbs = tail.split('/').some((s) => s === '..' || s === '.') || (tail.includes('%') && tail.toLowerCase().includes('%2e'));
  if (!connection || !(tail === 'rest/v1' || tail.startsWith('rest/v1/')) || climbs || tail.includes('\\')) throw notFound();
  if (request.method !== 'GET' && request.method !== 'HEAD') throw new ApiError(405, 'method_not_allowed', `method ${request.method} is not served by this peer`);

  const { data, restError } = await rest(`${cfg.url}${RELAY_LOOKUP}`, {
    method: 'POST', apikey: cfg.serviceKey, token: cfg.serviceKey, body: { p_user_id: caller.userId, p_name: connection },
  });
  if (restError) throw internal('looking up a connection', `PostgREST ${restError.status} ${restError.code}: ${restError.message}`);
  const stored = data?.[0];
  if (!stored) throw new ApiError(404, 'not_found', `No connection named ${connection}`);
  let storedUrl;
  try {
    storedUrl = tenantUrl(stored.url, cfg.allowLoopback);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    throw new ApiError(409, 'connection_url_refused', `This connection's stored URL is refused (${e.message}); save the connection again with its project URL`);
  }
  if (!(stored.key_binding in KEY_ROWS)) throw internal('reading a connection', 'unknown key_binding');
  const key = await openEnvelope(cfg.ring, stored.service_role_key_encrypted, caller.userId, keyRow(stored.key_binding, connection, storedUrl), 'service_role_key');
  if (!key) throw new ApiError(409, 'connection_keys_unreadable', 'The stored keys of this connection cannot be decrypted; save the connection again');
  const secret = decoder.decode(key);

  const headers = new Headers();
  for (const [name, value] of request.headers) if (PROXY_REQUEST_HEADERS.includes(name)) headers.set(name, value);
  for (const [name, value] of Object.entries(tenantKeyHeaders(secret))) headers.set(name, value);
  const query = new URL(request.url).search;
  // The same deadline and idle timeout as the Rust function, with the same code: the headers
  // within TENANT_TIMEOUT_MS, then no gap longer than TENANT_IDLE_TIMEOUT_MS in the body.
  let upstream;
  try {
    upstream = await fetchWithin(`${stored.url}${subPath.slice(slash)}${query}`, { method: request.method, headers, redirect: 'manual' }, cfg.tenantTimeoutMs);
  } catch {
    throw new ApiError(502, 'bad_gateway', "The tenant's project could not be reached");
  }
  if (upstream === null) throw new ApiError(504, 'gateway_timeout', "The tenant's project did not answer in time");
  if (upstream.status >= 300 && upstream.status < 400) throw new ApiError(502, 'bad_gateway', "The tenant's project answered with a redirect");
  const out = new Headers();
  for (const [name, value] of upstream.headers) if (PROXY_RESPONSE_HEADERS.includes(name)) out.set(name, value);
  return new Response(upstream.body && endedWhenIdle(upstream.body, cfg.tenantIdleTimeoutMs), { status: upstream.status, headers: out });
}

// --- accept-invitation GET -----------------------------------------------------------------------
const INVITATION_STATUS = {
  invitation_not_found: 404, invitation_used: 410, invitation_expired: 410,
  profile_already_linked: 409, account_already_linked: 409, email_taken: 409,
};

async function acceptInvitation(request, cfg) {
  if (request.method !== 'GET') throw new ApiError(405, 'method_not_allowed', `method ${request.method} is not served by this peer`);
  const token = new URL(request.url).searchParams.get('token');
  if (token === null) throw invalid('missing_token', 'GET needs ?token=<token>');
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw invalid('invalid_token', "token is not an invitation token (43 characters of A-Z, a-z, 0-9, '-', '_')");
  const { data, restError } = await rest(`${cfg.url}/rest/v1/rpc/preview_profile_invitation`, {
    method: 'POST', apikey: cfg.serviceKey, token: cfg.serviceKey, body: { p_token_hash: await sha256Hex(token) },
  });
  if (restError) {
    const status = INVITATION_STATUS[restError.hint];
    if (!status) throw internal('previewing an invitation', `PostgREST ${restError.status} ${restError.code}: ${restError.message}`);
    throw new ApiError(status, restError.hint, restError.message);
  }
  return json(200, invitationPreview(data));
}

// --- process-webhook POST ------------------------------------------------------------------------
/** A result is a mask URL, labels and metadata; a runaway sender is refused before parsing. */
const WEBHOOK_BODY_LIMIT = 256 * 1024;
/** apply_segmentation_webhook's refusals on purpose (hint → status). */
const WEBHOOK_REFUSALS = { task_not_found: 404, status_conflict: 409, delivery_id_reused: 409 };

async function processWebhook(request, cfg, subPath, id) {
  const route = subPath.replace(/\/+$/, '');
  if (route) throw new ApiError(404, 'not_found', `No process-webhook route ${route}`);
  const { credentials, error } = await cfg.webhookCredentials;
  if (error) throw internal('reading the webhook credentials', error.message);
  const body = await readBody(request, WEBHOOK_BODY_LIMIT);
  let delivery;
  let webhook;
  try {
    // The signature covers the exact bytes received, so it is checked before parsing.
    delivery = await authenticateSender(credentials, request.headers, body, Math.floor(Date.now() / 1000));
    webhook = parseWebhook(body);
  } catch (e) {
    if (e instanceof Refusal) throw new ApiError(e.status, e.code, e.message);
    throw e;
  }
  const { data, restError } = await rest(`${cfg.url}/rest/v1/rpc/apply_segmentation_webhook`, {
    method: 'POST', apikey: cfg.serviceKey, token: cfg.serviceKey, body: rpcArgs(webhook, delivery.deliveryId),
  });
  if (restError) {
    const status = WEBHOOK_REFUSALS[restError.hint];
    if (status) throw new ApiError(status, restError.hint, restError.message);
    if (restError.status === 400) {
      console.error(`${id} the database refused a validated webhook: ${restError.code} ${restError.message}`);
      throw invalid('invalid_body', "The database refused one of the webhook's values");
    }
    throw internal('applying a webhook', `PostgREST ${restError.status} ${restError.code}: ${restError.message}`);
  }
  const outcome = webhookOutcome(data);
  console.log(`${id} delivery ${delivery.deliveryId ?? '(no id)'} via ${delivery.method}: task ${outcome.task_id} ${outcome.status} -> ${outcome.outcome}${outcome.charged ? ', charged' : ''}${outcome.replayed ? ', replayed' : ''}`);
  return json(200, outcome);
}

// --- the entry -----------------------------------------------------------------------------------
const FLOWS = { 'save-connection': saveConnection, 'tenant-proxy': tenantProxy, 'accept-invitation': acceptInvitation, 'process-webhook': processWebhook };
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function requestId(request) {
  for (const name of ['cf-ray', 'x-request-id']) {
    const id = request.headers.get(name)?.trim();
    if (id && SAFE_ID.test(id)) return id;
  }
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    const match = /^\/functions\/v1\/([a-z-]+)(\/.*)?$/.exec(path);
    const name = match?.[1];
    const spec = SPECS[name];
    if (!spec) return new Response('not found', { status: 404 });
    const id = requestId(request);
    let response;
    try {
      if (request.method === 'OPTIONS') {
        response = new Response('ok', { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      } else if (!spec.methods.includes(request.method)) {
        throw new ApiError(405, 'method_not_allowed', `method ${request.method} is not allowed here`, [['allow', spec.methods.join(', ')]]);
      } else {
        response = await FLOWS[name](request, await config(env), match[2] ?? '', id);
      }
    } catch (e) {
      const error = e instanceof ApiError ? e : internal(`serving ${name}`, e?.stack ?? e);
      if (error.status >= 500) console.error(`${id} ${name} ${request.method} ${path}: ${error.code} ${error.message}`);
      response = new Response(JSON.stringify({ error: error.message, code: error.code }), { status: error.status, headers: [['content-type', 'application/json'], ...error.headers] });
    }
    for (const [header, value] of spec.cors) response.headers.set(header, value);
    response.headers.set('x-request-id', id);
    return response;
  },
};

// The RUNTIME FLOOR of the flows (not a peer; it checks nothing): for each request the flows
// section measures, it sends exactly the subrequests the JavaScript peer (flows.mjs) sends for
// it (same URL, method, headers and body bytes), reads their answers as the peer does, and
// answers with the peer's status, headers and a body of the same shape and size. Everything
// the peer computes per request (token check, validation, seals, SHA-256, JSON) is computed once
// per isolate, on the first request of each flow, with the peer's own helpers; so what workerd
// spends per request here is what the runtime spends on the flow's unavoidable work: accept the
// request (and read its body), send the subrequests, read their answers, send the answer.
// A Rust function's CPU minus this floor is its own work; the peer's minus this floor is the
// peer's; bench/HISTORY.md explains what follows for issue 14's 1.2× target.
//
// It answers only the requests the bench measures: the first request of each flow fixes what it
// sends (so bench/bench.mjs never sends it the answer-comparison cases).

import { fromBase64Url, importKeyRing, open, seal } from './envelope.mjs';
import { parseWebhook, rpcArgs } from './webhook.mjs';
import {
  connectionView, CURRENT_KEY_BINDING, invitationPreview, keyRow, RELAY_LOOKUP, restHeaders, saveConnectionArgs, sha256Hex, SPECS,
  tenantKeyHeaders, webhookOutcome,
} from './wire.mjs';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PREFIX = '/functions/v1/';

/** The caller's id, read from the token without checking it (the floor verifies nothing). */
const subjectOf = (request) => JSON.parse(decoder.decode(fromBase64Url(request.headers.get('authorization').slice(7).split('.')[1]))).sub;

/** The project's settings, as the peer reads them. */
const settings = (env) => ({ url: env.SUPABASE_URL.replace(/\/+$/, ''), serviceKey: env.SUPABASE_SERVICE_ROLE_KEY });

/** What the peer's tenantUrl makes of a URL it accepts: its origin. */
const origin = (url) => new URL(url.trim()).origin;

/** A PostgREST call as the peer sends it (body already a string) and its answer read as text. */
async function rpc(s, body = s.rpcBody) {
  // With the peer's (and the Rust functions') 9 s deadline: a signal per call is part of sending it.
  const response = await fetch(s.rpcUrl, { method: 'POST', headers: s.rpcHeaders, body, signal: AbortSignal.timeout(9000) });
  return response.text();
}

/**
 * Per flow: `setup` (once, on the first request of the flow: what to send) and `serve` (every
 * request: send it, read the answers, give the answer). `body` is the first request's bytes.
 */
const FLOWS = {
  'save-connection': {
    async setup(request, body, env) {
      // The peer's validation and seals, once: the rpc body is the same bytes on every request
      // (but for the seals' random nonces, which do not change its size).
      const { url, serviceKey } = settings(env);
      const input = JSON.parse(decoder.decode(body));
      const userId = subjectOf(request);
      const tenant = origin(input.url);
      const ring = await importKeyRing(env.ENCRYPTION_KEY_RING);
      const row = keyRow(CURRENT_KEY_BINDING, input.name, tenant);
      const [anon, service] = await Promise.all(['anon_key', 'service_role_key'].map((field) => seal(ring, encoder.encode(input[field]), userId, row, field)));
      return { rpcUrl: `${url}/rest/v1/rpc/save_connection`, rpcHeaders: restHeaders(serviceKey, serviceKey, true), rpcBody: JSON.stringify(saveConnectionArgs(userId, input, tenant, anon, service, ring.active)) };
    },
    async serve(s) {
      const text = await rpc(s);
      // The peer's answer, built once from the first answer (201 on a first save, 200 after).
      s.answer ??= answerOf(text, (rows) => connectionView(rows[0]), (rows) => (rows[0].created_at === rows[0].updated_at ? 201 : 200));
      return s.answer;
    },
  },
  'tenant-proxy': {
    async setup(request, body, env) {
      // The peer's lookup and open, once: the floor still sends the lookup on every request (the
      // peer does), but not the token check, the stored URL's check or the envelope's open.
      const { url, serviceKey } = settings(env);
      const target = new URL(request.url);
      const subPath = target.pathname.slice(`${PREFIX}tenant-proxy`.length);
      const slash = subPath.indexOf('/', 1);
      const name = subPath.slice(1, slash);
      const userId = subjectOf(request);
      const s = { rpcUrl: `${url}${RELAY_LOOKUP}`, rpcHeaders: restHeaders(serviceKey, serviceKey, true), rpcBody: JSON.stringify({ p_user_id: userId, p_name: name }) };
      const [stored] = JSON.parse(await rpc(s));
      const ring = await importKeyRing(env.ENCRYPTION_KEY_RING);
      const secret = decoder.decode(await open(ring, stored.service_role_key_encrypted, userId, keyRow(stored.key_binding, name, origin(stored.url)), 'service_role_key'));
      return { ...s, tenantUrl: `${stored.url}${subPath.slice(slash)}${target.search}`, tenantInit: { method: 'GET', headers: tenantKeyHeaders(secret), redirect: 'manual' } };
    },
    async serve(s) {
      await rpc(s);
      // The cheapest relay the runtime allows: the tenant's body handed over untouched. The peer
      // and the Rust function relay it through relay.js (the header deadline and the body's idle
      // timeout), which is part of their own work above this floor.
      const upstream = await fetch(s.tenantUrl, s.tenantInit);
      const headers = [];
      for (const name of ['content-type', 'content-range']) {
        const value = upstream.headers.get(name);
        if (value !== null) headers.push([name, value]);
      }
      return { status: upstream.status, body: upstream.body, headers };
    },
  },
  'accept-invitation': {
    async setup(request, body, env) {
      const { url, serviceKey } = settings(env);
      const token = new URL(request.url).searchParams.get('token');
      return { rpcUrl: `${url}/rest/v1/rpc/preview_profile_invitation`, rpcHeaders: restHeaders(serviceKey, serviceKey, true), rpcBody: JSON.stringify({ p_token_hash: await sha256Hex(token) }) };
    },
    async serve(s) {
      const text = await rpc(s);
      s.answer ??= answerOf(text, invitationPreview, () => 200);
      return s.answer;
    },
  },
  'process-webhook': {
    async setup(request, body, env) {
      // The peer's rpc arguments, once, split where the delivery id goes (after p_status), so
      // a request with an Idempotency-Key sends the peer's bytes with its id in them.
      const { url, serviceKey } = settings(env);
      const { p_task_id, p_status, ...rest } = rpcArgs(parseWebhook(new Uint8Array(body)), null);
      return {
        rpcUrl: `${url}/rest/v1/rpc/apply_segmentation_webhook`, rpcHeaders: restHeaders(serviceKey, serviceKey, true),
        head: JSON.stringify({ p_task_id, p_status }).slice(0, -1), tail: Object.keys(rest).length ? `,${JSON.stringify(rest).slice(1)}` : '}',
      };
    },
    async serve(s, request) {
      const id = request.headers.get('idempotency-key');
      const text = await rpc(s, id === null ? `${s.head}${s.tail}` : `${s.head},"p_delivery_id":${JSON.stringify(id)}${s.tail}`);
      s.answer ??= answerOf(text, webhookOutcome, () => 200);
      return s.answer;
    },
  },
};

/** The peer's answer to the first upstream answer: { status, body, headers }, reused after. */
function answerOf(text, view, status) {
  const data = JSON.parse(text);
  return { status: status(data), body: JSON.stringify(view(data)), headers: [['content-type', 'application/json']] };
}

const NAMES = Object.keys(FLOWS);
const setups = {};
let served = 0;

export default {
  async fetch(request, env) {
    const at = request.url.indexOf(PREFIX) + PREFIX.length;
    const name = NAMES.find((flow) => request.url.startsWith(flow, at));
    if (at < PREFIX.length || !name) return new Response('not found', { status: 404 });
    const flow = FLOWS[name];
    // The request's body is read on every request, as the peer reads it.
    const body = request.method === 'POST' ? await request.arrayBuffer() : null;
    const s = await (setups[name] ??= flow.setup(request, body, env));
    const { status, body: answer, headers } = await flow.serve(s, request);
    // The peer's CORS headers and a request id of the same length (the peer's is random).
    const id = (++served).toString(16).padStart(16, '0');
    return new Response(answer, { status, headers: [...headers, ...SPECS[name].cors, ['x-request-id', id]] });
  },
};

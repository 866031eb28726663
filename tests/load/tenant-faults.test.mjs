// Tenant faults: tenant-proxy in front of a fake tenant (a node http server on a port of the load
// stack's range) that breaks off mid-body, answers after the proxy's timeout, never answers, or
// is not listening at all. tenant-proxy must answer 502/504 with its JSON error within its
// timeout (TENANT_TIMEOUT_MS, which scripts/load.sh sets to 3000 ms), must not hang the client
// when the tenant dies or goes silent after the headers were relayed (TENANT_IDLE_TIMEOUT_MS,
// 3000 ms there too), and must keep serving afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { signedUpUser, stack, tenantProject } from '../support/stack.mjs';
import { invoke } from '../support/functions.mjs';
import { functionUrl, report } from './support/load.mjs';

const tenant = tenantProject('tenant');
const timeoutMs = Number(process.env.TENANT_TIMEOUT_MS ?? 15000);
const idleTimeoutMs = Number(process.env.TENANT_IDLE_TIMEOUT_MS ?? 10000);
const fakePort = Number(process.env.LOAD_FAKE_TENANT_PORT ?? 27440);
const closedPort = fakePort + 1; // nothing listens there
const BIG = 4 * 1024 * 1024;

const sockets = new Set();
/** The stalling answers' connections, closed or not: the proxy must cancel the tenant's body. */
const stalled = [];
let server;
let user;
const seen = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push(req.url);
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/rest/v1/midstream') {
      // Headers and 256 KiB of a 4 MiB JSON body, then the connection is cut.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(BIG) });
      res.write(`[${'"x",'.repeat(65536)}`);
      setTimeout(() => req.socket.destroy(), 300);
    } else if (path === '/rest/v1/stalls') {
      // Headers and 256 KiB of a 4 MiB JSON body, then nothing more, the connection kept open.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(BIG) });
      res.write(`[${'"x",'.repeat(65536)}`);
      const entry = { closed: false };
      stalled.push(entry);
      res.on('close', () => (entry.closed = true));
    } else if (path === '/rest/v1/slow') {
      const timer = setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('[]');
      }, timeoutMs + 2000);
      res.on('close', () => clearTimeout(timer));
    } else if (path === '/rest/v1/silent') {
      // Accepts the request and never answers.
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[{"ok":true}]');
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => server.listen(fakePort, '127.0.0.1', resolve).on('error', reject));
  user = await signedUpUser(undefined, 'load-faults');
  for (const [name, port] of [['fake', fakePort], ['closed', closedPort]]) {
    const saved = await invoke(user.client, 'save-connection', {
      body: { name, url: `http://127.0.0.1:${port}`, anon_key: tenant.anonKey, service_role_key: tenant.serviceKey },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
  }
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server?.close(resolve) ?? resolve());
});

const headers = () => ({ apikey: stack.anonKey, Authorization: `Bearer ${user.session.access_token}` });

/** GET through tenant-proxy; the whole answer read, with a hard 30 s bound. */
async function proxied(connection, path) {
  const started = performance.now();
  const res = await fetch(`${functionUrl('tenant-proxy')}/${connection}/rest/v1/${path}`, { headers: headers(), signal: AbortSignal.timeout(30_000) });
  const headersAt = performance.now() - started;
  let text = '';
  let bodyError = null;
  try {
    text = await res.text();
  } catch (e) {
    bodyError = `${e.name}: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, bodyError, headersAt, ms: performance.now() - started };
}

function assertJsonError(answer, status, code) {
  assert.equal(answer.status, status, answer.text.slice(0, 300));
  assert.equal(answer.json?.code, code, answer.text.slice(0, 300));
  assert.equal(typeof answer.json.error, 'string');
}

async function assertStillServing() {
  const ok = await proxied('fake', 'orders');
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.json, [{ ok: true }]);
  for (const [name, pid] of [['devstack', process.env.LOAD_DEVSTACK_PID], ['wrangler dev', process.env.LOAD_FUNCTIONS_PID]]) {
    if (pid) assert.doesNotThrow(() => process.kill(Number(pid), 0), `${name} is still running`);
  }
}

test('a tenant slower than the timeout: 504 gateway_timeout, right after the timeout', { timeout: 60_000 }, async () => {
  const answer = await proxied('fake', 'slow');
  assertJsonError(answer, 504, 'gateway_timeout');
  assert.ok(answer.ms >= timeoutMs - 50 && answer.ms < timeoutMs + 1500, `answered after ${answer.ms} ms (timeout ${timeoutMs})`);
  report({ test: 'tenant slow', kind: 'fault', status: answer.status, code: answer.json.code, ms: Math.round(answer.ms), timeout_ms: timeoutMs });
  await assertStillServing();
});

test('a tenant that accepts and never answers: 504 gateway_timeout within the timeout', { timeout: 60_000 }, async () => {
  const answer = await proxied('fake', 'silent');
  assertJsonError(answer, 504, 'gateway_timeout');
  assert.ok(answer.ms >= timeoutMs - 50 && answer.ms < timeoutMs + 1500, `answered after ${answer.ms} ms (timeout ${timeoutMs})`);
  report({ test: 'tenant silent', kind: 'fault', status: answer.status, code: answer.json.code, ms: Math.round(answer.ms), timeout_ms: timeoutMs });
  await assertStillServing();
});

test('a tenant that is not listening: 502 bad_gateway at once', { timeout: 60_000 }, async () => {
  const answer = await proxied('closed', 'orders');
  assertJsonError(answer, 502, 'bad_gateway');
  assert.ok(answer.ms < 2000, `answered after ${answer.ms} ms`);
  report({ test: 'tenant down', kind: 'fault', status: answer.status, code: answer.json.code, ms: Math.round(answer.ms) });
  await assertStillServing();
});

test('a tenant that stalls mid-body and keeps the connection open: the client sees the stream fail after the idle timeout, never a hang, and the tenant\'s body is cancelled', { timeout: 60_000 }, async () => {
  const answer = await proxied('fake', 'stalls');
  // The headers were relayed at once; the body stops after its first 256 KiB.
  assert.equal(answer.status, 200);
  assert.ok(answer.headersAt < timeoutMs, `headers after ${answer.headersAt} ms`);
  assert.notEqual(answer.bodyError, null, `the body read fails, it does not end as if complete (${answer.text.length} bytes)`);
  assert.equal(answer.json, undefined, 'what arrived is not a complete JSON document');
  assert.ok(answer.ms >= idleTimeoutMs - 50 && answer.ms < idleTimeoutMs + 3000, `the relay ended after ${answer.ms} ms (idle timeout ${idleTimeoutMs})`);
  // The relay cancels the tenant's body: its connection is closed, not left open.
  const entry = stalled.at(-1);
  for (let i = 0; i < 30 && !entry?.closed; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(entry?.closed, "the proxy closed the stalled tenant's connection");
  report({ test: 'tenant stalls mid-body', kind: 'fault', status: answer.status, body_error: answer.bodyError, ms: Math.round(answer.ms), idle_timeout_ms: idleTimeoutMs });
  await assertStillServing();
});

test('a tenant that dies mid-body: the client sees the stream cut promptly, never a complete body or a hang', { timeout: 60_000 }, async () => {
  const answers = [];
  for (let k = 0; k < 3; k += 1) answers.push(await proxied('fake', 'midstream'));
  for (const answer of answers) {
    // The headers were relayed before the tenant died, so the status is the tenant's 200; what
    // must not happen is a body that looks complete, or a client left waiting.
    assert.equal(answer.status, 200);
    assert.ok(answer.bodyError !== null || answer.text.length < BIG, 'the client never gets a complete body');
    assert.equal(answer.json, undefined, 'what arrived is not a complete JSON document');
    assert.ok(answer.ms < 5000, `the cut reached the client after ${answer.ms} ms`);
  }
  const a = answers[0];
  report({ test: 'tenant cut mid-body', kind: 'fault', status: a.status, body_error: a.bodyError, bytes: a.text.length, headers_ms: Math.round(a.headersAt), ms: Math.round(Math.max(...answers.map((x) => x.ms))) });
  await assertStillServing();
});

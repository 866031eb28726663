// Every subrequest a function makes has a deadline (issue 19). The functions run under a second
// `wrangler dev` whose SUPABASE_URL is a pass-through to devstack that takes some requests and
// never answers them: PostgREST's (deadline 9 s) or Auth's sign-up (10 s). The function answers
// 504 gateway_timeout with its request id once the deadline passes, never hangs, and aborts the
// held subrequest.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { signAccessToken, signedUpUser, stack } from './support/stack.mjs';
import { call, startFunctions } from './support/functions.mjs';

const base = Number(new URL(stack.url).port);
const proxyPort = base + 26;
const proxyUrl = `http://127.0.0.1:${proxyPort}`;

/** Requests the pass-through holds; each entry is `{ path, closed }` (closed: the caller gave up). */
const held = [];
let holds = () => false;

const passThrough = createServer((req, res) => {
  const path = new URL(req.url, proxyUrl).pathname;
  if (holds(path)) {
    const entry = { path, closed: false };
    held.push(entry);
    req.socket.on('close', () => (entry.closed = true));
    return;
  }
  const upstream = httpRequest(`${stack.url}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(stack.url).host } }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
});
await new Promise((resolve) => passThrough.listen(proxyPort, '127.0.0.1', resolve));

const devVars = process.env.DEVSTACK_DEV_VARS;
assert.ok(devVars, 'scripts/test.sh sets DEVSTACK_DEV_VARS');
const vars = `${devVars}.held-subrequests`;
writeFileSync(vars, readFileSync(devVars, 'utf8').replace(/^SUPABASE_URL=.*$/m, `SUPABASE_URL="${proxyUrl}"`));
const functions = await startFunctions({ port: base + 24, inspectorPort: base + 25, envFile: vars });

after(() => {
  functions.stop();
  passThrough.closeAllConnections();
  passThrough.close();
});

async function timed(url, options) {
  const started = Date.now();
  const answer = await call(url, options);
  return { ...answer, ms: Date.now() - started };
}

function assertTimedOut(answer, deadlineMs) {
  assert.equal(answer.status, 504, JSON.stringify(answer.body));
  assert.equal(answer.body.code, 'gateway_timeout');
  assert.match(answer.body.error, /may or may not/);
  assert.ok(answer.headers.get('x-request-id'), 'the answer carries its request id');
  assert.ok(answer.ms >= deadlineMs - 200 && answer.ms < deadlineMs + 2_500, `answered after ${answer.ms} ms (deadline ${deadlineMs} ms)`);
}

/** The held subrequest was aborted by the function, not left open. */
async function assertAborted(path) {
  const entry = held.find((h) => h.path.startsWith(path));
  assert.ok(entry, `a request to ${path} was held`);
  for (let i = 0; i < 20 && !entry.closed; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(entry.closed, `the function aborted its request to ${entry.path}`);
}

test('a PostgREST that takes the request and never answers: 504 gateway_timeout after the 9 s deadline, the request aborted', { timeout: 60_000 }, async () => {
  const user = await signedUpUser(undefined, 'deadline-rest');
  // The token as this project's Auth (the pass-through's URL) signs it.
  const token = signAccessToken({
    iss: `${proxyUrl}/auth/v1`, sub: user.user.id, aud: 'authenticated', role: 'authenticated',
    exp: Math.floor(Date.now() / 1000) + 600, session_id: crypto.randomUUID(),
  });
  holds = (path) => path.startsWith('/rest/v1/');
  const answer = await timed(`${functions.url}/functions/v1/save-connection`, {
    headers: { apikey: stack.anonKey, authorization: `Bearer ${token}` },
  });
  assertTimedOut(answer, 9_000);
  await assertAborted('/rest/v1/');
});

test('a Supabase Auth that takes the sign-up and never answers: 504 gateway_timeout after the 10 s deadline, the request aborted', { timeout: 60_000 }, async () => {
  holds = (path) => path === '/auth/v1/signup';
  const answer = await timed(`${functions.url}/functions/v1/guest-signup`, {
    method: 'POST',
    headers: { apikey: stack.anonKey, 'content-type': 'application/json', 'cf-connecting-ip': `198.51.100.${1 + Math.floor(Math.random() * 250)}` },
    body: '{}',
  });
  assertTimedOut(answer, 10_000);
  await assertAborted('/auth/v1/signup');
});

// Round trips to the origin (issue 30): each flow's subrequests to the Supabase project, counted
// by a recording pass-through in front of devstack, so a flow that gains a round trip fails here.
// The functions run under a second `wrangler dev` whose SUPABASE_URL (and mail API) is the
// pass-through. Each flow has a budget: the subrequests its answer may wait for. The
// pass-through holds every subrequest past the budget until the client has its answer, so an
// answer that waits for one more never comes (the hold gives up after a few seconds and the
// test fails); what is held is work deferred after the answer (`ctx.waitUntil`), which then
// completes. tenant-proxy runs with its connection cache on (TENANT_CONNECTION_CACHE_MS).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import {
  createProfile, signAccessToken, signJwtWithKey, signedUpUser, sql, stack, tenantProject, userWithRole,
} from './support/stack.mjs';
import { call, startFunctions } from './support/functions.mjs';
import { invitationLink, waitForMessages } from './support/mail.mjs';
import { devVar, freshIp } from './support/guests.mjs';

const base = Number(new URL(stack.url).port);
const proxyPort = base + 27;
const proxyUrl = `http://127.0.0.1:${proxyPort}`;
const tenant = tenantProject('tenant');
/** tenant-proxy's connection cache in this Worker. */
const CACHE_MS = 2_000;
/** How long a subrequest past the budget is held before the test gives up on the answer. */
const HOLD_MS = 4_000;

/** Every subrequest the pass-through saw: `{ what, done }` (`what`: method and path). */
let seen = [];
/** The current flow's budget: subrequests past it are held until `release()`. */
let gate = null;

/** The mail API as the stack's settings have it; the Worker reaches it under /__mail/. */
const mailApi = /^MAIL_API_URL="?(.*?)"?$/m.exec(readFileSync(process.env.DEVSTACK_DEV_VARS, 'utf8'))[1].replace(/\/$/, '');
const MAIL_PREFIX = '/__mail';

const label = (method, url) => {
  const { pathname } = new URL(url, proxyUrl);
  if (pathname.startsWith(`${MAIL_PREFIX}/`)) return `${method} mail`;
  return `${method} ${pathname.replace(/^\/rest\/v1\/rpc\//, 'rpc ').replace(/^\/auth\/v1/, 'auth')}`;
};

const passThrough = createServer((req, res) => {
  const entry = { what: label(req.method, req.url), done: false };
  seen.push(entry);
  const forward = () => {
    const target = req.url.startsWith(`${MAIL_PREFIX}/`) ? `${mailApi}${req.url.slice(MAIL_PREFIX.length)}` : `${stack.url}${req.url}`;
    const upstream = httpRequest(target, { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
      answer.on('end', () => (entry.done = true));
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  };
  if (gate && seen.length > gate.budget && !gate.released) {
    gate.held.push(forward);
    return;
  }
  forward();
});
await new Promise((resolve) => passThrough.listen(proxyPort, '127.0.0.1', resolve));

const devVars = process.env.DEVSTACK_DEV_VARS;
assert.ok(devVars, 'scripts/test.sh sets DEVSTACK_DEV_VARS');
const vars = `${devVars}.round-trips`;
writeFileSync(vars, `${readFileSync(devVars, 'utf8')
  .replace(/^SUPABASE_URL=.*$/m, `SUPABASE_URL="${proxyUrl}"`)
  .replace(/^MAIL_API_URL=.*$/m, `MAIL_API_URL="${proxyUrl}${MAIL_PREFIX}"`)
  .replace(/^TENANT_CONNECTION_CACHE_MS=.*$/m, '')
  // At the default JWKS refetch interval (30 s), which the JWKS test below counts against.
  .replace(/^JWKS_MIN_REFETCH_SECS=.*\n/m, '')}TENANT_CONNECTION_CACHE_MS="${CACHE_MS}"\n`);
const functions = await startFunctions({ port: base + 33, inspectorPort: base + 34, envFile: vars });

after(() => {
  functions.stop();
  passThrough.closeAllConnections();
  passThrough.close();
});

/** A user's session token as this Worker's project (the pass-through's URL) signs it. */
function tokenOf(user) {
  const claims = JSON.parse(Buffer.from(user.session.access_token.split('.')[1], 'base64url'));
  return signAccessToken({ ...claims, iss: `${proxyUrl}/auth/v1` });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends one request to the functions with a budget of `budget` subrequests before the answer;
 * returns the answer, the subrequests it waited for and those after it (once they are done).
 */
async function flow(budget, path, { method = 'GET', headers = {}, body, after: expectedAfter = 0 } = {}) {
  seen = [];
  gate = { budget, released: false, held: [] };
  const release = () => {
    gate.released = true;
    for (const forward of gate.held.splice(0)) forward();
  };
  const giveUp = setTimeout(() => {
    gate.forced = true;
    release();
  }, HOLD_MS);
  const answer = await call(`${functions.url}/functions/v1/${path}`, {
    method,
    headers: { apikey: stack.anonKey, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body && JSON.stringify(body),
  });
  clearTimeout(giveUp);
  const forced = gate.forced;
  const before = seen.slice(0, budget).map((e) => e.what);
  release();
  for (let i = 0; i < 100 && (seen.length < budget + expectedAfter || seen.some((e) => !e.done)); i++) await sleep(50);
  gate = null;
  assert.ok(!forced, `${method} ${path} waited for more than ${budget} subrequest(s): ${seen.map((e) => e.what).join(', ')}`);
  return { answer, before, after: seen.slice(budget).map((e) => e.what) };
}

const bearer = (token) => ({ authorization: `Bearer ${token}` });
const connectionBody = (name) => ({ name, url: tenant.url, anon_key: tenant.anonKey, service_role_key: tenant.serviceKey });

test('the first request after start fetches the JWKS once; an unknown kid fetches it at most once per interval', async () => {
  const user = await signedUpUser(undefined, 'rt-jwks');
  const first = await flow(2, 'save-connection', { headers: bearer(tokenOf(user)) });
  assert.equal(first.answer.status, 200, JSON.stringify(first.answer.body));
  assert.deepEqual(first.before, ['GET auth/.well-known/jwks.json', 'POST rpc list_connections']);
  assert.deepEqual(first.after, []);

  const warm = await flow(1, 'save-connection', { headers: bearer(tokenOf(user)) });
  assert.deepEqual(warm.before, ['POST rpc list_connections'], 'a held key: no JWKS fetch');

  // Tokens under made-up kids (signed by a key the project does not have): the first may fetch
  // the set again (the interval since the start has not passed: it does not), the rest do not.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256' };
  const claims = JSON.parse(Buffer.from(tokenOf(user).split('.')[1], 'base64url'));
  let fetches = 0;
  for (let i = 0; i < 5; i++) {
    const forged = signJwtWithKey(claims, jwk, `made-up-${i}`);
    const refused = await flow(1, 'save-connection', { headers: bearer(forged) });
    assert.equal(refused.answer.status, 401, JSON.stringify(refused.answer.body));
    fetches += [...refused.before, ...refused.after].filter((w) => w.endsWith('jwks.json')).length;
  }
  assert.ok(fetches <= 1, `${fetches} JWKS fetches for 5 unknown kids within one interval`);
});

test('save-connection: POST is one round trip (the upsert), GET and DELETE one each', async () => {
  const user = await signedUpUser(undefined, 'rt-save');
  const token = tokenOf(user);
  const name = `rt-${randomUUID().slice(0, 8)}`;
  const saved = await flow(1, 'save-connection', { method: 'POST', headers: bearer(token), body: connectionBody(name) });
  assert.equal(saved.answer.status, 201, JSON.stringify(saved.answer.body));
  assert.deepEqual(saved.before, ['POST rpc save_connection']);
  const deleted = await flow(1, `save-connection?name=${name}`, { method: 'DELETE', headers: bearer(token) });
  assert.equal(deleted.answer.status, 204);
  assert.deepEqual([...deleted.before, ...deleted.after], ['DELETE /rest/v1/connections']);
});

test('tenant-proxy: one lookup, then none while the connection is cached; a block and a deletion take effect within the cache time', async () => {
  const owner = await signedUpUser(undefined, 'rt-proxy');
  const token = tokenOf(owner);
  const name = `rt-${randomUUID().slice(0, 8)}`;
  assert.equal((await flow(1, 'save-connection', { method: 'POST', headers: bearer(token), body: connectionBody(name) })).answer.status, 201);
  const path = `tenant-proxy/${name}/rest/v1/orders?select=id&limit=1`;

  const cold = await flow(1, path, { headers: bearer(token) });
  assert.equal(cold.answer.status, 200, JSON.stringify(cold.answer.body));
  assert.deepEqual(cold.before, ['POST rpc connection_for_relay'], 'the tenant is not the origin');
  const cached = await flow(0, path, { headers: bearer(token) });
  assert.equal(cached.answer.status, 200);
  assert.deepEqual(cached.after, [], 'no lookup while cached');

  // Blocked: refused within the cache time (an isolate that looked the connection up before
  // may relay until then), and from then on.
  const blockedAt = Date.now();
  sql(`update public.user_profiles set state = 'blocked' where id = '${owner.user.id}'`);
  let refused;
  while (Date.now() - blockedAt < CACHE_MS + 3_000) {
    refused = await call(`${functions.url}/functions/v1/${path}`, { headers: { apikey: stack.anonKey, ...bearer(token) } });
    if (refused.status === 403) break;
    assert.equal(refused.status, 200);
    assert.ok(Date.now() - blockedAt <= CACHE_MS + 500, `still relayed ${Date.now() - blockedAt} ms after the block`);
    await sleep(200);
  }
  assert.equal(refused.status, 403, JSON.stringify(refused.body));
  assert.equal(refused.body.code, 'account_blocked');
  sql(`update public.user_profiles set state = 'active' where id = '${owner.user.id}'`);

  // Deleted (through /rest/v1, as an owner may): gone within the cache time.
  assert.equal((await call(`${functions.url}/functions/v1/${path}`, { headers: { apikey: stack.anonKey, ...bearer(token) } })).status, 200);
  const deletedAt = Date.now();
  sql(`delete from public.connections where user_id = '${owner.user.id}' and name = '${name}'`);
  let gone;
  while (Date.now() - deletedAt < CACHE_MS + 3_000) {
    gone = await call(`${functions.url}/functions/v1/${path}`, { headers: { apikey: stack.anonKey, ...bearer(token) } });
    if (gone.status === 404) break;
    assert.ok(Date.now() - deletedAt <= CACHE_MS + 500, `still relayed ${Date.now() - deletedAt} ms after the deletion`);
    await sleep(200);
  }
  assert.equal(gone.status, 404, JSON.stringify(gone.body));
});

test('create-invitation: POST and resend are two round trips (the RPC, the mail), the delivery recorded after the answer', async () => {
  const admin = await userWithRole('admin', 'rt-invite');
  const token = tokenOf(admin);
  const profile = await createProfile(admin);
  const created = await flow(2, 'create-invitation', { method: 'POST', headers: bearer(token), body: { profile_id: profile.id }, after: 1 });
  assert.equal(created.answer.status, 201, JSON.stringify(created.answer.body));
  assert.deepEqual(created.before, ['POST rpc create_profile_invitation', 'POST mail']);
  assert.deepEqual(created.after, ['POST rpc record_profile_invitation_delivery']);
  assert.equal(created.answer.body.email_sent, true);
  assert.equal(created.answer.body.delivery_status, 'sent');
  assert.equal(created.answer.body.delivery_attempts, 1);
  const recorded = () => sql(`select delivery_status, delivery_attempts, delivery_next_attempt_at is null from public.profile_invitations where id = '${created.answer.body.id}'`);
  assert.deepEqual(recorded(), [['sent', '1', 't']], 'recorded as the answer said');

  const resent = await flow(2, 'create-invitation', { method: 'POST', headers: bearer(token), body: { profile_id: profile.id, resend: true }, after: 1 });
  assert.equal(resent.answer.status, 200, JSON.stringify(resent.answer.body));
  assert.deepEqual(resent.before, ['POST rpc resend_profile_invitation', 'POST mail']);
  assert.deepEqual(resent.after, ['POST rpc record_profile_invitation_delivery']);
  assert.deepEqual(recorded(), [['sent', '1', 't']], 'the new send recorded');

  const listed = await flow(1, `create-invitation?profile_id=${profile.id}`, { headers: bearer(token) });
  assert.deepEqual(listed.before, ['POST rpc list_profile_invitations']);
});

test('accept-invitation: GET is one round trip; POST three (preview, create the account, link it with the notice), the notice mailed after the answer', async () => {
  const admin = await userWithRole('admin', 'rt-accept');
  const profile = await createProfile(admin);
  const created = await flow(2, 'create-invitation', { method: 'POST', headers: bearer(tokenOf(admin)), body: { profile_id: profile.id }, after: 1 });
  assert.equal(created.answer.status, 201, JSON.stringify(created.answer.body));
  const { token } = invitationLink((await waitForMessages(profile.email, 1))[0]);

  const previewed = await flow(1, `accept-invitation?token=${token}`);
  assert.equal(previewed.answer.status, 200);
  assert.deepEqual(previewed.before, ['POST rpc preview_profile_invitation']);

  const accepted = await flow(3, 'accept-invitation', { method: 'POST', body: { token, password: `pw-${randomUUID()}` }, after: 1 });
  assert.equal(accepted.answer.status, 201, JSON.stringify(accepted.answer.body));
  assert.deepEqual(accepted.before, ['POST rpc preview_profile_invitation', 'POST auth/admin/users', 'POST rpc accept_profile_invitation_with_notice']);
  assert.deepEqual(accepted.after, ['POST mail']);
  const [notice] = await waitForMessages(admin.email, 1);
  assert.equal(notice.Subject, 'Ada Lovelace accepted your invitation');
});

test('guest-signup: POST is two round trips (rate limit with the visitor, sign-up claiming it)', async () => {
  const signup = await flow(2, 'guest-signup', {
    method: 'POST', headers: { authorization: `Bearer ${stack.anonKey}`, 'cf-connecting-ip': freshIp() }, body: {},
  });
  assert.equal(signup.answer.status, 201, JSON.stringify(signup.answer.body));
  assert.deepEqual(signup.before, ['POST rpc prepare_guest_signup', 'POST auth/signup']);
  assert.deepEqual(signup.after, []);
});

test('process-webhook: a delivery is one round trip', async () => {
  const delivered = await flow(1, 'process-webhook', {
    method: 'POST',
    headers: { 'x-api-key': devVar('WEBHOOK_API_KEYS').split(',')[0].trim() },
    body: { task_id: randomUUID(), status: 'done' },
  });
  assert.equal(delivered.before.length, 1, JSON.stringify(delivered));
  assert.match(delivered.before[0], /^POST rpc /);
  assert.deepEqual(delivered.after, []);
});

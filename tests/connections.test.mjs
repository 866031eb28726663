// Seed 003 end to end: save-connection and tenant-proxy against devstack, with a second devstack
// project standing in for the tenant's own Supabase.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { PostgrestClient } from '@supabase/postgrest-js';
import { anonClient, forgeAccessToken, signAccessToken, signedUpUser, sql, stack, tenantProject } from './support/stack.mjs';
import { call, invoke, startFunctions } from './support/functions.mjs';

const tenant = tenantProject('tenant');
const connectionBody = (overrides = {}) => ({
  name: `acme-${randomUUID().slice(0, 8)}`,
  url: tenant.url,
  anon_key: tenant.anonKey,
  service_role_key: tenant.serviceKey,
  ...overrides,
});
const secrets = [tenant.anonKey, tenant.serviceKey, tenant.secretKey];

function assertNoSecret(value, where) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  for (const secret of secrets) assert.ok(!text.includes(secret), `no tenant secret in ${where}`);
}

/** A PostgREST client pointed at tenant-proxy, as a frontend would build it. */
function proxiedTenant(user, name) {
  return new PostgrestClient(`${stack.functionsUrl}/tenant-proxy/${name}/rest/v1`, {
    headers: { apikey: stack.anonKey, Authorization: `Bearer ${user.session.access_token}` },
  });
}

test('a user saves, lists, updates and deletes a connection; no secret ever comes back', async () => {
  const a = await signedUpUser(undefined, 'conn-a');
  const body = connectionBody();

  const created = await invoke(a.client, 'save-connection', { body });
  assert.equal(created.status, 201);
  assert.equal(created.body.name, body.name);
  assert.equal(created.body.url, tenant.url);
  assert.equal(created.body.allow_writes, false);
  assert.equal(created.body.anon_key_hint, tenant.anonKey.slice(0, 6));
  assert.equal(created.body.service_role_key_hint, tenant.serviceKey.slice(0, 6));
  assert.match(created.body.key_id, /^[A-Za-z0-9_-]+$/);
  assertNoSecret(created.body, 'the save answer');

  const listed = await invoke(a.client, 'save-connection', { method: 'GET' });
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.map((c) => c.name), [body.name]);
  assertNoSecret(listed.body, 'the list');

  const updated = await invoke(a.client, 'save-connection', { body: { ...body, allow_writes: true } });
  assert.equal(updated.status, 200, 're-saving the same name updates it');
  assert.equal(updated.body.id, created.body.id);
  assert.equal(updated.body.allow_writes, true);

  // The database holds envelopes only, and the owner cannot read them through /rest/v1.
  const [[anonEnvelope, serviceEnvelope]] = sql(
    `select anon_key_encrypted, service_role_key_encrypted from connections where id = '${created.body.id}'`,
  );
  assert.match(serviceEnvelope, /^enc:v1:/);
  assertNoSecret([anonEnvelope, serviceEnvelope], 'the stored row');
  const direct = await a.client.from('connections').select('*');
  assert.equal(direct.status, 403, 'envelope columns are not readable by their owner');
  const safe = await a.client.from('connections').select('name, anon_key_hint');
  assert.deepEqual(safe.data, [{ name: body.name, anon_key_hint: tenant.anonKey.slice(0, 6) }]);

  const deleted = await invoke(a.client, `save-connection?name=${body.name}`, { method: 'DELETE' });
  assert.equal(deleted.status, 204);
  const again = await invoke(a.client, `save-connection?name=${body.name}`, { method: 'DELETE' });
  assert.equal(again.status, 404);
  assert.equal(again.body.code, 'not_found');
});

test('user B can neither see, overwrite nor delete user A\'s connection, through the function or /rest/v1', async () => {
  const a = await signedUpUser(undefined, 'conn-owner');
  const b = await signedUpUser(undefined, 'conn-intruder');
  const body = connectionBody();
  const saved = await invoke(a.client, 'save-connection', { body });
  assert.equal(saved.status, 201);
  const before = sql(`select url, updated_at, service_role_key_encrypted from connections where id = '${saved.body.id}'`);

  assert.deepEqual((await invoke(b.client, 'save-connection', { method: 'GET' })).body, []);
  assert.equal((await invoke(b.client, `save-connection?name=${body.name}`, { method: 'DELETE' })).status, 404);
  const bSaves = await invoke(b.client, 'save-connection', { body: { ...body, allow_writes: true } });
  assert.equal(bSaves.status, 201, 'the same name under B is B\'s own connection');
  assert.notEqual(bSaves.body.id, saved.body.id);

  // No one updates connections through /rest/v1 any more (only save-connection writes them).
  const bPatches = await b.client.from('connections').update({ url: 'https://evil.example.com' }).eq('id', saved.body.id).select('id');
  assert.equal(bPatches.status, 403);
  const bDeletes = await b.client.from('connections').delete().eq('id', saved.body.id).select('id');
  assert.deepEqual(bDeletes.data, []);
  const bReads = await b.client.from('connections').select('id').eq('id', saved.body.id);
  assert.deepEqual(bReads.data, []);

  assert.deepEqual(
    sql(`select url, updated_at, service_role_key_encrypted from connections where id = '${saved.body.id}'`),
    before,
    'A\'s row is untouched',
  );
  const bProxies = await proxiedTenant(b, body.name).from('orders').select('*');
  assert.equal(bProxies.status, 200, 'B reaches only B\'s own connection of that name');
});

test('tenant-proxy relays reads with filters, order and count; writes only with allow_writes', async () => {
  const a = await signedUpUser(undefined, 'proxy');
  const body = connectionBody();
  assert.equal((await invoke(a.client, 'save-connection', { body })).status, 201);
  const db = proxiedTenant(a, body.name);

  const paid = await db.from('orders').select('customer, total_cents', { count: 'exact' }).eq('status', 'paid').order('total_cents', { ascending: false });
  assert.equal(paid.error, null);
  assert.equal(paid.count, 2);
  assert.deepEqual(paid.data, [
    { customer: 'margaret', total_cents: 15000 },
    { customer: 'ada', total_cents: 1250 },
  ]);
  const ranged = await db.from('orders').select('customer').in('status', ['new', 'shipped']).order('customer').range(0, 1);
  assert.deepEqual(ranged.data.map((r) => r.customer), ['barbara', 'grace']);

  const refused = await db.from('orders').insert({ customer: 'mallory', total_cents: 1 });
  assert.equal(refused.status, 403);
  assert.equal(refused.error.code, 'writes_not_allowed');
  assert.deepEqual(sql(`select count(*) from orders where customer = 'mallory'`, tenant), [['0']]);

  assert.equal((await invoke(a.client, 'save-connection', { body: { ...body, allow_writes: true } })).status, 200);
  const customer = `cust-${randomUUID().slice(0, 8)}`;
  const inserted = await db.from('orders').insert({ customer, total_cents: 500 }).select('customer, status').single();
  assert.equal(inserted.error, null);
  assert.deepEqual(inserted.data, { customer, status: 'new' });
  const patched = await db.from('orders').update({ status: 'paid' }).eq('customer', customer).select('status');
  assert.deepEqual(patched.data, [{ status: 'paid' }]);
  const removed = await db.from('orders').delete().eq('customer', customer);
  assert.equal(removed.status, 204);

  // The tenant sees its own service key and nothing of the caller's credentials.
  const info = await db.rpc('request_info', {}, { get: true });
  assert.equal(info.error, null);
  assert.equal(info.data.role, 'service_role');
  assert.equal(info.data.headers.authorization, `Bearer ${tenant.serviceKey}`);
  assert.ok(!JSON.stringify(info.data).includes(a.session.access_token), 'the caller\'s token never reaches the tenant');
  assert.ok(!JSON.stringify(info.data).includes(stack.anonKey), 'nor the caller\'s apikey');

  const auth = await call(`${stack.functionsUrl}/tenant-proxy/${body.name}/auth/v1/admin/users`, {
    headers: { apikey: stack.anonKey, Authorization: `Bearer ${a.session.access_token}` },
  });
  assert.equal(auth.status, 404, 'only /rest/v1 is reachable');
  const unknown = await proxiedTenant(a, 'no-such-connection').from('orders').select('*');
  assert.equal(unknown.status, 404);
});

test('an sb_secret_ key is sent as apikey only', async () => {
  const a = await signedUpUser(undefined, 'proxy-secret');
  const body = connectionBody({ anon_key: tenant.publishableKey, service_role_key: tenant.secretKey });
  assert.equal((await invoke(a.client, 'save-connection', { body })).status, 201);
  const info = await proxiedTenant(a, body.name).rpc('request_info', {}, { get: true });
  assert.equal(info.error, null);
  assert.equal(info.data.role, 'service_role');
  assert.equal(info.data.headers.apikey, tenant.secretKey);
  assert.equal(info.data.headers.authorization, undefined);
});

test('credentials: guests get 403; no, expired or forged tokens get 401', async () => {
  const url = `${stack.functionsUrl}/save-connection`;
  const post = (headers) => call(url, { method: 'POST', headers: { 'content-type': 'application/json', apikey: stack.anonKey, ...headers }, body: JSON.stringify(connectionBody()) });

  const guest = anonClient();
  const { data } = await guest.auth.signInAnonymously();
  const asGuest = await post({ Authorization: `Bearer ${data.session.access_token}` });
  assert.equal(asGuest.status, 403);
  assert.equal(asGuest.body.code, 'guest_not_allowed');

  const none = await post({});
  assert.equal(none.status, 401);
  assert.equal(none.body.code, 'missing_authorization');

  const a = await signedUpUser(undefined, 'conn-tokens');
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: a.user.id, role: 'authenticated', aud: 'authenticated', iss: `${stack.url}/auth/v1`, iat: now - 7200 };
  const expired = await post({ Authorization: `Bearer ${signAccessToken({ ...claims, exp: now - 3600 })}` });
  assert.equal(expired.status, 401);
  assert.equal(expired.body.code, 'token_expired');
  const forged = await post({ Authorization: `Bearer ${forgeAccessToken({ ...claims, exp: now + 3600 })}` });
  assert.equal(forged.status, 401);
  assert.equal(forged.body.code, 'bad_signature');
  const proxied = await call(`${stack.functionsUrl}/tenant-proxy/x/rest/v1/orders`, { headers: { Authorization: 'Bearer not.a.jwt' } });
  assert.equal(proxied.status, 401);
  assert.deepEqual(sql(`select count(*) from connections where user_id = '${a.user.id}'`), [['0']], 'nothing was written');
});

test('bad input: URLs, keys, JSON, size and fields are refused with 400/413 and nothing is written', async () => {
  const a = await signedUpUser(undefined, 'conn-input');
  const cases = [
    [{ url: 'file:///etc/passwd' }, 400, 'invalid_url'],
    [{ url: 'http://example.com' }, 400, 'invalid_url'],
    [{ url: 'https://10.0.0.1' }, 400, 'invalid_url'],
    [{ url: 'not a url' }, 400, 'invalid_url'],
    [{ url: `${tenant.url}/rest/v1` }, 400, 'invalid_url'],
    [{ name: 'has space' }, 400, 'invalid_name'],
    [{ anon_key: tenant.serviceKey }, 400, 'invalid_key'],
    [{ service_role_key: 'plain-text' }, 400, 'invalid_key'],
    [{ allowWrites: true }, 400, 'invalid_body'],
    [{ allow_writes: 'yes' }, 400, 'invalid_body'],
  ];
  for (const [overrides, status, code] of cases) {
    const res = await invoke(a.client, 'save-connection', { body: connectionBody(overrides) });
    assert.equal(res.status, status, JSON.stringify(overrides));
    assert.equal(res.body.code, code, JSON.stringify(overrides));
    assert.equal(typeof res.body.error, 'string');
  }
  const headers = { 'content-type': 'application/json', apikey: stack.anonKey, Authorization: `Bearer ${a.session.access_token}` };
  const url = `${stack.functionsUrl}/save-connection`;
  const malformed = await call(url, { method: 'POST', headers, body: '{"name": "x",' });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.code, 'invalid_json');
  const huge = await call(url, { method: 'POST', headers, body: JSON.stringify(connectionBody({ name: 'x'.repeat(20_000) })) });
  assert.equal(huge.status, 413);
  const array = await call(url, { method: 'POST', headers, body: JSON.stringify(Object.values(connectionBody())) });
  assert.equal(array.status, 400, 'an array is not a connection, whatever serde would make of it');
  assert.equal(array.body.code, 'invalid_body');
  const missing = await call(url, { method: 'POST', headers, body: '{}' });
  assert.equal(missing.status, 400);
  assert.match(missing.body.error, /missing field `name`/);
  const wrongMethod = await call(url, { method: 'PUT', headers, body: '{}' });
  assert.equal(wrongMethod.status, 405);
  assert.deepEqual(sql(`select count(*) from connections where user_id = '${a.user.id}'`), [['0']]);

  const preflight = await call(url, { method: 'OPTIONS', headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' } });
  assert.equal(preflight.status, 200);
  assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
  assert.match(preflight.headers.get('access-control-allow-headers'), /apikey/);
});

test('an unreachable tenant answers 502, not a hang', async () => {
  const a = await signedUpUser(undefined, 'conn-down');
  const body = connectionBody({ url: 'http://127.0.0.1:9' });
  assert.equal((await invoke(a.client, 'save-connection', { body })).status, 201);
  const started = Date.now();
  const res = await proxiedTenant(a, body.name).from('orders').select('*');
  assert.equal(res.status, 502);
  assert.equal(res.error.code, 'bad_gateway');
  assert.ok(Date.now() - started < 15_000);
});

const rotated = { stop: () => {} };
after(() => rotated.stop());

test('key rotation: a new active key still opens old connections, re-saving moves them to it', async () => {
  const devVars = process.env.DEVSTACK_DEV_VARS;
  assert.ok(devVars, 'scripts/test.sh sets DEVSTACK_DEV_VARS to the secrets of the functions under test');
  const vars = readFileSync(devVars, 'utf8');
  const ring = /^ENCRYPTION_KEY_RING="(.*)"$/m.exec(vars)[1];
  const oldKeys = ring.split(';').slice(2).join(';');
  const newRing = `v1;active=rotated;${oldKeys};rotated=${randomBytes(32).toString('base64')}`;
  const rotatedVars = `${devVars}.rotated`;
  writeFileSync(rotatedVars, vars.replace(/^ENCRYPTION_KEY_RING=.*$/gm, `ENCRYPTION_KEY_RING="${newRing}"`));
  Object.assign(rotated, await startFunctions({
    // Ports beside the stack's own (24439/24440 under scripts/test.sh's default base).
    port: Number(new URL(stack.url).port) + 18,
    inspectorPort: Number(new URL(stack.url).port) + 19,
    envFile: rotatedVars,
  }));

  const a = await signedUpUser(undefined, 'conn-rotate');
  const body = connectionBody();
  const saved = await invoke(a.client, 'save-connection', { body });
  assert.notEqual(saved.body.key_id, 'rotated');

  const viaRotated = (path, init = {}) =>
    call(`${rotated.url}/functions/v1/${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', Authorization: `Bearer ${a.session.access_token}`, ...init.headers },
    });
  const oldStillWorks = await viaRotated(`tenant-proxy/${body.name}/rest/v1/orders?select=id`);
  assert.equal(oldStillWorks.status, 200, 'a retired-but-listed key still opens');
  assert.equal(oldStillWorks.body.length >= 5, true);

  const resaved = await viaRotated('save-connection', { method: 'POST', body: JSON.stringify(body) });
  assert.equal(resaved.status, 200);
  assert.equal(resaved.body.key_id, 'rotated', 're-saving seals under the active key');
  assert.match(sql(`select service_role_key_encrypted from connections where id = '${saved.body.id}'`)[0][0], /^enc:v1:rotated:/);

  // The functions with the old ring (no `rotated` key) cannot open it: the right ring is needed.
  const oldRing = await proxiedTenant(a, body.name).from('orders').select('id');
  assert.equal(oldRing.status, 409);
  assert.equal(oldRing.error.code, 'connection_keys_unreadable');
});

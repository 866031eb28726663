// Issue 13, items 1-3, as an attacker tries them: a connection's URL edited behind
// save-connection's back (through /rest/v1, rpc/save_connection or SQL), private addresses in
// the notations URL parsers accept, and encoded traversal out of /rest/v1. A recording proxy in
// front of the real tenant stack shows what reaches the tenant: nothing, for every attack.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { PostgrestClient } from '@supabase/postgrest-js';
import { anonClient, signedUpUser, sql, stack, tenantProject } from './support/stack.mjs';
import { invoke } from './support/functions.mjs';

const tenant = tenantProject('tenant');
const newName = () => `atk-${randomUUID().slice(0, 8)}`;
const connectionBody = (overrides = {}) => ({
  name: newName(),
  url: tenant.url,
  anon_key: tenant.anonKey,
  service_role_key: tenant.serviceKey,
  ...overrides,
});

/**
 * A plain-http proxy in front of the real tenant project that records the raw target of every
 * request it gets (a loopback URL is allowed by the test stack's ALLOW_LOOPBACK_TENANTS).
 */
async function recordingTenant() {
  const target = new URL(tenant.url);
  const seen = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const forwarded = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const recorder = { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => server.close() };
  recorders.push(recorder);
  return recorder;
}
const recorders = [];
after(() => recorders.forEach((r) => r.close()));

/** Sends a request with its path exactly as written (fetch would resolve `%2e%2e` first). */
function rawRequest(origin, path, { method = 'GET', headers = {}, body } = {}) {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let parsed = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function proxiedTenant(user, name) {
  return new PostgrestClient(`${stack.functionsUrl}/tenant-proxy/${name}/rest/v1`, {
    headers: { apikey: stack.anonKey, Authorization: `Bearer ${user.session.access_token}` },
  });
}

const storedRow = (id) =>
  sql(`select url, allow_writes, anon_key_encrypted, service_role_key_encrypted, anon_key_hint, key_id, key_binding, updated_at
       from public.connections where id = '${id}'`);

/**
 * Sets a stored URL the way a row written before the database checked its shape would hold it:
 * the origin-shape constraint is lifted for this one write and put back as it was (NOT VALID).
 */
function writeUrlAsAnOlderVersion(id, url) {
  sql(`do $$
    declare definition text;
    begin
      select pg_get_constraintdef(oid) into definition from pg_constraint
        where conrelid = 'public.connections'::regclass and conname = 'connections_url_is_an_origin';
      alter table public.connections drop constraint connections_url_is_an_origin;
      update public.connections set url = '${url}' where id = '${id}';
      execute format('alter table public.connections add constraint connections_url_is_an_origin %s', definition);
    end $$`);
}

// ---------------------------------------------------------------------------------------------
// Item 1: only save-connection writes a connection's URL, keys and allow_writes.

test('PATCH of a connection\'s URL, keys or allow_writes through /rest/v1 with the owner\'s own token is refused by Postgres', async () => {
  const a = await signedUpUser(undefined, 'atk-patch');
  const body = connectionBody();
  const saved = await invoke(a.client, 'save-connection', { body });
  assert.equal(saved.status, 201);
  const before = storedRow(saved.body.id);

  for (const change of [
    { url: 'http://127.0.0.1:8080/internal-admin#' },
    { url: 'https://169.254.169.254' },
    { allow_writes: true },
    { service_role_key_encrypted: before[0][3].replace(/.$/, 'A') },
    { anon_key_hint: 'forged' },
    { key_binding: 1 },
  ]) {
    const patched = await a.client.from('connections').update(change).eq('name', body.name).select('id');
    assert.equal(patched.status, 403, JSON.stringify(change));
    assert.equal(patched.error.code, '42501', 'permission denied, by Postgres');
  }
  assert.deepEqual(storedRow(saved.body.id), before, 'the row is untouched');
  const relayed = await proxiedTenant(a, body.name).from('orders').select('id');
  assert.equal(relayed.status, 200, 'and still relays to the URL save-connection checked');
});

test('INSERT of a connection through /rest/v1 is refused by Postgres', async () => {
  const a = await signedUpUser(undefined, 'atk-insert');
  const inserted = await a.client.from('connections').insert({
    name: newName(),
    url: 'http://127.0.0.1:8080/internal-admin#',
    anon_key_encrypted: 'enc:v1:x:AAAA',
    service_role_key_encrypted: 'enc:v1:x:AAAA',
    anon_key_hint: 'x',
    service_role_key_hint: 'x',
    key_id: 'x',
  });
  assert.equal(inserted.status, 403);
  assert.equal(inserted.error.code, '42501');
  assert.deepEqual(sql(`select count(*) from public.connections where user_id = '${a.user.id}'`), [['0']]);
});

test('rpc/save_connection called directly with any p_url is refused by Postgres, for users and anon alike', async () => {
  const a = await signedUpUser(undefined, 'atk-rpc');
  const args = {
    p_name: newName(),
    p_url: 'http://127.0.0.1:8080/internal-admin#',
    p_anon_key_encrypted: 'enc:v1:x:AAAA',
    p_service_role_key_encrypted: 'enc:v1:x:AAAA',
    p_anon_key_hint: 'x',
    p_service_role_key_hint: 'x',
    p_key_id: 'x',
  };
  // Today's signature, with the caller's own id.
  const asUser = await a.client.rpc('save_connection', { ...args, p_user_id: a.user.id, p_key_binding: 2 });
  assert.equal(asUser.status, 403);
  assert.equal(asUser.error.code, '42501', 'no EXECUTE for authenticated');
  const asAnon = await anonClient().rpc('save_connection', { ...args, p_user_id: a.user.id, p_key_binding: 2 });
  assert.equal(asAnon.status, 401);
  // The signature the previous version granted to authenticated is gone.
  const old = await a.client.rpc('save_connection', args);
  assert.equal(old.status, 404);
  assert.equal(old.error.code, 'PGRST202');
  assert.deepEqual(sql(`select count(*) from public.connections where user_id = '${a.user.id}'`), [['0']]);
});

test('owners still read and delete their own connections through /rest/v1', async () => {
  const a = await signedUpUser(undefined, 'atk-owner');
  const body = connectionBody();
  assert.equal((await invoke(a.client, 'save-connection', { body })).status, 201);
  const listed = await a.client.from('connections').select('name, url, allow_writes');
  assert.deepEqual(listed.data, [{ name: body.name, url: tenant.url, allow_writes: false }]);
  const deleted = await a.client.from('connections').delete().eq('name', body.name).select('name');
  assert.equal(deleted.error, null);
  assert.deepEqual(deleted.data, [{ name: body.name }]);
});

test('a stored URL save-connection would refuse (an older version\'s row, or SQL) answers 409 connection_url_refused, and nothing is fetched', async () => {
  const recorder = await recordingTenant();
  const a = await signedUpUser(undefined, 'atk-stored-url');
  const body = connectionBody({ url: recorder.url });
  const saved = await invoke(a.client, 'save-connection', { body });
  assert.equal(saved.status, 201);
  const ok = await proxiedTenant(a, body.name).from('orders').select('id');
  assert.equal(ok.status, 200);
  assert.equal(recorder.seen.length, 1, 'the recorder sees what reaches the tenant');

  // The SSRF: a fragment cuts the proxied path off, so the tenant would get /internal-admin.
  writeUrlAsAnOlderVersion(saved.body.id, `${recorder.url}/internal-admin#`);
  for (const url of [null, 'https://169.254.169.254', 'http://10.0.0.1:8080', 'https://167772161', 'https://localhost.']) {
    if (url !== null) writeUrlAsAnOlderVersion(saved.body.id, url);
    const res = await proxiedTenant(a, body.name).from('orders').select('id');
    assert.equal(res.status, 409, url ?? 'fragment');
    assert.equal(res.error.code, 'connection_url_refused');
    assert.match(res.error.error, /save the connection again/, 'the answer says what to do');
  }
  assert.equal(recorder.seen.length, 1, 'nothing more reached the tenant');

  // Today the database itself refuses a stored URL that is more than an origin.
  assert.throws(
    () => sql(`update public.connections set url = '${recorder.url}/internal-admin#' where id = '${saved.body.id}'`),
    /connections_url_is_an_origin/,
  );

  // Saving again through save-connection repairs the row.
  assert.equal((await invoke(a.client, 'save-connection', { body })).status, 200);
  assert.equal((await proxiedTenant(a, body.name).from('orders').select('id')).status, 200);
  assert.equal(recorder.seen.length, 2);
});

test('a URL changed behind save-connection\'s back no longer opens the keys sealed for the old one', async () => {
  const recorder = await recordingTenant();
  const a = await signedUpUser(undefined, 'atk-moved-url');
  const body = connectionBody({ url: recorder.url });
  const saved = await invoke(a.client, 'save-connection', { body });
  assert.equal(saved.status, 201);
  assert.deepEqual(sql(`select key_binding from public.connections where id = '${saved.body.id}'`), [['2']]);

  // A URL the rules allow, but not the one the keys were sealed for.
  const moved = recorder.url.replace('127.0.0.1', 'localhost');
  sql(`update public.connections set url = '${moved}' where id = '${saved.body.id}'`);
  const res = await proxiedTenant(a, body.name).from('orders').select('id');
  assert.equal(res.status, 409);
  assert.equal(res.error.code, 'connection_keys_unreadable');
  // Nor does marking the row as sealed the old way open them.
  sql(`update public.connections set key_binding = 1 where id = '${saved.body.id}'`);
  assert.equal((await proxiedTenant(a, body.name).from('orders').select('id')).error.code, 'connection_keys_unreadable');
  assert.deepEqual(recorder.seen, [], 'the key was never sent anywhere');
});

/** Seals as save-connection did before the URL was bound: owner, name and field. */
function sealAsBefore(plaintext, owner, name, field) {
  const ring = /^ENCRYPTION_KEY_RING="(.*)"$/m.exec(readFileSync(process.env.DEVSTACK_DEV_VARS, 'utf8'))[1];
  const keyId = /;active=([^;]+)/.exec(ring)[1];
  const key = Buffer.from(new RegExp(`;${keyId}=([^;]+)`).exec(ring)[1].trim(), 'base64');
  const header = `enc:v1:${keyId}`;
  const prefixed = (text) => {
    const bytes = Buffer.from(text);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const aad = Buffer.concat([
    Buffer.from('edge-crypto/aad/v1'), prefixed(header), Buffer.from(owner.replaceAll('-', ''), 'hex'), prefixed(name), prefixed(field),
  ]);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { envelope: `${header}:${sealed.toString('base64url')}`, keyId };
}

test('rows sealed before the URL was bound keep opening, and saving them again binds the URL', async () => {
  const a = await signedUpUser(undefined, 'atk-legacy');
  const name = newName();
  const anon = sealAsBefore(tenant.anonKey, a.user.id, name, 'anon_key');
  const service = sealAsBefore(tenant.serviceKey, a.user.id, name, 'service_role_key');
  sql(`insert into public.connections (user_id, name, url, anon_key_encrypted, service_role_key_encrypted, anon_key_hint, service_role_key_hint, key_id)
       values ('${a.user.id}', '${name}', '${tenant.url}', '${anon.envelope}', '${service.envelope}', 'x', 'x', '${service.keyId}')`);
  assert.deepEqual(sql(`select key_binding from public.connections where name = '${name}'`), [['1']]);

  const before = await proxiedTenant(a, name).from('orders').select('id');
  assert.equal(before.status, 200, 'an envelope of the previous version still opens');
  assert.ok(before.data.length >= 5);

  const resaved = await invoke(a.client, 'save-connection', { body: connectionBody({ name }) });
  assert.equal(resaved.status, 200);
  assert.deepEqual(sql(`select key_binding from public.connections where name = '${name}'`), [['2']]);
  assert.equal((await proxiedTenant(a, name).from('orders').select('id')).status, 200);
});

// ---------------------------------------------------------------------------------------------
// Item 2: private and special addresses in every notation the URL parsers accept.

test('save-connection refuses private addresses in decimal, octal, hex and short IPv4, trailing-dot hosts and IPv6 that embeds IPv4', async () => {
  const a = await signedUpUser(undefined, 'atk-url');
  // Each vector with the host a WHATWG URL parser (Node's here; the Workers runtime's fetch
  // follows the same standard) makes of it: the address that would be fetched.
  const vectors = [
    ['https://localhost.', 'localhost.'],
    ['https://db.localhost', 'db.localhost'],
    ['https://167772161', '10.0.0.1'],
    ['https://0xa.1', '10.0.0.1'],
    ['https://012.0.0.1', '10.0.0.1'],
    ['https://10.1', '10.0.0.1'],
    ['https://0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['https://0', '0.0.0.0'],
    ['https://100.64.0.1', '100.64.0.1'],
    ['https://192.0.0.1', '192.0.0.1'],
    ['https://198.18.0.1', '198.18.0.1'],
    ['https://224.0.0.1', '224.0.0.1'],
    ['https://240.0.0.1', '240.0.0.1'],
    ['https://[::ffff:127.0.0.1]', '[::ffff:7f00:1]'],
    ['https://[::127.0.0.1]', '[::7f00:1]'],
    ['https://[64:ff9b::a9fe:a9fe]', '[64:ff9b::a9fe:a9fe]'],
    ['https://[2002:a9fe:a9fe::]', '[2002:a9fe:a9fe::]'],
    ['https://[fec0::1]', '[fec0::1]'],
    ['https://[ff02::1]', '[ff02::1]'],
  ];
  for (const [url, host] of vectors) {
    assert.equal(new URL(url).hostname, host, `WHATWG host of ${url}`);
    const res = await invoke(a.client, 'save-connection', { body: connectionBody({ url }) });
    assert.equal(res.status, 400, url);
    assert.equal(res.body.code, 'invalid_url', url);
  }
  assert.deepEqual(sql(`select count(*) from public.connections where user_id = '${a.user.id}'`), [['0']]);
});

// ---------------------------------------------------------------------------------------------
// Item 3: encoded traversal never reaches the tenant.

test('encoded traversal (%2F, %5C, double-encoded %252e, ..;, control characters) is refused before anything reaches the tenant', async () => {
  const recorder = await recordingTenant();
  const a = await signedUpUser(undefined, 'atk-path');
  const body = connectionBody({ url: recorder.url, allow_writes: true });
  assert.equal((await invoke(a.client, 'save-connection', { body })).status, 201);
  const headers = { apikey: stack.anonKey, authorization: `Bearer ${a.session.access_token}` };
  const base = `/functions/v1/tenant-proxy/${body.name}/rest/v1`;

  const control = await rawRequest(stack.url, `${base}/orders?select=id`, { headers });
  assert.equal(control.status, 200, 'an ordinary path reaches the tenant');
  assert.deepEqual(recorder.seen, ['GET /rest/v1/orders?select=id']);

  const refused = [
    '..%2F..%2Fauth%2Fv1%2Fadmin%2Fusers',
    '..%2f..%2fauth%2fv1%2fadmin%2fusers',
    'orders%2F..%2F..%2Fauth%2Fv1%2Fadmin%2Fusers',
    '..%5C..%5Cauth%5Cv1%5Cadmin%5Cusers',
    '%252e%252e/%252e%252e/auth/v1/admin/users',
    '%252e%252e%252f%252e%252e%252fauth%252fv1%252fadmin%252fusers',
    '%25252e%25252e%25252f%25252e%25252e%25252fauth',
    '..;/..;/auth/v1/admin/users',
    'orders%00',
    'orders%0d%0aX-Injected:%201',
  ];
  // Through the gateway (devstack) and, where the test stack says where it is, straight to the Worker.
  const origins = [stack.url, process.env.FUNCTIONS_ORIGIN].filter(Boolean);
  for (const origin of origins) {
    for (const attack of refused) {
      for (const method of ['GET', 'POST']) {
        const res = await rawRequest(origin, `${base}/${attack}`, {
          method,
          headers: { ...headers, 'content-type': 'application/json' },
          body: method === 'POST' ? '{}' : undefined,
        });
        assert.equal(res.status, 400, `${method} ${origin} ${attack}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.code, 'unsafe_path', attack);
      }
    }
    // Single-encoded dots are dot segments to every WHATWG parser on the way: resolved before
    // the Worker sees them, they land outside /rest/v1 (404), or are refused as they are (400).
    for (const attack of ['%2e%2e/%2e%2e/auth/v1/admin/users', '%2E%2E/auth/v1/admin/users', '../../auth/v1/admin/users']) {
      const res = await rawRequest(origin, `${base}/${attack}`, { headers });
      assert.ok([400, 404].includes(res.status), `${origin} ${attack}: ${res.status}`);
      assert.ok(['unsafe_path', 'not_found'].includes(res.body.code), attack);
    }
  }
  assert.deepEqual(recorder.seen, ['GET /rest/v1/orders?select=id'], 'no attack reached the tenant');
});

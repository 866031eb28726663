// docs/openapi.json against the running functions: the document is valid OpenAPI 3.1; every
// operation is driven into each status it documents (its success and its errors); every answer
// has a documented status and a body that validates against the documented schema; and at the
// end, every documented (operation, status) pair must have been seen, but for a short list of
// statuses no request from here can provoke, each with its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHmac, randomUUID } from 'node:crypto';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { anonClient, createProfile, forgeAccessToken, signedUpUser, signAccessToken, sql, stack, tenantProject, uniqueEmail, userWithRole } from './support/stack.mjs';

const documentPath = new URL('../docs/openapi.json', import.meta.url).pathname;
const doc = JSON.parse(readFileSync(documentPath, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ ...doc, $id: 'openapi' });

/** Statuses a request from this test cannot provoke, per operation, and why. */
const UNPROVOKED = {
  'post /create-invitation 500': 'needs a Worker with incomplete mail settings (mail_not_configured; MailConfig::parse unit tests)',
  'get /tenant-proxy/{connection}/rest/v1/{table} 504': 'needs a tenant slower than TENANT_TIMEOUT_MS (scripts/load.sh, tenant faults)',
  'head /tenant-proxy/{connection}/rest/v1/{table} 502': 'as GET',
  'head /tenant-proxy/{connection}/rest/v1/{table} 504': 'as GET',
  'post /tenant-proxy/{connection}/rest/v1/{table} 502': 'as GET',
  'post /tenant-proxy/{connection}/rest/v1/{table} 504': 'as GET',
  'put /tenant-proxy/{connection}/rest/v1/{table} 200': 'the fixture table has a generated identity key, which a PostgREST PUT cannot set',
  'patch /tenant-proxy/{connection}/rest/v1/{table} 401': 'as POST',
  'patch /tenant-proxy/{connection}/rest/v1/{table} 404': 'as POST',
  'patch /tenant-proxy/{connection}/rest/v1/{table} 502': 'as GET',
  'patch /tenant-proxy/{connection}/rest/v1/{table} 504': 'as GET',
  'put /tenant-proxy/{connection}/rest/v1/{table} 401': 'as POST',
  'put /tenant-proxy/{connection}/rest/v1/{table} 404': 'as POST',
  'put /tenant-proxy/{connection}/rest/v1/{table} 502': 'as GET',
  'put /tenant-proxy/{connection}/rest/v1/{table} 504': 'as GET',
  'delete /tenant-proxy/{connection}/rest/v1/{table} 401': 'as POST',
  'delete /tenant-proxy/{connection}/rest/v1/{table} 404': 'as POST',
  'delete /tenant-proxy/{connection}/rest/v1/{table} 502': 'as GET',
  'delete /tenant-proxy/{connection}/rest/v1/{table} 504': 'as GET',
};

// Every operation with a user token answers 503 when the token needs the project's JWKS and it
// cannot be had; provoking it needs an Auth server that does not answer (tests/accounts.test.mjs
// starts one for its own functions).
for (const [path, item] of Object.entries(doc.paths)) {
  for (const [method, operation] of Object.entries(item)) {
    if (operation.responses?.['503']) UNPROVOKED[`${method} ${path} 503`] = 'needs a JWKS endpoint that does not answer (tests/accounts.test.mjs)';
  }
}

const seen = new Set();
const pointer = (...parts) => parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/**
 * Sends a request for `method path` (a documented path, `params` filling its braces) and checks
 * the answer against the document. Returns `{ status, body, headers }`.
 */
async function drive(method, path, { params = {}, query = '', headers = {}, body, expect } = {}) {
  const url = `${stack.functionsUrl}${path.replace(/\{(\w+)\}/g, (_, name) => params[name])}${query}`;
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(url, {
    method: method.toUpperCase(),
    headers: { ...(text === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: text,
  });
  const raw = await res.text();
  const answer = { status: res.status, headers: res.headers, body: raw === '' ? undefined : JSON.parse(raw) };
  if (expect !== undefined) assert.equal(answer.status, expect, `${method} ${path}: ${raw}`);
  checkAgainstDocument(method, path, answer);
  return answer;
}

function checkAgainstDocument(method, path, { status, body, headers }) {
  const operation = doc.paths[path]?.[method];
  assert.ok(operation, `${method} ${path} is not in docs/openapi.json`);
  const key = String(status) in operation.responses ? String(status) : 'default';
  let response = operation.responses[key];
  assert.ok(response, `${method} ${path} answered ${status}, which docs/openapi.json does not document`);
  seen.add(`${method} ${path} ${key}`);
  if (response.$ref) response = doc.components.responses[response.$ref.split('/').pop()];
  if (status === 204 || method === 'head') {
    assert.equal(body, undefined, `${method} ${path} ${status} has no body`);
    return;
  }
  const schemaRef = response.$ref === undefined && response.content?.['application/json']?.schema;
  if (!schemaRef) return;
  assert.match(headers.get('content-type') ?? '', /^application\/json/, `${method} ${path} ${status} is JSON`);
  const ref = operation.responses[key].$ref
    ? `openapi#/${pointer('components', 'responses', operation.responses[key].$ref.split('/').pop(), 'content', 'application/json', 'schema')}`
    : `openapi#/${pointer('paths', path, method, 'responses', key, 'content', 'application/json', 'schema')}`;
  const validate = ajv.getSchema(ref);
  assert.ok(validate, `no schema at ${ref}`);
  assert.ok(validate(body), `${method} ${path} ${status}: ${JSON.stringify(body)} does not match the document: ${ajv.errorsText(validate.errors)}`);
}

const bearer = (user) => ({ apikey: stack.anonKey, authorization: `Bearer ${user.session.access_token}` });
const anon = { apikey: stack.anonKey, authorization: `Bearer ${stack.anonKey}` };

test('docs/openapi.json is a valid OpenAPI 3.1 document', async () => {
  const api = await SwaggerParser.validate(structuredClone(doc));
  assert.equal(api.openapi, '3.1.0');
});

test('save-connection answers as documented', async () => {
  const tenant = tenantProject('tenant');
  const user = await signedUpUser(undefined, 'oas-conn');
  const name = `oas-${randomUUID().slice(0, 8)}`;
  const body = { name, url: tenant.url, anon_key: tenant.anonKey, service_role_key: tenant.serviceKey };
  const path = '/save-connection';
  await drive('post', path, { headers: bearer(user), body, expect: 201 });
  await drive('post', path, { headers: bearer(user), body: { ...body, allow_writes: true }, expect: 200 });
  await drive('post', path, { headers: bearer(user), body: { ...body, name: '-bad' }, expect: 400 });
  await drive('post', path, { headers: bearer(user), body: { ...body, extra: 1 }, expect: 400 });
  await drive('post', path, { headers: bearer(user), body: { ...body, url: 'x'.repeat(20_000) }, expect: 413 });
  await drive('post', path, { headers: anon, body, expect: 401 });
  const guest = await guestSession();
  await drive('post', path, { headers: bearer(guest), body, expect: 403 });
  await drive('get', path, { headers: bearer(user), expect: 200 });
  await drive('get', path, { headers: { apikey: stack.anonKey }, expect: 401 });
  await drive('get', path, { headers: bearer(guest), expect: 403 });
  await drive('delete', path, { headers: bearer(user), query: '?name=nothing-here', expect: 404 });
  await drive('delete', path, { headers: bearer(user), expect: 400 });
  await drive('delete', path, { headers: anon, query: `?name=${name}`, expect: 401 });
  await drive('delete', path, { headers: bearer(guest), query: `?name=${name}`, expect: 403 });
  await drive('delete', path, { headers: bearer(user), query: `?name=${name}`, expect: 204 });
});

test('tenant-proxy answers as documented', async () => {
  const tenant = tenantProject('tenant');
  const user = await signedUpUser(undefined, 'oas-proxy');
  const save = (body) => drive('post', '/save-connection', {
    headers: bearer(user),
    body: { url: tenant.url, anon_key: tenant.anonKey, service_role_key: tenant.serviceKey, ...body },
    expect: 201,
  });
  await save({ name: 'reads' });
  await save({ name: 'writes', allow_writes: true });
  await save({ name: 'down', url: 'http://127.0.0.1:9' });
  const path = '/tenant-proxy/{connection}/rest/v1/{table}';
  const at = (connection, table = 'orders') => ({ connection, table });
  await drive('get', path, { params: at('reads'), query: '?select=customer&limit=2', headers: bearer(user), expect: 200 });
  await drive('get', path, { params: at('reads'), headers: anon, expect: 401 });
  await drive('get', path, { params: at('nothing-here'), headers: bearer(user), expect: 404 });
  await drive('get', path, { params: at('down'), headers: bearer(user), expect: 502 });
  await drive('get', path, { params: at('reads', 'no_such_table'), headers: bearer(user), expect: 404 });
  await drive('head', path, { params: at('reads'), headers: { ...bearer(user), prefer: 'count=exact' }, expect: 200 });
  await drive('head', path, { params: at('reads'), headers: anon, expect: 401 });
  await drive('head', path, { params: at('nothing-here'), headers: bearer(user), expect: 404 });
  await drive('post', path, { params: at('reads'), headers: bearer(user), body: { customer: 'x', total_cents: 1 }, expect: 403 });
  await drive('post', path, { params: at('reads'), headers: anon, body: {}, expect: 401 });
  await drive('post', path, { params: at('nothing-here'), headers: bearer(user), body: {}, expect: 404 });
  const order = `oas-${randomUUID()}`;
  await drive('post', path, { params: at('writes'), headers: bearer(user), body: { customer: order, total_cents: 1 }, expect: 201 });
  await drive('patch', path, { params: at('writes'), query: `?customer=eq.${order}`, headers: bearer(user), body: { status: 'paid' }, expect: 204 });
  await drive('put', path, { params: at('writes'), query: '?id=eq.1', headers: bearer(user), body: { customer: 'x' }, expect: 400 });
  await drive('delete', path, { params: at('writes'), query: `?customer=eq.${order}`, headers: bearer(user), expect: 204 });
  for (const method of ['patch', 'put', 'delete']) {
    await drive(method, path, { params: at('reads'), headers: bearer(user), ...(method === 'delete' ? {} : { body: {} }), expect: 403 });
  }
  // A stored URL save-connection would refuse (as SQL could write it): 409, nothing fetched.
  await save({ name: 'refused-url', allow_writes: true });
  sql(`update public.connections set url = 'https://169.254.169.254' where user_id = '${user.user.id}' and name = 'refused-url'`);
  for (const method of ['get', 'head', 'post', 'patch', 'put', 'delete']) {
    const body = method === 'get' || method === 'head' || method === 'delete' ? {} : { body: {} };
    await drive(method, path, { params: at('refused-url'), headers: bearer(user), ...body, expect: 409 });
    // An encoded traversal out of /rest/v1: 400 before anything is looked up or sent.
    await drive(method, path, { params: at('writes', '..%2F..%2Fauth%2Fv1%2Fadmin%2Fusers'), headers: bearer(user), ...body, expect: 400 });
  }
});

test('process-webhook answers as documented', async () => {
  const vars = readFileSync(process.env.DEVSTACK_DEV_VARS, 'utf8');
  const apiKey = /^WEBHOOK_API_KEYS="([^",]+)/m.exec(vars)[1];
  const secret = /^WEBHOOK_SECRETS="([^" ,]+)/m.exec(vars)[1];
  const owner = await signedUpUser(undefined, 'oas-webhook');
  const { data: task, error } = await owner.client.from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/a.png', text_prompt: 'a' }).select('id').single();
  assert.equal(error, null);
  const path = '/process-webhook';
  const signed = (body) => {
    const id = `msg_${randomUUID()}`;
    const ts = String(Math.floor(Date.now() / 1000));
    const mac = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64')).update(`${id}.${ts}.${JSON.stringify(body)}`).digest('base64');
    return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${mac}` };
  };
  const done = { task_id: task.id, status: 'done', mask_url: 'https://masks.example.test/a.png', credits_used: 1 };
  await drive('post', path, { headers: signed(done), body: done, expect: 200 });
  await drive('post', path, { headers: { 'x-api-key': apiKey }, body: done, expect: 200 });
  const back = { task_id: task.id, status: 'processing' };
  await drive('post', path, { headers: { 'x-api-key': apiKey }, body: back, expect: 409 });
  const unknown = { task_id: randomUUID(), status: 'done' };
  await drive('post', path, { headers: { 'x-api-key': apiKey }, body: unknown, expect: 404 });
  await drive('post', path, { headers: { 'x-api-key': apiKey }, body: { task_id: 'nope', status: 'done' }, expect: 400 });
  await drive('post', path, { headers: { 'x-api-key': 'whk_wrong' }, body: done, expect: 401 });
  await drive('post', path, { body: done, expect: 401 });
  await drive('post', path, { headers: { 'x-api-key': apiKey }, body: { ...done, error: 'x'.repeat(300_000) }, expect: 413 });
  // The backend's leases: a task to claim, extend, then lose.
  const { data: queued } = await owner.client.from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/b.png' }).select('id').single();
  const claimPath = '/process-webhook/claim';
  let leased;
  for (let i = 0; i < 20 && !leased; i++) {
    const claimed = await drive('post', claimPath, { headers: { 'x-api-key': apiKey }, body: { max: 10, lease_seconds: 600 }, expect: 200 });
    leased = claimed.body.tasks.find((t) => t.task_id === queued.id);
  }
  assert.ok(leased, 'the queued task was claimed');
  await drive('post', claimPath, { headers: signed({ max: 1 }), body: { max: 1 }, expect: 200 });
  await drive('post', claimPath, { headers: { 'x-api-key': apiKey }, body: { max: 11 }, expect: 400 });
  await drive('post', claimPath, { body: {}, expect: 401 });
  await drive('post', claimPath, { headers: { 'x-api-key': apiKey }, body: { max: 1, pad: 'x'.repeat(5000) }, expect: 413 });
  const extendPath = '/process-webhook/extend';
  await drive('post', extendPath, { headers: { 'x-api-key': apiKey }, body: { task_id: queued.id, lease_seconds: 900, attempt: 1 }, expect: 200 });
  await drive('post', extendPath, { headers: { 'x-api-key': apiKey }, body: { task_id: queued.id, attempt: 2 }, expect: 409 });
  await drive('post', extendPath, { headers: { 'x-api-key': apiKey }, body: { task_id: randomUUID() }, expect: 404 });
  await drive('post', extendPath, { headers: { 'x-api-key': apiKey }, body: { lease_seconds: 60 }, expect: 400 });
  await drive('post', extendPath, { headers: { 'x-api-key': 'whk_wrong' }, body: { task_id: queued.id }, expect: 401 });
  await drive('post', extendPath, { headers: { 'x-api-key': apiKey }, body: { task_id: queued.id, pad: 'x'.repeat(5000) }, expect: 413 });
  const retention = '/process-webhook/retention';
  await drive('post', retention, { headers: { apikey: stack.serviceKey, authorization: `Bearer ${stack.serviceKey}` }, expect: 200 });
  await drive('post', retention, { headers: anon, expect: 403 });
  await drive('post', retention, { headers: { apikey: 'sb_secret_not-this-project' }, expect: 401 });
});

/** An admin and a profile it made. */
async function adminWithProfile() {
  const admin = await userWithRole('admin', 'oas-admin');
  return { admin, profile: await createProfile(admin) };
}

test('create-invitation answers as documented', async () => {
  const { admin, profile } = await adminWithProfile();
  const someone = await signedUpUser(undefined, 'oas-nonadmin');
  const path = '/create-invitation';
  const created = await drive('post', path, { headers: bearer(admin), body: { profile_id: profile.id }, expect: 201 });
  const conflict = await drive('post', path, { headers: bearer(admin), body: { profile_id: profile.id }, expect: 409 });
  assert.equal(conflict.body.invitation.id, created.body.id);
  await drive('post', path, { headers: bearer(admin), body: { profile_id: 'nope' }, expect: 400 });
  await drive('post', path, { headers: bearer(admin), body: { profile_id: randomUUID() }, expect: 404 });
  await drive('post', path, { headers: bearer(someone), body: { profile_id: profile.id }, expect: 403 });
  await drive('post', path, { headers: anon, body: { profile_id: profile.id }, expect: 401 });
  await drive('post', path, { headers: bearer(admin), body: { profile_id: profile.id, email: 'x'.repeat(5000) }, expect: 413 });
  await drive('get', path, { headers: bearer(admin), query: `?profile_id=${profile.id}`, expect: 200 });
  await drive('get', path, { headers: bearer(admin), expect: 400 });
  await drive('get', path, { headers: bearer(admin), query: `?profile_id=${randomUUID()}`, expect: 404 });
  await drive('get', path, { headers: bearer(someone), query: `?profile_id=${profile.id}`, expect: 403 });
  await drive('get', path, { headers: anon, query: `?profile_id=${profile.id}`, expect: 401 });
  const resent = await drive('post', path, { headers: bearer(admin), body: { profile_id: profile.id, resend: true }, expect: 200 });
  assert.equal(resent.body.link, created.body.link);
  await drive('delete', path, { headers: bearer(admin), query: `?id=${created.body.id}`, expect: 200 });
  await drive('delete', path, { headers: bearer(admin), query: `?id=${created.body.id}`, expect: 409 });
  const noActive = await drive('post', path, { headers: bearer(admin), body: { profile_id: profile.id, resend: true }, expect: 404 });
  assert.equal(noActive.body.code, 'no_active_invitation');
  await drive('delete', path, { headers: bearer(admin), query: `?id=${randomUUID()}`, expect: 404 });
  await drive('delete', path, { headers: bearer(admin), query: '?id=nope', expect: 400 });
  await drive('delete', path, { headers: bearer(someone), query: `?id=${created.body.id}`, expect: 403 });
  await drive('delete', path, { headers: anon, query: `?id=${created.body.id}`, expect: 401 });
});

test('accept-invitation answers as documented', async () => {
  const { admin, profile } = await adminWithProfile();
  const invite = await drive('post', '/create-invitation', { headers: bearer(admin), body: { profile_id: profile.id }, expect: 201 });
  const { token } = invite.body;
  const path = '/accept-invitation';
  await drive('get', path, { headers: anon, query: `?token=${token}`, expect: 200 });
  await drive('get', path, { headers: anon, query: '?token=short', expect: 400 });
  await drive('get', path, { headers: anon, query: `?token=${'A'.repeat(43)}`, expect: 404 });
  await drive('post', path, { headers: anon, body: { token, password: 'short' }, expect: 400 });
  await drive('post', path, { headers: anon, body: { token: 'A'.repeat(43), password: `pw-${randomUUID()}` }, expect: 404 });
  await drive('post', path, { headers: anon, body: { token, password: 'p'.repeat(3000) }, expect: 413 });
  await drive('post', path, { headers: anon, body: { token, password: `pw-${randomUUID()}` }, expect: 201 });
  await drive('get', path, { headers: anon, query: `?token=${token}`, expect: 410 });
  await drive('post', path, { headers: anon, body: { token, password: `pw-${randomUUID()}` }, expect: 410 });

  // An invitation whose e-mail gets an account before the link is used: 409 on accept.
  const { data: other, error } = await admin.client.from('profiles')
    .insert({ first_name: 'Grace', email: uniqueEmail('oas-grace') }).select().single();
  assert.equal(error, null);
  const second = await drive('post', '/create-invitation', { headers: bearer(admin), body: { profile_id: other.id }, expect: 201 });
  const { error: signUpError } = await anonClient().auth.signUp({ email: other.email, password: `pw-${randomUUID()}` });
  assert.equal(signUpError, null);
  await drive('post', path, { headers: anon, body: { token: second.body.token, password: `pw-${randomUUID()}` }, expect: 409 });
});

async function guestSession() {
  const answer = await drive('post', '/guest-signup', {
    headers: { ...anon, 'cf-connecting-ip': `10.77.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}` },
    body: { utm_source: 'openapi' },
    expect: 201,
  });
  return { session: { access_token: answer.body.access_token } };
}

test('guest-signup answers as documented', async () => {
  const ip = `10.78.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
  const path = '/guest-signup';
  await guestSession();
  await drive('post', path, { headers: { ...anon, 'cf-connecting-ip': ip }, body: { utmSource: 'typo' }, expect: 400 });
  await drive('post', path, { headers: { 'cf-connecting-ip': ip }, body: {}, expect: 401 });
  await drive('post', path, { headers: { ...anon, 'cf-connecting-ip': ip }, body: { landing_url: 'x'.repeat(9000) }, expect: 413 });
  let limited;
  for (let i = 0; i < 50 && !limited; i += 1) {
    const answer = await drive('post', path, { headers: { ...anon, 'cf-connecting-ip': ip }, body: {} });
    if (answer.status === 429) limited = answer;
  }
  assert.ok(limited, 'the per-IP limit answers 429 within 50 sign-ups');
  assert.match(limited.headers.get('retry-after'), /^\d+$/);
  const retention = '/guest-signup/retention';
  await drive('post', retention, { headers: { apikey: stack.serviceKey, authorization: `Bearer ${stack.serviceKey}` }, expect: 200 });
  await drive('post', retention, { headers: anon, expect: 403 });
  await drive('post', retention, { headers: { apikey: 'sb_secret_not-this-project' }, expect: 401 });
});

test('guest-signup/link answers as documented', async () => {
  const path = '/guest-signup/link';
  const device = await guestSession();
  const account = await signedUpUser(undefined, 'oas-link');
  const body = { guest_access_token: device.session.access_token };
  await drive('post', path, { headers: bearer(account), body: { guest_access_token: 'x'.repeat(9000) }, expect: 413 });
  await drive('post', path, { headers: bearer(account), body: { token: 'typo' }, expect: 400 });
  await drive('post', path, { headers: anon, body, expect: 401 });
  await drive('post', path, { headers: bearer(device), body, expect: 403 });
  const bare = anonClient();
  const { data: noVisitor } = await bare.auth.signInAnonymously();
  await drive('post', path, { headers: bearer(account), body: { guest_access_token: noVisitor.session.access_token }, expect: 404 });
  await drive('post', path, { headers: bearer(account), body, expect: 200 });
  const other = await signedUpUser(undefined, 'oas-link-other');
  await drive('post', path, { headers: bearer(other), body, expect: 409 });
});

test('a forged token is refused as documented', async () => {
  const forged = forgeAccessToken({ sub: randomUUID(), role: 'authenticated', aud: 'authenticated', exp: Math.floor(Date.now() / 1000) + 600 });
  const answer = await drive('get', '/save-connection', { headers: { apikey: stack.anonKey, authorization: `Bearer ${forged}` }, expect: 401 });
  assert.equal(answer.body.code, 'bad_signature');
});

test('a blocked account is refused as documented, by every operation that takes a user token', async () => {
  const tenant = tenantProject('tenant');
  const user = await signedUpUser(undefined, 'oas-blocked');
  const connection = `oas-${randomUUID().slice(0, 8)}`;
  const body = { name: connection, url: tenant.url, anon_key: tenant.anonKey, service_role_key: tenant.serviceKey, allow_writes: true };
  await drive('post', '/save-connection', { headers: bearer(user), body, expect: 201 });
  sql(`update public.user_profiles set state = 'blocked' where id = '${user.user.id}'`);
  const proxy = '/tenant-proxy/{connection}/rest/v1/{table}';
  const params = { connection, table: 'orders' };
  const answers = [
    await drive('post', '/save-connection', { headers: bearer(user), body, expect: 403 }),
    await drive('get', '/save-connection', { headers: bearer(user), expect: 403 }),
    await drive('delete', '/save-connection', { headers: bearer(user), query: `?name=${connection}`, expect: 403 }),
    await drive('get', proxy, { params, headers: bearer(user), expect: 403 }),
    await drive('post', proxy, { params, headers: bearer(user), body: {}, expect: 403 }),
    await drive('post', '/create-invitation', { headers: bearer(user), body: { profile_id: randomUUID() }, expect: 403 }),
    await drive('get', '/create-invitation', { headers: bearer(user), query: `?profile_id=${randomUUID()}`, expect: 403 }),
    await drive('delete', '/create-invitation', { headers: bearer(user), query: `?id=${randomUUID()}`, expect: 403 }),
  ];
  for (const answer of answers) assert.equal(answer.body.code, 'account_blocked');
  await drive('head', proxy, { params, headers: bearer(user), expect: 403 });
});

test('a project-signed token with role service_role is refused as documented', async () => {
  const user = await signedUpUser(undefined, 'oas-role');
  const claims = { iss: `${stack.url}/auth/v1`, sub: user.user.id, aud: 'authenticated', role: 'service_role', exp: Math.floor(Date.now() / 1000) + 600 };
  const answer = await drive('get', '/save-connection', { headers: { apikey: stack.anonKey, authorization: `Bearer ${signAccessToken(claims)}` }, expect: 401 });
  assert.equal(answer.body.code, 'wrong_role');
});

test('a method no operation documents is refused with 405 and Allow (QUERY too, which worker::Method reads as GET)', async () => {
  for (const [path, item] of Object.entries(doc.paths)) {
    if (path.includes('{')) continue;
    const documented = Object.keys(item).map((m) => m.toUpperCase());
    for (const method of ['QUERY', 'PROPFIND']) {
      const res = await fetch(`${stack.functionsUrl}${path}`, { method, headers: anon });
      const body = await res.json();
      assert.equal(res.status, 405, `${method} ${path}: ${JSON.stringify(body)}`);
      assert.equal(body.code, 'method_not_allowed');
      assert.deepEqual(res.headers.get('allow').split(', ').sort(), documented.sort(), `${method} ${path}: Allow`);
    }
  }
});

test('every documented answer was provoked (the tests above run first)', () => {
  const missing = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (method === 'parameters') continue;
      for (const status of Object.keys(operation.responses)) {
        if (status === 'default') continue;
        const key = `${method} ${path} ${status}`;
        if (!seen.has(key) && !(key in UNPROVOKED)) missing.push(key);
      }
    }
  }
  assert.deepEqual(missing, [], 'documented answers no request here provoked (drive them, or list them in UNPROVOKED with the reason)');
});

// /auth/v1 through the official supabase-js client (and raw fetch where the wire shape itself is
// the point): sign-up, sign-in, refresh rotation, sign-out, anonymous upgrade, admin API, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { stack, anonClient, serviceClient, uniqueEmail, signJwt, signingKeys, sql } from './support/stack.mjs';

const authUrl = `${stack.url}/auth/v1`;

function decodeJwt(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** A raw request to /auth/v1 with the anon key, returning status, headers and parsed body. */
async function authFetch(path, { method = 'POST', body, headers = {} } = {}) {
  const res = await fetch(`${authUrl}${path}`, {
    method,
    headers: { apikey: stack.anonKey, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

test('signUp returns a session whose token carries GoTrue claims, and fires the auth.users trigger', async () => {
  const client = anonClient();
  const email = uniqueEmail('signup');
  const { data, error } = await client.auth.signUp({ email, password: 'secret-pw', options: { data: { name: 'Ann' } } });
  assert.equal(error, null);
  const { session, user } = data;
  assert.equal(session.token_type, 'bearer');
  assert.equal(session.expires_in, 3600);
  assert.match(session.refresh_token, /^[a-z2-7]{12}$/);
  assert.equal(user.email, email);
  assert.equal(user.aud, 'authenticated');
  assert.equal(user.role, 'authenticated');
  assert.equal(user.is_anonymous, false);
  assert.ok(user.email_confirmed_at, 'confirmation is off, so the address is confirmed');
  assert.deepEqual(user.app_metadata, { provider: 'email', providers: ['email'] });
  assert.equal(user.user_metadata.name, 'Ann');
  assert.equal(user.identities.length, 1);
  assert.equal(user.identities[0].provider, 'email');

  const claims = decodeJwt(session.access_token);
  assert.equal(claims.iss, `${stack.url}/auth/v1`);
  assert.equal(claims.sub, user.id);
  assert.equal(claims.aud, 'authenticated');
  assert.equal(claims.role, 'authenticated');
  assert.equal(claims.email, email);
  assert.equal(claims.aal, 'aal1');
  assert.equal(claims.amr[0].method, 'password');
  assert.equal(claims.is_anonymous, false);
  assert.equal(claims.exp - claims.iat, 3600);
  assert.ok(claims.session_id);

  const profiles = sql(`select count(*) from public.user_profiles where id = '${user.id}'`);
  assert.equal(profiles[0][0], '1', 'the on_auth_user_created trigger ran');
});

test('signInWithPassword, getUser, refreshSession and signOut', async () => {
  const email = uniqueEmail('signin');
  await anonClient().auth.signUp({ email, password: 'secret-pw' });

  const client = anonClient();
  const { data: signIn, error } = await client.auth.signInWithPassword({ email, password: 'secret-pw' });
  assert.equal(error, null);
  const { data: got } = await client.auth.getUser();
  assert.equal(got.user.email, email);
  assert.ok(got.user.last_sign_in_at);

  const { data: refreshed, error: refreshError } = await client.auth.refreshSession();
  assert.equal(refreshError, null);
  assert.notEqual(refreshed.session.refresh_token, signIn.session.refresh_token);
  assert.equal(decodeJwt(refreshed.session.access_token).session_id, decodeJwt(signIn.session.access_token).session_id);

  const { error: signOutError } = await client.auth.signOut();
  assert.equal(signOutError, null);
  const after = await authFetch('/user', { method: 'GET', headers: { authorization: `Bearer ${refreshed.session.access_token}` } });
  assert.equal(after.status, 403);
  assert.equal(after.body.error_code, 'session_not_found');
  const reuse = await authFetch('/token?grant_type=refresh_token', { body: { refresh_token: refreshed.session.refresh_token } });
  assert.equal(reuse.status, 400);
  assert.equal(reuse.body.error_code, 'refresh_token_not_found');
});

test('refresh rotation: a replayed token yields its active child; an older one after the reuse interval revokes the family', async () => {
  const { body: first } = await authFetch('/signup', { body: { email: uniqueEmail('rotate'), password: 'secret-pw' } });
  const a = first.refresh_token;
  const { body: second } = await authFetch('/token?grant_type=refresh_token', { body: { refresh_token: a } });
  const b = second.refresh_token;
  assert.notEqual(a, b);
  const rows = sql(`select parent, revoked from auth.refresh_tokens where token = '${b}'`);
  assert.deepEqual(rows, [[a, 'f']]);

  const replay = await authFetch('/token?grant_type=refresh_token', { body: { refresh_token: a } });
  assert.equal(replay.status, 200);
  assert.equal(replay.body.refresh_token, b, 'the active child is handed out again');

  const { body: third } = await authFetch('/token?grant_type=refresh_token', { body: { refresh_token: b } });
  const c = third.refresh_token;
  // GoTrue's reuse interval (GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL): 10 s by default,
  // shorter on scripts/test.sh's stacks; waited out by a second more.
  const reuseSeconds = Number(process.env.GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL ?? 10);
  await new Promise((resolve) => setTimeout(resolve, (reuseSeconds + 1) * 1000));
  const stolen = await authFetch('/token?grant_type=refresh_token', { body: { refresh_token: a } });
  assert.equal(stolen.status, 400);
  assert.equal(stolen.body.error_code, 'refresh_token_already_used');
  const session = decodeJwt(third.access_token).session_id;
  assert.deepEqual(sql(`select count(*) from auth.refresh_tokens where session_id = '${session}' and not revoked`), [['0']],
    'the whole token family is revoked');
});

test('concurrent refreshes of one token all succeed with the same child', async () => {
  const { body } = await authFetch('/signup', { body: { email: uniqueEmail('race'), password: 'secret-pw' } });
  const results = await Promise.all(
    Array.from({ length: 5 }, () => authFetch('/token?grant_type=refresh_token', { body: { refresh_token: body.refresh_token } })),
  );
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200]);
  assert.equal(new Set(results.map((r) => r.body.refresh_token)).size, 1);
});

test('signInAnonymously, then updateUser({email, password}) upgrades the same user', async () => {
  const client = anonClient();
  const { data, error } = await client.auth.signInAnonymously();
  assert.equal(error, null);
  const anonId = data.user.id;
  assert.equal(data.user.is_anonymous, true);
  assert.equal(data.user.role, 'authenticated');
  assert.equal(data.user.email, '');
  assert.equal(decodeJwt(data.session.access_token).is_anonymous, true);
  assert.equal(decodeJwt(data.session.access_token).amr[0].method, 'anonymous');

  const passwordOnly = await client.auth.updateUser({ password: 'secret-pw' });
  assert.equal(passwordOnly.error.status, 422);
  assert.equal(passwordOnly.error.code, 'validation_failed');

  const email = uniqueEmail('upgrade');
  const { data: updated, error: updateError } = await client.auth.updateUser({ email, password: 'secret-pw' });
  assert.equal(updateError, null);
  assert.equal(updated.user.id, anonId);
  assert.equal(updated.user.is_anonymous, false);
  assert.equal(updated.user.email, email);
  assert.ok(updated.user.email_confirmed_at);
  assert.deepEqual(updated.user.app_metadata.providers, ['email']);
  assert.equal(updated.user.identities[0].provider, 'email');

  const { data: refreshed } = await client.auth.refreshSession();
  assert.equal(decodeJwt(refreshed.session.access_token).is_anonymous, false);
  const again = anonClient();
  const { data: signIn, error: signInError } = await again.auth.signInWithPassword({ email, password: 'secret-pw' });
  assert.equal(signInError, null);
  assert.equal(signIn.user.id, anonId);
});

test('updateUser merges user_metadata and refuses the same password', async () => {
  const client = anonClient();
  const email = uniqueEmail('update');
  await client.auth.signUp({ email, password: 'secret-pw', options: { data: { a: 1, b: 2 } } });
  const { data } = await client.auth.updateUser({ data: { b: null, c: 3 } });
  assert.equal(data.user.user_metadata.a, 1);
  assert.equal('b' in data.user.user_metadata, false);
  assert.equal(data.user.user_metadata.c, 3);
  const same = await client.auth.updateUser({ password: 'secret-pw' });
  assert.equal(same.error.code, 'same_password');
  const { error } = await client.auth.updateUser({ password: 'another-pw' });
  assert.equal(error, null);
  const { error: signInError } = await anonClient().auth.signInWithPassword({ email, password: 'another-pw' });
  assert.equal(signInError, null);
});

test('admin: createUser, getUserById, updateUserById, listUsers, deleteUser with the service key', async () => {
  const admin = serviceClient().auth.admin;
  const email = uniqueEmail('admin');
  const { data: created, error } = await admin.createUser({
    email, password: 'secret-pw', email_confirm: true, user_metadata: { name: 'Bo' }, app_metadata: { plan: 'pro' },
  });
  assert.equal(error, null);
  assert.equal(created.user.email, email);
  assert.ok(created.user.email_confirmed_at);
  assert.deepEqual(created.user.app_metadata, { provider: 'email', providers: ['email'], plan: 'pro' });

  const duplicate = await admin.createUser({ email, password: 'secret-pw' });
  assert.equal(duplicate.error.status, 422);
  assert.equal(duplicate.error.code, 'email_exists');

  const { data: fetched } = await admin.getUserById(created.user.id);
  assert.equal(fetched.user.id, created.user.id);
  const { data: updated } = await admin.updateUserById(created.user.id, { user_metadata: { name: 'Bob' } });
  assert.equal(updated.user.user_metadata.name, 'Bob');

  const { data: page, error: listError } = await admin.listUsers({ page: 1, perPage: 1 });
  assert.equal(listError, null);
  assert.equal(page.users.length, 1);
  assert.equal(page.aud, 'authenticated');
  assert.ok(page.total >= 1);

  const user = anonClient();
  const { error: signInError } = await user.auth.signInWithPassword({ email, password: 'secret-pw' });
  assert.equal(signInError, null);
  const { error: deleteError } = await admin.deleteUser(created.user.id);
  assert.equal(deleteError, null);
  const missing = await admin.getUserById(created.user.id);
  assert.equal(missing.error.status, 404);
  assert.equal(missing.error.code, 'user_not_found');
  assert.deepEqual(sql(`select count(*) from auth.sessions where user_id = '${created.user.id}'`), [['0']]);
});

test('admin API with the sb_secret_ key works; with the anon key or a user token it is not_admin', async () => {
  const res = await fetch(`${authUrl}/admin/users?per_page=1`, {
    headers: { apikey: stack.secretKey, authorization: `Bearer ${stack.secretKey}` },
  });
  assert.equal(res.status, 200);
  assert.ok(res.headers.get('x-total-count'));

  const { error } = await anonClient().auth.admin.listUsers();
  assert.equal(error.status, 403);
  assert.equal(error.code, 'not_admin');
});

test('errors: wrong password, duplicate sign-up, weak password, bad JSON, bad and expired tokens', async () => {
  const email = uniqueEmail('errors');
  const client = anonClient();
  await client.auth.signUp({ email, password: 'secret-pw' });

  const wrong = await anonClient().auth.signInWithPassword({ email, password: 'not-it' });
  assert.equal(wrong.error.status, 400);
  assert.equal(wrong.error.code, 'invalid_credentials');
  assert.equal(wrong.error.message, 'Invalid login credentials');

  const dup = await anonClient().auth.signUp({ email, password: 'secret-pw' });
  assert.equal(dup.error.status, 422);
  assert.equal(dup.error.code, 'user_already_exists');

  const weak = await anonClient().auth.signUp({ email: uniqueEmail('weak'), password: '123' });
  assert.equal(weak.error.status, 422);
  assert.equal(weak.error.code, 'weak_password');
  assert.deepEqual(weak.error.reasons, ['length']);

  const badEmail = await authFetch('/signup', { body: { email: 'not-an-email', password: 'secret-pw' } });
  assert.equal(badEmail.status, 400);
  assert.deepEqual(Object.keys(badEmail.body).sort(), ['code', 'error_code', 'msg']);
  assert.equal(badEmail.body.code, 400);
  assert.equal(badEmail.body.error_code, 'validation_failed');

  const badJson = await authFetch('/token?grant_type=password', { body: '{"email": ', headers: { 'X-Supabase-Api-Version': '2024-01-01' } });
  assert.equal(badJson.status, 400);
  assert.equal(badJson.headers.get('x-supabase-api-version'), '2024-01-01');
  assert.equal(badJson.body.code, 'bad_json');
  assert.match(badJson.body.message, /^Could not parse request body as JSON/);

  const garbage = await authFetch('/user', { method: 'GET', headers: { authorization: 'Bearer not.a.jwt' } });
  assert.equal(garbage.status, 403);
  assert.equal(garbage.body.error_code, 'bad_jwt');

  const now = Math.floor(Date.now() / 1000);
  const expired = signJwt({ sub: randomUUID(), aud: 'authenticated', role: 'authenticated', iat: now - 7200, exp: now - 3600 });
  const { error: expiredError } = await anonClient().auth.getUser(expired);
  assert.equal(expiredError.status, 403);
  assert.equal(expiredError.code, 'bad_jwt');

  const forged = signJwt({ sub: randomUUID(), role: 'authenticated', exp: now + 60 }, 'not-the-project-secret-not-the-project');
  const { error: forgedError } = await anonClient().auth.getUser(forged);
  assert.equal(forgedError.code, 'bad_jwt');

  const noBearer = await authFetch('/user', { method: 'GET' });
  assert.equal(noBearer.status, 401);
  assert.equal(noBearer.body.error_code, 'no_authorization');

  const noKey = await fetch(`${authUrl}/signup`, { method: 'POST', body: '{}' });
  assert.equal(noKey.status, 401);
});

test('logout scopes: local ends one session, others keep the caller, global ends all', async () => {
  const email = uniqueEmail('logout');
  await anonClient().auth.signUp({ email, password: 'secret-pw' });
  const signIn = async () => (await anonClient().auth.signInWithPassword({ email, password: 'secret-pw' })).data.session;
  const [s1, s2, s3] = [await signIn(), await signIn(), await signIn()];
  const userStatus = async (s) => (await authFetch('/user', { method: 'GET', headers: { authorization: `Bearer ${s.access_token}` } })).status;

  const others = await authFetch('/logout?scope=others', { headers: { authorization: `Bearer ${s1.access_token}` } });
  assert.equal(others.status, 204);
  assert.deepEqual([await userStatus(s1), await userStatus(s2), await userStatus(s3)], [200, 403, 403]);

  const s4 = await signIn();
  const local = await authFetch('/logout?scope=local', { headers: { authorization: `Bearer ${s4.access_token}` } });
  assert.equal(local.status, 204);
  assert.deepEqual([await userStatus(s1), await userStatus(s4)], [200, 403]);

  const bad = await authFetch('/logout?scope=everyone', { headers: { authorization: `Bearer ${s1.access_token}` } });
  assert.equal(bad.status, 400);
  const global = await authFetch('/logout', { headers: { authorization: `Bearer ${s1.access_token}` } });
  assert.equal(global.status, 204);
  assert.equal(await userStatus(s1), 403);
});

test('settings, health and jwks are served', async () => {
  const settings = await (await fetch(`${authUrl}/settings`)).json();
  assert.equal(settings.external.email, true);
  assert.equal(settings.external.anonymous_users, true);
  assert.equal(settings.mailer_autoconfirm, true);
  const health = await (await fetch(`${authUrl}/health`)).json();
  assert.equal(health.name, 'GoTrue');
  const jwks = await (await fetch(`${authUrl}/.well-known/jwks.json`)).json();
  // The signing keys' public halves; nothing for an HS256-only (--legacy-jwt) project.
  const kids = stack.signingKeysPath ? signingKeys().map((k) => k.kid) : [];
  assert.deepEqual(jwks.keys.map((k) => k.kid), kids);
});

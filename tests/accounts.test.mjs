// Who may act, end to end (issue 13): a token must be a user session (role `authenticated`); a
// blocked or deleted account is refused by every function and by the database for every client;
// the invitation-admin check answers about oneself only; a silent JWKS endpoint does not hold
// requests. Attacks go through supabase-js with the attacker's own token, as a browser would.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID, sign as signWith } from 'node:crypto';
import {
  anonClient, createProfile, serviceClient, signAccessToken, signedUpUser, sql, stack, tenantProject, userWithRole,
} from './support/stack.mjs';
import { call, invoke, startFunctions } from './support/functions.mjs';

const tenant = tenantProject('tenant');
const service = serviceClient();
const now = () => Math.floor(Date.now() / 1000);

const connectionBody = (name = `acct-${randomUUID().slice(0, 8)}`) => ({
  name, url: tenant.url, anon_key: tenant.anonKey, service_role_key: tenant.serviceKey,
});

/** A raw call to a function with `token` as the bearer. */
function callAs(token, path, { method = 'GET', body } = {}) {
  return call(`${stack.functionsUrl}/${path}`, {
    method,
    headers: { apikey: stack.anonKey, authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
}

/** GoTrue's claims for `userId`, signed with the project's JWT secret, with `overrides`. */
function projectSignedToken(userId, overrides = {}) {
  return signAccessToken({
    iss: `${stack.url}/auth/v1`, sub: userId, aud: 'authenticated', role: 'authenticated',
    exp: now() + 600, iat: now(), email: '', is_anonymous: false, session_id: randomUUID(), ...overrides,
  });
}

const setState = (user, state) => sql(`update public.user_profiles set state = '${state}' where id = '${user.user.id}'`);

// ---------------------------------------------------------------------------------------------
// Item 4: the role claim
// ---------------------------------------------------------------------------------------------

test('a project-signed token with role service_role is not a user: 401 wrong_role, and its DELETE deletes nobody\'s connection', async () => {
  const [a, b, attacker] = await Promise.all([1, 2, 3].map((i) => signedUpUser(undefined, `acct-role-${i}`)));
  const name = `shared-${randomUUID().slice(0, 8)}`;
  for (const owner of [a, b]) {
    assert.equal((await invoke(owner.client, 'save-connection', { body: connectionBody(name) })).status, 201);
  }
  for (const role of ['service_role', 'anon', 'postgres']) {
    const forged = projectSignedToken(attacker.user.id, { role });
    const del = await callAs(forged, `save-connection?name=${name}`, { method: 'DELETE' });
    assert.equal(del.status, 401, `${role}: ${JSON.stringify(del.body)}`);
    assert.equal(del.body.code, 'wrong_role');
    const list = await callAs(forged, 'save-connection');
    assert.equal(list.status, 401);
    assert.equal(list.body.code, 'wrong_role');
    const proxied = await callAs(forged, `tenant-proxy/${name}/rest/v1/orders`);
    assert.equal(proxied.body.code, 'wrong_role');
    const invitations = await callAs(forged, `create-invitation?profile_id=${randomUUID()}`);
    assert.equal(invitations.body.code, 'wrong_role');
  }
  assert.deepEqual(sql(`select count(*) from public.connections where name = '${name}'`), [['2']], 'both connections are still there');

  // The same claims with role authenticated are a user; an anonymous session is one too.
  const real = projectSignedToken(attacker.user.id);
  assert.equal((await callAs(real, 'save-connection')).status, 200);
  const { data: guest } = await anonClient().auth.signInAnonymously();
  const guestList = await callAs(guest.session.access_token, 'save-connection');
  assert.equal(guestList.status, 403, 'an anonymous session passes the role check (and meets the guest rule)');
  assert.equal(guestList.body.code, 'guest_not_allowed');
});

// ---------------------------------------------------------------------------------------------
// Item 5: blocked and deleted accounts
// ---------------------------------------------------------------------------------------------

/** Every call a user session can make to the functions, with the status a served user gets. */
async function callEveryFunction(user, { connection, profileId, invitationId }) {
  const token = user.session.access_token;
  return {
    'save-connection POST': await callAs(token, 'save-connection', { method: 'POST', body: connectionBody(connection) }),
    'save-connection GET': await callAs(token, 'save-connection'),
    'save-connection DELETE (no such name)': await callAs(token, 'save-connection?name=no-such-name', { method: 'DELETE' }),
    'tenant-proxy GET': await callAs(token, `tenant-proxy/${connection}/rest/v1/orders?select=id&limit=1`),
    'create-invitation POST': await callAs(token, 'create-invitation', { method: 'POST', body: { profile_id: profileId, replace: true } }),
    'create-invitation GET': await callAs(token, `create-invitation?profile_id=${profileId}`),
    'create-invitation DELETE': await callAs(token, `create-invitation?id=${invitationId}`, { method: 'DELETE' }),
  };
}

test('a blocked account gets 403 account_blocked from every function, writes nothing through /rest/v1, and its sessions end', async () => {
  const admin = await userWithRole('admin', 'acct-blocked');
  const connection = `blk-${randomUUID().slice(0, 8)}`;
  assert.equal((await invoke(admin.client, 'save-connection', { body: connectionBody(connection) })).status, 201);
  const profile = await createProfile(admin);
  const invited = await invoke(admin.client, 'create-invitation', { body: { profile_id: profile.id } });
  assert.equal(invited.status, 201);
  const { data: project } = await admin.client.from('projects').insert({ name: 'before' }).select('id').single();

  // While active, every call is served.
  const served = await callEveryFunction(admin, { connection, profileId: profile.id, invitationId: randomUUID() });
  assert.deepEqual(Object.values(served).map((r) => r.status), [200, 200, 404, 200, 201, 200, 404]);

  const invitationsOf = () => sql(`select id, status from public.profile_invitations where profile_id = '${profile.id}' order by created_at`);
  const [pending] = invitationsOf().filter(([, status]) => status === 'pending');
  setState(admin, 'blocked');
  const invitationsBefore = invitationsOf();
  const answers = await callEveryFunction(admin, { connection, profileId: profile.id, invitationId: pending[0] });
  for (const [what, answer] of Object.entries(answers)) {
    assert.equal(answer.status, 403, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.code, 'account_blocked', what);
  }

  // The attack around the Worker: the same (still unexpired) token through supabase-js.
  const client = admin.client;
  const refused = [
    await client.from('user_profiles').update({ display_name: 'still here' }).eq('id', admin.user.id),
    await client.from('connections').delete().eq('name', connection),
    await client.from('connections').delete().eq('name', 'no-such-name'),
    await client.rpc('list_connections'),
    await client.from('projects').insert({ name: 'after' }),
    await client.from('projects').update({ name: 'renamed' }).eq('id', project.id),
    await client.from('projects').delete().eq('id', project.id),
    await client.from('segmentation_results').insert({ source_image_url: 'https://images.example.test/a.png' }),
    await client.from('profiles').insert({ first_name: 'Eve' }),
    await client.from('profiles').update({ last_name: 'X' }).eq('id', profile.id),
  ];
  for (const [i, answer] of refused.entries()) {
    assert.equal(answer.status, 403, `write ${i}: ${JSON.stringify(answer.error)}`);
    assert.equal(answer.error.code, 'PT403', `write ${i}`);
    assert.equal(answer.error.hint, 'account_blocked', `write ${i}`);
  }
  assert.deepEqual(sql(`select count(*) from public.connections where user_id = '${admin.user.id}'`), [['1']]);
  assert.deepEqual(sql(`select name from public.projects where user_id = '${admin.user.id}'`), [['before']]);
  assert.deepEqual(sql(`select display_name is null from public.user_profiles where id = '${admin.user.id}'`), [['t']]);
  assert.deepEqual(invitationsOf(), invitationsBefore, 'no invitation created or revoked');
  // Reads of its own rows go on until the access token expires (documented).
  assert.deepEqual((await client.from('user_profiles').select('state')).data, [{ state: 'blocked' }]);

  // Sessions: banned at Auth, refresh tokens gone, no new sign-in.
  assert.deepEqual(sql(`select banned_until > now() + interval '99 years', (select count(*) from auth.sessions where user_id = u.id)
                         from auth.users u where id = '${admin.user.id}'`), [['t', '0']]);
  const refresh = await client.auth.refreshSession();
  assert.notEqual(refresh.error, null, 'the refresh token no longer works');
  const signIn = await anonClient().auth.signInWithPassword({ email: admin.email, password: admin.password });
  assert.equal(signIn.error?.code, 'user_banned');

  // Unblocking lifts the ban: the user signs in again and is served.
  setState(admin, 'active');
  assert.deepEqual(sql(`select banned_until is null from auth.users where id = '${admin.user.id}'`), [['t']]);
  const back = anonClient();
  const again = await back.auth.signInWithPassword({ email: admin.email, password: admin.password });
  assert.equal(again.error, null);
  assert.equal((await invoke(back, 'save-connection', { method: 'GET' })).status, 200);
  assert.equal((await back.from('projects').insert({ name: 'after unblocking' })).error, null);
});

test('a deleted account is refused with a token still in hand: state deleted, deleted_at, or its auth user removed', async () => {
  const byState = await signedUpUser(undefined, 'acct-deleted-state');
  const bySoftDelete = await signedUpUser(undefined, 'acct-deleted-at');
  const byRemoval = await signedUpUser(undefined, 'acct-removed');
  setState(byState, 'deleted');
  sql(`update public.user_profiles set deleted_at = now() where id = '${bySoftDelete.user.id}'`);
  assert.equal((await service.auth.admin.deleteUser(byRemoval.user.id)).error, null);
  for (const user of [byState, bySoftDelete, byRemoval]) {
    const list = await callAs(user.session.access_token, 'save-connection');
    assert.equal(list.status, 403, JSON.stringify(list.body));
    assert.equal(list.body.code, 'account_blocked');
    const write = await user.client.from('projects').insert({ name: 'ghost' });
    assert.equal(write.error?.hint, 'account_blocked', JSON.stringify(write.error));
  }
});

test('every table users can write carries the account guard (a new table without it fails here)', () => {
  // Test-only fixture tables (tests/fixtures/migrations) are not part of the product.
  const fixtures = new Set();
  const fixtureDir = new URL('./fixtures/migrations/', import.meta.url);
  for (const file of readdirSync(fixtureDir).filter((f) => f.endsWith('.sql'))) {
    const text = readFileSync(new URL(file, fixtureDir), 'utf8');
    for (const [, table] of text.matchAll(/create table public\.(\w+)/gi)) fixtures.add(table);
  }
  const writable = sql(`
    select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p')
       and (has_table_privilege('authenticated', c.oid, 'INSERT, UPDATE, DELETE')
            or exists (select from pg_attribute a where a.attrelid = c.oid and a.attnum > 0
                        and has_column_privilege('authenticated', c.oid, a.attnum, 'INSERT, UPDATE')))
     order by 1`).map(([t]) => t).filter((t) => !fixtures.has(t));
  const guarded = new Set(sql(`select c.relname from pg_trigger t join pg_class c on c.oid = t.tgrelid
                                where t.tgname = 'refuse_writes_by_inactive_accounts'`).map(([t]) => t));
  assert.ok(writable.length >= 5, `found ${writable}`);
  assert.deepEqual(writable.filter((t) => !guarded.has(t)), []);
});

// ---------------------------------------------------------------------------------------------
// Item 8: the invitation-admin check answers about oneself only
// ---------------------------------------------------------------------------------------------

test('is_invitation_admin answers about the caller only: asking about an admin\'s id is refused', async () => {
  const admin = await userWithRole('admin', 'acct-probe-admin');
  const prober = await signedUpUser(undefined, 'acct-prober');
  const probe = await prober.client.rpc('is_invitation_admin', { uid: admin.user.id });
  assert.equal(probe.status, 403, JSON.stringify(probe));
  assert.equal(probe.error.code, '42501');
  assert.equal(probe.data, null);
  assert.equal((await prober.client.rpc('is_invitation_admin', { uid: prober.user.id })).data, false);
  assert.equal((await admin.client.rpc('is_invitation_admin')).data, true);
  // The check itself lives outside the API's schema.
  const hidden = await prober.client.schema('private').rpc('is_invitation_admin', { p_user_id: admin.user.id });
  assert.notEqual(hidden.error, null);
});

// ---------------------------------------------------------------------------------------------
// Item 9: a JWKS endpoint that never answers
// ---------------------------------------------------------------------------------------------

const slow = { stop: () => {} };
after(() => slow.stop());

test('a JWKS endpoint that never answers costs one bounded wait: 503 auth_keys_unavailable, later requests are not held', async () => {
  // An "Auth server" that accepts the JWKS request and never answers it.
  const held = [];
  const silent = createServer((req) => held.push(req));
  const silentPort = Number(new URL(stack.url).port) + 16;
  await new Promise((resolve) => silent.listen(silentPort, '127.0.0.1', resolve));
  const devVars = process.env.DEVSTACK_DEV_VARS;
  assert.ok(devVars, 'scripts/test.sh sets DEVSTACK_DEV_VARS');
  const vars = `${devVars}.silent-auth`;
  // At the default JWKS refetch interval (30 s): the test stack's short one is dropped.
  writeFileSync(vars, readFileSync(devVars, 'utf8').replace(/^SUPABASE_URL=.*$/m, `SUPABASE_URL="http://127.0.0.1:${silentPort}"`)
    .replace(/^JWKS_MIN_REFETCH_SECS=.*\n/m, ''));
  const functions = await startFunctions({
    port: Number(new URL(stack.url).port) + 14,
    inspectorPort: Number(new URL(stack.url).port) + 15,
    envFile: vars,
  });
  slow.stop = () => {
    functions.stop();
    held.forEach((req) => req.socket.destroy());
    silent.close();
  };

  // An ES256 token: verifying it needs the project's JWKS.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${b64({ alg: 'ES256', typ: 'JWT', kid: 'k1' })}.${b64({
    iss: `http://127.0.0.1:${silentPort}/auth/v1`, sub: randomUUID(), aud: 'authenticated', role: 'authenticated', exp: now() + 600,
  })}`;
  const token = `${input}.${signWith('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  const ask = async () => {
    const started = Date.now();
    const answer = await call(`${functions.url}/functions/v1/save-connection`, {
      headers: { apikey: stack.anonKey, authorization: `Bearer ${token}` },
    });
    return { ...answer, ms: Date.now() - started };
  };

  const first = await ask();
  assert.equal(first.status, 503, JSON.stringify(first.body));
  assert.equal(first.body.code, 'auth_keys_unavailable');
  assert.ok(first.ms >= 2_500 && first.ms < 10_000, `answered after the 3 s JWKS timeout, not before or much later (${first.ms} ms)`);
  assert.equal(held.length, 1, 'the JWKS was asked for once');

  // Within the refetch interval nobody waits on the silent server again.
  const second = await ask();
  assert.equal(second.status, 503);
  assert.equal(second.body.code, 'auth_keys_unavailable');
  assert.ok(second.ms < 2_000, `not held (${second.ms} ms)`);
  assert.equal(held.length, 1);
});

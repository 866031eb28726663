// Seed 004 end to end: create-invitation and accept-invitation against devstack, driven the way
// an admin screen and a register page drive them (supabase-js `functions.invoke`), with the
// database checked directly for what must (not) have been written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { anonClient, createProfile, forgeAccessToken, signAccessToken, signedUpUser, sql, stack, uniqueEmail, userWithRole } from './support/stack.mjs';
import { call, invoke } from './support/functions.mjs';

const register = anonClient();
const createUrl = `${stack.functionsUrl}/create-invitation`;
const acceptUrl = `${stack.functionsUrl}/accept-invitation`;
const password = () => `pw-${randomUUID()}`;
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

const inviteAs = (admin, body) => invoke(admin.client, 'create-invitation', { body });
const history = (admin, profileId) => invoke(admin.client, `create-invitation?profile_id=${profileId}`, { method: 'GET' });
const revoke = (admin, id) => invoke(admin.client, `create-invitation?id=${id}`, { method: 'DELETE' });
const preview = (token) => invoke(register, `accept-invitation?token=${encodeURIComponent(token)}`, { method: 'GET' });
const accept = (token, pw = password()) => invoke(register, 'accept-invitation', { body: { token, password: pw } });
const accountsWithEmail = (email) => Number(sql(`select count(*) from auth.users where lower(email) = lower('${email}')`)[0][0]);
const invitationCount = (profileId) => Number(sql(`select count(*) from public.profile_invitations where profile_id = '${profileId}'`)[0][0]);

function assertError(answer, status, code) {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body.code, code, JSON.stringify(answer.body));
  assert.equal(typeof answer.body.error, 'string');
}

test('an admin invites; the preview shows the profile; accepting creates an account that signs in, linked with role user; the link then answers 410', async () => {
  const admin = await userWithRole('admin');
  const profile = await createProfile(admin);

  const created = await inviteAs(admin, { profile_id: profile.id });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const inv = created.body;
  assert.equal(inv.profile_id, profile.id);
  assert.equal(inv.email, profile.email, 'the e-mail defaults to the profile\'s');
  assert.equal(inv.status, 'pending');
  assert.equal(inv.invited_by, admin.user.id);
  assert.match(inv.token, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(inv.link.endsWith(`/${inv.token}`), inv.link);
  const days = (Date.parse(inv.expires_at) - Date.now()) / 86_400_000;
  assert.ok(days > 6.9 && days <= 7, `expires in 7 days, not ${days}`);

  // The database holds no usable link: a hash and an envelope, neither containing the token.
  const [[hash, envelope, rowText]] = sql(
    `select token_hash, token_encrypted, i::text from public.profile_invitations i where id = '${inv.id}'`,
  );
  assert.equal(hash, sha256(inv.token));
  assert.match(envelope, /^enc:v1:local1:/);
  assert.ok(!rowText.includes(inv.token), 'the token is nowhere in the row');
  // Nor does an admin read either column through /rest/v1.
  assert.equal((await admin.client.from('profile_invitations').select('token_hash').eq('id', inv.id)).status, 403);

  const shown = await preview(inv.token);
  assert.equal(shown.status, 200);
  assert.deepEqual(shown.body, {
    email: profile.email,
    expires_at: shown.body.expires_at,
    profile: { first_name: 'Ada', last_name: 'Lovelace' },
  });
  assert.equal(Date.parse(shown.body.expires_at), Date.parse(inv.expires_at));

  const pw = password();
  const accepted = await accept(inv.token, pw);
  assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  assert.deepEqual(Object.keys(accepted.body).sort(), ['email', 'profile_id', 'user_id']);
  assert.equal(accepted.body.profile_id, profile.id);
  assert.equal(accepted.body.email, profile.email);
  const userId = accepted.body.user_id;

  const app = anonClient();
  const signIn = await app.auth.signInWithPassword({ email: profile.email, password: pw });
  assert.equal(signIn.error, null);
  assert.equal(signIn.data.user.id, userId);
  assert.deepEqual(sql(`select user_id from public.profiles where id = '${profile.id}'`), [[userId]]);
  assert.deepEqual(sql(`select role from public.user_profiles where id = '${userId}'`), [['user']]);
  assert.deepEqual(sql(`select status, accepted_by from public.profile_invitations where id = '${inv.id}'`), [['accepted', userId]]);
  // The new user reads their own profile through RLS.
  const own = await app.from('profiles').select('id, first_name').eq('id', profile.id);
  assert.deepEqual(own.data, [{ id: profile.id, first_name: 'Ada' }]);

  assertError(await preview(inv.token), 410, 'invitation_used');
  assertError(await accept(inv.token), 410, 'invitation_used');
  assert.equal(accountsWithEmail(profile.email), 1);

  // The history shows it accepted, without a link.
  const listed = await history(admin, profile.id);
  assert.equal(listed.status, 200);
  assert.equal(listed.body.length, 1);
  assert.equal(listed.body[0].status, 'accepted');
  assert.equal(listed.body[0].accepted_by, userId);
  assert.equal(listed.body[0].link, null);
  assert.equal(listed.body[0].token, null);
});

test('workspace owners and platform super admins invite too, with their own e-mail and expiry', async () => {
  for (const role of ['workspace_owner', 'platform_super_admin']) {
    const admin = await userWithRole(role);
    const profile = await createProfile(admin, { email: null });
    const email = uniqueEmail('Explicit').toUpperCase();
    const created = await inviteAs(admin, { profile_id: profile.id, email: ` ${email} `, expires_in_days: 1 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.email, email.toLowerCase());
    const hours = (Date.parse(created.body.expires_at) - Date.now()) / 3_600_000;
    assert.ok(hours > 23.9 && hours <= 24, `${hours}`);
  }
});

test('non-admins, guests and callers without a valid token cannot invite, list or revoke', async () => {
  const admin = await userWithRole('admin');
  const profile = await createProfile(admin);
  const user = await signedUpUser(undefined, 'inv-plain');
  const guestClient = anonClient();
  assert.equal((await guestClient.auth.signInAnonymously()).error, null);

  assertError(await inviteAs(user, { profile_id: profile.id }), 403, 'not_admin');
  assertError(await history(user, profile.id), 403, 'not_admin');
  assertError(await revoke(user, randomUUID()), 403, 'not_admin');
  assertError(await invoke(guestClient, 'create-invitation', { body: { profile_id: profile.id } }), 403, 'guest_not_allowed');
  // A guest made admin by mistake is still refused: guests never manage invitations.
  const { data: guest } = await guestClient.auth.getUser();
  sql(`update public.user_profiles set role = 'admin' where id = '${guest.user.id}'`);
  assertError(await invoke(guestClient, 'create-invitation', { body: { profile_id: profile.id } }), 403, 'guest_not_allowed');

  const body = JSON.stringify({ profile_id: profile.id });
  const json = { 'content-type': 'application/json', apikey: stack.anonKey };
  assert.equal((await call(createUrl, { method: 'POST', headers: json, body })).status, 401, 'no token');
  assert.equal((await invoke(register, 'create-invitation', { body: { profile_id: profile.id } })).status, 401, 'the anon key is not a user');
  const claims = { sub: admin.user.id, role: 'authenticated', aud: 'authenticated', iss: `${stack.url}/auth/v1` };
  const now = Math.floor(Date.now() / 1000);
  const forged = forgeAccessToken({ ...claims, exp: now + 600 });
  const expired = signAccessToken({ ...claims, iat: now - 7200, exp: now - 3600 });
  for (const token of [forged, expired, 'not.a.jwt']) {
    const answer = await call(createUrl, { method: 'POST', headers: { ...json, authorization: `Bearer ${token}` }, body });
    assert.equal(answer.status, 401, JSON.stringify(answer.body));
  }
  assert.equal(invitationCount(profile.id), 0, 'nothing was written');
});

test('inviting a linked profile, or an address that already has an account, is a 409', async () => {
  const admin = await userWithRole('admin');
  const profile = await createProfile(admin);
  const first = await inviteAs(admin, { profile_id: profile.id });
  assert.equal((await accept(first.body.token)).status, 201);
  assertError(await inviteAs(admin, { profile_id: profile.id }), 409, 'profile_already_linked');
  assertError(await inviteAs(admin, { profile_id: profile.id, replace: true }), 409, 'profile_already_linked');

  const existing = await signedUpUser(undefined, 'inv-existing');
  const other = await createProfile(admin, { email: existing.email });
  assertError(await inviteAs(admin, { profile_id: other.id }), 409, 'email_taken');
  assert.equal(invitationCount(other.id), 0);
});

test('a second invitation is a 409 carrying the first with its link; replace revokes the first (its link 404s) and issues a new one; history lists all', async () => {
  const admin = await userWithRole('admin');
  const profile = await createProfile(admin);
  const first = (await inviteAs(admin, { profile_id: profile.id })).body;

  const again = await inviteAs(admin, { profile_id: profile.id, email: uniqueEmail('other') });
  assertError(again, 409, 'invitation_exists');
  assert.equal(again.body.invitation.id, first.id);
  assert.equal(again.body.invitation.status, 'pending');
  assert.equal(again.body.invitation.token, first.token, 'the first link is shown again');
  assert.equal(again.body.invitation.link, first.link);
  assert.equal(invitationCount(profile.id), 1);

  const replaced = await inviteAs(admin, { profile_id: profile.id, replace: true });
  assert.equal(replaced.status, 201, JSON.stringify(replaced.body));
  assert.notEqual(replaced.body.id, first.id);
  assert.notEqual(replaced.body.token, first.token);
  assertError(await preview(first.token), 404, 'invitation_not_found');
  assertError(await accept(first.token), 404, 'invitation_not_found');
  assert.equal((await preview(replaced.body.token)).status, 200);

  const listed = await history(admin, profile.id);
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.map((i) => [i.id, i.status]), [[replaced.body.id, 'pending'], [first.id, 'revoked']]);
  assert.equal(listed.body[0].link, replaced.body.link, 'a pending invitation shows its link');
  assert.equal(listed.body[1].link, null, 'a revoked one does not');
  assert.equal(listed.body[1].revoked_by, admin.user.id);
  // Another admin sees the same history.
  const colleague = await userWithRole('admin');
  assert.deepEqual((await history(colleague, profile.id)).body.map((i) => i.id), listed.body.map((i) => i.id));
});

test('revoking: 200 with the invitation revoked, its link 404s, a second revoke is 409, then a new invitation needs no replace', async () => {
  const admin = await userWithRole('admin');
  const profile = await createProfile(admin);
  const inv = (await inviteAs(admin, { profile_id: profile.id })).body;

  const revoked = await revoke(admin, inv.id);
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  assert.equal(revoked.body.id, inv.id);
  assert.equal(revoked.body.status, 'revoked');
  assert.equal(revoked.body.revoked_by, admin.user.id);
  assert.equal(revoked.body.link, null);
  assertError(await preview(inv.token), 404, 'invitation_not_found');
  assertError(await revoke(admin, inv.id), 409, 'invitation_not_pending');
  assertError(await revoke(admin, randomUUID()), 404, 'invitation_not_found');
  assert.equal((await inviteAs(admin, { profile_id: profile.id })).status, 201);
});

test('bad input to create-invitation is a 400/404/405/413 naming the problem, and nothing is written', async () => {
  const admin = await userWithRole('admin');
  const profile = await createProfile(admin);
  const cases = [
    [{ profile_id: 'nope' }, 400, 'invalid_profile_id'],
    [{}, 400, 'invalid_body'],
    [{ profile_id: profile.id, expiresInDays: 3 }, 400, 'invalid_body'],
    [{ profile_id: profile.id, email: 'not an address' }, 400, 'invalid_email'],
    [{ profile_id: profile.id, email: 42 }, 400, 'invalid_body'],
    [{ profile_id: profile.id, expires_in_days: 0 }, 400, 'invalid_expiry'],
    [{ profile_id: profile.id, expires_in_days: 31 }, 400, 'invalid_expiry'],
    [{ profile_id: profile.id, replace: 'yes' }, 400, 'invalid_body'],
    [{ profile_id: randomUUID() }, 404, 'profile_not_found'],
  ];
  for (const [body, status, code] of cases) assertError(await inviteAs(admin, body), status, code);

  const headers = { 'content-type': 'application/json', apikey: stack.anonKey, authorization: `Bearer ${admin.session.access_token}` };
  assertError(await call(createUrl, { method: 'POST', headers, body: '{"profile_id": ' }), 400, 'invalid_json');
  const huge = JSON.stringify({ profile_id: profile.id, email: `${'a'.repeat(10_000)}@example.com` });
  assertError(await call(createUrl, { method: 'POST', headers, body: huge }), 413, 'payload_too_large');
  assertError(await call(createUrl, { method: 'PUT', headers, body: '{}' }), 405, 'method_not_allowed');
  assertError(await call(createUrl, { headers }), 400, 'missing_profile_id');
  assertError(await call(`${createUrl}?profile_id=x`, { headers }), 400, 'invalid_profile_id');
  assertError(await call(createUrl, { method: 'DELETE', headers }), 400, 'missing_id');
  assertError(await history(admin, randomUUID()), 404, 'profile_not_found');

  const preflight = await call(createUrl, { method: 'OPTIONS' });
  assert.equal(preflight.status, 200);
  assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
  assert.equal(invitationCount(profile.id), 0, 'nothing was written');
});

test('an expired invitation answers 410 to preview and accept, and no account is created', async () => {
  const admin = await userWithRole('admin');
  const profile = await createProfile(admin);
  const inv = (await inviteAs(admin, { profile_id: profile.id })).body;
  // Past expires_at, not yet marked: it is expired all the same.
  sql(`update public.profile_invitations set created_at = now() - interval '8 days', expires_at = now() - interval '1 second' where id = '${inv.id}'`);

  assertError(await preview(inv.token), 410, 'invitation_expired');
  assertError(await accept(inv.token), 410, 'invitation_expired');
  assert.equal(accountsWithEmail(profile.email), 0);
  assert.deepEqual(sql(`select user_id is null from public.profiles where id = '${profile.id}'`), [['t']]);
  const listed = await history(admin, profile.id);
  assert.equal(listed.body[0].status, 'expired');
  assert.equal(listed.body[0].link, null);
  // An expired invitation does not block a new one.
  assert.equal((await inviteAs(admin, { profile_id: profile.id })).status, 201);
});

test('unknown, malformed or missing tokens and weak passwords are refused before any account exists', async () => {
  const unknown = randomBytes(32).toString('base64url');
  assertError(await preview(unknown), 404, 'invitation_not_found');
  assertError(await accept(unknown), 404, 'invitation_not_found');
  assertError(await preview('short'), 400, 'invalid_token');
  assertError(await accept(`${unknown}/`), 400, 'invalid_token');
  assertError(await invoke(register, 'accept-invitation', { method: 'GET' }), 400, 'missing_token');

  const admin = await userWithRole('admin');
  const profile = await createProfile(admin);
  const inv = (await inviteAs(admin, { profile_id: profile.id })).body;
  for (const weak of ['', 'short', '1234567', profile.email, ' '.repeat(10), 'x'.repeat(73), 'é'.repeat(37)]) {
    assertError(await accept(inv.token, weak), 400, 'weak_password');
  }
  const body = (value) => invoke(register, 'accept-invitation', { body: value });
  assertError(await body({ token: inv.token }), 400, 'invalid_body');
  assertError(await body({ token: inv.token, password: password(), remember: true }), 400, 'invalid_body');
  assertError(await body({ token: inv.token, password: 12345678 }), 400, 'invalid_body');
  const huge = JSON.stringify({ token: inv.token, password: 'p'.repeat(5000) });
  assertError(await call(acceptUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge }), 413, 'payload_too_large');
  assertError(await call(acceptUrl, { method: 'DELETE' }), 405, 'method_not_allowed');

  assert.equal(accountsWithEmail(profile.email), 0, 'no account was created');
  assert.deepEqual(sql(`select status from public.profile_invitations where id = '${inv.id}'`), [['pending']]);
  // The register page needs no key at all: the token is the credential.
  const bare = await call(`${acceptUrl}?token=${inv.token}`);
  assert.equal(bare.status, 200, JSON.stringify(bare.body));
  assert.equal(bare.body.email, profile.email);
});

test('ten concurrent accepts of one token: exactly one 201, the rest 409/410, one account, no orphans', async () => {
  const admin = await userWithRole('admin');
  const profile = await createProfile(admin);
  const inv = (await inviteAs(admin, { profile_id: profile.id })).body;
  const answers = await Promise.all(Array.from({ length: 10 }, () => accept(inv.token)));
  const statuses = answers.map((a) => a.status).sort();
  assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(answers.map((a) => [a.status, a.body.code])));
  assert.ok(statuses.every((s) => [201, 409, 410].includes(s)), JSON.stringify(statuses));
  const winner = answers.find((a) => a.status === 201).body;

  assert.deepEqual(sql(`select id from auth.users where lower(email) = lower('${profile.email}')`), [[winner.user_id]]);
  assert.deepEqual(sql(`select user_id from public.profiles where id = '${profile.id}'`), [[winner.user_id]]);
  // No account without a profile was left behind by the losers.
  assert.deepEqual(
    sql(`select count(*) from auth.users u where u.created_at > now() - interval '5 minutes'
           and lower(u.email) = lower('${profile.email}')
           and not exists (select from public.profiles p where p.user_id = u.id)`),
    [['0']],
  );
});

test('accepting when the address already has an account is a 409 and changes nothing', async () => {
  const admin = await userWithRole('admin');
  const profile = await createProfile(admin);
  const inv = (await inviteAs(admin, { profile_id: profile.id })).body;
  // The invitee signed up on their own after being invited.
  const { data, error } = await anonClient().auth.signUp({ email: profile.email, password: password() });
  assert.equal(error, null);
  const before = sql(`select u.id, u.encrypted_password from auth.users u where lower(email) = lower('${profile.email}')`);

  assertError(await accept(inv.token), 409, 'email_taken');
  assert.deepEqual(sql(`select u.id, u.encrypted_password from auth.users u where lower(email) = lower('${profile.email}')`), before);
  assert.equal(before[0][0], data.user.id);
  assert.deepEqual(sql(`select user_id is null from public.profiles where id = '${profile.id}'`), [['t']]);
  assert.deepEqual(sql(`select status from public.profile_invitations where id = '${inv.id}'`), [['pending']]);
});

test('when linking fails after the account was created, the account is deleted again', async () => {
  const admin = await userWithRole('admin');
  const profile = await createProfile(admin);
  const inv = (await inviteAs(admin, { profile_id: profile.id })).body;
  // Stands in for a conflict that only the linking transaction can see (e.g. the profile linked
  // by someone else between the preview and the link): linking this profile fails in Postgres.
  const trigger = `block_link_${profile.id.replaceAll('-', '')}`;
  sql(`create function public.${trigger}() returns trigger language plpgsql as $$
         begin
           raise exception using errcode = 'PT409', hint = 'profile_already_linked',
             message = 'the profile already belongs to an account';
         end $$;
       create trigger ${trigger} before update of user_id on public.profiles
         for each row when (new.id = '${profile.id}') execute function public.${trigger}();`);
  try {
    assertError(await accept(inv.token), 409, 'profile_already_linked');
    assert.equal(accountsWithEmail(profile.email), 0, 'the account made for this accept is gone');
    assert.deepEqual(sql(`select status from public.profile_invitations where id = '${inv.id}'`), [['pending']]);
  } finally {
    sql(`drop trigger ${trigger} on public.profiles; drop function public.${trigger}();`);
  }
  // Once the obstacle is gone the same link works.
  assert.equal((await accept(inv.token)).status, 201);
  assert.equal(accountsWithEmail(profile.email), 1);
});

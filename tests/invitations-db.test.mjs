// The invitations database layer (migrations 20261122003000..003002), driven the way the
// create-invitation and accept-invitation Workers will drive it: the RPCs through /rest/v1/rpc
// with the service key (accounts made first through the Auth admin API), and the tables through
// supabase-js as admins, users and anon, so the policies and column privileges are what is tested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { anonClient, createProfile as createPeopleRecord, serviceClient, signedUpUser, sql, uniqueEmail, userWithRole } from './support/stack.mjs';

const service = serviceClient();

/** A link token as the Worker makes one, and the hash that is stored instead of it. */
function newToken() {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: createHash('sha256').update(token).digest('hex') };
}

/** A people record created by `admin` through /rest/v1: unlinked, and recorded as theirs. */
async function createProfile(admin, fields = {}) {
  const data = await createPeopleRecord(admin, fields);
  assert.equal(data.user_id, null);
  assert.equal(data.created_by, admin.user.id);
  return data;
}

/** create_profile_invitation as create-invitation calls it; returns the answer and the token. */
async function invite(admin, profileId, args = {}) {
  const { token, hash } = newToken();
  const answer = await service.rpc('create_profile_invitation', {
    p_admin: admin.user.id,
    p_profile_id: profileId,
    p_token_hash: hash,
    p_token_encrypted: `enc:v1:test:${randomBytes(24).toString('base64url')}`,
    ...args,
  });
  return { ...answer, token, hash };
}

const preview = (hash) => service.rpc('preview_profile_invitation', { p_token_hash: hash });
const accept = (hash, userId) => service.rpc('accept_profile_invitation', { p_token_hash: hash, p_user_id: userId });

/** An account made through the Auth admin API, as accept-invitation makes it. */
async function createAccount(email = uniqueEmail('invitee'), password = `pw-${randomUUID()}`) {
  const { data, error } = await service.auth.admin.createUser({ email, password, email_confirm: true });
  if (error) return { error };
  return { user: data.user, email, password };
}

/** accept-invitation's POST: preview, create the account, link it; delete the account on failure. */
async function acceptLikeTheWorker(hash, password = `pw-${randomUUID()}`) {
  const shown = await preview(hash);
  if (shown.error) return shown;
  const account = await createAccount(shown.data.email, password);
  // Supabase Auth refuses a taken address with 422 email_exists; the Worker answers 409.
  if (account.error) return { data: null, status: account.error.status === 422 ? 409 : 500, error: account.error };
  const linked = await accept(hash, account.user.id);
  if (linked.error) await service.auth.admin.deleteUser(account.user.id);
  return { ...linked, password };
}

function assertRpcError(answer, status, hint) {
  assert.equal(answer.status, status, JSON.stringify(answer.error));
  assert.equal(answer.data, null);
  assert.equal(answer.error.hint, hint, JSON.stringify(answer.error));
  if (hint) assert.equal(answer.error.code, `PT${status}`);
}

const invitationRow = (id) =>
  sql(`select status, coalesce(accepted_by::text, ''), coalesce(revoked_by::text, '')
         from public.profile_invitations where id = '${id}'`)[0];

test('an admin invites; the preview shows the profile; accepting links a new account with role user', async () => {
  const admin = await userWithRole('admin');
  const email = uniqueEmail('Grace');
  const profile = await createProfile(admin, { first_name: 'Grace', last_name: 'Hopper', email });

  const created = await invite(admin, profile.id);
  assert.equal(created.error, null);
  assert.equal(created.status, 200);
  const invitation = created.data;
  assert.deepEqual(Object.keys(invitation).sort(), [
    'accepted_at', 'accepted_by', 'created_at',
    // Delivery state (issue 17); null/0 for an invitation created without p_send_email.
    'delivery_attempts', 'delivery_error', 'delivery_key', 'delivery_message_id', 'delivery_next_attempt_at',
    'delivery_sends', 'delivery_sent_at', 'delivery_status',
    'email', 'expires_at', 'id', 'invited_by', 'profile_id', 'revoked_at', 'revoked_by', 'status', 'token_encrypted',
  ]);
  assert.equal(invitation.delivery_status, null);
  assert.equal(invitation.profile_id, profile.id);
  assert.equal(invitation.email, email.toLowerCase(), "the profile's e-mail, lower-cased, is the default");
  assert.equal(invitation.status, 'pending');
  assert.equal(invitation.invited_by, admin.user.id);
  const lifetime = Date.parse(invitation.expires_at) - Date.parse(invitation.created_at);
  assert.equal(lifetime, 7 * 24 * 3600 * 1000, 'expires after 7 days by default');

  // Only the hash is stored; the token is nowhere in the row.
  assert.deepEqual(sql(`select token_hash from public.profile_invitations where id = '${invitation.id}'`), [[created.hash]]);
  assert.deepEqual(
    sql(`select count(*) from public.profile_invitations i where strpos(i::text, '${created.token}') > 0`),
    [['0']],
  );

  const shown = await preview(created.hash);
  assert.equal(shown.error, null);
  assert.deepEqual(shown.data, {
    email: email.toLowerCase(),
    expires_at: shown.data.expires_at,
    profile: { first_name: 'Grace', last_name: 'Hopper' },
  });
  assert.equal(Date.parse(shown.data.expires_at), Date.parse(invitation.expires_at));

  const accepted = await acceptLikeTheWorker(created.hash);
  assert.equal(accepted.error, null);
  const userId = accepted.data.user_id;
  assert.deepEqual(accepted.data, { user_id: userId, profile_id: profile.id, email: email.toLowerCase() });

  assert.deepEqual(sql(`select user_id from public.profiles where id = '${profile.id}'`), [[userId]]);
  assert.deepEqual(sql(`select role from public.user_profiles where id = '${userId}'`), [['user']]);
  assert.deepEqual(
    sql(`select status, accepted_by, accepted_at is not null from public.profile_invitations where id = '${invitation.id}'`),
    [['accepted', userId, 't']],
  );

  // The new account signs in with the invited address and reads its own profile record.
  const invitee = anonClient();
  const signIn = await invitee.auth.signInWithPassword({ email: email.toLowerCase(), password: accepted.password });
  assert.equal(signIn.error, null);
  assert.equal(signIn.data.user.id, userId);
  const own = await invitee.from('profiles').select('id, first_name, user_id');
  assert.deepEqual(own.data, [{ id: profile.id, first_name: 'Grace', user_id: userId }]);
  const role = await invitee.from('user_profiles').select('role').single();
  assert.equal(role.data.role, 'user');

  // The link is used up, and the profile cannot be invited again.
  assertRpcError(await preview(created.hash), 410, 'invitation_used');
  const other = await createAccount();
  assertRpcError(await accept(created.hash, other.user.id), 410, 'invitation_used');
  assertRpcError(await invite(admin, profile.id), 409, 'profile_already_linked');
  assertRpcError(await invite(admin, profile.id, { p_replace: true }), 409, 'profile_already_linked');
  const history = await service.rpc('list_profile_invitations', { p_admin: admin.user.id, p_profile_id: profile.id });
  assert.deepEqual(history.data.map((i) => i.status), ['accepted']);
});

test('a second invitation is a 409 carrying the first; replace revokes it; history lists all, newest first', async () => {
  const owner = await userWithRole('workspace_owner');
  const profile = await createProfile(owner);

  const first = await invite(owner, profile.id, { p_email: 'First.Address@Example.Test', p_expires_in_days: 3 });
  assert.equal(first.error, null);
  assert.equal(first.data.email, 'first.address@example.test');
  assert.equal(Date.parse(first.data.expires_at) - Date.parse(first.data.created_at), 3 * 24 * 3600 * 1000);

  const again = await invite(owner, profile.id);
  assertRpcError(again, 409, 'invitation_exists');
  assert.deepEqual(JSON.parse(again.error.details), first.data, 'details is the active invitation');
  assert.equal(JSON.parse(again.error.details).token_hash, undefined);

  const second = await invite(owner, profile.id, { p_replace: true });
  assert.equal(second.error, null);
  assert.equal(second.data.status, 'pending');
  assert.notEqual(second.data.id, first.data.id);
  assert.equal(second.data.email, profile.email, "a replacement defaults to the profile's e-mail again");
  assert.deepEqual(invitationRow(first.data.id), ['revoked', '', owner.user.id]);

  assertRpcError(await preview(first.hash), 404, 'invitation_not_found');
  assert.equal((await preview(second.hash)).error, null);

  const third = await invite(owner, profile.id, { p_replace: true });
  const history = await service.rpc('list_profile_invitations', { p_admin: owner.user.id, p_profile_id: profile.id });
  assert.equal(history.error, null);
  assert.deepEqual(history.data.map((i) => [i.id, i.status]), [
    [third.data.id, 'pending'], [second.data.id, 'revoked'], [first.data.id, 'revoked'],
  ]);
  assert.ok(history.data.every((i) => !('token_hash' in i)));

  // The database, not just the function, keeps one pending invitation per profile.
  assert.throws(
    () => sql(`insert into public.profile_invitations (profile_id, email, token_hash)
               values ('${profile.id}', 'x@example.test', '${newToken().hash}')`),
    /profile_invitations_one_pending_per_profile/,
  );
});

test('revoking: the link dies, a second revoke is a 409, a new invitation needs no replace', async () => {
  const admin = await userWithRole('platform_super_admin', 'super');
  const profile = await createProfile(admin);
  const created = await invite(admin, profile.id);

  const revoked = await service.rpc('revoke_profile_invitation', { p_admin: admin.user.id, p_invitation_id: created.data.id });
  assert.equal(revoked.error, null);
  assert.equal(revoked.data.status, 'revoked');
  assert.equal(revoked.data.revoked_by, admin.user.id);
  assert.ok(revoked.data.revoked_at);

  assertRpcError(await preview(created.hash), 404, 'invitation_not_found');
  const account = await createAccount(created.data.email);
  assertRpcError(await accept(created.hash, account.user.id), 404, 'invitation_not_found');
  assert.deepEqual(sql(`select user_id is null from public.profiles where id = '${profile.id}'`), [['t']]);

  const twice = await service.rpc('revoke_profile_invitation', { p_admin: admin.user.id, p_invitation_id: created.data.id });
  assertRpcError(twice, 409, 'invitation_not_pending');
  assert.equal(twice.error.details, 'revoked');
  const unknown = await service.rpc('revoke_profile_invitation', { p_admin: admin.user.id, p_invitation_id: randomUUID() });
  assertRpcError(unknown, 404, 'invitation_not_found');

  await service.auth.admin.deleteUser(account.user.id);
  const fresh = await invite(admin, profile.id);
  assert.equal(fresh.error, null);
});

test('an expired invitation is a 410 everywhere, creates no account, and makes room for a new one', async () => {
  const admin = await userWithRole('admin', 'expiry');
  const profile = await createProfile(admin);
  const created = await invite(admin, profile.id);
  // Still `pending` in the row: expiry counts from expires_at, before anything marks it.
  sql(`update public.profile_invitations set created_at = now() - interval '8 days', expires_at = now() - interval '1 day'
        where id = '${created.data.id}'`);

  assertRpcError(await preview(created.hash), 410, 'invitation_expired');
  const usersBefore = sql(`select count(*) from auth.users where lower(email) = '${created.data.email}'`);
  assertRpcError(await acceptLikeTheWorker(created.hash), 410, 'invitation_expired');
  const account = await createAccount(created.data.email);
  assertRpcError(await accept(created.hash, account.user.id), 410, 'invitation_expired');
  await service.auth.admin.deleteUser(account.user.id);
  assert.deepEqual(sql(`select count(*) from auth.users where lower(email) = '${created.data.email}'`), usersBefore);
  assert.deepEqual(sql(`select user_id is null from public.profiles where id = '${profile.id}'`), [['t']]);

  const history = await service.rpc('list_profile_invitations', { p_admin: admin.user.id, p_profile_id: profile.id });
  assert.deepEqual(history.data.map((i) => i.status), ['expired']);
  const revoke = await service.rpc('revoke_profile_invitation', { p_admin: admin.user.id, p_invitation_id: created.data.id });
  assertRpcError(revoke, 409, 'invitation_not_pending');
  assert.equal(revoke.error.details, 'expired');

  const next = await invite(admin, profile.id);
  assert.equal(next.error, null, 'an expired invitation is not active');
  assert.deepEqual(invitationRow(created.data.id), ['expired', '', ''], 'and is marked expired on the way');
  assert.equal((await acceptLikeTheWorker(next.hash)).error, null);
});

test('bad input is a 400 and unknown things a 404; nothing is written', async () => {
  const admin = await userWithRole('admin', 'input');
  const profile = await createProfile(admin);
  const noEmail = await createProfile(admin, { email: null });

  assertRpcError(await invite(admin, profile.id, { p_expires_in_days: 0 }), 400, 'invalid_expiry');
  assertRpcError(await invite(admin, profile.id, { p_expires_in_days: 31 }), 400, 'invalid_expiry');
  assertRpcError(await invite(admin, noEmail.id), 400, 'email_required');
  assertRpcError(await invite(admin, noEmail.id, { p_email: '   ' }), 400, 'email_required');
  assertRpcError(await invite(admin, profile.id, { p_email: 'not an address' }), 400, 'invalid_email');
  assertRpcError(await invite(admin, randomUUID()), 404, 'profile_not_found');
  const badHash = await invite(admin, profile.id, { p_token_hash: 'the-token-itself' });
  assert.equal(badHash.status, 400);
  assert.equal(badHash.error.code, '23514');
  const plainEnvelope = await invite(admin, profile.id, { p_token_encrypted: 'a-plaintext-token' });
  assert.equal(plainEnvelope.status, 400);
  assert.equal(plainEnvelope.error.code, '23514');
  assertRpcError(await preview(newToken().hash), 404, 'invitation_not_found');
  assertRpcError(await accept(newToken().hash, admin.user.id), 404, 'invitation_not_found');
  const list = await service.rpc('list_profile_invitations', { p_admin: admin.user.id, p_profile_id: randomUUID() });
  assertRpcError(list, 404, 'profile_not_found');
  assert.deepEqual(sql(`select count(*) from public.profile_invitations where profile_id in ('${profile.id}', '${noEmail.id}')`), [['0']]);

  const thirty = await invite(admin, noEmail.id, { p_email: ' Someone@Example.Test ', p_expires_in_days: 30 });
  assert.equal(thirty.error, null);
  assert.equal(thirty.data.email, 'someone@example.test');

  // An address that already has an account cannot be invited: accepting would fail.
  const existing = await signedUpUser(undefined, 'inv-existing');
  assertRpcError(await invite(admin, profile.id, { p_email: existing.email.toUpperCase() }), 409, 'email_taken');
});

test('only active admins, workspace owners and super admins invite, list and revoke; a blocked or unknown account is account_blocked', async () => {
  const admin = await userWithRole('admin', 'real');
  const profile = await createProfile(admin);
  const created = await invite(admin, profile.id);

  const plain = await signedUpUser(undefined, 'inv-plain');
  // user_metadata is the user's to write; it grants nothing.
  assert.equal((await plain.client.auth.updateUser({ data: { role: 'workspace_owner' } })).error, null);
  const blocked = await userWithRole('admin', 'blocked');
  sql(`update public.user_profiles set state = 'blocked' where id = '${blocked.user.id}'`);

  // A blocked admin, and an id with no account (deleted, or never made), are refused before the
  // admin check (migration 20261201110100).
  for (const [who, hint] of [[plain, 'not_admin'], [blocked, 'account_blocked'], [{ user: { id: randomUUID() } }, 'account_blocked']]) {
    assertRpcError(await invite(who, profile.id, { p_replace: true }), 403, hint);
    assertRpcError(await service.rpc('list_profile_invitations', { p_admin: who.user.id, p_profile_id: profile.id }), 403, hint);
    assertRpcError(await service.rpc('revoke_profile_invitation', { p_admin: who.user.id, p_invitation_id: created.data.id }), 403, hint);
  }
  assert.deepEqual(invitationRow(created.data.id), ['pending', '', '']);

  // Users cannot make themselves admins.
  const promote = await plain.client.from('user_profiles').update({ role: 'admin' }).eq('id', plain.user.id);
  assert.equal(promote.status, 403);
  assert.equal(promote.error.code, '42501');
  assert.deepEqual(sql(`select role from public.user_profiles where id = '${plain.user.id}'`), [['user']]);
  assert.equal((await plain.client.rpc('is_invitation_admin')).data, false);
  assert.equal((await admin.client.rpc('is_invitation_admin')).data, true);
});

test('ten concurrent accepts of one token by ten accounts: exactly one links the profile', async () => {
  const admin = await userWithRole('admin', 'race');
  const profile = await createProfile(admin);
  const created = await invite(admin, profile.id);
  const accounts = await Promise.all(Array.from({ length: 10 }, () => createAccount()));

  const answers = await Promise.all(accounts.map((a) => accept(created.hash, a.user.id)));
  const winners = answers.filter((a) => a.error === null);
  assert.equal(winners.length, 1, JSON.stringify(answers.map((a) => a.error?.hint ?? 'ok')));
  for (const loser of answers.filter((a) => a.error !== null)) {
    assert.ok([409, 410].includes(loser.status), JSON.stringify(loser.error));
    assert.equal(loser.error.hint, 'invitation_used');
  }
  const winnerId = winners[0].data.user_id;
  assert.deepEqual(sql(`select user_id from public.profiles where id = '${profile.id}'`), [[winnerId]]);
  assert.deepEqual(invitationRow(created.data.id), ['accepted', winnerId, '']);
  assert.deepEqual(
    sql(`select count(*) from public.profiles where user_id in (${accounts.map((a) => `'${a.user.id}'`).join(',')})`),
    [['1']],
  );
  await Promise.all(accounts.filter((a) => a.user.id !== winnerId).map((a) => service.auth.admin.deleteUser(a.user.id)));
});

test('ten concurrent Worker-style accepts: one account for the e-mail, no orphans', async () => {
  const admin = await userWithRole('admin', 'race-worker');
  const profile = await createProfile(admin);
  const created = await invite(admin, profile.id);

  const answers = await Promise.all(Array.from({ length: 10 }, () => acceptLikeTheWorker(created.hash)));
  assert.equal(answers.filter((a) => a.error === null).length, 1);
  for (const loser of answers.filter((a) => a.error !== null)) {
    assert.ok([409, 410].includes(loser.status), JSON.stringify(loser.error));
  }
  const [[accounts, linked]] = sql(`
    select count(*), count(p.id) from auth.users u left join public.profiles p on p.user_id = u.id
     where lower(u.email) = '${created.data.email}'`);
  assert.deepEqual([accounts, linked], ['1', '1']);
});

test('an accept racing a replace or a revoke: one of them wins cleanly, never a deadlock', async () => {
  const admin = await userWithRole('admin', 'race-replace');
  for (let round = 0; round < 5; round += 1) {
    const profile = await createProfile(admin);
    const created = await invite(admin, profile.id);
    // Another address than the invitation's: an account with that one would make the replacement
    // a 409 email_taken, which is not the race under test.
    const account = await createAccount();
    const [accepted, replaced, revoked] = await Promise.all([
      accept(created.hash, account.user.id),
      invite(admin, profile.id, { p_replace: true }),
      service.rpc('revoke_profile_invitation', { p_admin: admin.user.id, p_invitation_id: created.data.id }),
    ]);
    const [[linkedTo, pending]] = sql(`
      select coalesce(p.user_id::text, ''),
             (select count(*) from public.profile_invitations i where i.profile_id = p.id and i.status = 'pending')
        from public.profiles p where p.id = '${profile.id}'`);
    if (accepted.error === null) {
      assert.equal(linkedTo, account.user.id);
      assert.equal(replaced.error?.hint, 'profile_already_linked');
      assert.equal(revoked.error?.hint, 'invitation_not_pending');
      assert.equal(pending, '0');
    } else {
      assert.equal(accepted.error.hint, 'invitation_not_found', JSON.stringify(accepted.error));
      assert.equal(linkedTo, '');
      assert.equal(replaced.error, null, 'the replacement went through');
      assert.equal(pending, '1');
      await service.auth.admin.deleteUser(account.user.id);
    }
  }
});

test('accepting refuses an e-mail with another account, an account with a profile, and an unknown account', async () => {
  const admin = await userWithRole('admin', 'refuse');
  const profile = await createProfile(admin);
  const created = await invite(admin, profile.id);

  // Someone signed up with the invited address after the invitation was made.
  const { error } = await anonClient().auth.signUp({ email: created.data.email, password: `pw-${randomUUID()}` });
  assert.equal(error, null);
  const stranger = await createAccount();
  assertRpcError(await accept(created.hash, stranger.user.id), 409, 'email_taken');
  const viaWorker = await acceptLikeTheWorker(created.hash);
  assert.equal(viaWorker.status, 409);
  assert.equal(viaWorker.error.code, 'email_exists');

  const other = await createProfile(admin);
  const otherInvite = await invite(admin, other.id);
  assertRpcError(await accept(otherInvite.hash, randomUUID()), 400, 'unknown_user');
  const linked = await acceptLikeTheWorker(otherInvite.hash);
  assert.equal(linked.error, null);
  const third = await createProfile(admin);
  const thirdInvite = await invite(admin, third.id);
  assertRpcError(await accept(thirdInvite.hash, linked.data.user_id), 409, 'account_already_linked');

  assert.deepEqual(invitationRow(created.data.id), ['pending', '', '']);
  assert.deepEqual(invitationRow(thirdInvite.data.id), ['pending', '', '']);
  assert.deepEqual(sql(`select count(*) from public.profiles where id in ('${profile.id}', '${third.id}') and user_id is not null`), [['0']]);
});

test('RLS: admins read through /rest/v1 but never tokens, and write only through the functions; users and anon see nothing', async () => {
  const admin = await userWithRole('admin', 'rls-admin');
  const owner = await userWithRole('workspace_owner', 'rls-owner');
  const user = await signedUpUser(undefined, 'inv-rls-user');
  const anon = anonClient();
  const profile = await createProfile(admin);
  const created = await invite(admin, profile.id);
  const columns = 'id, profile_id, email, status, invited_by, expires_at';

  // Admins read invitations, but not the token hash or envelope, and cannot look one up by hash.
  const listed = await admin.client.from('profile_invitations').select(columns).eq('profile_id', profile.id);
  assert.equal(listed.error, null);
  assert.deepEqual(listed.data.map((i) => i.id), [created.data.id]);
  for (const column of ['token_hash', 'token_encrypted', '*']) {
    const read = await admin.client.from('profile_invitations').select(column);
    assert.equal(read.status, 403, column);
    assert.equal(read.error.code, '42501', column);
  }
  const byHash = await admin.client.from('profile_invitations').select('id').eq('token_hash', created.hash);
  assert.equal(byHash.status, 403);

  // Users and anon: no profiles, no invitations, no RPCs.
  assert.deepEqual((await user.client.from('profiles').select('id')).data, []);
  assert.deepEqual((await user.client.from('profile_invitations').select('id')).data, []);
  assert.equal((await user.client.from('profiles').insert({ first_name: 'Eve' })).status, 403);
  const userInvites = await user.client.from('profile_invitations')
    .insert({ profile_id: profile.id, email: 'eve@example.test', token_hash: newToken().hash });
  assert.equal(userInvites.status, 403);
  for (const table of ['profiles', 'profile_invitations']) {
    assert.equal((await anon.from(table).select('id')).status, 401, table);
  }
  for (const client of [user.client, admin.client]) {
    const call = await client.rpc('preview_profile_invitation', { p_token_hash: created.hash });
    assert.equal(call.status, 403);
    assert.equal(call.error.code, '42501');
  }
  assert.equal((await anon.rpc('preview_profile_invitation', { p_token_hash: created.hash })).status, 401);
  assert.equal((await anon.rpc('accept_profile_invitation', { p_token_hash: created.hash, p_user_id: user.user.id })).status, 401);
  assert.equal((await user.client.rpc('accept_profile_invitation', { p_token_hash: created.hash, p_user_id: user.user.id })).status, 403);
  assert.equal((await anon.rpc('is_invitation_admin')).status, 401);

  // Admins change invitations only through the functions (migration 20261201110100): no status
  // or expiry update through /rest/v1, and they cannot link a profile or delete; a workspace
  // owner deletes.
  for (const change of [{ status: 'accepted' }, { status: 'revoked' }, { expires_at: '2099-01-01T00:00:00Z' }]) {
    const update = await admin.client.from('profile_invitations').update(change).eq('id', created.data.id);
    assert.equal(update.status, 403, JSON.stringify(change));
    assert.equal(update.error.code, '42501');
  }
  assert.deepEqual(invitationRow(created.data.id), ['pending', '', '']);
  const revoke = await service.rpc('revoke_profile_invitation', { p_admin: admin.user.id, p_invitation_id: created.data.id });
  assert.equal(revoke.error, null);
  const afterRevoke = await admin.client.from('profile_invitations').select('status, revoked_by').eq('id', created.data.id);
  assert.deepEqual(afterRevoke.data, [{ status: 'revoked', revoked_by: admin.user.id }]);
  const link = await admin.client.from('profiles').update({ user_id: user.user.id }).eq('id', profile.id);
  assert.equal(link.status, 403);
  const rename = await admin.client.from('profiles').update({ last_name: 'King' }).eq('id', profile.id).select('last_name');
  assert.deepEqual(rename.data, [{ last_name: 'King' }]);
  const invitationCount = () => sql(`select count(*) from public.profile_invitations where id = '${created.data.id}'`);
  assert.equal((await admin.client.from('profile_invitations').delete().eq('id', created.data.id)).error, null);
  assert.deepEqual(invitationCount(), [['1']], 'an admin deletes nothing');
  assert.deepEqual((await admin.client.from('profiles').delete().eq('id', profile.id).select('id')).data, []);
  assert.equal((await owner.client.from('profile_invitations').delete().eq('id', created.data.id)).error, null);
  assert.deepEqual(invitationCount(), [['0']], 'a workspace owner deletes');

  // An admin cannot insert an invitation directly (the attack: a token hash and an expiry of
  // their own, past the 1–30 day rule and the e-mail-in-use check).
  const direct = await admin.client.from('profile_invitations')
    .insert({ profile_id: profile.id, email: 'direct@example.test', token_hash: newToken().hash });
  assert.equal(direct.status, 403);
  assert.equal(direct.error.code, '42501');

  // A linked user reads their own record only, and cannot change it.
  const linkedProfile = await createProfile(admin);
  const accepted = await acceptLikeTheWorker((await invite(admin, linkedProfile.id)).hash);
  const invitee = anonClient();
  await invitee.auth.signInWithPassword({ email: accepted.data.email, password: accepted.password });
  assert.deepEqual((await invitee.from('profiles').select('id')).data, [{ id: linkedProfile.id }]);
  assert.deepEqual((await invitee.from('profiles').update({ first_name: 'Mallory' }).eq('id', linkedProfile.id).select('id')).data, []);
  assertRpcError(await invite(admin, linkedProfile.id), 409, 'profile_already_linked');

  assert.deepEqual((await owner.client.from('profiles').delete().eq('id', profile.id).select('id')).data, [{ id: profile.id }]);
  assert.deepEqual(sql(`select count(*) from public.profile_invitations where profile_id = '${profile.id}'`), [['0']]);
});

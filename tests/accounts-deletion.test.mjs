// Deleting one's own account (public.delete_my_account through /rest/v1/rpc), for every client:
// only a session authenticated in the last 5 minutes may; what goes (the Auth user, the account,
// connections) and what stays unlinked (invitations, an admin's pending ones revoked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { anonClient, signedUpUser, sql, stack } from './support/stack.mjs';

test('a fresh session deletes its account; an admin\'s pending invitations are revoked, the rows stay', async () => {
  const { client, user } = await signedUpUser(stack, 'delete-me');
  const [[profileId]] = sql(`INSERT INTO public.profiles (first_name, created_by) VALUES ('Invitee', '${user.id}') RETURNING id`);
  const [[invitationId]] = sql(`INSERT INTO public.profile_invitations (profile_id, email, token_hash, invited_by)
    VALUES ('${profileId}', 'invitee-${user.id}@example.test', '${randomBytes(32).toString('hex')}', '${user.id}') RETURNING id`);
  const { data, error } = await client.rpc('delete_my_account');
  assert.equal(error, null);
  assert.deepEqual(data, { deleted_user_id: user.id, invitations_revoked: 1 });
  assert.deepEqual(sql(`SELECT count(*) FROM auth.users WHERE id = '${user.id}'`), [['0']]);
  assert.deepEqual(sql(`SELECT count(*) FROM public.user_profiles WHERE id = '${user.id}'`), [['0']]);
  assert.deepEqual(sql(`SELECT status, invited_by IS NULL, revoked_at IS NOT NULL FROM public.profile_invitations WHERE id = '${invitationId}'`), [['revoked', 't', 't']]);
  assert.deepEqual(sql(`SELECT created_by IS NULL FROM public.profiles WHERE id = '${profileId}'`), [['t']]);
  const after = await client.auth.getUser();
  assert.equal(after.error?.status, 403, 'the session went with the account');
});

test('a session that signed in more than 5 minutes ago must sign in again; anon cannot call it', async () => {
  const { client, session, email, password } = await signedUpUser(stack, 'delete-stale');
  sql(`UPDATE auth.mfa_amr_claims SET updated_at = now() - interval '10 minutes' WHERE session_id = '${JSON.parse(Buffer.from(session.access_token.split('.')[1], 'base64url')).session_id}'`);
  await client.auth.refreshSession();
  const stale = await client.rpc('delete_my_account');
  assert.equal(stale.error?.code, '42501');
  assert.equal(stale.error?.hint, 'reauthentication_required');
  const anonymous = await anonClient().rpc('delete_my_account');
  assert.ok(anonymous.error, 'anon has no execute grant');
  const again = anonClient();
  assert.equal((await again.auth.signInWithPassword({ email, password })).error, null);
  assert.equal((await again.rpc('delete_my_account')).error, null);
});

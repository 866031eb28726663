// The first admin (20261201150300_grant_account_role.sql): grant_account_role, the operator's
// statement on a hosted project (SQL editor or service key), and what the role then allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, serviceClient, signedUpUser, sql } from './support/stack.mjs';

const service = serviceClient();

test('the service role (or the SQL editor) makes the first admin by e-mail; the admin can then create profiles', async () => {
  const first = await signedUpUser(undefined, 'first-admin');
  const denied = await first.client.from('profiles').insert({ first_name: 'Ada', last_name: 'L', email: `ada-${Date.now()}@example.test` });
  assert.equal(denied.status, 403, 'not an admin yet');

  const granted = await service.rpc('grant_account_role', { p_email: first.email.toUpperCase(), p_role: 'admin' });
  assert.equal(granted.error, null);
  assert.deepEqual(granted.data, { user_id: first.user.id, email: first.email, role: 'admin', previous_role: 'user' });
  assert.deepEqual(sql(`select role from public.user_profiles where id = '${first.user.id}'`), [['admin']]);
  const allowed = await first.client.from('profiles').insert({ first_name: 'Ada', last_name: 'L', email: `ada-${Date.now()}@example.test` }).select('id').single();
  assert.equal(allowed.error, null);

  // The documented SQL statement does the same as the database owner.
  const owner = await signedUpUser(undefined, 'first-owner');
  assert.deepEqual(sql(`select public.grant_account_role('${owner.email}', 'workspace_owner') ->> 'role'`), [['workspace_owner']]);
  // 'user' takes it back.
  assert.equal((await service.rpc('grant_account_role', { p_email: owner.email, p_role: 'user' })).data.previous_role, 'workspace_owner');
});

test('nobody else grants roles; unknown accounts and roles are refused', async () => {
  const u = await signedUpUser(undefined, 'self-admin');
  const self = await u.client.rpc('grant_account_role', { p_email: u.email, p_role: 'platform_super_admin' });
  assert.equal(self.status, 403);
  assert.equal(self.error.code, '42501');
  assert.equal((await anonClient().rpc('grant_account_role', { p_email: u.email, p_role: 'admin' })).status, 401);
  assert.deepEqual(sql(`select role from public.user_profiles where id = '${u.user.id}'`), [['user']]);

  const nobody = await service.rpc('grant_account_role', { p_email: 'nobody@example.test', p_role: 'admin' });
  assert.equal(nobody.status, 404);
  assert.equal(nobody.error.hint, 'account_not_found');
  const badRole = await service.rpc('grant_account_role', { p_email: u.email, p_role: 'god' });
  assert.equal(badRole.status, 400);
  assert.equal(badRole.error.code, '22P02');
  const blank = await service.rpc('grant_account_role', { p_email: ' ', p_role: 'admin' });
  assert.equal(blank.status, 400);
  assert.equal(blank.error.code, '22023');

  // A guest has no e-mail to be found by.
  const g = anonClient();
  const { data } = await g.auth.signInAnonymously();
  assert.deepEqual(sql(`select role from public.user_profiles where id = '${data.user.id}'`), [['user']]);
});

// Row-level security through /rest/v1 is Postgres's own: an owner-only table and the
// user_profiles migration, driven with supabase-js as users A and B, anon and the service key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, serviceClient, signedUpUser, sql } from './support/stack.mjs';

test('user A cannot read, change or delete user B\'s rows; anon sees nothing; the service key sees all', async () => {
  const a = await signedUpUser(undefined, 'rls-a');
  const b = await signedUpUser(undefined, 'rls-b');

  const inserted = await a.client.from('notes').insert({ body: 'a secret of A' }).select().single();
  assert.equal(inserted.error, null);
  assert.equal(inserted.data.user_id, a.user.id, 'user_id defaults to auth.uid()');
  const noteId = inserted.data.id;

  const own = await a.client.from('notes').select('id, body');
  assert.deepEqual(own.data, [{ id: noteId, body: 'a secret of A' }]);

  const bReads = await b.client.from('notes').select('*').eq('id', noteId);
  assert.equal(bReads.error, null);
  assert.deepEqual(bReads.data, [], 'B cannot see A\'s note');

  const bUpdates = await b.client.from('notes').update({ body: 'defaced' }).eq('id', noteId).select();
  assert.equal(bUpdates.error, null);
  assert.deepEqual(bUpdates.data, [], 'B\'s update matches no row');

  const bDeletes = await b.client.from('notes').delete().eq('id', noteId).select();
  assert.deepEqual(bDeletes.data, [], 'B\'s delete matches no row');

  const bForges = await b.client.from('notes').insert({ body: 'planted', user_id: a.user.id });
  assert.equal(bForges.status, 403, 'B cannot write a row owned by A');
  assert.equal(bForges.error.code, '42501');

  const anonReads = await anonClient().from('notes').select('*');
  assert.deepEqual(anonReads.data, [], 'anon sees no notes');
  const anonWrites = await anonClient().from('notes').insert({ body: 'anon' });
  assert.equal(anonWrites.status, 401, 'anon may not insert');

  assert.deepEqual(sql(`select body from public.notes where id = ${noteId}`), [['a secret of A']], 'nothing was changed');

  const all = await serviceClient().from('notes').select('user_id').in('user_id', [a.user.id, b.user.id]);
  assert.equal(all.error, null);
  assert.equal(all.data.length, 1, 'the service key bypasses RLS');
});

test('user_profiles: created by the trigger, owner-only, and only safe columns are editable', async () => {
  const a = await signedUpUser(undefined, 'profile-a');
  const b = await signedUpUser(undefined, 'profile-b');

  const mine = await a.client.from('user_profiles').select('id, email, is_guest, state').single();
  assert.equal(mine.error, null);
  assert.deepEqual(mine.data, { id: a.user.id, email: a.email, is_guest: false, state: 'active' });

  const theirs = await a.client.from('user_profiles').select('id').eq('id', b.user.id);
  assert.deepEqual(theirs.data, [], 'A cannot read B\'s profile');

  const rename = await a.client.from('user_profiles').update({ display_name: 'Ada' }).eq('id', a.user.id).select('display_name');
  assert.deepEqual(rename.data, [{ display_name: 'Ada' }]);

  const escalate = await a.client.from('user_profiles').update({ state: 'blocked' }).eq('id', a.user.id);
  assert.equal(escalate.status, 403, 'state is not a column users may change');

  const other = await a.client.from('user_profiles').update({ display_name: 'pwned' }).eq('id', b.user.id).select();
  assert.deepEqual(other.data, []);
  assert.deepEqual(sql(`select display_name is null from public.user_profiles where id = '${b.user.id}'`), [['t']]);

  const anon = await anonClient().from('user_profiles').select('id');
  assert.equal(anon.status, 401, 'anon has no access to profiles at all');
});

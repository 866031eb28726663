// Avatars through supabase-js's storage (20261207800000_avatars_bucket.sql), as the account page
// uses them: a person with an account writes only `avatars/{their id}/…`, the bucket's size and
// type limits hold, the picture is public by URL, and the account's avatar_url points at it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, signedUpUser, sql, stack } from './support/stack.mjs';
import { rectanglesPng } from './support/png.mjs';

const png = rectanglesPng(32, 32);

test('a user uploads and replaces their own avatar; it is public by URL and on their account', async () => {
  const { client, user } = await signedUpUser(stack, 'avatar');
  const path = `${user.id}/avatar`;
  const first = await client.storage.from('avatars').upload(path, png, { contentType: 'image/png', upsert: true });
  assert.equal(first.error, null);
  assert.equal(first.data.path, path);
  const { publicUrl } = client.storage.from('avatars').getPublicUrl(path).data;
  const fetched = await fetch(publicUrl);
  assert.equal(fetched.status, 200, 'anyone with the link reads it, no key needed');
  assert.equal(fetched.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), png);
  const jpeg = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');
  const second = await client.storage.from('avatars').upload(path, jpeg, { contentType: 'image/jpeg', upsert: true });
  assert.equal(second.error, null, 'replacing one\'s own avatar (upsert) is allowed');
  assert.deepEqual(Buffer.from(await (await fetch(publicUrl)).arrayBuffer()), jpeg);
  assert.deepEqual(sql(`SELECT count(*) FROM storage.objects WHERE bucket_id = 'avatars' AND name = '${path}'`), [['1']]);
  const saved = await client.from('user_profiles').update({ avatar_url: `${publicUrl}?v=2` }).eq('id', user.id).select('avatar_url').single();
  assert.equal(saved.error, null);
  assert.equal(saved.data.avatar_url, `${publicUrl}?v=2`);
  const removed = await client.storage.from('avatars').remove([path]);
  assert.equal(removed.error, null);
  assert.equal(removed.data.length, 1);
  assert.equal((await fetch(publicUrl)).status, 400, 'gone (Storage answers a missing object 400 not_found)');
});

test('another user\'s avatar path is refused: no upload, no overwrite, no delete', async () => {
  const owner = await signedUpUser(stack, 'avatar-owner');
  const other = await signedUpUser(stack, 'avatar-other');
  const path = `${owner.user.id}/avatar`;
  assert.equal((await owner.client.storage.from('avatars').upload(path, png, { contentType: 'image/png' })).error, null);
  const overwrite = await other.client.storage.from('avatars').upload(path, rectanglesPng(8, 8), { contentType: 'image/png', upsert: true });
  assert.equal(overwrite.error?.statusCode, '403');
  assert.match(overwrite.error.message, /row-level security/);
  const foreign = await other.client.storage.from('avatars').upload(`${owner.user.id}/second`, png, { contentType: 'image/png' });
  assert.equal(foreign.error?.statusCode, '403');
  const outside = await other.client.storage.from('avatars').upload('avatar', png, { contentType: 'image/png' });
  assert.equal(outside.error?.statusCode, '403', 'only under one\'s own id');
  const removed = await other.client.storage.from('avatars').remove([path]);
  assert.equal(removed.error, null);
  assert.deepEqual(removed.data, [], 'Storage removes nothing it may not see');
  assert.deepEqual(sql(`SELECT count(*) FROM storage.objects WHERE bucket_id = 'avatars' AND name LIKE '${owner.user.id}/%'`), [['1']]);
  const anon = await anonClient().storage.from('avatars').upload(`${owner.user.id}/anon`, png, { contentType: 'image/png' });
  assert.equal(anon.error?.statusCode, '403');
  const listed = await other.client.storage.from('avatars').list(owner.user.id);
  assert.deepEqual(listed.data, [], 'others do not list someone\'s folder');
});

test('the bucket\'s limits: at most 1 MiB, PNG/JPEG/WebP only', async () => {
  const { client, user } = await signedUpUser(stack, 'avatar-limits');
  const big = await client.storage.from('avatars').upload(`${user.id}/avatar`, Buffer.alloc(1024 * 1024 + 1), { contentType: 'image/png' });
  assert.equal(big.error?.statusCode, '413');
  assert.equal(big.error.message, 'The object exceeded the maximum allowed size');
  const gif = await client.storage.from('avatars').upload(`${user.id}/avatar`, Buffer.from('GIF89a'), { contentType: 'image/gif' });
  assert.equal(gif.error?.statusCode, '415');
  assert.equal(gif.error.message, 'mime type image/gif is not supported');
  assert.deepEqual(sql(`SELECT count(*) FROM storage.objects WHERE bucket_id = 'avatars' AND name LIKE '${user.id}/%'`), [['0']]);
  const bucket = await client.storage.getBucket('avatars');
  assert.equal(bucket.error, null, 'signed-in users read the limits, as the account page does');
  assert.equal(bucket.data.file_size_limit, 1048576);
  assert.deepEqual(bucket.data.allowed_mime_types, ['image/png', 'image/jpeg', 'image/webp']);
});

test('guests (anonymous sessions) have no avatar', async () => {
  const client = anonClient();
  const { data, error } = await client.auth.signInAnonymously();
  assert.equal(error, null);
  const upload = await client.storage.from('avatars').upload(`${data.user.id}/avatar`, png, { contentType: 'image/png' });
  assert.equal(upload.error?.statusCode, '403');
});

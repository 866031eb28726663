// As recent Supabase Storage: a DELETE on storage.objects or storage.buckets outside the Storage
// API fails (42501, the bytes would be left with no row to find them by), whoever runs it, unless
// the transaction sets `storage.allow_delete_query`; the API's own deletes (remove, emptyBucket,
// deleteBucket) go on working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { serviceClient, signedUpUser, sql, stack } from './support/stack.mjs';

/** psql's error text for `script`, or null when it succeeds. */
function sqlError(script) {
  try {
    execFileSync('psql', [stack.dbUrl, '-X', '-q', '-v', 'ON_ERROR_STOP=1'], { input: script, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    return null;
  } catch (e) {
    return e.stderr;
  }
}

const refused = /Direct deletion from storage tables is not allowed\. Use the Storage API instead\./;

test('direct SQL deletes from the storage tables are refused, for the superuser and for a user', async () => {
  const a = await signedUpUser(undefined, 'protect');
  const name = `${a.user.id}/keep.png`;
  assert.equal((await a.client.storage.from('images').upload(name, Buffer.from('kept'), { contentType: 'image/png' })).error, null);

  assert.match(sqlError(`delete from storage.objects where name = '${name}';`), refused);
  assert.match(sqlError(`delete from storage.buckets where id = 'no-such-bucket-${randomUUID()}';`), refused, 'a statement trigger: refused even when no row matches');
  const claims = JSON.stringify({ sub: a.user.id, role: 'authenticated' });
  assert.match(
    sqlError(`begin; set local role authenticated; select set_config('request.jwt.claims', '${claims}', true);
              delete from storage.objects where name = '${name}'; commit;`),
    refused,
  );
  const err = sqlError(`\\set VERBOSITY verbose\ndelete from storage.objects where name = '${name}';`);
  assert.match(err, /42501/);
  assert.match(err, /HINT:\s+This prevents accidental data loss from orphaned objects\./);

  const { data, error } = await a.client.storage.from('images').download(name);
  assert.equal(error, null, 'the row and the bytes are still there');
  assert.equal(await data.text(), 'kept');

  // SQL that says it knows what it does may delete (the bytes it leaves are its business).
  assert.equal(sqlError(`begin; select set_config('storage.allow_delete_query', 'true', true);
                         delete from storage.objects where name = '${name}'; commit;`), null);
  assert.deepEqual(sql(`select count(*) from storage.objects where name = '${name}'`), [['0']]);
  // The setting is the transaction's own: the next statement is refused again.
  assert.match(sqlError(`delete from storage.objects where name = '${name}';`), refused);
});

test("the Storage API's own deletes still work: remove, emptyBucket, deleteBucket", async () => {
  const a = await signedUpUser(undefined, 'protect-api');
  const images = a.client.storage.from('images');
  const names = [`${a.user.id}/one.png`, `${a.user.id}/two.png`];
  for (const n of names) assert.equal((await images.upload(n, Buffer.from(n), { contentType: 'image/png' })).error, null);
  const removed = await images.remove(names);
  assert.equal(removed.error, null);
  assert.deepEqual(removed.data.map((o) => o.name).sort(), names.sort());
  assert.deepEqual(sql(`select count(*) from storage.objects where name like '${a.user.id}/%'`), [['0']]);

  const service = serviceClient().storage;
  const bucket = `protect-${randomUUID()}`;
  assert.equal((await service.createBucket(bucket)).error, null);
  assert.equal((await service.from(bucket).upload('x.txt', Buffer.from('x'), { contentType: 'text/plain' })).error, null);
  assert.equal((await service.emptyBucket(bucket)).error, null);
  assert.equal((await service.deleteBucket(bucket)).error, null);
  assert.deepEqual(sql(`select count(*) from storage.buckets where id = '${bucket}'`), [['0']]);
});

// What storage-js 2.119 adds to the calls tests/storage.test.mjs drives, against devstack as
// against Supabase Storage: `cacheNonce` and `download` on public and signed URLs,
// `createSignedUrls` with paths that do not exist, `exists` on a missing object, `info`'s
// camel-cased row, and `list` sorted by a date, descending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { serviceClient } from './support/stack.mjs';

test('storage-js 2.119 options: cacheNonce, download names, createSignedUrls, exists, info, list by date', async () => {
  const storage = serviceClient().storage;
  const bucket = `client-${randomUUID()}`;
  assert.equal((await storage.createBucket(bucket, { public: true })).error, null);
  const files = storage.from(bucket);
  try {
    const body = Buffer.from('a public cat');
    assert.equal((await files.upload('pics/cat.png', body, { contentType: 'image/png', cacheControl: '60' })).error, null);
    assert.equal((await files.upload('pics/dog.png', Buffer.from('dog'), { contentType: 'image/png' })).error, null);

    const plain = files.getPublicUrl('pics/cat.png', { cacheNonce: 7 }).data.publicUrl;
    assert.match(plain, /\?cacheNonce=7$/);
    const res = await fetch(plain);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
    assert.equal(res.headers.get('content-disposition'), null);

    const named = await fetch(files.getPublicUrl('pics/cat.png', { download: 'my cat.png', cacheNonce: 1 }).data.publicUrl);
    assert.equal(named.status, 200);
    assert.match(named.headers.get('content-disposition'), /^attachment; filename=my%20cat\.png/);
    const attached = await fetch(files.getPublicUrl('pics/cat.png', { download: true }).data.publicUrl);
    assert.match(attached.headers.get('content-disposition'), /^attachment/);

    const signed = await files.createSignedUrl('pics/cat.png', 60, { download: 'x.png', cacheNonce: 2 });
    assert.equal(signed.error, null);
    const signedRes = await fetch(signed.data.signedUrl);
    assert.equal(signedRes.status, 200);
    assert.match(signedRes.headers.get('content-disposition'), /filename=x\.png/);

    const many = await files.createSignedUrls(['pics/cat.png', 'pics/none.png'], 60);
    assert.equal(many.error, null);
    assert.equal(many.data.length, 2);
    assert.equal(many.data[0].error, null);
    assert.equal((await fetch(many.data[0].signedUrl)).status, 200);
    assert.equal(many.data[1].path, 'pics/none.png');
    assert.equal(many.data[1].signedUrl, null);
    assert.match(many.data[1].error, /does not exist/);

    assert.deepEqual(await files.exists('pics/cat.png'), { data: true, error: null });
    const missing = await files.exists('pics/none.png');
    assert.equal(missing.data, false);

    const info = await files.info('pics/cat.png');
    assert.equal(info.error, null);
    assert.equal(info.data.name, 'pics/cat.png');
    assert.equal(info.data.bucketId, bucket);
    assert.equal(info.data.size, body.length);
    assert.equal(info.data.contentType, 'image/png');
    assert.equal(info.data.cacheControl, 'max-age=60');
    assert.match(info.data.etag, /^"[0-9a-f]{32}"$/);

    const byDate = await files.list('pics', { sortBy: { column: 'updated_at', order: 'desc' } });
    assert.equal(byDate.error, null);
    assert.deepEqual(byDate.data.map((e) => e.name), ['dog.png', 'cat.png']);
  } finally {
    await storage.emptyBucket(bucket);
    await storage.deleteBucket(bucket);
  }
});

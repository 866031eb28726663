// devstack's /storage/v1 through supabase-js (storage-js), against the project's buckets
// (supabase/migrations/20261207200000_storage_buckets.sql): RLS on storage.objects decides every object
// operation, the bytes land under the state directory only once the row is allowed, and what
// is refused (other users' paths, no policy, wrong MIME type, over the limit, expired or
// reused signed URLs, traversal in names) leaves neither a row nor a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { anonClient, serviceClient, signedUpUser, signJwt, sql, stack } from './support/stack.mjs';

const storageUrl = `${stack.url}/storage/v1`;
const statusPath = process.env.DEVSTACK_STATUS ?? new URL('../.devstack/status.json', import.meta.url).pathname;
const filesDir = join(dirname(statusPath), 'storage', 'default');
const MiB = 1024 * 1024;

/** Bytes that stand for an image (Storage never looks inside). */
function png(tag = 'img') {
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(`${tag}-${randomUUID()}`)]);
}

/** The object files on disk, part files included. */
function files() {
  return existsSync(filesDir) ? readdirSync(filesDir).sort() : [];
}

function objectRows(bucket, name) {
  return sql(`select owner_id, metadata->>'mimetype', (metadata->>'size')::int, version from storage.objects
              where bucket_id = '${bucket}' and name = '${name.replaceAll("'", "''")}'`);
}

function uploadLogs(userId) {
  return sql(`select action, credits_used, metadata->>'name' from public.usage_logs
              where user_id = '${userId}' and action = 'upload' order by created_at`);
}

/** A ReadableStream of `total` bytes in 64 KiB chunks, made as it is read (never held whole). */
function byteStream(total) {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(64 * 1024, total - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n).fill(7));
    },
  });
}

/** A raw request with the path exactly as given (fetch would normalise `..` and `%2e%2e`). */
function rawRequest(path, { method = 'GET', headers = {}, body } = {}) {
  const url = new URL(stack.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, body: parsed, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function authHeaders(session) {
  return { apikey: stack.anonKey, Authorization: `Bearer ${session.access_token}` };
}

function assertStorageError(error, statusCode, code) {
  assert.ok(error, `expected a Storage error ${statusCode} ${code}`);
  assert.equal(error.statusCode, statusCode, `${error.message} (${error.code})`);
  if (code) assert.equal(error.code, code, error.message);
}

function rssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
}

test('a user uploads into their own folder of `images`, reads it back, and the upload is in the usage ledger', async () => {
  const a = await signedUpUser(undefined, 'st-a');
  const before = files();
  const bytes = png('own');
  const name = `${a.user.id}/cat.png`;
  const { data, error } = await a.client.storage.from('images').upload(name, bytes, {
    contentType: 'image/png',
    cacheControl: '120',
    metadata: { shot: 'first' },
  });
  assert.equal(error, null);
  assert.equal(data.path, name);
  assert.equal(data.fullPath, `images/${name}`);
  assert.match(data.id, /^[0-9a-f-]{36}$/);

  const [[owner, mime, size, version]] = objectRows('images', name);
  assert.deepEqual([owner, mime, Number(size)], [a.user.id, 'image/png', bytes.length]);
  assert.deepEqual(readFileSync(join(filesDir, version)), bytes, 'the bytes are on disk under the state directory');
  assert.equal(files().length, before.length + 1);
  assert.deepEqual(
    sql(`select path_tokens, metadata ? 'eTag', metadata->>'cacheControl', user_metadata->>'shot' from storage.objects where name = '${name}'`),
    [[`{${a.user.id},cat.png}`, 't', 'max-age=120', 'first']],
  );
  assert.deepEqual(uploadLogs(a.user.id), [['upload', '0', name]], 'the database logged the upload, 0 credits');

  const downloaded = await a.client.storage.from('images').download(name);
  assert.equal(downloaded.error, null);
  assert.deepEqual(Buffer.from(await downloaded.data.arrayBuffer()), bytes);
  assert.equal(downloaded.data.type, 'image/png');
});

test('another user, anon and a forged token get nothing of a user\'s images; nothing they try is written', async () => {
  const a = await signedUpUser(undefined, 'st-owner');
  const b = await signedUpUser(undefined, 'st-other');
  const name = `${a.user.id}/private.png`;
  assert.equal((await a.client.storage.from('images').upload(name, png(), { contentType: 'image/png' })).error, null);
  const before = files();

  const bReads = await b.client.storage.from('images').download(name);
  assertStorageError(bReads.error, '404', 'NoSuchKey');
  assert.equal(bReads.error.status, 400, 'Storage sends its errors as HTTP 400');
  const bInfo = await b.client.storage.from('images').info(name);
  assertStorageError(bInfo.error, '404', 'NoSuchKey');
  const bExists = await b.client.storage.from('images').exists(name);
  assert.equal(bExists.data, false);

  const bWrites = await b.client.storage.from('images').upload(`${a.user.id}/planted.png`, png(), { contentType: 'image/png' });
  assertStorageError(bWrites.error, '403', 'AccessDenied');
  assert.equal(bWrites.error.message, 'new row violates row-level security policy');
  const bOverwrites = await b.client.storage.from('images').upload(name, png(), { contentType: 'image/png', upsert: true });
  assertStorageError(bOverwrites.error, '403', 'AccessDenied');
  const bRemoves = await b.client.storage.from('images').remove([name]);
  assert.deepEqual(bRemoves.data, [], 'RLS hides the row from the delete');
  const bMoves = await b.client.storage.from('images').move(name, `${b.user.id}/stolen.png`);
  assertStorageError(bMoves.error, '404', 'NoSuchKey');
  const bCopies = await b.client.storage.from('images').copy(name, `${b.user.id}/copied.png`);
  assertStorageError(bCopies.error, '404', 'NoSuchKey');
  const bLists = await b.client.storage.from('images').list(a.user.id);
  assert.deepEqual(bLists.data, []);
  const bSigns = await b.client.storage.from('images').createSignedUrl(name, 60);
  assertStorageError(bSigns.error, '404', 'NoSuchKey');

  const anon = anonClient();
  const anonWrites = await anon.storage.from('images').upload(`${a.user.id}/anon.png`, png(), { contentType: 'image/png' });
  assertStorageError(anonWrites.error, '403', 'AccessDenied');
  assertStorageError((await anon.storage.from('images').download(name)).error, '404', 'NoSuchKey');

  const forged = signJwt({ sub: a.user.id, role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 60 }, 'not-the-project-secret-at-all-not-it');
  const res = await fetch(`${storageUrl}/object/images/${name}`, { headers: { apikey: stack.anonKey, Authorization: `Bearer ${forged}` } });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.deepEqual([body.statusCode, body.code], ['403', 'AccessDenied']);
  const expired = signJwt({ sub: a.user.id, role: 'authenticated', exp: Math.floor(Date.now() / 1000) - 10 });
  const expiredRes = await fetch(`${storageUrl}/object/images/${name}`, { headers: { apikey: stack.anonKey, Authorization: `Bearer ${expired}` } });
  assert.deepEqual((await expiredRes.json()).message, 'jwt expired');

  assert.deepEqual(files(), before, 'no file was written or removed');
  assert.equal(sql(`select count(*) from storage.objects where name like '${a.user.id}/%'`)[0][0], '1');
  assert.deepEqual(uploadLogs(b.user.id), []);
});

test('a guest (anonymous session) uploads into their own folder, as they may file tasks', async () => {
  const guest = anonClient();
  const { data, error } = await guest.auth.signInAnonymously();
  assert.equal(error, null);
  const name = `${data.user.id}/guest.webp`;
  const up = await guest.storage.from('images').upload(name, png('guest'), { contentType: 'image/webp' });
  assert.equal(up.error, null);
  assert.deepEqual(uploadLogs(data.user.id).map((r) => r[0]), ['upload']);
});

test('wrong MIME types are 415 and oversized bodies 413, with Content-Length or without, and leave nothing behind', async () => {
  const a = await signedUpUser(undefined, 'st-limits');
  const bucket = a.client.storage.from('images');
  const before = files();

  const gif = await bucket.upload(`${a.user.id}/anim.gif`, png(), { contentType: 'image/gif' });
  assertStorageError(gif.error, '415', 'InvalidMimeType');
  assert.equal(gif.error.status, 415);
  assert.equal(gif.error.message, 'mime type image/gif is not supported');

  const declared = await bucket.upload(`${a.user.id}/big.png`, Buffer.alloc(10 * MiB + 1, 1), { contentType: 'image/png' });
  assertStorageError(declared.error, '413', 'EntityTooLarge');
  assert.equal(declared.error.status, 413);

  const streamed = await bucket.upload(`${a.user.id}/streamed.png`, byteStream(11 * MiB), { contentType: 'image/png' });
  assertStorageError(streamed.error, '413', 'EntityTooLarge');

  const form = new FormData();
  form.append('', new Blob([Buffer.alloc(10 * MiB + 10, 2)], { type: 'image/png' }), 'multi.png');
  const multipart = await bucket.upload(`${a.user.id}/multi.png`, form);
  assertStorageError(multipart.error, '413', 'EntityTooLarge');

  const atLimit = await bucket.upload(`${a.user.id}/exact.png`, Buffer.alloc(10 * MiB, 3), { contentType: 'image/png' });
  assert.equal(atLimit.error, null, 'exactly the bucket limit is allowed');

  assert.deepEqual(
    sql(`select name from storage.objects where name like '${a.user.id}/%' order by name`),
    [[`${a.user.id}/exact.png`]],
  );
  assert.equal(files().length, before.length + 1, 'only the accepted upload left a file');
  assert.deepEqual(files().filter((f) => f.endsWith('.part')), []);
});

test('upsert and update replace the bytes; without x-upsert a second upload is a Duplicate; upsert needs UPDATE rights', async () => {
  const a = await signedUpUser(undefined, 'st-upsert');
  const bucket = a.client.storage.from('images');
  const name = `${a.user.id}/again.png`;
  assert.equal((await bucket.upload(name, png('v1'), { contentType: 'image/png' })).error, null);
  const [[, , , v1]] = objectRows('images', name);

  const dup = await bucket.upload(name, png('v2'), { contentType: 'image/png' });
  assertStorageError(dup.error, '409');
  assert.equal(dup.error.message, 'The resource already exists');

  const v2 = png('v2');
  assert.equal((await bucket.upload(name, v2, { contentType: 'image/png', upsert: true })).error, null);
  const [[, , , version2]] = objectRows('images', name);
  assert.notEqual(version2, v1);
  assert.equal(existsSync(join(filesDir, v1)), false, 'the replaced bytes are gone');
  assert.deepEqual(Buffer.from(await (await bucket.download(name)).data.arrayBuffer()), v2);

  const v3 = png('v3');
  const updated = await bucket.update(name, v3, { contentType: 'image/jpeg' });
  assert.equal(updated.error, null);
  assert.deepEqual(Buffer.from(await (await bucket.download(name)).data.arrayBuffer()), v3);
  assert.equal(objectRows('images', name)[0][1], 'image/jpeg');
  assert.equal(uploadLogs(a.user.id).length, 3, 'each new version is an upload');

  // A bucket whose policy lets users add their files but not replace them.
  const noUpdate = `st-noupdate-${randomUUID().slice(0, 8)}`;
  sql(`insert into storage.buckets (id, name) values ('${noUpdate}', '${noUpdate}');
       create policy "${noUpdate} insert" on storage.objects for insert to authenticated
         with check (bucket_id = '${noUpdate}' and owner_id = (select auth.uid())::text);
       create policy "${noUpdate} select" on storage.objects for select to authenticated
         using (bucket_id = '${noUpdate}' and owner_id = (select auth.uid())::text);`);
  const inbox = a.client.storage.from(noUpdate);
  assert.equal((await inbox.upload('note.txt', 'first', { contentType: 'text/plain' })).error, null);
  const before = files();
  const replace = await inbox.upload('note.txt', 'second', { contentType: 'text/plain', upsert: true });
  assertStorageError(replace.error, '403', 'AccessDenied');
  const replaceByUpdate = await inbox.update('note.txt', 'third', { contentType: 'text/plain' });
  assertStorageError(replaceByUpdate.error, '403', 'AccessDenied');
  assert.equal(await (await inbox.download('note.txt')).data.text(), 'first');
  assert.deepEqual(files(), before);

  // A bucket with no policy at all: users get nothing, the service role everything.
  const noPolicy = `st-nopolicy-${randomUUID().slice(0, 8)}`;
  sql(`insert into storage.buckets (id, name) values ('${noPolicy}', '${noPolicy}')`);
  assertStorageError((await a.client.storage.from(noPolicy).upload('x.txt', 'x')).error, '403', 'AccessDenied');
  const service = serviceClient().storage.from(noPolicy);
  assert.equal((await service.upload('x.txt', 'by the server')).error, null);
  assertStorageError((await a.client.storage.from(noPolicy).download('x.txt')).error, '404', 'NoSuchKey');
  assert.deepEqual((await a.client.storage.from(noPolicy).list()).data, []);
  assert.equal((await service.list()).data.length, 1);
});

test('traversal and encoded slashes in object names cannot reach another user\'s folder or the disk', async () => {
  const a = await signedUpUser(undefined, 'st-trav-a');
  const b = await signedUpUser(undefined, 'st-trav-b');
  const headers = { ...authHeaders(a.session), 'Content-Type': 'image/png' };
  const before = files();

  // supabase-js (fetch) resolves `..` before sending: the name is then B's, which RLS refuses.
  const viaClient = await a.client.storage.from('images').upload(`${a.user.id}/../${b.user.id}/evil.png`, png(), { contentType: 'image/png' });
  assertStorageError(viaClient.error, '403', 'AccessDenied');

  for (const path of [
    `/storage/v1/object/images/${a.user.id}/../${b.user.id}/evil.png`,
    `/storage/v1/object/images/${a.user.id}/%2e%2e/${b.user.id}/evil.png`,
    `/storage/v1/object/images/${a.user.id}/..%2F${b.user.id}%2Fevil.png`,
    `/storage/v1/object/images/${a.user.id}%2F..%2F..%2F..%2Fetc%2Fpasswd`,
    `/storage/v1/object/images/${b.user.id}%2Fevil.png`,
  ]) {
    const res = await rawRequest(path, { method: 'POST', headers, body: png() });
    assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const direct = await rawRequest(`/storage/v1/object/images/${a.user.id}/%2e%2e/x.png`, { method: 'POST', headers, body: png() });
  if (direct.status === 400 && direct.body?.code) {
    assert.equal(direct.body.code, 'InvalidKey', 'a `..` segment is an invalid key, as in Storage\'s file backend');
  }
  assert.deepEqual(sql(`select name from storage.objects where name like '%evil%' or name like '%..%' or name like '%passwd%'`), []);
  assert.deepEqual(files(), before, 'nothing was written');
});

test('signed download URLs serve without credentials until they expire, for the object they name only', async () => {
  const a = await signedUpUser(undefined, 'st-sign');
  const bucket = a.client.storage.from('images');
  const bytes = png('signed');
  const name = `${a.user.id}/shared.png`;
  assert.equal((await bucket.upload(name, bytes, { contentType: 'image/png' })).error, null);

  const { data, error } = await bucket.createSignedUrl(name, 60);
  assert.equal(error, null);
  assert.ok(data.signedUrl.startsWith(`${storageUrl}/object/sign/images/${name}?token=`), data.signedUrl);
  const res = await fetch(data.signedUrl);
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);

  const named = await bucket.createSignedUrl(name, 60, { download: 'my cat.png' });
  const namedRes = await fetch(named.data.signedUrl);
  assert.equal(namedRes.headers.get('content-disposition'), "attachment; filename=my%20cat.png; filename*=UTF-8''my%20cat.png");

  const many = await bucket.createSignedUrls([name, `${a.user.id}/missing.png`], 60);
  assert.equal(many.error, null);
  assert.equal(many.data[0].error, null);
  assert.equal((await fetch(many.data[0].signedUrl)).status, 200);
  assert.equal(many.data[1].error, 'Either the object does not exist or you do not have access to it');
  assert.equal(many.data[1].signedUrl, null);

  // The token names its object: used for another path it is refused.
  const token = new URL(data.signedUrl).searchParams.get('token');
  const other = await fetch(`${storageUrl}/object/sign/images/${a.user.id}/other.png?token=${token}`);
  assert.equal(other.status, 400);
  assert.deepEqual(await other.json(), { statusCode: '400', code: 'InvalidSignature', error: 'InvalidSignature', message: 'Invalid signature' });
  const noToken = await fetch(`${storageUrl}/object/sign/images/${name}`);
  assert.equal(noToken.status, 400);

  const short = await bucket.createSignedUrl(name, 1);
  await new Promise((r) => setTimeout(r, 2100));
  const expired = await fetch(short.data.signedUrl);
  assert.equal(expired.status, 400);
  assert.deepEqual(await expired.json(), { statusCode: '400', code: 'InvalidJWT', error: 'InvalidJWT', message: 'jwt expired' });
});

test('signed upload URLs upload once, as their signer, until they expire; masks are written that way and read by the task owner', async () => {
  const a = await signedUpUser(undefined, 'st-upurl');
  const b = await signedUpUser(undefined, 'st-upurl-b');
  const name = `${a.user.id}/via-url.png`;
  const signed = await a.client.storage.from('images').createSignedUploadUrl(name);
  assert.equal(signed.error, null);
  assert.equal(signed.data.path, name);
  assert.ok(signed.data.signedUrl.includes(`/object/upload/sign/images/${name}?token=`));

  // Whoever holds the URL uploads, with no credentials of their own.
  const holder = anonClient().storage.from('images');
  const first = await holder.uploadToSignedUrl(name, signed.data.token, png('first'), { contentType: 'image/png' });
  assert.equal(first.error, null);
  assert.equal(first.data.fullPath, `images/${name}`);
  assert.equal(objectRows('images', name)[0][0], a.user.id, 'the signer owns the object');
  assert.deepEqual(uploadLogs(a.user.id).map((r) => r[2]), [name]);
  const before = files();
  const reused = await holder.uploadToSignedUrl(name, signed.data.token, png('second'), { contentType: 'image/png' });
  assertStorageError(reused.error, '409');
  assert.deepEqual(files(), before, 'the reused URL wrote nothing');

  const bSigns = await b.client.storage.from('images').createSignedUploadUrl(`${a.user.id}/b.png`);
  assertStorageError(bSigns.error, '403', 'AccessDenied');
  const otherPath = await holder.uploadToSignedUrl(`${a.user.id}/other.png`, signed.data.token, png(), { contentType: 'image/png' });
  assertStorageError(otherPath.error, '400', 'InvalidSignature');

  const now = Math.floor(Date.now() / 1000);
  const stale = signJwt({ owner: a.user.id, url: `images/${a.user.id}/late.png`, upsert: false, scope: 'upload', iat: now - 7300, exp: now - 100 });
  const late = await holder.uploadToSignedUrl(`${a.user.id}/late.png`, stale, png(), { contentType: 'image/png' });
  assertStorageError(late.error, '400', 'InvalidJWT');
  assert.equal(late.error.message, 'jwt expired');
  const downloadToken = signJwt({ url: `images/${a.user.id}/dl.png`, scope: 'download', exp: now + 60 });
  const wrongScope = await holder.uploadToSignedUrl(`${a.user.id}/dl.png`, downloadToken, png(), { contentType: 'image/png' });
  assertStorageError(wrongScope.error, '400', 'InvalidSignature');
  assert.deepEqual(objectRows('images', `${a.user.id}/late.png`), []);
  assert.deepEqual(files(), before);

  // masks: no client writes them; the service role signs an upload URL for the inference side.
  const [[taskId]] = sql(`insert into public.segmentation_results (user_id, source_image_url) values ('${a.user.id}', 'https://example.test/a.png') returning id`);
  const maskName = `${taskId}/mask.png`;
  assertStorageError((await a.client.storage.from('masks').upload(maskName, png())).error, '403', 'AccessDenied');
  const maskUrl = await serviceClient().storage.from('masks').createSignedUploadUrl(maskName);
  assert.equal(maskUrl.error, null);
  const mask = png('mask');
  assert.equal((await anonClient().storage.from('masks').uploadToSignedUrl(maskName, maskUrl.data.token, mask, { contentType: 'image/png' })).error, null);
  assert.deepEqual(Buffer.from(await (await a.client.storage.from('masks').download(maskName)).data.arrayBuffer()), mask, 'the task owner reads the mask');
  assertStorageError((await b.client.storage.from('masks').download(maskName)).error, '404', 'NoSuchKey');
  assert.equal(sql(`select count(*) from public.usage_logs where metadata->>'name' = '${maskName}'`)[0][0], '0', 'a server upload is no user upload');
});

test('info, exists, HEAD, ranges, download names, list options, move, copy and remove', async () => {
  const a = await signedUpUser(undefined, 'st-files');
  const bucket = a.client.storage.from('images');
  const root = a.user.id;
  const bytes = Buffer.from('0123456789');
  assert.equal((await bucket.upload(`${root}/b-cat.png`, bytes, { contentType: 'image/png', metadata: { k: 'v' } })).error, null);
  await new Promise((r) => setTimeout(r, 20));
  for (const n of ['a-dog.png', 'album/one.png', 'album/two.png', 'album/deep/three.png', 'c-cow.jpg']) {
    assert.equal((await bucket.upload(`${root}/${n}`, png(n), { contentType: n.endsWith('jpg') ? 'image/jpeg' : 'image/png' })).error, null, n);
  }

  const info = await bucket.info(`${root}/b-cat.png`);
  assert.equal(info.error, null);
  assert.equal(info.data.size, 10);
  assert.equal(info.data.contentType, 'image/png');
  assert.equal(info.data.bucketId, 'images');
  assert.deepEqual(info.data.metadata, { k: 'v' });
  assert.match(info.data.etag, /^"[0-9a-f]{32}"$/);
  assert.equal((await bucket.exists(`${root}/b-cat.png`)).data, true);
  assert.equal((await bucket.exists(`${root}/nope.png`)).data, false);

  const head = await fetch(`${storageUrl}/object/images/${root}/b-cat.png`, { method: 'HEAD', headers: authHeaders(a.session) });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '10');
  assert.equal(head.headers.get('etag'), info.data.etag);
  const notModified = await fetch(`${storageUrl}/object/images/${root}/b-cat.png`, { headers: { ...authHeaders(a.session), 'If-None-Match': info.data.etag } });
  assert.equal(notModified.status, 304);
  const range = await fetch(`${storageUrl}/object/authenticated/images/${root}/b-cat.png`, { headers: { ...authHeaders(a.session), Range: 'bytes=2-5' } });
  assert.equal(range.status, 206);
  assert.equal(range.headers.get('content-range'), 'bytes 2-5/10');
  assert.equal(await range.text(), '2345');
  const badRange = await fetch(`${storageUrl}/object/images/${root}/b-cat.png`, { headers: { ...authHeaders(a.session), Range: 'bytes=20-30' } });
  assert.equal((await badRange.json()).code, 'InvalidRange');
  const attachment = await fetch(`${storageUrl}/object/images/${root}/b-cat.png?download=`, { headers: authHeaders(a.session) });
  assert.equal(attachment.headers.get('content-disposition'), 'attachment;');

  const top = await bucket.list(root);
  assert.equal(top.error, null);
  assert.deepEqual(top.data.map((e) => [e.name, e.id === null]), [['a-dog.png', false], ['album', true], ['b-cat.png', false], ['c-cow.jpg', false]]);
  assert.equal(top.data[2].metadata.size, 10);
  const folder = await bucket.list(`${root}/album`);
  assert.deepEqual(folder.data.map((e) => e.name), ['deep', 'one.png', 'two.png']);
  const paged = await bucket.list(root, { limit: 2, offset: 1 });
  assert.deepEqual(paged.data.map((e) => e.name), ['album', 'b-cat.png']);
  const desc = await bucket.list(root, { sortBy: { column: 'name', order: 'desc' } });
  assert.deepEqual(desc.data.map((e) => e.name), ['c-cow.jpg', 'b-cat.png', 'album', 'a-dog.png']);
  const byDate = await bucket.list(root, { sortBy: { column: 'created_at', order: 'asc' } });
  assert.deepEqual(byDate.data.map((e) => e.name), ['album', 'b-cat.png', 'a-dog.png', 'c-cow.jpg'], 'folders first, then by date');
  const searched = await bucket.list(root, { search: 'B-C' });
  assert.deepEqual(searched.data.map((e) => e.name), ['b-cat.png'], 'search matches the start of names, any case');
  const wildcard = await bucket.list(root, { search: '%' });
  assert.deepEqual(wildcard.data, [], 'search is literal');

  assert.equal((await bucket.move(`${root}/a-dog.png`, `${root}/album/dog.png`)).error, null);
  assertStorageError((await bucket.download(`${root}/a-dog.png`)).error, '404', 'NoSuchKey');
  assert.equal((await bucket.download(`${root}/album/dog.png`)).error, null);
  const b = await signedUpUser(undefined, 'st-files-b');
  const moveAway = await bucket.move(`${root}/c-cow.jpg`, `${b.user.id}/cow.jpg`);
  assertStorageError(moveAway.error, '403', 'AccessDenied');
  const moveOnto = await bucket.move(`${root}/c-cow.jpg`, `${root}/b-cat.png`);
  assertStorageError(moveOnto.error, '409');

  const filesBefore = files().length;
  const copied = await bucket.copy(`${root}/b-cat.png`, `${root}/copy-cat.png`);
  assert.equal(copied.error, null);
  assert.equal(copied.data.path, `images/${root}/copy-cat.png`);
  assert.deepEqual(Buffer.from(await (await bucket.download(`${root}/copy-cat.png`)).data.arrayBuffer()), bytes);
  assert.equal(files().length, filesBefore + 1, 'a copy has bytes of its own');
  assertStorageError((await bucket.copy(`${root}/b-cat.png`, `${b.user.id}/cat.png`)).error, '403', 'AccessDenied');

  const removed = await bucket.remove([`${root}/b-cat.png`, `${root}/copy-cat.png`, `${root}/never.png`]);
  assert.equal(removed.error, null);
  assert.deepEqual(removed.data.map((o) => o.name).sort(), [`${root}/b-cat.png`, `${root}/copy-cat.png`]);
  assert.equal(files().length, filesBefore - 1, 'removed objects lose their files');
});

test('buckets: the service role creates, updates, empties and deletes them; users cannot; public buckets serve without a key', async () => {
  const service = serviceClient().storage;
  const a = await signedUpUser(undefined, 'st-buckets');

  const listed = await service.listBuckets();
  assert.equal(listed.error, null);
  const images = listed.data.find((bk) => bk.id === 'images');
  assert.deepEqual([images.public, images.file_size_limit, images.allowed_mime_types], [false, 10 * MiB, ['image/png', 'image/jpeg', 'image/webp']]);
  assert.ok(listed.data.some((bk) => bk.id === 'masks'));
  // Users see only the buckets a policy lets them read, the two whose settings the app checks
  // uploads against: `images` (20261207610000_images_bucket_readable.sql) and `avatars`
  // (20261207800000_avatars_bucket.sql); `masks` has no such policy.
  assert.deepEqual((await a.client.storage.listBuckets()).data.map((bk) => bk.id).sort(), ['avatars', 'images'],
    'only images and avatars are readable to users');
  assert.equal((await service.getBucket('masks')).data.public, false);
  assertStorageError((await service.getBucket('no-such-bucket')).error, '404', 'NoSuchBucket');

  const id = `st-public-${randomUUID().slice(0, 8)}`;
  const created = await service.createBucket(id, { public: true, allowedMimeTypes: ['image/*'], fileSizeLimit: '1KB' });
  assert.equal(created.error, null);
  assert.deepEqual(created.data, { name: id });
  assertStorageError((await service.createBucket(id)).error, '409');
  assertStorageError((await a.client.storage.createBucket(`st-mine-${randomUUID().slice(0, 8)}`)).error, '403', 'AccessDenied');
  assertStorageError((await service.createBucket('bad/name')).error, '400', 'InvalidBucketName');

  const pub = service.from(id);
  assert.equal((await pub.upload('anim.gif', png(), { contentType: 'image/gif' })).error, null, 'image/* takes any image type');
  assertStorageError((await pub.upload('page.html', '<p>', { contentType: 'text/html' })).error, '415', 'InvalidMimeType');
  assertStorageError((await pub.upload('big.png', Buffer.alloc(1001), { contentType: 'image/png' })).error, '413', 'EntityTooLarge');
  const { data: { publicUrl } } = pub.getPublicUrl('anim.gif');
  assert.equal(publicUrl, `${storageUrl}/object/public/${id}/anim.gif`);
  const open = await fetch(publicUrl);
  assert.equal(open.status, 200, 'a public object needs no key');
  assert.equal(open.headers.get('content-type'), 'image/gif');
  const privateUrl = a.client.storage.from('images').getPublicUrl(`${a.user.id}/x.png`).data.publicUrl;
  assert.equal((await (await fetch(privateUrl)).json()).code, 'NoSuchBucket', 'a private bucket has no public URLs');

  assert.equal((await service.updateBucket(id, { public: false, allowedMimeTypes: ['text/plain'], fileSizeLimit: 2000 })).error, null);
  const updated = (await service.getBucket(id)).data;
  assert.deepEqual([updated.public, updated.allowed_mime_types, updated.file_size_limit], [false, ['text/plain'], 2000]);
  assertStorageError((await service.updateBucket('no-such-bucket', { public: true })).error, '404', 'NoSuchBucket');

  const notEmpty = await service.deleteBucket(id);
  assertStorageError(notEmpty.error, '409', 'ResourceNotEmpty');
  const userEmpties = await a.client.storage.emptyBucket(id);
  assertStorageError(userEmpties.error, '403', 'AccessDenied');
  assert.equal(userEmpties.error.status, 403);
  const emptied = await service.emptyBucket(id);
  assert.deepEqual([emptied.error, emptied.data], [null, { message: 'Successfully emptied' }]);
  assert.deepEqual((await service.deleteBucket(id)).data, { message: 'Successfully deleted' });
  assertStorageError((await service.getBucket(id)).error, '404', 'NoSuchBucket');
});

test('the global 50 MiB limit holds where a bucket sets none, and a refused 100 MiB upload leaves memory flat and no file', async () => {
  const service = serviceClient().storage.from('masks');
  const before = files();
  const over = await service.upload(`global-${randomUUID()}.bin`, byteStream(50 * MiB + 1));
  assertStorageError(over.error, '413', 'EntityTooLarge');

  const a = await signedUpUser(undefined, 'st-huge');
  const pid = Number(process.env.DEVSTACK_PID);
  const rssBefore = pid ? rssKiB(pid) : null;
  const huge = await a.client.storage.from('images').upload(`${a.user.id}/huge.png`, byteStream(100 * MiB), { contentType: 'image/png' });
  assertStorageError(huge.error, '413', 'EntityTooLarge');
  const declared = await service.upload(`declared-${randomUUID()}.bin`, Buffer.alloc(100 * MiB, 9));
  assertStorageError(declared.error, '413', 'EntityTooLarge');
  if (pid) {
    const rssAfter = rssKiB(pid);
    console.log(`devstack RSS around two refused 100 MiB uploads: ${rssBefore} KiB -> ${rssAfter} KiB`);
    assert.ok(rssAfter - rssBefore < 32 * 1024, `RSS grew ${rssAfter - rssBefore} KiB`);
  }
  assert.deepEqual(files(), before, 'no file on disk');
  assert.deepEqual(objectRows('images', `${a.user.id}/huge.png`), []);
});

test('what devstack does not serve answers as a Storage server without the feature: image transformations, S3, resumable uploads', async () => {
  for (const [method, path] of [
    ['GET', '/render/image/public/images/x.png?width=10'],
    ['GET', '/render/image/authenticated/images/x.png'],
    ['POST', '/upload/resumable'],
    ['GET', '/s3/images'],
  ]) {
    const res = await fetch(`${storageUrl}${path}`, { method, headers: { apikey: stack.anonKey, Authorization: `Bearer ${stack.anonKey}` } });
    assert.equal(res.status, 404, path);
    assert.deepEqual(await res.json(), { statusCode: '404', code: 'InvalidRequest', error: 'Not Found', message: `Route ${method}:${path} not found` });
  }
  const transformed = await anonClient().storage.from('images').download('x.png', { transform: { width: 10 } });
  assertStorageError(transformed.error, '404');
});

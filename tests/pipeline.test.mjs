// The whole path on Storage: a guest (made by guest-signup) uploads a PNG this test makes to
// `images` through supabase-js, files a task naming it (source_image_path), the reference
// inference backend claims it (a signed download URL for the image, a signed upload URL for the
// mask), and the guest reads the mask from `masks`: a PNG of the image's size, not uniform; one
// credit charged once. An undecodable upload ends in error with the credit released; a path
// that is not the guest's own image is refused when filing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { sql, stack } from './support/stack.mjs';
import { functionGuest } from './support/guests.mjs';
import { drainTaskQueue, finishedTask, sessionUserId } from './support/tasks.mjs';
import { readPng, rectanglesPng } from './support/png.mjs';

const binary = new URL('../target/debug/inference-worker', import.meta.url).pathname;
let worker;

before(async () => {
  await drainTaskQueue();
  worker = spawn(binary, ['--dev-vars', process.env.DEVSTACK_DEV_VARS, '--functions-url', stack.functionsUrl, '--wait-seconds', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
  worker.output = '';
  worker.stdout.on('data', (d) => (worker.output += d));
  worker.stderr.on('data', (d) => (worker.output += d));
});

// A clean stop: the claim the worker is waiting on is answered and worked on first, so no task
// of the next file is taken and left to its lease.
after(async () => {
  const exited = new Promise((resolve) => worker.on('exit', resolve));
  worker.kill('SIGTERM');
  await exited;
});

async function upload(guest, name, bytes) {
  const path = `${await sessionUserId(guest.client)}/${name}`;
  const { error } = await guest.client.storage.from('images').upload(path, bytes, { contentType: 'image/png' });
  assert.equal(error, null);
  return path;
}

const account = (id) => sql(`select credits, credits_reserved, (select count(*) from public.usage_logs u where u.user_id = p.id and u.action = 'segmentation') from public.user_profiles p where id = '${id}'`)[0].map(Number);

test('an uploaded image is segmented: the mask in masks has its size and is not uniform; one credit, once', async () => {
  const guest = await functionGuest();
  const [credits] = account(await sessionUserId(guest.client));
  const path = await upload(guest, 'boxes.png', rectanglesPng(120, 80, [[10, 10, 40, 30], [70, 40, 30, 30]]));
  const { data: task, error } = await guest.client.from('segmentation_results')
    .insert({ source_image_path: path, text_prompt: 'the boxes' }).select('id, source_image_url').single();
  assert.equal(error, null);
  assert.equal(task.source_image_url, null);

  const done = await finishedTask(guest, task.id);
  assert.equal(done.status, 'done', `${done.error} ${worker.output}`);
  assert.equal(done.mask_path, `${task.id}/mask.png`);
  const { data: blob, error: readError } = await guest.client.storage.from('masks').download(done.mask_path);
  assert.equal(readError, null);
  const mask = readPng(Buffer.from(await blob.arrayBuffer()));
  assert.deepEqual([mask.width, mask.height], [120, 80]);
  const on = mask.pixels.filter((p) => p === 255).length;
  assert.equal(on, 40 * 30 + 30 * 30, 'the two boxes, and nothing else');
  assert.deepEqual(account(await sessionUserId(guest.client)), [credits - 1, 0, 1]);

  // Another guest can read neither the image nor the mask.
  const other = await functionGuest();
  assert.notEqual((await other.client.storage.from('masks').download(done.mask_path)).error, null);
});

test('an undecodable upload ends in error, the credit released; a path not the guest\'s own is refused when filing', async () => {
  const guest = await functionGuest();
  const [credits] = account(await sessionUserId(guest.client));
  const path = await upload(guest, 'broken.png', Buffer.from('not a png at all, only its name'));
  const { data: task, error } = await guest.client.from('segmentation_results').insert({ source_image_path: path }).select('id').single();
  assert.equal(error, null);
  const failed = await finishedTask(guest, task.id);
  assert.equal(failed.status, 'error');
  assert.match(failed.error, /could not be decoded/);
  assert.deepEqual(account(await sessionUserId(guest.client)), [credits, 0, 0]);

  const other = await functionGuest();
  for (const source_image_path of [path, `${await sessionUserId(other.client)}/missing.png`]) {
    const refused = await other.client.from('segmentation_results').insert({ source_image_path }).select('id');
    assert.equal(refused.status, 400, source_image_path);
    assert.equal(refused.error.hint, 'source_image_not_found');
  }
  const both = await guest.client.from('segmentation_results').insert({ source_image_path: path, source_image_url: 'https://images.example.test/x.png' });
  assert.equal(both.status, 400, 'one source, not two');
  assert.deepEqual(account(await sessionUserId(other.client)).slice(1), [0, 0], 'refused filings hold nothing');
});

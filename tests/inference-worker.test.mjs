// The reference inference backend (cargo run -p inference-worker) against the test stack: it
// long-polls process-webhook's claim, downloads the image, computes its mask and reports done
// with labels and metadata (charged once), reports error for an image it cannot decode (the
// credit released), extends its lease on long work and stops cleanly on SIGTERM. The images
// are PNGs this test makes, served from a local HTTP server (tasks filed with a URL).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { sql, stack } from './support/stack.mjs';
import { functionGuest } from './support/guests.mjs';
import { drainTaskQueue, fileTask, finishedTask, sessionUserId } from './support/tasks.mjs';
import { rectanglesPng } from './support/png.mjs';

const binary = new URL('../target/debug/inference-worker', import.meta.url).pathname;
const images = new Map([
  ['/two-boxes.png', { type: 'image/png', body: rectanglesPng(96, 64, [[8, 8, 30, 20], [60, 30, 24, 24]]) }],
  ['/garbage.png', { type: 'image/png', body: Buffer.from('this is not a PNG, whatever its name says') }],
]);
let server;
let imageBase;
const workers = [];

before(async () => {
  server = createServer((req, res) => {
    const image = images.get(req.url);
    if (!image) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': image.type, 'content-length': image.body.length }).end(image.body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  imageBase = `http://127.0.0.1:${server.address().port}`;
  await drainTaskQueue();
});

after(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.exited));
  server?.close();
});

function startWorker(...extra) {
  const child = spawn(binary, ['--dev-vars', process.env.DEVSTACK_DEV_VARS, '--functions-url', stack.functionsUrl, '--wait-seconds', '5', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (d) => (child.output += d));
  child.stderr.on('data', (d) => (child.output += d));
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  workers.push(child);
  return child;
}

const fileImageTask = (guest, path) => fileTask(guest, { source_image_url: `${imageBase}${path}`, text_prompt: 'the boxes' });

function account(userId) {
  const [[credits, reserved, charges]] = sql(`select credits, credits_reserved,
    (select count(*) from public.usage_logs u where u.user_id = p.id and u.action = 'segmentation') from public.user_profiles p where id = '${userId}'`);
  return { credits: Number(credits), reserved: Number(reserved), charges: Number(charges) };
}

test('a decodable image is segmented and reported done with labels and metadata, charged once; an undecodable one is an error, released', async () => {
  const worker = startWorker();
  const guest = await functionGuest();
  const userId = await sessionUserId(guest.client);
  const start = account(userId);
  const good = await fileImageTask(guest, '/two-boxes.png');
  const bad = await fileImageTask(guest, '/garbage.png');

  const done = await finishedTask(guest, good);
  assert.equal(done.status, 'done', `${done.error} ${worker.output}`);
  assert.equal(done.metadata.algorithm, 'otsu-luminance+connected-components-4');
  assert.deepEqual([done.metadata.width, done.metadata.height], [96, 64]);
  assert.equal(typeof done.metadata.ms, 'number');
  assert.deepEqual(done.labels.map((l) => [l.label, l.area, l.bbox]), [['region-1', 600, [8, 8, 30, 20]], ['region-2', 576, [60, 30, 24, 24]]]);
  assert.equal(done.credits_charged, 1);

  const failed = await finishedTask(guest, bad);
  assert.equal(failed.status, 'error');
  assert.match(failed.error, /could not be decoded/);
  assert.equal(failed.charged_at, null);

  assert.deepEqual(account(userId), { credits: start.credits - 1, reserved: 0, charges: 1 });
  worker.kill('SIGTERM');
  assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output);
});

test('on long work the worker extends its lease; SIGTERM lets it finish the task it holds, then it exits 0', async () => {
  // 30 s leases, extended every 15 s; each task takes 32 s more than its mask.
  const worker = startWorker('--lease-seconds', '30', '--extra-ms', '32000', '--concurrency', '1');
  const guest = await functionGuest();
  const id = await fileImageTask(guest, '/two-boxes.png');
  const leaseOf = () => sql(`select status, extract(epoch from lease_expires_at)::float8 from public.segmentation_results where id = '${id}'`)[0];
  let first;
  for (let i = 0; i < 100 && !first; i++) {
    const [status, lease] = leaseOf();
    if (status === 'processing' && lease) first = Number(lease);
    else await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(first, 'claimed');
  // The first extension is due 15 s into the work; the lease runs out at 30 s.
  let later = first;
  for (let i = 0; i < 140 && later <= first + 10; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const [status, lease] = leaseOf();
    assert.equal(status, 'processing', worker.output);
    later = Number(lease);
  }
  assert.ok(later > first + 10, `the lease moved from ${first} to ${later}`);

  worker.kill('SIGTERM');
  const done = await finishedTask(guest, id, 40_000);
  assert.equal(done.status, 'done', worker.output);
  assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output);
  assert.match(worker.output, /stopping/);
});

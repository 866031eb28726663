// Load: the task pipeline end to end (issue 27). 20 users each upload an image to Storage and
// file 10 tasks naming it (200 in all, an open-loop schedule at LOAD_RATE_PIPELINE tasks per
// second, default 10); 2 reference inference backends (inference-worker, 2 lanes each) claim and
// finish them. Every user follows its tasks over Realtime as the app does, and the time from
// sending the insert to the `done` UPDATE arriving on the socket is each task's latency (p50,
// p99, max). Then: every task done, each charged exactly once, nothing left held.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { signedUpUser, sql, stack } from '../support/stack.mjs';
import { rectanglesPng } from '../support/png.mjs';
import { percentile, pool, report, runId, setting } from './support/load.mjs';

const USERS = 20;
const TASKS_PER_USER = 10;
const WORKERS = 2;
const rate = Number(setting('LOAD_RATE', 'PIPELINE', 10));
const binary = new URL('../../target/debug/inference-worker', import.meta.url).pathname;
const workers = [];

after(async () => {
  await Promise.all(workers.map((w) => {
    if (w.exitCode !== null) return null;
    const exited = new Promise((resolve) => w.on('exit', resolve));
    w.kill('SIGTERM');
    return exited;
  }));
});

/** A user with credits for its tasks, its image uploaded, following its tasks over Realtime. */
async function loadUser(run, k, doneAt) {
  const user = await signedUpUser(undefined, `load-pipe-${k}`);
  sql(`update public.user_profiles set credits = ${TASKS_PER_USER} where id = '${user.user.id}'`);
  const path = `${user.user.id}/${run}.png`;
  const png = rectanglesPng(96, 64, [[4 + k, 4, 30, 20], [50, 30 - (k % 10), 30, 20]]);
  const { error } = await user.client.storage.from('images').upload(path, png, { contentType: 'image/png' });
  assert.equal(error, null);
  await user.client.realtime.setAuth();
  await new Promise((resolve, reject) => {
    user.channel = user.client
      .channel(`load-pipeline-${user.user.id}`)
      .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'segmentation_results', filter: `user_id=eq.${user.user.id}` }, (change) => {
        if (change.new.status === 'done' && !doneAt.has(change.new.id)) doneAt.set(change.new.id, performance.now());
      })
      .subscribe((status) => (status === 'SUBSCRIBED' ? resolve() : ['CHANNEL_ERROR', 'TIMED_OUT'].includes(status) && reject(new Error(status))));
  });
  return { ...user, path };
}

test(`the pipeline under load: ${USERS * TASKS_PER_USER} tasks from ${USERS} users, ${WORKERS} inference workers; all done, each charged once`, { timeout: 600_000 }, async () => {
  const run = runId();
  const doneAt = new Map();
  const users = await pool(Array.from({ length: USERS }, (_, k) => k), 5, (k) => loadUser(run, k, doneAt));
  for (let i = 0; i < WORKERS; i++) {
    const w = spawn(binary, ['--dev-vars', process.env.DEVSTACK_DEV_VARS, '--functions-url', stack.functionsUrl], { stdio: ['ignore', 'ignore', 'pipe'] });
    w.output = '';
    w.stderr.on('data', (d) => (w.output = (w.output + d).slice(-4000)));
    workers.push(w);
  }

  // Open loop: task i is sent at i / rate seconds, whatever the answers before it.
  const total = USERS * TASKS_PER_USER;
  const filedAt = new Map();
  const start = performance.now();
  const filings = [];
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const user = users[i % USERS];
    const sentAt = performance.now();
    filings.push(user.client.from('segmentation_results').insert({ source_image_path: user.path, text_prompt: run }).select('id').single()
      .then(({ data, error }) => {
        assert.equal(error, null, JSON.stringify(error));
        filedAt.set(data.id, sentAt);
        return data.id;
      }));
  }
  const ids = await Promise.all(filings);
  const sendSeconds = (performance.now() - start) / 1000;

  const deadline = performance.now() + 240_000;
  while (ids.some((id) => !doneAt.has(id)) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const missing = ids.filter((id) => !doneAt.has(id));
  for (const u of users) await u.client.removeChannel(u.channel);

  const [[done, charges, held, spent, others]] = sql(`
    select (select count(*) from public.segmentation_results where text_prompt = '${run}' and status = 'done'),
           (select count(*) from public.usage_logs u join public.segmentation_results r on r.id = u.result_id where r.text_prompt = '${run}' and u.action = 'segmentation'),
           (select coalesce(sum(credits_reserved), 0) from public.user_profiles where id in (${users.map((u) => `'${u.user.id}'`).join(', ')})),
           (select coalesce(sum(${TASKS_PER_USER} - credits), 0) from public.user_profiles where id in (${users.map((u) => `'${u.user.id}'`).join(', ')})),
           (select count(*) from public.segmentation_results where text_prompt = '${run}' and (status <> 'done' or credits_charged <> 1))`);
  const latencies = ids.filter((id) => doneAt.has(id)).map((id) => doneAt.get(id) - filedAt.get(id)).sort((a, b) => a - b);
  report({
    test: `pipeline: ${total} tasks, ${USERS} users, ${WORKERS} workers (filing to done over Realtime)`,
    target_rate: rate,
    achieved_rate: Number(((total - 1) / sendSeconds).toFixed(2)),
    seconds: Math.round(sendSeconds),
    requests: total,
    statuses: { done: Number(done), seen_done_live: latencies.length },
    p50_ms: Math.round(percentile(latencies, 50)),
    p99_ms: Math.round(percentile(latencies, 99)),
    max_ms: Math.round(latencies[latencies.length - 1] ?? NaN),
  });
  assert.deepEqual(missing, [], `every done arrived over Realtime; workers: ${workers.map((w) => w.output).join('\n')}`);
  assert.equal(Number(done), total, 'all done');
  assert.equal(Number(charges), total, 'one charge per task');
  assert.equal(Number(spent), total, 'one credit per task, nothing twice');
  assert.equal(Number(held), 0, 'nothing left held');
  assert.equal(Number(others), 0);
});

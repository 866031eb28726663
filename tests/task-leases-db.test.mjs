// Task leases and cancellation in the database (migration 20261207600100_task_leases.sql),
// driven the way process-webhook and the app drive them: claim/extend/expire/report through
// /rest/v1/rpc with the service key, cancel through supabase-js with the owner's session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { anonClient, serviceClient, signedUpUser, sql } from './support/stack.mjs';

const service = serviceClient();

const claim = (args = {}) => service.rpc('claim_segmentation_tasks', { p_max: 10, p_lease_seconds: 300, ...args });
const extend = (taskId, args = {}) => service.rpc('extend_segmentation_lease', { p_task_id: taskId, ...args });
const expire = (args = {}) => service.rpc('expire_segmentation_leases', args);
const report = (taskId, status, fields = {}) =>
  service.rpc('apply_segmentation_webhook', { p_task_id: taskId, p_status: status, ...fields });

/** Claims until nothing is pending, so a test's own tasks are the queue (long leases keep the rest away). */
async function drainQueue() {
  for (;;) {
    const { data, error } = await claim({ p_lease_seconds: 3600 });
    assert.equal(error, null);
    if (data.length === 0) return;
  }
}

async function userWithCredits(credits, tag) {
  const u = await signedUpUser(undefined, tag);
  sql(`update public.user_profiles set credits = ${credits} where id = '${u.user.id}'`);
  return u;
}

async function fileTask(owner) {
  const { data, error } = await owner.client.from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/cat.png', text_prompt: 'the cat' })
    .select('id').single();
  assert.equal(error, null);
  return data.id;
}

function task(id) {
  const [[row]] = sql(`select to_jsonb(r)::text from public.segmentation_results r where id = '${id}'`);
  return JSON.parse(row);
}

function balance(userId) {
  const [[credits, reserved, logs]] = sql(`select credits, credits_reserved,
      (select count(*) from public.usage_logs u where u.user_id = p.id and u.action = 'segmentation')
    from public.user_profiles p where id = '${userId}'`);
  return { credits: Number(credits), reserved: Number(reserved), charges: Number(logs) };
}

/** Makes the task's lease run out now, as time would. */
const leaseRunsOut = (id) => sql(`update public.segmentation_results set lease_expires_at = now() - interval '1 second' where id = '${id}'`);

test('a claim takes the oldest pending tasks, turns them processing with a lease; bad arguments are 400', async () => {
  await drainQueue();
  const a = await userWithCredits(10, 'lease-claim');
  const first = await fileTask(a);
  const second = await fileTask(a);

  const one = await claim({ p_max: 1, p_lease_seconds: 120 });
  assert.equal(one.error, null);
  assert.equal(one.data.length, 1);
  assert.deepEqual(Object.keys(one.data[0]).sort(),
    ['attempt', 'lease_expires_at', 'source_image_path', 'source_image_url', 'task_id', 'text_prompt', 'user_id']);
  assert.equal(one.data[0].task_id, first, 'oldest queued first');
  assert.equal(one.data[0].attempt, 1);
  assert.equal(one.data[0].user_id, a.user.id);
  const lease = Date.parse(one.data[0].lease_expires_at) - Date.now();
  assert.ok(lease > 100_000 && lease <= 121_000, `lease of ${lease} ms`);
  assert.equal(task(first).status, 'processing');
  assert.equal(task(second).status, 'pending');

  const rest = await claim();
  assert.deepEqual(rest.data.map((t) => t.task_id), [second]);
  assert.deepEqual((await claim()).data, [], 'nothing pending: an empty list');

  for (const args of [{ p_max: 0 }, { p_max: 11 }, { p_lease_seconds: 29 }, { p_lease_seconds: 3601 }, { p_max_attempts: 0 }, { p_pending_timeout_seconds: 5 }]) {
    const bad = await claim(args);
    assert.equal(bad.status, 400, JSON.stringify(args));
    assert.equal(bad.error.code, '22023');
  }
  // Only the service role claims.
  for (const client of [anonClient(), a.client]) {
    const refused = await client.rpc('claim_segmentation_tasks', { p_max: 1 });
    assert.ok([401, 403].includes(refused.status), `${refused.status}`);
    assert.equal(refused.error.code, '42501');
  }
});

test('concurrent claims never get the same task, and together take every pending one', async () => {
  await drainQueue();
  const a = await userWithCredits(30, 'lease-race');
  const ids = [];
  for (let i = 0; i < 24; i++) ids.push(await fileTask(a));

  const answers = await Promise.all(Array.from({ length: 8 }, () => claim({ p_max: 3 })));
  const claimed = answers.flatMap(({ data, error }) => {
    assert.equal(error, null);
    return data.map((t) => t.task_id);
  });
  assert.equal(new Set(claimed).size, claimed.length, 'no task twice');
  assert.deepEqual([...claimed].sort(), [...ids].sort(), 'the 8 claims of 3 took all 24 tasks');
  assert.deepEqual(sql(`select status, count(*) from public.segmentation_results where user_id = '${a.user.id}' group by status`), [['processing', '24']]);
});

test('an expired lease puts the task back with attempt + 1; the next attempt completes, charged once; the old lease cannot be extended', async () => {
  await drainQueue();
  const a = await userWithCredits(10, 'lease-expire');
  const id = await fileTask(a);
  const [first] = (await claim({ p_max: 1 })).data;
  assert.equal(first.task_id, id);

  const extended = await extend(id, { p_lease_seconds: 600, p_attempt: 1 });
  assert.equal(extended.error, null);
  assert.equal(extended.data.attempt, 1);
  assert.ok(Date.parse(extended.data.lease_expires_at) > Date.parse(first.lease_expires_at));

  leaseRunsOut(id);
  const expired = await extend(id, { p_lease_seconds: 60 });
  assert.equal(expired.status, 409, 'a lease that ran out is lost even before the expiry runs');
  assert.equal(expired.error.hint, 'lease_lost');

  const run = await expire();
  assert.equal(run.error, null);
  assert.ok(run.data.requeued >= 1);
  assert.deepEqual([task(id).status, task(id).attempt, task(id).lease_expires_at], ['pending', 2, null]);
  assert.deepEqual(balance(a.user.id), { credits: 10, reserved: 1, charges: 0 }, 'still reserved: the task is not over');

  const [second] = (await claim({ p_max: 1 })).data;
  assert.deepEqual([second.task_id, second.attempt], [id, 2]);
  const stale = await extend(id, { p_lease_seconds: 60, p_attempt: 1 });
  assert.equal(stale.status, 409, 'the first attempt no longer holds the lease');
  assert.equal(stale.error.hint, 'lease_lost');

  const done = await report(id, 'done', { p_delivery_id: `msg_${randomUUID()}`, p_mask_path: `${id}/mask.png` });
  assert.equal(done.error, null);
  assert.equal(done.data.charged, true);
  const late = await report(id, 'done', { p_delivery_id: `msg_${randomUUID()}` });
  assert.equal(late.data.outcome, 'unchanged', 'the first attempt reporting late changes nothing');
  assert.deepEqual(balance(a.user.id), { credits: 9, reserved: 0, charges: 1 });
  assert.deepEqual([task(id).mask_path, task(id).lease_expires_at], [`${id}/mask.png`, null]);
  assert.equal((await extend(id)).status, 409, 'a finished task has no lease');
  assert.equal((await extend(randomUUID())).status, 404);
});

test('attempts exhausted: the last expired lease ends the task in error with the reason, the credit released', async () => {
  await drainQueue();
  const a = await userWithCredits(10, 'lease-exhaust');
  const id = await fileTask(a);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const claimed = (await claim({ p_max: 1 })).data;
    assert.deepEqual(claimed.map((t) => [t.task_id, t.attempt]), [[id, attempt]]);
    leaseRunsOut(id);
    assert.equal((await expire({ p_max_attempts: 3 })).error, null);
  }
  const ended = task(id);
  assert.equal(ended.status, 'error');
  assert.equal(ended.attempt, 3);
  assert.equal(ended.metadata.failure.reason, 'attempts_exhausted');
  assert.equal(ended.metadata.failure.attempts, 3);
  assert.match(ended.error, /3 attempts/);
  assert.deepEqual(balance(a.user.id), { credits: 10, reserved: 0, charges: 0 });
  assert.deepEqual((await claim()).data, [], 'never claimed again');
  assert.equal((await expire()).data.failed, 0, 'released once: a second run finds nothing');
  assert.deepEqual(balance(a.user.id), { credits: 10, reserved: 0, charges: 0 });
});

test('a task nobody claims within the pending timeout ends in error, released; a claim applies the expiry first', async () => {
  await drainQueue();
  const a = await userWithCredits(10, 'lease-timeout');
  const stale = await fileTask(a);
  const fresh = await fileTask(a);
  sql(`update public.segmentation_results set queued_at = now() - interval '25 hours' where id = '${stale}'`);

  const claimed = await claim({ p_pending_timeout_seconds: 86400 });
  assert.deepEqual(claimed.data.map((t) => t.task_id), [fresh], 'the timed-out task is not handed out');
  assert.equal(task(stale).status, 'error');
  assert.equal(task(stale).metadata.failure.reason, 'pending_timeout');
  assert.deepEqual(balance(a.user.id), { credits: 10, reserved: 1, charges: 0 });
});

test('the owner cancels a pending task: released at once, never claimed, a late report is 409 and charges nothing', async () => {
  await drainQueue();
  const a = await userWithCredits(10, 'lease-cancel');
  const b = await userWithCredits(10, 'lease-cancel-other');
  const id = await fileTask(a);

  const other = await b.client.rpc('cancel_segmentation_task', { task_id: id });
  assert.equal(other.status, 404, 'another user\'s task is not found');
  assert.equal(other.error.hint, 'task_not_found');
  const anon = await anonClient().rpc('cancel_segmentation_task', { task_id: id });
  assert.ok([401, 403].includes(anon.status));
  assert.equal(task(id).status, 'pending');

  const cancelled = await a.client.rpc('cancel_segmentation_task', { task_id: id });
  assert.equal(cancelled.error, null);
  assert.deepEqual(cancelled.data, { task_id: id, status: 'cancelled', credits_released: 1, outcome: 'applied' });
  assert.deepEqual(balance(a.user.id), { credits: 10, reserved: 0, charges: 0 });
  const again = await a.client.rpc('cancel_segmentation_task', { task_id: id });
  assert.equal(again.data.outcome, 'unchanged');

  assert.deepEqual((await claim()).data, []);
  for (const status of ['processing', 'done', 'error']) {
    const late = await report(id, status, { p_delivery_id: `msg_${randomUUID()}` });
    assert.equal(late.status, 409, status);
    assert.equal(late.error.hint, 'task_cancelled');
  }
  assert.deepEqual(balance(a.user.id), { credits: 10, reserved: 0, charges: 0 });
  assert.equal(task(id).status, 'cancelled');
});

test('the owner cancels a processing task: the lease is gone, extend and done are 409, nothing charged; a finished task cannot be cancelled', async () => {
  await drainQueue();
  const a = await userWithCredits(10, 'lease-cancel-run');
  const id = await fileTask(a);
  assert.deepEqual((await claim({ p_max: 1 })).data.map((t) => t.task_id), [id]);

  const cancelled = await a.client.rpc('cancel_segmentation_task', { task_id: id });
  assert.equal(cancelled.error, null);
  assert.equal(cancelled.data.credits_released, 1);
  assert.deepEqual([task(id).status, task(id).lease_expires_at, task(id).metadata.cancelled_while], ['cancelled', null, 'processing']);
  assert.equal((await extend(id, { p_attempt: 1 })).error.hint, 'lease_lost');
  const done = await report(id, 'done', { p_delivery_id: `msg_${randomUUID()}` });
  assert.equal(done.status, 409);
  assert.equal(done.error.hint, 'task_cancelled');
  assert.deepEqual(balance(a.user.id), { credits: 10, reserved: 0, charges: 0 });

  const finished = await fileTask(a);
  assert.equal((await report(finished, 'done')).error, null);
  const refused = await a.client.rpc('cancel_segmentation_task', { task_id: finished });
  assert.equal(refused.status, 409);
  assert.equal(refused.error.hint, 'status_conflict');
  assert.deepEqual(balance(a.user.id), { credits: 9, reserved: 0, charges: 1 });
  // Users still cannot set a status themselves.
  const forged = await a.client.from('segmentation_results').update({ status: 'cancelled' }).eq('id', finished);
  assert.equal(forged.error.code, '42501');
});

test('a mask_path outside the task\'s folder is refused and nothing is written', async () => {
  const a = await userWithCredits(10, 'lease-mask');
  const id = await fileTask(a);
  const other = await fileTask(a);
  const refused = await report(id, 'done', { p_mask_path: `${other}/mask.png` });
  assert.equal(refused.status, 400);
  assert.equal(refused.error.hint, 'invalid_mask_path');
  const traversal = await report(id, 'done', { p_mask_path: `${id}/../${other}/mask.png` });
  assert.equal(traversal.status, 400);
  assert.deepEqual([task(id).status, balance(a.user.id).charges], ['pending', 0]);
});

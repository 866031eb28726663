// The inference backend's side of process-webhook end to end: POST /claim (leases, long-poll),
// POST /extend, the every-minute cron's lease expiry (wrangler dev --test-scheduled), the owner's
// cancel through supabase-js, and the webhook's answer for a cancelled task. Each backend call
// carries the X-API-Key (or a Standard Webhooks signature) the webhook accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { signedUpUser, sql, stack } from './support/stack.mjs';
import { call } from './support/functions.mjs';
import { devVar } from './support/guests.mjs';
import { backendCall, backendKey, drainTaskQueue, fileTask } from './support/tasks.mjs';

const apiKey = backendKey();
const secret = devVar('WEBHOOK_SECRETS').split(/[\s,]+/)[0];
const base = `${stack.functionsUrl}/process-webhook`;

const claim = (body = {}, options) => backendCall('/claim', body, options);
const extend = (body, options) => backendCall('/extend', body, options);
const report = (body, key = randomUUID()) => backendCall('', body, { headers: { 'x-api-key': apiKey, 'idempotency-key': key } });

function signed(id, body) {
  const timestamp = Math.floor(Date.now() / 1000);
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signature = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

function state(id) {
  const [[row, credits, reserved, charges]] = sql(`select to_jsonb(r)::text, p.credits, p.credits_reserved,
      (select count(*) from public.usage_logs u where u.result_id = r.id)
    from public.segmentation_results r join public.user_profiles p on p.id = r.user_id where r.id = '${id}'`);
  return { task: JSON.parse(row), credits: Number(credits), reserved: Number(reserved), charges: Number(charges) };
}

const leaseRunsOut = (id) => sql(`update public.segmentation_results set lease_expires_at = now() - interval '1 second' where id = '${id}'`);

/** The every-minute cron, as workerd fires it (wrangler dev --test-scheduled). */
async function runLeaseCron() {
  const origin = process.env.FUNCTIONS_ORIGIN;
  assert.ok(origin, 'scripts/test.sh sets FUNCTIONS_ORIGIN to wrangler dev itself');
  const fired = await fetch(`${origin}/__scheduled?cron=${encodeURIComponent('* * * * *')}`);
  assert.equal(fired.status, 200);
  await fired.text();
}

test('claim: missing, wrong and forged credentials are 401; bad bodies 400; nothing is claimed', async () => {
  await drainTaskQueue();
  const a = await signedUpUser(undefined, 'claim-auth');
  const id = await fileTask(a);

  const none = await claim({}, { headers: {} });
  assert.equal(none.status, 401);
  assert.equal(none.body.code, 'missing_credentials');
  const wrong = await claim({}, { headers: { 'x-api-key': `${apiKey}x` } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.code, 'invalid_api_key');
  const body = JSON.stringify({ max: 1 });
  const forged = await claim(body, { headers: { ...signed(`msg_${randomUUID()}`, body), 'webhook-signature': 'v1,AAAA' } });
  assert.equal(forged.status, 401);
  const userToken = await claim({}, { headers: { authorization: `Bearer ${a.session.access_token}`, apikey: stack.anonKey } });
  assert.equal(userToken.status, 401, 'a user session is not a backend credential');
  for (const [bad, code] of [[{ max: 11 }, 'invalid_max'], [{ lease_seconds: 10 }, 'invalid_lease_seconds'], [{ wait_seconds: 21 }, 'invalid_wait_seconds'], [{ batch: 2 }, 'invalid_body'], ['[1]', null], ['{', null]]) {
    const res = await claim(bad);
    assert.equal(res.status, 400, JSON.stringify(bad));
    if (code) assert.equal(res.body.code, code);
  }
  const get = await call(`${base}/claim`, { headers: { 'x-api-key': apiKey } });
  assert.equal(get.status, 405);
  assert.equal(state(id).task.status, 'pending', 'refused claims take nothing');

  // A signed claim is as good as a key.
  const ok = await claim(body, { headers: signed(`msg_${randomUUID()}`, body) });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.tasks.length, 1);
  const [task] = ok.body.tasks;
  assert.deepEqual(Object.keys(task).sort(), ['attempt', 'image_url', 'lease_expires_at', 'mask_path', 'mask_upload_url', 'task_id', 'text_prompt']);
  assert.equal(task.task_id, id);
  assert.equal(task.attempt, 1);
  assert.equal(task.text_prompt, 'the cat');
  assert.equal(task.mask_path, `${id}/mask.png`);
  assert.equal(state(id).task.status, 'processing');
});

test('two workers claiming concurrently never get the same task', async () => {
  await drainTaskQueue();
  const a = await signedUpUser(undefined, 'claim-race');
  sql(`update public.user_profiles set credits = 30 where id = '${a.user.id}'`);
  const ids = [];
  for (let i = 0; i < 16; i++) ids.push(await fileTask(a));
  const worker = async () => {
    const got = [];
    for (;;) {
      const res = await claim({ max: 3, lease_seconds: 60 });
      assert.equal(res.status, 200);
      if (res.body.tasks.length === 0) return got;
      got.push(...res.body.tasks.map((t) => t.task_id));
    }
  };
  const [one, two] = await Promise.all([worker(), worker()]);
  const all = [...one, ...two];
  assert.equal(new Set(all).size, all.length, 'no task twice');
  assert.deepEqual([...all].sort(), [...ids].sort());
  assert.ok(one.length > 0 && two.length > 0, `both workers got tasks (${one.length}, ${two.length})`);
});

test('a killed worker\'s lease expires (the cron), the next attempt completes, charged once; the old lease is lost', async () => {
  await drainTaskQueue();
  const a = await signedUpUser(undefined, 'claim-killed');
  const id = await fileTask(a);
  const first = await claim({ lease_seconds: 30 });
  assert.deepEqual(first.body.tasks.map((t) => [t.task_id, t.attempt]), [[id, 1]]);
  const kept = await extend({ task_id: id, lease_seconds: 60, attempt: 1 });
  assert.equal(kept.status, 200, JSON.stringify(kept.body));
  assert.ok(Date.parse(kept.body.lease_expires_at) > Date.parse(first.body.tasks[0].lease_expires_at));

  // The worker dies; its lease runs out and the every-minute cron puts the task back.
  leaseRunsOut(id);
  await runLeaseCron();
  for (let i = 0; i < 40 && state(id).task.status !== 'pending'; i++) await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual([state(id).task.status, state(id).task.attempt], ['pending', 2]);

  const second = await claim();
  assert.deepEqual(second.body.tasks.map((t) => [t.task_id, t.attempt]), [[id, 2]]);
  const stale = await extend({ task_id: id, attempt: 1 });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.code, 'lease_lost');

  const done = await report({ task_id: id, status: 'done', mask_path: `${id}/mask.png`, labels: [], metadata: { algorithm: 'test' } });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.charged, true);
  const late = await report({ task_id: id, status: 'done' });
  assert.equal(late.status, 200);
  assert.equal(late.body.outcome, 'unchanged', 'the killed attempt reporting late is not charged again');
  const after = state(id);
  assert.deepEqual([after.task.status, after.task.mask_path, after.credits, after.reserved, after.charges], ['done', `${id}/mask.png`, 9, 0, 1]);
  assert.equal((await extend({ task_id: id })).status, 409, 'a finished task has no lease');
  assert.equal((await extend({ task_id: randomUUID() })).status, 404);
  assert.equal((await extend({ lease_seconds: 60 })).status, 400);
});

test('attempts exhausted: error with the reason, the credit released, never claimed again', async () => {
  await drainTaskQueue();
  const a = await signedUpUser(undefined, 'claim-exhaust');
  const id = await fileTask(a);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const res = await claim();
    assert.deepEqual(res.body.tasks.map((t) => [t.task_id, t.attempt]), [[id, attempt]]);
    leaseRunsOut(id);
  }
  // The next claim applies the expiry first: the third expired lease ends the task.
  assert.deepEqual((await claim()).body.tasks, []);
  const after = state(id);
  assert.equal(after.task.status, 'error');
  assert.equal(after.task.metadata.failure.reason, 'attempts_exhausted');
  assert.deepEqual([after.credits, after.reserved, after.charges], [10, 0, 0]);
  const { data } = await a.client.from('segmentation_results').select('status, error, metadata').eq('id', id).single();
  assert.equal(data.status, 'error');
  assert.match(data.error, /3 attempts/);
});

test('cancel while pending and while processing: released at once, never claimed, the late done is 409 and charges nothing', async () => {
  await drainTaskQueue();
  const a = await signedUpUser(undefined, 'claim-cancel');
  const pending = await fileTask(a);
  const running = await fileTask(a);
  sql(`update public.segmentation_results set queued_at = queued_at - interval '1 minute' where id = '${running}'`);
  assert.deepEqual((await claim()).body.tasks.map((t) => t.task_id), [running]);

  for (const id of [pending, running]) {
    const { data, error } = await a.client.rpc('cancel_segmentation_task', { task_id: id });
    assert.equal(error, null);
    assert.equal(data.status, 'cancelled');
    assert.equal(data.credits_released, 1);
  }
  assert.deepEqual([state(pending).reserved, state(pending).credits], [0, 10]);
  assert.deepEqual((await claim({ max: 10 })).body.tasks, [], 'no claim returns a cancelled task');
  const lost = await extend({ task_id: running, attempt: 1 });
  assert.equal(lost.status, 409);
  assert.equal(lost.body.code, 'lease_lost');
  for (const id of [pending, running]) {
    const late = await report({ task_id: id, status: 'done', mask_path: `${id}/mask.png` });
    assert.equal(late.status, 409);
    assert.equal(late.body.code, 'task_cancelled');
    assert.deepEqual([state(id).task.status, state(id).charges], ['cancelled', 0]);
  }
  assert.equal(state(pending).credits, 10);
});

test('wait_seconds: a waiting claim answers as soon as a task is filed, and an idle one after the wait', async () => {
  await drainTaskQueue();
  const a = await signedUpUser(undefined, 'claim-wait');
  const idleStart = Date.now();
  const idle = await claim({ wait_seconds: 2 });
  assert.deepEqual(idle.body.tasks, []);
  assert.ok(Date.now() - idleStart >= 1900, 'an idle claim waits the time asked');

  const start = Date.now();
  const waiting = claim({ wait_seconds: 15 });
  await new Promise((r) => setTimeout(r, 1500));
  const filedAt = Date.now();
  const id = await fileTask(a);
  const answered = await waiting;
  const total = Date.now() - start;
  assert.equal(answered.status, 200);
  assert.deepEqual(answered.body.tasks.map((t) => t.task_id), [id]);
  assert.ok(Date.now() - filedAt < 5000, `answered ${Date.now() - filedAt} ms after filing`);
  assert.ok(total < 10_000, `well before the 15 s wait (${total} ms)`);
});

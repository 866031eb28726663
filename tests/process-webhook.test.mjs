// Seed 002 end to end: the inference backend's webhook (process-webhook) against devstack. Each
// delivery is signed here the way a Standard Webhooks sender signs it (an implementation of the
// spec independent of the Worker's), or carries an X-API-Key; the effects are read back as the
// superuser and as the task's owner through supabase-js.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { anonClient, signedUpUser, sql, stack } from './support/stack.mjs';
import { call, startFunctions } from './support/functions.mjs';

const devVars = process.env.DEVSTACK_DEV_VARS;
assert.ok(devVars, 'scripts/test.sh sets DEVSTACK_DEV_VARS to the secrets of the functions under test');
const vars = readFileSync(devVars, 'utf8');
const setting = (name) => {
  const match = new RegExp(`^${name}="(.*)"$`, 'm').exec(vars);
  assert.ok(match, `${devVars} has ${name} (scripts/lib.sh ensure_worker_secrets writes it)`);
  return match[1];
};
const apiKey = setting('WEBHOOK_API_KEYS').split(',')[0].trim();
const secret = setting('WEBHOOK_SECRETS').split(/[\s,]+/)[0];
const functionUrl = `${stack.functionsUrl}/process-webhook`;

const nowSecs = () => Math.floor(Date.now() / 1000);
const newDeliveryId = () => `msg_${randomUUID()}`;
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** The Standard Webhooks signature: HMAC-SHA256 of `id.timestamp.body` under the decoded secret. */
function sign(whsec, id, timestamp, body) {
  const key = Buffer.from(whsec.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * POSTs a delivery. `auth`: 'signature' (default), 'key' or 'none'. The body is sent exactly as
 * signed; pass a string to send text that is not JSON.
 */
function deliver(body, { auth = 'signature', id = newDeliveryId(), timestamp = nowSecs(), signWith = secret, key = apiKey, headers = {}, url = functionUrl } = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const credentials = {};
  if (auth === 'signature') {
    Object.assign(credentials, { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': sign(signWith, id, timestamp, text) });
  } else if (auth === 'key') {
    credentials['x-api-key'] = key;
  }
  return call(url, { method: 'POST', headers: { 'content-type': 'application/json', ...credentials, ...headers }, body: text });
}

/** A pending task filed by `owner` through /rest/v1, as the app files one. */
async function fileTask(owner) {
  const { data, error } = await owner.client
    .from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/cat.png', text_prompt: 'the cat' })
    .select('id')
    .single();
  assert.equal(error, null);
  return data.id;
}

const doneBody = (taskId, extra = {}) => ({
  task_id: taskId,
  status: 'done',
  mask_url: 'https://masks.example.test/cat-mask.png',
  labels: [{ label: 'cat', score: 0.97 }],
  metadata: { model: 'sam2', ms: 812 },
  ...extra,
});

/** What the database holds for a task, read as the superuser. */
function ledger(taskId) {
  const [[row, credits, logs, charged, deliveries]] = sql(`
    select to_jsonb(r)::text, p.credits,
           (select count(*) from public.usage_logs u where u.result_id = r.id),
           (select coalesce(sum(u.credits_used), 0) from public.usage_logs u where u.result_id = r.id),
           (select count(*) from public.webhook_deliveries d where d.task_id = r.id)
      from public.segmentation_results r join public.user_profiles p on p.id = r.user_id
     where r.id = '${taskId}'`);
  return { row: JSON.parse(row), credits: Number(credits), logs: Number(logs), charged: Number(charged), deliveries: Number(deliveries) };
}

/** Asserts that nothing about the task changed since `before`. */
function assertUntouched(taskId, before, what) {
  assert.deepEqual(ledger(taskId), before, `${what}: nothing was written`);
}

test('processing then done: the row is written, one usage log, credits lowered once; the owner sees it all', async () => {
  const a = await signedUpUser(undefined, 'whf-flow');
  const b = await signedUpUser(undefined, 'whf-other');
  const task = await fileTask(a);

  const processing = await deliver({ task_id: task, status: 'processing', metadata: { queue: 'gpu-1' } }, { auth: 'key' });
  assert.equal(processing.status, 200);
  assert.deepEqual(processing.body, {
    task_id: task, status: 'processing', outcome: 'applied', charged: false,
    credits_charged: 0, credits_shortfall: 0, credits_remaining: 10, replayed: false,
  });
  assert.match(processing.headers.get('content-type'), /application\/json/);

  const done = await deliver(doneBody(task));
  assert.equal(done.status, 200);
  assert.deepEqual(done.body, {
    task_id: task, status: 'done', outcome: 'applied', charged: true,
    credits_charged: 1, credits_shortfall: 0, credits_remaining: 9, replayed: false,
  });
  const state = ledger(task);
  assert.equal(state.row.status, 'done');
  assert.equal(state.credits, 9);
  assert.equal(state.logs, 1);
  assert.equal(state.charged, 1);

  // The owner reads the result, the ledger and the balance through supabase-js.
  const result = await a.client.from('segmentation_results')
    .select('status, mask_image_url, labels, metadata, credits_charged').eq('id', task).single();
  assert.equal(result.error, null);
  assert.deepEqual(result.data, {
    status: 'done',
    mask_image_url: 'https://masks.example.test/cat-mask.png',
    labels: [{ label: 'cat', score: 0.97 }],
    metadata: { queue: 'gpu-1', model: 'sam2', ms: 812 },
    credits_charged: 1,
  });
  const logs = await a.client.from('usage_logs').select('action, credits_used, result_id');
  assert.deepEqual(logs.data, [{ action: 'segmentation', credits_used: 1, result_id: task }]);
  assert.equal((await a.client.from('user_profiles').select('credits').single()).data.credits, 9);

  // Another user and anon see none of it; the owner can neither write the ledger nor refill.
  assert.deepEqual((await b.client.from('segmentation_results').select('id').eq('id', task)).data, []);
  assert.deepEqual((await b.client.from('usage_logs').select('id')).data, []);
  assert.equal((await anonClient().from('segmentation_results').select('id')).status, 401);
  assert.equal((await anonClient().from('usage_logs').select('id')).status, 401);
  const forgedLog = await a.client.from('usage_logs').insert({ user_id: a.user.id, action: 'segmentation', credits_used: 0 });
  assert.equal(forgedLog.status, 403);
  const refill = await a.client.from('user_profiles').update({ credits: 1000 }).eq('id', a.user.id);
  assert.equal(refill.status, 403);
  assert.equal(ledger(task).credits, 9);
});

test('the same delivery 5 times in a row charges once and answers 200 each time', async () => {
  const a = await signedUpUser(undefined, 'whf-seq');
  const task = await fileTask(a);
  const id = newDeliveryId();
  const answers = [];
  for (let i = 0; i < 5; i += 1) {
    // A retry is re-signed with a fresh timestamp, as senders do; the id stays.
    answers.push(await deliver(doneBody(task), { id }));
  }
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200]);
  assert.deepEqual(answers.map((r) => r.body.replayed), [false, true, true, true, true]);
  assert.ok(answers.every((r) => r.body.charged && r.body.credits_remaining === 9), 'a replay repeats the first answer');
  const state = ledger(task);
  assert.deepEqual([state.credits, state.logs, state.charged, state.deliveries], [9, 1, 1, 1]);
});

test('the same delivery 5 times at once charges once and answers 200 each time', async () => {
  const a = await signedUpUser(undefined, 'whf-par');
  const task = await fileTask(a);
  const id = newDeliveryId();
  const timestamp = nowSecs();
  const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(doneBody(task), { id, timestamp })));
  assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200]);
  assert.equal(answers.filter((r) => !r.body.replayed).length, 1, 'exactly one did the work');
  assert.ok(answers.every((r) => r.body.charged && r.body.credits_remaining === 9));
  const state = ledger(task);
  assert.deepEqual([state.credits, state.logs, state.charged, state.deliveries], [9, 1, 1, 1]);
});

test('X-API-Key deliveries: Idempotency-Key replays; without an id the task state still charges once', async () => {
  const a = await signedUpUser(undefined, 'whf-key');
  const task = await fileTask(a);
  const headers = { 'idempotency-key': `job-${randomUUID()}` };
  const first = await deliver(doneBody(task, { credits_used: 3 }), { auth: 'key', headers });
  assert.equal(first.status, 200);
  assert.deepEqual([first.body.charged, first.body.credits_charged, first.body.credits_remaining, first.body.replayed], [true, 3, 7, false]);
  const again = await deliver(doneBody(task, { credits_used: 3 }), { auth: 'key', headers });
  assert.equal(again.status, 200);
  assert.equal(again.body.replayed, true);

  const other = await fileTask(a);
  const unnamed = await Promise.all(Array.from({ length: 5 }, () => deliver(doneBody(other), { auth: 'key' })));
  assert.deepEqual(unnamed.map((r) => r.status), [200, 200, 200, 200, 200]);
  assert.deepEqual(unnamed.map((r) => r.body.outcome).sort(), ['applied', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
  const state = ledger(other);
  assert.deepEqual([state.credits, state.logs, state.charged], [6, 1, 1]);
});

test('done then processing is a 409 and the row is unchanged; an unknown task is a 404', async () => {
  const a = await signedUpUser(undefined, 'whf-back');
  const task = await fileTask(a);
  assert.equal((await deliver(doneBody(task))).status, 200);
  const before = ledger(task);

  const backwards = await deliver({ task_id: task, status: 'processing', metadata: { late: true } });
  assert.equal(backwards.status, 409);
  assert.equal(backwards.body.code, 'status_conflict');
  assert.match(backwards.body.error, /is done and cannot become processing/);
  const sideways = await deliver({ task_id: task, status: 'error', error: 'too late' });
  assert.equal(sideways.status, 409);
  assertUntouched(task, before, 'a backwards move');

  const reused = await deliver({ task_id: await fileTask(a), status: 'processing' }, { id: 'msg_reused_' + task });
  assert.equal(reused.status, 200);
  const clash = await deliver({ task_id: task, status: 'done' }, { id: 'msg_reused_' + task });
  assert.equal(clash.status, 409);
  assert.equal(clash.body.code, 'delivery_id_reused');

  const unknownId = newDeliveryId();
  const unknown = await deliver(doneBody(randomUUID()), { id: unknownId });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, 'task_not_found');
  assert.deepEqual(sql(`select count(*) from public.webhook_deliveries where delivery_id = '${unknownId}'`), [['0']]);
});

test('bad bodies are 400/413 naming the problem, and nothing is written', async () => {
  const a = await signedUpUser(undefined, 'whf-body');
  const task = await fileTask(a);
  const before = ledger(task);
  const cases = [
    ['{"task_id": ', 400, 'invalid_json'],
    ['', 400, 'invalid_json'],
    [`[${JSON.stringify(task)}, "done"]`, 400, 'invalid_body'],
    [{ task_id: task }, 400, 'invalid_body', /missing field `status`/],
    [{ task_id: 'task-1', status: 'done' }, 400, 'invalid_body', /field `task_id`/],
    [{ task_id: task, status: 'finished' }, 400, 'invalid_body', /unknown status `finished`/],
    [{ task_id: task, status: 'pending' }, 400, 'invalid_body'],
    [{ task_id: task, status: 7 }, 400, 'invalid_body', /field `status`/],
    [{ task_id: task, status: 'done', credits_used: '1' }, 400, 'invalid_body', /field `credits_used`/],
    [{ task_id: task, status: 'done', credits_used: 1.5 }, 400, 'invalid_body'],
    [{ task_id: task, status: 'done', credits_used: -1 }, 400, 'invalid_credits_used'],
    [{ task_id: task, status: 'done', credits_used: 1001 }, 400, 'invalid_credits_used'],
    [{ task_id: task, status: 'done', maskUrl: 'https://m.example.test/x.png' }, 400, 'invalid_body', /unknown field `maskUrl`/],
    [{ task_id: task, status: 'done', mask_url: 'http://m.example.test/x.png' }, 400, 'invalid_mask_url'],
    [{ task_id: task, status: 'done', mask_url: 'javascript:alert(1)' }, 400, 'invalid_mask_url'],
    [{ task_id: task, status: 'done', mask_url: `https://m.example.test/${'a'.repeat(2048)}` }, 400, 'invalid_mask_url'],
    [{ task_id: task, status: 'done', labels: { cat: 1 } }, 400, 'invalid_labels'],
    [{ task_id: task, status: 'done', labels: Array.from({ length: 1001 }, (_, i) => i) }, 400, 'invalid_labels'],
    [{ task_id: task, status: 'done', metadata: ['x'] }, 400, 'invalid_metadata'],
    [{ task_id: task, status: 'done', metadata: { blob: 'x'.repeat(20_000) } }, 400, 'invalid_metadata'],
    [{ task_id: task, status: 'done', error: 'not a failure' }, 400, 'invalid_error'],
    [{ task_id: task, status: 'error', error: 'e'.repeat(2001) }, 400, 'invalid_error'],
    [{ task_id: task, status: 'done', padding: 'x'.repeat(2 * 1024 * 1024) }, 413, 'payload_too_large'],
  ];
  for (const [body, status, code, message] of cases) {
    const label = (typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 80);
    const res = await deliver(body);
    assert.equal(res.status, status, label);
    assert.equal(res.body.code, code, label);
    assert.equal(typeof res.body.error, 'string', label);
    if (message) assert.match(res.body.error, message, label);
  }
  assertUntouched(task, before, 'bad bodies');

  const wrongMethod = await call(functionUrl, { method: 'GET' });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
  const preflight = await call(functionUrl, { method: 'OPTIONS' });
  assert.equal(preflight.status, 200);
  assert.match(preflight.headers.get('access-control-allow-headers'), /webhook-signature/);
});

test('missing, wrong, forged, stale and future credentials are 401 and nothing is written', async () => {
  const a = await signedUpUser(undefined, 'whf-auth');
  const task = await fileTask(a);
  const before = ledger(task);
  const body = doneBody(task);
  const text = JSON.stringify(body);
  const id = newDeliveryId();
  const ts = nowSecs();
  const cases = [
    ['no credentials', deliver(body, { auth: 'none' }), 'missing_credentials'],
    // The last character changed (the stack's key is random: one in 16 already ends in 0).
    ['a wrong key', deliver(body, { auth: 'key', key: `${apiKey.slice(0, -1)}${apiKey.endsWith('0') ? '1' : '0'}` }), 'invalid_api_key'],
    ['an empty key', deliver(body, { auth: 'key', key: '' }), 'invalid_api_key'],
    ['a Supabase service key as X-API-Key', deliver(body, { auth: 'key', key: stack.serviceKey }), 'invalid_api_key'],
    ['another secret', deliver(body, { signWith: newSecret() }), 'webhook_bad_signature'],
    ['a signature 6 minutes old', deliver(body, { timestamp: ts - 360 }), 'webhook_timestamp_too_old'],
    ['a signature 6 minutes ahead', deliver(body, { timestamp: ts + 360 }), 'webhook_timestamp_too_new'],
    ['a tampered body', call(functionUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign(secret, id, ts, text) },
      body: JSON.stringify({ ...body, credits_used: 0 }),
    }), 'webhook_bad_signature'],
    ['a signature moved to another delivery id', call(functionUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': newDeliveryId(), 'webhook-timestamp': String(ts), 'webhook-signature': sign(secret, id, ts, text) },
      body: text,
    }), 'webhook_bad_signature'],
    ['no signature', deliver(body, { auth: 'none', headers: { 'webhook-id': id, 'webhook-timestamp': String(ts) } }), 'webhook_missing_signature'],
    ['a bad signature with a good key', deliver(body, { auth: 'key', headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': 'v1,AAAA' } }), 'webhook_bad_signature'],
    ['a Supabase user token', deliver(body, { auth: 'none', headers: { authorization: `Bearer ${a.session.access_token}`, apikey: stack.anonKey } }), 'missing_credentials'],
  ];
  for (const [what, pending, code] of cases) {
    const res = await pending;
    assert.equal(res.status, 401, what);
    assert.equal(res.body.code, code, what);
  }
  assertUntouched(task, before, 'refused credentials');
});

const rotated = { stop: () => {} };
after(() => rotated.stop());

test('rotation: a removed X-API-Key stops working, a listed old signing secret keeps working', async () => {
  // Secrets after a rotation: the old key is gone from WEBHOOK_API_KEYS; the old signing secret
  // is still listed after the new one while senders move over.
  const newKey = `whk_${randomBytes(24).toString('hex')}`;
  const freshSecret = newSecret();
  const rotatedVars = `${devVars}.webhook-rotated`;
  writeFileSync(rotatedVars, vars
    .replace(/^WEBHOOK_API_KEYS=.*$/m, `WEBHOOK_API_KEYS="${newKey}"`)
    .replace(/^WEBHOOK_SECRETS=.*$/m, `WEBHOOK_SECRETS="${freshSecret} ${secret}"`));
  // Base + 33 and + 43 under scripts/test.sh (+23 is the mail catcher). Both odd: Linux gives
  // outgoing connections even ports of ip_local_port_range first (32768-60999, where port bases
  // such as 58400 lie), so an even port bound this late in a run can be held by one of the run's
  // own connections ("Address already in use (socket direct:1:default)": the inspector on +24).
  const api = Number(new URL(stack.url).port);
  Object.assign(rotated, await startFunctions({ port: api + 12, inspectorPort: api + 22, envFile: rotatedVars }));
  const rotatedUrl = `${rotated.url}/functions/v1/process-webhook`;

  const a = await signedUpUser(undefined, 'whf-rotate');
  const task = await fileTask(a);
  const before = ledger(task);
  const oldKey = await deliver({ task_id: task, status: 'processing' }, { auth: 'key', url: rotatedUrl });
  assert.equal(oldKey.status, 401);
  assert.equal(oldKey.body.code, 'invalid_api_key');
  assertUntouched(task, before, 'the removed key');
  assert.equal((await deliver({ task_id: task, status: 'processing' }, { auth: 'key' })).status, 200, 'the old list still has it');

  const newKeyAccepted = await deliver(doneBody(task), { auth: 'key', key: newKey, url: rotatedUrl });
  assert.equal(newKeyAccepted.status, 200);
  assert.equal(newKeyAccepted.body.charged, true);
  const oldSecret = await deliver(doneBody(task), { url: rotatedUrl });
  assert.equal(oldSecret.status, 200, 'a listed old secret still verifies');
  assert.equal(oldSecret.body.outcome, 'unchanged');
  const newSecretAccepted = await deliver(doneBody(task), { signWith: freshSecret, url: rotatedUrl });
  assert.equal(newSecretAccepted.status, 200);
  const notYetKnown = await deliver(doneBody(task), { signWith: freshSecret });
  assert.equal(notYetKnown.status, 401, 'the functions without the new secret refuse it');
  assert.equal(ledger(task).logs, 1);
});

test('the cron trigger forgets delivery ids older than 30 days and keeps recent ones', async () => {
  const origin = process.env.FUNCTIONS_ORIGIN;
  assert.ok(origin, 'scripts/test.sh sets FUNCTIONS_ORIGIN to wrangler dev itself');
  const a = await signedUpUser(undefined, 'whf-cron');
  const task = await fileTask(a);
  const oldId = newDeliveryId();
  const recentId = newDeliveryId();
  assert.equal((await deliver({ task_id: task, status: 'processing' }, { id: oldId })).status, 200);
  assert.equal((await deliver(doneBody(task), { id: recentId })).status, 200);
  sql(`update public.webhook_deliveries set received_at = now() - interval '31 days' where delivery_id = '${oldId}'`);

  // wrangler dev --test-scheduled runs the Worker's scheduled handler, as the hourly cron does.
  const run = await fetch(`${origin}/__scheduled?cron=${encodeURIComponent('23 * * * *')}`);
  assert.equal(run.status, 200, await run.text());
  const kept = () => sql(`select delivery_id from public.webhook_deliveries where task_id = '${task}'`);
  for (let i = 0; i < 50 && kept().length > 1; i += 1) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(kept(), [[recentId]]);
  assert.equal(ledger(task).logs, 1, 'the task stays charged once');
});

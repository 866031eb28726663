// process-webhook's database layer (migrations 20261122002000..002002), driven the way the Worker
// and the apps drive it: public.apply_segmentation_webhook through /rest/v1/rpc with the service
// key, and the tables through supabase-js as users, anon and the service role.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { anonClient, serviceClient, signedUpUser, sql } from './support/stack.mjs';

const service = serviceClient();

/** A pending task filed by `owner` through /rest/v1, as the app files one. */
async function fileTask(owner, fields = {}) {
  const { data, error } = await owner.client
    .from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/cat.png', text_prompt: 'the cat', ...fields })
    .select('id, status, user_id')
    .single();
  assert.equal(error, null);
  assert.equal(data.status, 'pending');
  assert.equal(data.user_id, owner.user.id, 'user_id defaults to auth.uid()');
  return data.id;
}

/** One webhook delivery, applied as the Worker applies it. */
function deliver(taskId, status, fields = {}) {
  return service.rpc('apply_segmentation_webhook', { p_task_id: taskId, p_status: status, ...fields });
}

const doneFields = (deliveryId, extra = {}) => ({
  p_delivery_id: deliveryId,
  p_mask_url: 'https://masks.example.test/cat-mask.png',
  p_labels: [{ label: 'cat', score: 0.97 }],
  p_metadata: { model: 'sam2', ms: 812 },
  ...extra,
});

/** What the database holds for a task and its owner, read as the superuser. */
function ledger(taskId, userId) {
  const [[status, mask, credits, logs, charged, deliveries]] = sql(`
    select r.status, coalesce(r.mask_image_url, ''), p.credits,
           (select count(*) from public.usage_logs u where u.result_id = r.id),
           (select coalesce(sum(u.credits_used), 0) from public.usage_logs u where u.result_id = r.id),
           (select count(*) from public.webhook_deliveries d where d.task_id = r.id)
      from public.segmentation_results r join public.user_profiles p on p.id = r.user_id
     where r.id = '${taskId}' and r.user_id = '${userId}'`);
  return { status, mask, credits: Number(credits), logs: Number(logs), charged: Number(charged), deliveries: Number(deliveries) };
}

test('a new account is on the free tier with 10 credits, and cannot change either', async () => {
  const a = await signedUpUser(undefined, 'wh-tier');
  const mine = await a.client.from('user_profiles').select('tier, credits').single();
  assert.deepEqual(mine.data, { tier: 'free', credits: 10 });

  const raise = await a.client.from('user_profiles').update({ credits: 1000000 }).eq('id', a.user.id);
  assert.equal(raise.status, 403);
  assert.equal(raise.error.code, '42501');
  const upgrade = await a.client.from('user_profiles').update({ tier: 'enterprise' }).eq('id', a.user.id);
  assert.equal(upgrade.status, 403);
  assert.deepEqual(sql(`select tier, credits from public.user_profiles where id = '${a.user.id}'`), [['free', '10']]);
});

test('processing then done: the row is written, one usage log, credits lowered once', async () => {
  const a = await signedUpUser(undefined, 'wh-flow');
  const task = await fileTask(a);

  const processing = await deliver(task, 'processing', { p_delivery_id: `msg_${randomUUID()}`, p_metadata: { queue: 'gpu-1' } });
  assert.equal(processing.error, null);
  assert.deepEqual(processing.data, {
    task_id: task, status: 'processing', outcome: 'applied', charged: false,
    credits_charged: 0, credits_shortfall: 0, credits_remaining: 10, replayed: false,
  });

  const done = await deliver(task, 'done', doneFields(`msg_${randomUUID()}`));
  assert.equal(done.error, null);
  assert.deepEqual(done.data, {
    task_id: task, status: 'done', outcome: 'applied', charged: true,
    credits_charged: 1, credits_shortfall: 0, credits_remaining: 9, replayed: false,
  });

  // The owner sees the finished result, the charge and the ledger entry through /rest/v1.
  const result = await a.client.from('segmentation_results')
    .select('status, mask_image_url, labels, metadata, error, credits_charged, credits_shortfall, charged_at')
    .eq('id', task).single();
  assert.equal(result.error, null);
  assert.equal(result.data.status, 'done');
  assert.equal(result.data.mask_image_url, 'https://masks.example.test/cat-mask.png');
  assert.deepEqual(result.data.labels, [{ label: 'cat', score: 0.97 }]);
  assert.deepEqual(result.data.metadata, { queue: 'gpu-1', model: 'sam2', ms: 812 }, 'metadata is merged across deliveries');
  assert.equal(result.data.credits_charged, 1);
  assert.equal(result.data.credits_shortfall, 0);
  assert.ok(result.data.charged_at);

  const logs = await a.client.from('usage_logs').select('action, credits_used, result_id, metadata');
  assert.equal(logs.error, null);
  assert.equal(logs.data.length, 1);
  assert.equal(logs.data[0].action, 'segmentation');
  assert.equal(logs.data[0].credits_used, 1);
  assert.equal(logs.data[0].result_id, task);
  assert.equal(logs.data[0].metadata.credits_shortfall, 0);

  const profile = await a.client.from('user_profiles').select('credits').single();
  assert.equal(profile.data.credits, 9);
});

test('credits_used sets the price; an error result is stored and not charged', async () => {
  const a = await signedUpUser(undefined, 'wh-price');
  const priced = await fileTask(a);
  const done = await deliver(priced, 'done', doneFields(`msg_${randomUUID()}`, { p_credits_used: 4 }));
  assert.equal(done.data.credits_charged, 4);
  assert.equal(done.data.credits_remaining, 6);

  const failed = await fileTask(a);
  const error = await deliver(failed, 'error', { p_delivery_id: `msg_${randomUUID()}`, p_error: 'CUDA out of memory', p_credits_used: 4 });
  assert.equal(error.error, null);
  assert.equal(error.data.charged, false);
  assert.equal(error.data.credits_remaining, 6);
  assert.deepEqual(sql(`select status, error, charged_at is null from public.segmentation_results where id = '${failed}'`),
    [['error', 'CUDA out of memory', 't']]);
  assert.equal(ledger(failed, a.user.id).logs, 0);
});

test('the same delivery 5 times in a row charges once and answers 200 with the first answer', async () => {
  const a = await signedUpUser(undefined, 'wh-seq');
  const task = await fileTask(a);
  const deliveryId = `msg_${randomUUID()}`;

  const answers = [];
  for (let i = 0; i < 5; i += 1) {
    const { data, error, status } = await deliver(task, 'done', doneFields(deliveryId));
    assert.equal(error, null);
    assert.equal(status, 200);
    answers.push(data);
  }
  assert.deepEqual(answers.map((a) => a.replayed), [false, true, true, true, true]);
  for (const answer of answers) {
    assert.equal(answer.charged, true, 'a replay repeats the first answer');
    assert.equal(answer.credits_remaining, 9);
  }
  assert.deepEqual(ledger(task, a.user.id), {
    status: 'done', mask: 'https://masks.example.test/cat-mask.png', credits: 9, logs: 1, charged: 1, deliveries: 1,
  });
});

test('the same delivery 5 times at once charges once; every call answers 200', async () => {
  const a = await signedUpUser(undefined, 'wh-par');
  const task = await fileTask(a);
  await deliver(task, 'processing', { p_delivery_id: `msg_${randomUUID()}` });
  const deliveryId = `msg_${randomUUID()}`;

  const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(task, 'done', doneFields(deliveryId))));
  for (const { error, status } of answers) {
    assert.equal(error, null);
    assert.equal(status, 200);
  }
  assert.equal(answers.filter(({ data }) => !data.replayed).length, 1, 'exactly one call did the work');
  assert.ok(answers.every(({ data }) => data.charged && data.credits_remaining === 9));
  assert.deepEqual(ledger(task, a.user.id), {
    status: 'done', mask: 'https://masks.example.test/cat-mask.png', credits: 9, logs: 1, charged: 1, deliveries: 2,
  });
});

test('different deliveries reaching done at once charge once; the others are unchanged no-ops', async () => {
  const a = await signedUpUser(undefined, 'wh-race');
  const task = await fileTask(a);

  const answers = await Promise.all(
    Array.from({ length: 5 }, (_, i) => deliver(task, 'done', doneFields(`msg_${randomUUID()}`, { p_labels: [{ label: `run-${i}` }] }))),
  );
  for (const { error, status } of answers) {
    assert.equal(error, null);
    assert.equal(status, 200);
  }
  const applied = answers.filter(({ data }) => data.outcome === 'applied');
  assert.equal(applied.length, 1);
  assert.equal(applied[0].data.charged, true);
  const winner = answers.indexOf(applied[0]);
  for (const { data } of answers.filter(({ data }) => data.outcome === 'unchanged')) {
    assert.equal(data.charged, false);
    assert.equal(data.credits_charged, 0);
    assert.equal(data.credits_remaining, 9);
  }
  const ledgerNow = ledger(task, a.user.id);
  assert.equal(ledgerNow.credits, 9);
  assert.equal(ledgerNow.logs, 1);
  assert.equal(ledgerNow.deliveries, 5, 'no-ops are remembered too, so their retries replay');
  // The first writer's result stays; later deliveries do not overwrite it.
  const [[labels]] = sql(`select labels::text from public.segmentation_results where id = '${task}'`);
  assert.deepEqual(JSON.parse(labels), [{ label: `run-${winner}` }]);
});

test('done then processing is a 409 conflict and the row is unchanged; final states stay final', async () => {
  const a = await signedUpUser(undefined, 'wh-back');
  const task = await fileTask(a);
  await deliver(task, 'done', doneFields(`msg_${randomUUID()}`));
  const rowBefore = sql(`select to_jsonb(r)::text from public.segmentation_results r where id = '${task}'`);

  const lateId = `msg_${randomUUID()}`;
  const backwards = await deliver(task, 'processing', { p_delivery_id: lateId, p_metadata: { late: true } });
  assert.equal(backwards.status, 409);
  assert.equal(backwards.data, null);
  assert.equal(backwards.error.code, 'PT409');
  assert.equal(backwards.error.hint, 'status_conflict');
  assert.equal(backwards.error.details, 'current status: done');

  const sideways = await deliver(task, 'error', { p_delivery_id: `msg_${randomUUID()}`, p_error: 'too late' });
  assert.equal(sideways.status, 409);
  assert.equal(sideways.error.hint, 'status_conflict');

  assert.deepEqual(sql(`select to_jsonb(r)::text from public.segmentation_results r where id = '${task}'`), rowBefore);
  assert.deepEqual(sql(`select count(*) from public.webhook_deliveries where delivery_id = '${lateId}'`), [['0']],
    'a refused delivery is not recorded');
  assert.equal(ledger(task, a.user.id).credits, 9);

  const errored = await fileTask(a);
  await deliver(errored, 'error', { p_error: 'bad image' });
  const revived = await deliver(errored, 'done', doneFields(`msg_${randomUUID()}`));
  assert.equal(revived.status, 409);
  assert.equal(ledger(errored, a.user.id).logs, 0);
});

test('an unknown task is a 404 and nothing is written', async () => {
  const deliveryId = `msg_${randomUUID()}`;
  const unknown = await deliver(randomUUID(), 'done', doneFields(deliveryId));
  assert.equal(unknown.status, 404);
  assert.equal(unknown.error.code, 'PT404');
  assert.equal(unknown.error.hint, 'task_not_found');
  assert.deepEqual(sql(`select count(*) from public.webhook_deliveries where delivery_id = '${deliveryId}'`), [['0']]);
});

test('a delivery id reused for another task or status is a 409', async () => {
  const a = await signedUpUser(undefined, 'wh-reuse');
  const first = await fileTask(a);
  const second = await fileTask(a);
  const deliveryId = `msg_${randomUUID()}`;
  assert.equal((await deliver(first, 'processing', { p_delivery_id: deliveryId })).error, null);

  const otherTask = await deliver(second, 'processing', { p_delivery_id: deliveryId });
  assert.equal(otherTask.status, 409);
  assert.equal(otherTask.error.hint, 'delivery_id_reused');
  const otherStatus = await deliver(first, 'done', doneFields(deliveryId));
  assert.equal(otherStatus.status, 409);
  assert.equal(otherStatus.error.hint, 'delivery_id_reused');

  assert.equal(ledger(first, a.user.id).status, 'processing');
  assert.equal(ledger(second, a.user.id).status, 'pending');
});

test('invalid arguments are a 400 and nothing is written', async () => {
  const a = await signedUpUser(undefined, 'wh-bad');
  const task = await fileTask(a);
  const cases = [
    [{ p_task_id: task, p_status: 'pending' }, '22023'],
    [{ p_task_id: task, p_status: 'finished' }, '22023'],
    [{ p_task_id: task, p_status: 'done', p_credits_used: -5 }, '22023'],
    [{ p_task_id: 'not-a-uuid', p_status: 'done' }, '22P02'],
    [{ p_task_id: task, p_status: 'done', p_mask_url: 'javascript:alert(1)' }, '23514'],
    [{ p_task_id: task, p_status: 'done', p_labels: { not: 'an array' } }, '23514'],
  ];
  for (const [args, code] of cases) {
    const { status, error } = await service.rpc('apply_segmentation_webhook', args);
    assert.equal(status, 400, JSON.stringify(args));
    assert.equal(error.code, code, JSON.stringify(args));
  }
  assert.deepEqual(ledger(task, a.user.id), { status: 'pending', mask: '', credits: 10, logs: 0, charged: 0, deliveries: 0 });
});

test('a short balance: the result is stored, what is there is charged, the shortfall recorded', async () => {
  const a = await signedUpUser(undefined, 'wh-short');
  sql(`update public.user_profiles set credits = 2 where id = '${a.user.id}'`);
  const task = await fileTask(a);

  const done = await deliver(task, 'done', doneFields(`msg_${randomUUID()}`, { p_credits_used: 5 }));
  assert.equal(done.error, null);
  assert.deepEqual(
    { charged: done.data.charged, credits_charged: done.data.credits_charged, credits_shortfall: done.data.credits_shortfall, credits_remaining: done.data.credits_remaining },
    { charged: true, credits_charged: 2, credits_shortfall: 3, credits_remaining: 0 },
  );
  assert.deepEqual(ledger(task, a.user.id), {
    status: 'done', mask: 'https://masks.example.test/cat-mask.png', credits: 0, logs: 1, charged: 2, deliveries: 1,
  });
  const log = await a.client.from('usage_logs').select('credits_used, metadata').single();
  assert.equal(log.data.credits_used, 2);
  assert.equal(log.data.metadata.credits_requested, 5);
  assert.equal(log.data.metadata.credits_shortfall, 3);

  // With nothing left, a further task cannot be filed (the credit check,
  // 20261201150000_credit_reservations.sql)...
  const refused = await a.client.from('segmentation_results').insert({ source_image_url: 'https://images.example.test/cat.png' });
  assert.equal(refused.status, 402);
  assert.equal(refused.error.message, 'No credits left');
  // ...but a task filed before that check existed (it holds no reservation) is still stored,
  // charged 0, all of it shortfall.
  const next = randomUUID();
  sql(`do $$ begin
    alter table public.segmentation_results disable trigger segmentation_results_reserve_credit;
    insert into public.segmentation_results (id, user_id, source_image_url) values ('${next}', '${a.user.id}', 'https://images.example.test/old.png');
    alter table public.segmentation_results enable trigger segmentation_results_reserve_credit;
  end $$`);
  const broke = await deliver(next, 'done', doneFields(`msg_${randomUUID()}`));
  assert.equal(broke.error, null);
  assert.equal(broke.data.credits_charged, 0);
  assert.equal(broke.data.credits_shortfall, 1);
  assert.equal(broke.data.credits_remaining, 0);
  assert.equal(ledger(next, a.user.id).status, 'done');
});

test('RLS: owners only; anon, users and other users cannot reach what is not theirs', async () => {
  const a = await signedUpUser(undefined, 'wh-rls-a');
  const b = await signedUpUser(undefined, 'wh-rls-b');

  const project = await a.client.from('projects').insert({ name: 'Cats', description: 'cat masks' }).select().single();
  assert.equal(project.error, null);
  assert.equal(project.data.user_id, a.user.id);
  const task = await fileTask(a, { project_id: project.data.id });
  await deliver(task, 'done', doneFields(`msg_${randomUUID()}`));

  // B and anon see none of A's rows.
  for (const table of ['projects', 'segmentation_results', 'usage_logs']) {
    const own = await a.client.from(table).select('id');
    assert.equal(own.data.length, 1, `A reads their own ${table}`);
    const other = await b.client.from(table).select('id');
    assert.equal(other.error, null);
    assert.deepEqual(other.data, [], `B sees none of A's ${table}`);
    const anon = await anonClient().from(table).select('id');
    assert.equal(anon.status, 401, `anon has no access to ${table}`);
  }
  const bRenames = await b.client.from('projects').update({ name: 'mine now' }).eq('id', project.data.id).select();
  assert.deepEqual(bRenames.data, []);
  const bDeletes = await b.client.from('segmentation_results').delete().eq('id', task).select();
  assert.deepEqual(bDeletes.data, []);

  // A result cannot be filed under, or moved to, another user's project.
  const bFiles = await b.client.from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/dog.png', project_id: project.data.id });
  assert.equal(bFiles.status, 409);
  assert.equal(bFiles.error.code, '23503');
  const bTask = await fileTask(b);
  const bMoves = await b.client.from('segmentation_results').update({ project_id: project.data.id }).eq('id', bTask);
  assert.equal(bMoves.error.code, '23503');
  const bForges = await b.client.from('projects').insert({ name: 'planted', user_id: a.user.id });
  assert.equal(bForges.status, 403);

  // The server's columns and tables stay the server's.
  const selfFinish = await a.client.from('segmentation_results').update({ status: 'done' }).eq('id', task);
  assert.equal(selfFinish.status, 403, 'a user cannot set the status of their own task');
  const selfFiled = await a.client.from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/x.png', status: 'done', credits_charged: 0 });
  assert.equal(selfFiled.status, 403, 'a user cannot file a finished task');
  const logInsert = await a.client.from('usage_logs').insert({ user_id: a.user.id, action: 'upload', credits_used: 0 });
  assert.equal(logInsert.status, 403, 'a user cannot write the ledger');
  assert.equal(logInsert.error.code, '42501');
  const deliveries = await a.client.from('webhook_deliveries').select('*');
  assert.equal(deliveries.status, 403, 'deliveries are not readable by users');
  const anonDeliveries = await anonClient().from('webhook_deliveries').select('*');
  assert.equal(anonDeliveries.status, 401);

  // Only the service role may apply a webhook.
  const userCall = await a.client.rpc('apply_segmentation_webhook', { p_task_id: bTask, p_status: 'done' });
  assert.equal(userCall.status, 403);
  assert.equal(userCall.error.code, '42501');
  const anonCall = await anonClient().rpc('apply_segmentation_webhook', { p_task_id: bTask, p_status: 'done' });
  assert.equal(anonCall.status, 401);
  assert.equal(ledger(bTask, b.user.id).status, 'pending');

  // The service role writes the ledger (seed 002: "service_role can insert usage_logs").
  const upload = await service.from('usage_logs')
    .insert({ user_id: a.user.id, action: 'upload', credits_used: 0, metadata: { bytes: 1024 } }).select('action').single();
  assert.equal(upload.error, null);
  assert.equal(upload.data.action, 'upload');

  // Deleting a project keeps its results.
  const dropped = await a.client.from('projects').delete().eq('id', project.data.id).select('id');
  assert.equal(dropped.data.length, 1);
  assert.deepEqual(sql(`select project_id is null, user_id from public.segmentation_results where id = '${task}'`), [['t', a.user.id]]);
});

test('segmentation_results is published to Realtime', () => {
  assert.deepEqual(
    sql(`select count(*) from pg_publication_tables
          where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'segmentation_results'`),
    [['1']],
  );
});

test('purge_old_webhook_deliveries forgets ids older than the kept days; a late repeat still charges nothing', async () => {
  const owner = await signedUpUser(undefined, 'whdb-purge');
  const task = await fileTask(owner);
  const oldId = `msg_${randomUUID()}`;
  const recentId = `msg_${randomUUID()}`;
  assert.equal((await deliver(task, 'processing', { p_delivery_id: oldId })).error, null);
  assert.equal((await deliver(task, 'done', doneFields(recentId))).error, null);
  sql(`update public.webhook_deliveries set received_at = now() - interval '31 days' where delivery_id = '${oldId}'`);
  const charged = ledger(task, owner.user.id);

  // Only the service role may run it, and only with sane arguments.
  const anonCall = await anonClient().rpc('purge_old_webhook_deliveries', {});
  assert.notEqual(anonCall.error, null);
  for (const args of [{ p_keep_days: 0 }, { p_keep_days: 3651 }, { p_limit: 0 }]) {
    const bad = await service.rpc('purge_old_webhook_deliveries', args);
    assert.equal(bad.status, 400, JSON.stringify(args));
    assert.equal(bad.error.code, '22023');
  }

  const { data, error } = await service.rpc('purge_old_webhook_deliveries', { p_keep_days: 30 });
  assert.equal(error, null);
  assert.ok(data >= 1, `deleted ${data}`);
  assert.deepEqual(sql(`select delivery_id from public.webhook_deliveries where task_id = '${task}' order by delivery_id`), [[recentId]]);

  // The forgotten id comes back late with `done`: the task is done already, nothing is charged.
  const late = await deliver(task, 'done', doneFields(oldId));
  assert.equal(late.error, null);
  assert.equal(late.data.outcome, 'unchanged');
  assert.equal(late.data.charged, false);
  assert.equal(late.data.credits_charged, 0);
  assert.deepEqual({ ...ledger(task, owner.user.id), deliveries: 0 }, { ...charged, deliveries: 0 });
});

// Seed 002's "cleanup-old-results" in the database (20261201150100_results_retention.sql):
// purge_old_segmentation_results deletes finished results older than the kept days, in
// batches, keeps their usage rows for billing, and never touches a pending or processing task.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, serviceClient, signedUpUser, sql } from './support/stack.mjs';

const service = serviceClient();

/** A task of `owner` in `status`, filed `daysAgo` days ago (the charge applied as the webhook does). */
async function taskOf(owner, status, daysAgo) {
  const { data, error } = await owner.client.from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/old.png', text_prompt: `${status} ${daysAgo}d` })
    .select('id').single();
  assert.equal(error, null);
  if (status !== 'pending') {
    const applied = await service.rpc('apply_segmentation_webhook', { p_task_id: data.id, p_status: status });
    assert.equal(applied.error, null);
  }
  sql(`update public.segmentation_results set created_at = now() - make_interval(days => ${daysAgo}) where id = '${data.id}'`);
  return data.id;
}

const exists = (id) => sql(`select count(*) from public.segmentation_results where id = '${id}'`)[0][0] === '1';

test('old finished results go, their usage rows stay (with the result named); open and recent tasks stay', async () => {
  const owner = await signedUpUser(undefined, 'ret-db');
  const oldDone = await taskOf(owner, 'done', 120);
  const oldError = await taskOf(owner, 'error', 95);
  const oldPending = await taskOf(owner, 'pending', 400);
  const oldProcessing = await taskOf(owner, 'processing', 200);
  const recentDone = await taskOf(owner, 'done', 10);
  const [[creditsBefore]] = sql(`select credits from public.user_profiles where id = '${owner.user.id}'`);

  // Other runs' old results may be deleted too; ours must be.
  let report;
  do {
    const { data, error } = await service.rpc('purge_old_segmentation_results', { p_keep_days: 90, p_limit: 1000 });
    assert.equal(error, null);
    report = data;
  } while (report.more);

  assert.equal(exists(oldDone), false);
  assert.equal(exists(oldError), false);
  assert.equal(exists(oldPending), true, 'a pending task is never touched');
  assert.equal(exists(oldProcessing), true, 'a processing task is never touched');
  assert.equal(exists(recentDone), true);

  // The ledger keeps the charge of the deleted result, naming it in its metadata.
  const logs = await owner.client.from('usage_logs').select('result_id, credits_used, metadata').order('created_at');
  assert.equal(logs.error, null);
  assert.equal(logs.data.length, 2, 'one usage row per done task, the deleted one included');
  const kept = logs.data.find((l) => l.metadata.result_deleted_id === oldDone);
  assert.ok(kept, JSON.stringify(logs.data));
  assert.equal(kept.result_id, null);
  assert.equal(kept.credits_used, 1);
  assert.ok(kept.metadata.result_created_at);
  assert.deepEqual(sql(`select credits from public.user_profiles where id = '${owner.user.id}'`), [[creditsBefore]], 'no credit moves');
  // The open tasks still hold their reservations.
  assert.deepEqual(sql(`select credits_reserved from public.user_profiles where id = '${owner.user.id}'`), [['2']]);
});

test('batches: p_limit results per call, oldest first, `more` until done; a shorter age keeps less', async () => {
  const owner = await signedUpUser(undefined, 'ret-batch');
  const ids = [];
  for (const days of [300, 250, 200]) ids.push(await taskOf(owner, 'done', days));
  // Drain other runs' results older than 180 days first, so the batch below is ours.
  for (;;) {
    const { data } = await service.rpc('purge_old_segmentation_results', { p_keep_days: 299, p_limit: 1000 });
    if (!data.more) break;
  }
  assert.equal(exists(ids[0]), false, 'older than 299 days');
  const first = await service.rpc('purge_old_segmentation_results', { p_keep_days: 180, p_limit: 1 });
  assert.equal(first.error, null);
  assert.deepEqual(first.data, { deleted_results: 1, usage_rows_kept: 1, more: true });
  assert.equal(exists(ids[1]), false, 'the oldest goes first');
  assert.equal(exists(ids[2]), true);
});

test('only the service role runs it, with sane arguments', async () => {
  const owner = await signedUpUser(undefined, 'ret-auth');
  const user = await owner.client.rpc('purge_old_segmentation_results', {});
  assert.equal(user.status, 403);
  assert.equal(user.error.code, '42501');
  assert.equal((await anonClient().rpc('purge_old_segmentation_results', {})).status, 401);
  for (const args of [{ p_keep_days: 0 }, { p_keep_days: 3651 }, { p_limit: 0 }, { p_limit: 100001 }]) {
    const bad = await service.rpc('purge_old_segmentation_results', args);
    assert.equal(bad.status, 400, JSON.stringify(args));
    assert.equal(bad.error.code, '22023');
  }
});

// Seed 002's "cleanup-old-results" end to end: process-webhook's cron trigger (wrangler dev
// --test-scheduled) and its on-demand route with the service key delete finished results older
// than RESULTS_RETENTION_DAYS (90 on the test stack), keep their usage rows, and never touch a
// pending or processing task. The same cron grants each level's monthly credits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, serviceClient, signedUpUser, sql, stack } from './support/stack.mjs';
import { call, invoke } from './support/functions.mjs';
import { webhook } from './support/guests.mjs';

/** A task of `owner` reported `status` through process-webhook, then aged `daysAgo` days. */
async function agedTask(owner, status, daysAgo) {
  const { data, error } = await owner.client.from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/old.png' }).select('id').single();
  assert.equal(error, null);
  if (status !== 'pending') assert.equal((await webhook({ task_id: data.id, status })).status, 200);
  sql(`update public.segmentation_results set created_at = now() - make_interval(days => ${daysAgo}) where id = '${data.id}'`);
  return data.id;
}

const exists = (id) => sql(`select count(*) from public.segmentation_results where id = '${id}'`)[0][0] === '1';
const usageRows = (userId) => sql(`select count(*) from public.usage_logs where user_id = '${userId}'`)[0][0];

test('on demand with the service key: results older than 90 days go, usage rows and open tasks stay', async () => {
  const owner = await signedUpUser(undefined, 'ret-e2e');
  const old = await agedTask(owner, 'done', 91);
  const kept = await agedTask(owner, 'done', 89);
  const failed = await agedTask(owner, 'error', 120);
  const running = await agedTask(owner, 'processing', 300);

  const anon = await invoke(anonClient(), 'process-webhook/retention');
  assert.equal(anon.status, 403);
  assert.equal(anon.body.code, 'service_key_required');
  const noKey = await call(`${stack.functionsUrl}/process-webhook/retention`, { method: 'POST' });
  assert.equal(noKey.status, 401);
  assert.equal(noKey.body.code, 'missing_api_key');
  assert.equal(exists(old), true, 'refused runs delete nothing');

  const run = await invoke(serviceClient(), 'process-webhook/retention');
  assert.equal(run.status, 200, JSON.stringify(run.body));
  assert.equal(run.body.keep_days, 90);
  assert.ok(run.body.deleted_results >= 2, JSON.stringify(run.body));
  assert.equal(run.body.more, false);
  assert.deepEqual([exists(old), exists(kept), exists(failed), exists(running)], [false, true, false, true]);
  assert.equal(usageRows(owner.user.id), '2', 'the deleted result\'s charge stays in the ledger');
  assert.deepEqual(sql(`select count(*) from public.usage_logs where metadata ->> 'result_deleted_id' = '${old}' and result_id is null`), [['1']]);
});

test('the cron trigger deletes old finished results and grants the month\'s credits by level', async () => {
  const origin = process.env.FUNCTIONS_ORIGIN;
  assert.ok(origin, 'scripts/test.sh sets FUNCTIONS_ORIGIN to wrangler dev itself');
  const owner = await signedUpUser(undefined, 'ret-cron');
  const old = await agedTask(owner, 'done', 100);
  const pending = await agedTask(owner, 'pending', 100);
  // An account at level paid1 whose month's grant is due, with 3 credits left.
  const paid = await signedUpUser(undefined, 'ret-cron-paid');
  sql(`update public.user_profiles set level = 3 where id = '${paid.user.id}'`);
  sql(`update public.user_profiles set credits = 3, credits_granted_for = null where id = '${paid.user.id}'`);

  const fired = await fetch(`${origin}/__scheduled?cron=${encodeURIComponent('23 * * * *')}`);
  assert.equal(fired.status, 200, await fired.text());
  const granted = () => sql(`select credits, credits_granted_for is not null from public.user_profiles where id = '${paid.user.id}'`)[0];
  for (let i = 0; i < 50 && (exists(old) || granted()[1] !== 't'); i += 1) await new Promise((r) => setTimeout(r, 200));
  assert.equal(exists(old), false);
  assert.equal(exists(pending), true, 'a pending task is never deleted');
  assert.deepEqual(granted(), ['100', 't'], 'paid1 is topped up to its 100 monthly credits');
});

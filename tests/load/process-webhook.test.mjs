// Load: process-webhook at a sustained open-loop rate. N pending tasks are filed first; every
// fifth request re-sends an earlier delivery (same webhook-id, as a sender retries), the others
// deliver `done` for a new task, signed as Standard Webhooks or with X-API-Key in turn. Then:
// one usage log per task made done, the balance lowered by exactly that many credits, and the
// retries charged nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signedUpUser, sql } from '../support/stack.mjs';
import { assertNoServerErrors, testTimeout, loadShape, openLoop, report, runId, summarize } from './support/load.mjs';
import { delivery } from './support/webhook.mjs';

const { rate, seconds } = loadShape('process-webhook');

test('process-webhook under sustained load: no 5xx, N deliveries → N usage logs, credits exact, retries free', { timeout: testTimeout(seconds) }, async () => {
  const run = runId();
  const total = Math.round(rate * seconds);
  const owner = await signedUpUser(undefined, 'load-webhook');
  const startCredits = 1_000_000;
  sql(`update public.user_profiles set credits = ${startCredits} where id = '${owner.user.id}'`);
  const isRetry = (i) => i % 5 === 4;
  const fresh = Array.from({ length: total }, (_, i) => i).filter((i) => !isRetry(i));
  const tasks = sql(`with made as (insert into public.segmentation_results (user_id, source_image_url, text_prompt)
    select '${owner.user.id}', 'https://images.example.test/' || g || '.png', '${run}' from generate_series(1, ${fresh.length}) g returning id) select id from made`).map(([id]) => id);
  // Request i (not a retry) makes task taskOf[i] done with delivery id `${run}-${i}`, 1–3 credits.
  const taskOf = new Map(fresh.map((i, k) => [i, tasks[k]]));
  const creditsOf = (i) => 1 + (i % 3);
  const result = await openLoop({
    rate,
    seconds,
    request: (i) => {
      // A retry repeats request i - 2 (sent 2 intervals earlier, maybe not answered yet).
      const origin = isRetry(i) ? i - 2 : i;
      return delivery(taskOf.get(origin), `${run}-${origin}`, { viaKey: origin % 2 === 0, credits: creditsOf(origin) });
    },
  });
  report(summarize('process-webhook', result));
  assertNoServerErrors(result, assert);
  assert.deepEqual([...new Set(result.results.map((r) => r.status))], [200], 'every delivery answered 200');
  const firsts = result.results.filter((r) => !isRetry(r.i));
  for (const r of firsts) assert.equal(r.json.charged, true, JSON.stringify(r.json));
  for (const r of result.results.filter((r) => isRetry(r.i))) {
    assert.equal(r.json.charged, true, 'a retry repeats the first answer');
    assert.equal(r.json.credits_charged, creditsOf(r.i - 2));
  }

  const charged = firsts.reduce((s, r) => s + creditsOf(r.i), 0);
  const [[done, logs, logged, balance, deliveries]] = sql(`
    select (select count(*) from public.segmentation_results where text_prompt = '${run}' and status = 'done'),
           (select count(*) from public.usage_logs u join public.segmentation_results r on r.id = u.result_id where r.text_prompt = '${run}'),
           (select coalesce(sum(u.credits_used), 0) from public.usage_logs u join public.segmentation_results r on r.id = u.result_id where r.text_prompt = '${run}'),
           (select credits from public.user_profiles where id = '${owner.user.id}'),
           (select count(*) from public.webhook_deliveries where delivery_id like '${run}-%')`);
  assert.equal(Number(done), firsts.length, 'every task delivered is done');
  assert.equal(Number(logs), firsts.length, 'N deliveries → N usage logs');
  assert.equal(Number(logged), charged);
  assert.equal(Number(balance), startCredits - charged, 'credits debited exactly once per task');
  assert.equal(Number(deliveries), firsts.length, 'one delivery record per delivery id');
});

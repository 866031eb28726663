// Seed 002's credit check end to end: tasks filed the way the app files them (supabase-js
// insert through /rest/v1 with the user's session), results reported through the process-webhook
// Worker with retries, guests made by guest-signup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { signedUpUser, sql } from './support/stack.mjs';
import { functionGuest, webhook } from './support/guests.mjs';

const fileTask = (owner) => owner.client.from('segmentation_results')
  .insert({ source_image_url: 'https://images.example.test/cat.png', text_prompt: 'the cat' })
  .select('id').single();

const balance = (userId) => sql(`select credits, credits_reserved from public.user_profiles where id = '${userId}'`)[0].map(Number);

function assertNoCreditsLeft(answer) {
  assert.equal(answer.status, 402);
  assert.equal(answer.error.message, 'No credits left');
  assert.equal(answer.error.code, 'PT402');
}

test('12 filings at once with 4 credits: exactly 4 tasks; webhook retries charge each once; then "No credits left"', async () => {
  const a = await signedUpUser(undefined, 'credits-e2e');
  sql(`update public.user_profiles set credits = 4 where id = '${a.user.id}'`);
  const answers = await Promise.all(Array.from({ length: 12 }, () => fileTask(a)));
  const filed = answers.filter((r) => r.error === null).map((r) => r.data.id);
  assert.equal(filed.length, 4);
  for (const r of answers.filter((r) => r.error !== null)) assertNoCreditsLeft(r);
  assert.deepEqual(balance(a.user.id), [4, 4]);

  // The backend reports each task done 3 times at once (its retries) with the same key.
  const deliveries = filed.flatMap((task) => {
    const key = `job-${randomUUID()}`;
    return [1, 2, 3].map(() => webhook({ task_id: task, status: 'done', mask_url: 'https://masks.example.test/m.png' }, { idempotencyKey: key }));
  });
  const results = await Promise.all(deliveries);
  assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
  assert.equal(results.filter((r) => !r.body.replayed).length, 4, 'one delivery per task did the work');
  assert.ok(results.every((r) => r.body.charged && r.body.credits_charged === 1));
  assert.deepEqual(balance(a.user.id), [0, 0], 'exactly 4 credits charged, never below zero');
  assert.deepEqual(sql(`select count(*), sum(credits_used) from public.usage_logs where user_id = '${a.user.id}'`), [['4', '4']]);

  assertNoCreditsLeft(await fileTask(a));
});

test('an error report gives the credit back once, retries included; the credit files a new task', async () => {
  const a = await signedUpUser(undefined, 'credits-e2e-err');
  sql(`update public.user_profiles set credits = 1 where id = '${a.user.id}'`);
  const { data: task } = await fileTask(a);
  assertNoCreditsLeft(await fileTask(a));
  assert.equal((await webhook({ task_id: task.id, status: 'processing' })).status, 200);
  assert.deepEqual(balance(a.user.id), [1, 1]);

  const key = `job-${randomUUID()}`;
  const reports = await Promise.all([1, 2, 3, 4].map(() => webhook({ task_id: task.id, status: 'error', error: 'GPU lost' }, { idempotencyKey: key })));
  assert.deepEqual(reports.map((r) => r.status), [200, 200, 200, 200]);
  assert.ok(reports.every((r) => r.body.charged === false && r.body.credits_remaining === 1));
  assert.deepEqual(balance(a.user.id), [1, 0]);
  assert.equal((await fileTask(a)).error, null, 'the released credit pays for the next task');
});

test('a guest from guest-signup may spend its 3 trial credits; the 4th filing is refused', async () => {
  const g = await functionGuest();
  const mine = await g.client.from('user_profiles').select('level, tier, credits').single();
  assert.deepEqual(mine.data, { level: 1, tier: 'free', credits: 3 });
  const answers = await Promise.all(Array.from({ length: 6 }, () => fileTask(g)));
  assert.equal(answers.filter((r) => r.error === null).length, 3);
  for (const r of answers.filter((r) => r.error !== null)) assertNoCreditsLeft(r);
});

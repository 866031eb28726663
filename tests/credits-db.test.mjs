// Seed 002's credit check in the database (migration 20261201150000_credit_reservations.sql):
// filing a task reserves a credit or is refused with "No credits left"; done charges, error and
// deleting an open task release; never below zero, exactly once under races and retries.
// Driven as the clients drive it: tasks filed through /rest/v1 with the owner's token,
// deliveries applied through rpc/apply_segmentation_webhook with the service key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { anonClient, serviceClient, signedUpUser, sql } from './support/stack.mjs';
import { functionGuest } from './support/guests.mjs';

const service = serviceClient();

function fileTask(owner) {
  return owner.client
    .from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/cat.png', text_prompt: 'the cat' })
    .select('id, credits_reserved')
    .single();
}

const deliver = (taskId, status, fields = {}) =>
  service.rpc('apply_segmentation_webhook', { p_task_id: taskId, p_status: status, ...fields });

/** credits, credits_reserved of an account, as the superuser reads them. */
function balance(userId) {
  const [[credits, reserved]] = sql(`select credits, credits_reserved from public.user_profiles where id = '${userId}'`);
  return { credits: Number(credits), reserved: Number(reserved) };
}

/** A signed-up user whose balance an operator set to `credits`. */
async function userWithCredits(credits, tag) {
  const u = await signedUpUser(undefined, tag);
  sql(`update public.user_profiles set credits = ${credits} where id = '${u.user.id}'`);
  return u;
}

function assertNoCreditsLeft({ data, error, status }) {
  assert.equal(data, null);
  assert.equal(status, 402);
  assert.equal(error.code, 'PT402');
  assert.equal(error.message, 'No credits left');
  assert.equal(error.hint, 'no_credits_left');
}

test('filing a task reserves one credit; with none free the insert is refused with "No credits left" and nothing is written', async () => {
  const a = await userWithCredits(2, 'cr-reserve');
  const first = await fileTask(a);
  assert.equal(first.error, null);
  assert.equal(first.data.credits_reserved, 1);
  assert.deepEqual(balance(a.user.id), { credits: 2, reserved: 1 }, 'the balance is charged at done; filing holds');
  assert.equal((await fileTask(a)).error, null);
  assert.deepEqual(balance(a.user.id), { credits: 2, reserved: 2 });

  assertNoCreditsLeft(await fileTask(a));
  assert.deepEqual(sql(`select count(*) from public.segmentation_results where user_id = '${a.user.id}'`), [['2']]);
  assert.deepEqual(balance(a.user.id), { credits: 2, reserved: 2 });

  const broke = await userWithCredits(0, 'cr-broke');
  assertNoCreditsLeft(await fileTask(broke));
  assert.deepEqual(sql(`select count(*) from public.segmentation_results where user_id = '${broke.user.id}'`), [['0']]);
});

test('N concurrent filings against k credits: exactly k tasks are filed, the rest refused; never below zero', async () => {
  const a = await userWithCredits(5, 'cr-race');
  const answers = await Promise.all(Array.from({ length: 20 }, () => fileTask(a)));
  const filed = answers.filter((r) => r.error === null);
  const refused = answers.filter((r) => r.error !== null);
  assert.equal(filed.length, 5);
  for (const r of refused) assertNoCreditsLeft(r);
  assert.deepEqual(balance(a.user.id), { credits: 5, reserved: 5 });
  assert.deepEqual(sql(`select count(*), sum(credits_reserved) from public.segmentation_results where user_id = '${a.user.id}'`), [['5', '5']]);

  // All five finish at once with retries: each charged once, the balance ends at zero exactly.
  const ids = filed.map((r) => r.data.id);
  const deliveries = ids.flatMap((id) => {
    const deliveryId = `msg_${randomUUID()}`;
    return [1, 2, 3].map(() => deliver(id, 'done', { p_delivery_id: deliveryId }));
  });
  for (const { error } of await Promise.all(deliveries)) assert.equal(error, null);
  assert.deepEqual(balance(a.user.id), { credits: 0, reserved: 0 });
  assert.deepEqual(sql(`select count(*), sum(credits_used) from public.usage_logs where user_id = '${a.user.id}'`), [['5', '5']]);
  assertNoCreditsLeft(await fileTask(a));
});

test('done charges the reservation first, then free credits only, never another open task\'s reservation', async () => {
  const a = await userWithCredits(3, 'cr-price');
  const [one, two] = [(await fileTask(a)).data.id, (await fileTask(a)).data.id];
  assert.deepEqual(balance(a.user.id), { credits: 3, reserved: 2 });

  // Price 5: its own reserved credit + the one free credit; task two's reservation is untouched.
  const done = await deliver(one, 'done', { p_credits_used: 5, p_delivery_id: `msg_${randomUUID()}` });
  assert.equal(done.error, null);
  assert.deepEqual([done.data.credits_charged, done.data.credits_shortfall, done.data.credits_remaining], [2, 3, 1]);
  assert.deepEqual(balance(a.user.id), { credits: 1, reserved: 1 });

  // Task two still has its credit: charged in full.
  const second = await deliver(two, 'done', { p_delivery_id: `msg_${randomUUID()}` });
  assert.deepEqual([second.data.credits_charged, second.data.credits_shortfall, second.data.credits_remaining], [1, 0, 0]);
  assert.deepEqual(balance(a.user.id), { credits: 0, reserved: 0 });
  assert.deepEqual(sql(`select credits_reserved from public.segmentation_results where id in ('${one}', '${two}')`), [['0'], ['0']]);

  // A price of 0 gives the reservation back.
  sql(`update public.user_profiles set credits = 1 where id = '${a.user.id}'`);
  const free = (await fileTask(a)).data.id;
  const zero = await deliver(free, 'done', { p_credits_used: 0 });
  assert.deepEqual([zero.data.credits_charged, zero.data.credits_remaining], [0, 1]);
  assert.deepEqual(balance(a.user.id), { credits: 1, reserved: 0 });
});

test('error releases the reservation once, however often it is delivered, also concurrently', async () => {
  const a = await userWithCredits(1, 'cr-error');
  const task = (await fileTask(a)).data.id;
  assertNoCreditsLeft(await fileTask(a));
  assert.equal((await deliver(task, 'processing')).error, null);
  assert.deepEqual(balance(a.user.id), { credits: 1, reserved: 1 }, 'processing keeps the hold');

  const deliveryId = `msg_${randomUUID()}`;
  const answers = await Promise.all([
    ...[1, 2, 3].map(() => deliver(task, 'error', { p_delivery_id: deliveryId, p_error: 'CUDA out of memory' })),
    ...[1, 2].map(() => deliver(task, 'error', { p_error: 'again, without an id' })),
  ]);
  for (const { error } of answers) assert.equal(error, null);
  assert.equal(answers.filter(({ data }) => data.outcome === 'applied' && !data.replayed).length, 1);
  assert.deepEqual(balance(a.user.id), { credits: 1, reserved: 0 }, 'released exactly once, nothing charged');

  // The credit is free again: a new task can be filed with it.
  assert.equal((await fileTask(a)).error, null);
  // A late `done` for the failed task is refused (final states stay final) and charges nothing.
  const late = await deliver(task, 'done', { p_delivery_id: `msg_${randomUUID()}` });
  assert.equal(late.status, 409);
  assert.deepEqual(balance(a.user.id), { credits: 1, reserved: 1 });
});

test('deleting an open task gives its credit back; deleting a finished one changes nothing', async () => {
  const a = await userWithCredits(1, 'cr-delete');
  const open = (await fileTask(a)).data.id;
  const gone = await a.client.from('segmentation_results').delete().eq('id', open).select('id');
  assert.equal(gone.data.length, 1);
  assert.deepEqual(balance(a.user.id), { credits: 1, reserved: 0 });

  const finished = (await fileTask(a)).data.id;
  await deliver(finished, 'done');
  assert.deepEqual(balance(a.user.id), { credits: 0, reserved: 0 });
  await a.client.from('segmentation_results').delete().eq('id', finished);
  assert.deepEqual(balance(a.user.id), { credits: 0, reserved: 0 });
});

test('nobody sets their own reservation, files for someone else, or probes another balance', async () => {
  const a = await userWithCredits(1, 'cr-forge');
  const b = await userWithCredits(0, 'cr-victim');
  const forged = await a.client.from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/x.png', credits_reserved: 0 });
  assert.equal(forged.status, 403, 'credits_reserved is not on the insert grant');
  const release = await a.client.from('user_profiles').update({ credits_reserved: 0 }).eq('id', a.user.id);
  assert.equal(release.status, 403);

  // Filing for B (who has no credit) fails on the insert policy, not on B's balance.
  const forB = await a.client.from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/x.png', user_id: b.user.id });
  assert.equal(forB.error.code, '42501');
  assert.deepEqual(balance(a.user.id), { credits: 1, reserved: 0 });
  assert.deepEqual(balance(b.user.id), { credits: 0, reserved: 0 });

  const anon = await anonClient().from('segmentation_results').insert({ source_image_url: 'https://images.example.test/x.png' });
  assert.equal(anon.status, 401);

  // The service role (a server filing for a user) is bound by the same check.
  const byService = await service.from('segmentation_results').insert({ source_image_url: 'https://images.example.test/x.png', user_id: b.user.id });
  assert.equal(byService.status, 402);
  assert.equal(byService.error.message, 'No credits left');
  // And an operator cannot take away credits a running task holds.
  const task = (await fileTask(a)).data.id;
  assert.throws(() => sql(`update public.user_profiles set credits = 0 where id = '${a.user.id}'`), /user_profiles_credits_reserved_covered/);
  assert.equal((await deliver(task, 'done')).data.credits_remaining, 0);
});

test('guests spend their trial credits like anyone; then "No credits left"', async () => {
  const guest = await functionGuest();
  const g = { client: guest.client, user: { id: guest.user_id } };
  assert.deepEqual(balance(g.user.id), { credits: 3, reserved: 0 });
  const answers = await Promise.all(Array.from({ length: 5 }, () => fileTask(g)));
  assert.equal(answers.filter((r) => r.error === null).length, 3);
  for (const r of answers.filter((r) => r.error !== null)) assertNoCreditsLeft(r);
});

test('an anonymous account made around guest-signup (POST /auth/v1/signup {}) has no trial credits', async () => {
  const client = anonClient();
  const { data, error } = await client.auth.signInAnonymously();
  assert.equal(error, null);
  const g = { client, user: data.user };
  assert.deepEqual(balance(g.user.id), { credits: 0, reserved: 0 });
  assertNoCreditsLeft(await fileTask(g));
});

// Seed 001's levels and seed 002's plan tiers with one source of truth
// (20261201150400_level_plans.sql): each level carries its tier and credits; an account's tier
// follows its level and cannot disagree; moving up grants the difference in starting credits;
// grant_monthly_credits tops balances up once a month.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { anonClient, serviceClient, signedUpUser, sql } from './support/stack.mjs';

const service = serviceClient();

test('every level states its tier and credits, readable by all', async () => {
  const { data, error } = await anonClient().from('levels').select('code, tier, starting_credits, monthly_credits').order('level_id');
  assert.equal(error, null);
  assert.deepEqual(data, [
    { code: 'guest', tier: 'free', starting_credits: 3, monthly_credits: 0 },
    { code: 'user', tier: 'free', starting_credits: 10, monthly_credits: 10 },
    { code: 'paid1', tier: 'pro', starting_credits: 100, monthly_credits: 100 },
    { code: 'paid2', tier: 'enterprise', starting_credits: 1000, monthly_credits: 1000 },
    { code: 'super', tier: 'enterprise', starting_credits: 1000, monthly_credits: 1000 },
  ]);
});

test('a recorded guest starts with 3 credits; upgrading grants the rest of a user\'s 10', async () => {
  const g = anonClient();
  const { data } = await g.auth.signInAnonymously();
  // What guest-signup does after taking the IP's rate-limit token: record the visitor.
  assert.equal((await service.rpc('record_guest_visitor', { p_user_id: data.user.id, p_visitor: {} })).error, null);
  const mine = await g.from('user_profiles').select('level, tier, credits').single();
  assert.deepEqual(mine.data, { level: 1, tier: 'free', credits: 3 });
  sql(`update public.user_profiles set credits = 1 where id = '${data.user.id}'`); // spent 2
  assert.equal((await g.auth.updateUser({ email: `lvl-${randomUUID()}@example.test`, password: `pw-${randomUUID()}` })).error, null);
  assert.deepEqual(sql(`select level, tier, credits from public.user_profiles where id = '${data.user.id}'`), [['2', 'free', '8']]);
});

test('an anonymous account made around guest-signup starts with 0 credits; upgrading gives a user\'s 10', async () => {
  const g = anonClient();
  const { data } = await g.auth.signInAnonymously(); // POST /auth/v1/signup {} with the anon key
  const mine = await g.from('user_profiles').select('level, tier, credits').single();
  assert.deepEqual(mine.data, { level: 1, tier: 'free', credits: 0 });
  assert.equal((await g.auth.updateUser({ email: `lvl-${randomUUID()}@example.test`, password: `pw-${randomUUID()}` })).error, null);
  assert.deepEqual(sql(`select level, tier, credits from public.user_profiles where id = '${data.user.id}'`), [['2', 'free', '10']]);
});

test('the tier follows the level: set by level, refused alone, moved with the levels table', async () => {
  const u = await signedUpUser(undefined, 'lvl-tier');
  const paid = await service.from('user_profiles').update({ level: 3 }).eq('id', u.user.id).select('level, tier, credits').single();
  assert.equal(paid.error, null);
  assert.deepEqual(paid.data, { level: 3, tier: 'pro', credits: 100 }, 'paid1 is pro, and grants 90 more credits');

  const tierAlone = await service.from('user_profiles').update({ tier: 'enterprise' }).eq('id', u.user.id);
  assert.equal(tierAlone.status, 400);
  assert.equal(tierAlone.error.hint, 'tier_follows_level');
  assert.throws(() => sql(`update public.user_profiles set tier = 'free' where id = '${u.user.id}'`), /tier_follows_level|change the level/);

  // Moving down keeps the credits; the tier follows.
  const down = await service.from('user_profiles').update({ level: 2 }).eq('id', u.user.id).select('tier, credits').single();
  assert.deepEqual(down.data, { tier: 'free', credits: 100 });
  // The user cannot change either.
  assert.equal((await u.client.from('user_profiles').update({ tier: 'pro' }).eq('id', u.user.id)).status, 403);

  // Changing a level's tier in `levels` moves every account at that level (in a transaction
  // that is rolled back, so other tests keep the shipped mapping).
  assert.throws(() => sql(`do $$ declare now_tier text; begin
    update public.user_profiles set level = 4 where id = '${u.user.id}';
    update public.levels set tier = 'pro' where level_id = 4;
    select tier into now_tier from public.user_profiles where id = '${u.user.id}';
    raise exception 'rolled back; the account''s tier was %', now_tier;
  end $$`), /the account's tier was pro/);
  assert.deepEqual(sql(`select level, tier from public.user_profiles where id = '${u.user.id}'`), [['2', 'free']]);
  // No row can hold a tier its level does not have, even with the trigger out of the way: the
  // foreign key (level, tier) -> levels refuses it.
  assert.throws(() => sql(`do $$ begin
    alter table public.user_profiles disable trigger user_profiles_level_plan;
    update public.user_profiles set tier = 'enterprise' where id = '${u.user.id}';
  end $$`), /user_profiles_level_tier_fkey/);
  assert.deepEqual(sql(`select tier from public.user_profiles where id = '${u.user.id}'`), [['free']]);
});

test('grant_monthly_credits tops each account up to its level once a month, never down, service role only', async () => {
  const low = await signedUpUser(undefined, 'lvl-month-low');
  const rich = await signedUpUser(undefined, 'lvl-month-rich');
  sql(`update public.user_profiles set credits = 1, credits_granted_for = null where id = '${low.user.id}'`);
  sql(`update public.user_profiles set credits = 50, credits_granted_for = null where id = '${rich.user.id}'`);
  const month = '2099-01-01';
  for (;;) {
    const { data, error } = await service.rpc('grant_monthly_credits', { p_month: month });
    assert.equal(error, null);
    assert.equal(data.month, month);
    if (!data.more) break;
  }
  assert.deepEqual(sql(`select credits, credits_granted_for from public.user_profiles where id in ('${low.user.id}', '${rich.user.id}') order by credits`),
    [['10', month], ['50', month]]);
  sql(`update public.user_profiles set credits = 0 where id = '${low.user.id}'`);
  const again = await service.rpc('grant_monthly_credits', { p_month: '2099-01-20' });
  assert.equal(again.error, null);
  assert.deepEqual(sql(`select credits from public.user_profiles where id = '${low.user.id}'`), [['0']], 'once per month');

  assert.equal((await low.client.rpc('grant_monthly_credits', {})).status, 403);
  assert.equal((await service.rpc('grant_monthly_credits', { p_limit: 0 })).status, 400);
});

test('the starting credits are the first month\'s grant: the monthly grant does not give them again', async () => {
  const u = await signedUpUser(undefined, 'lvl-first-month');
  const thisMonth = new Date().toISOString().slice(0, 8) + '01';
  assert.deepEqual(sql(`select credits, credits_granted_for from public.user_profiles where id = '${u.user.id}'`), [['10', thisMonth]]);
  sql(`update public.user_profiles set credits = 0 where id = '${u.user.id}'`); // spent them
  for (;;) {
    const { data, error } = await service.rpc('grant_monthly_credits', {});
    assert.equal(error, null);
    assert.equal(data.month, thisMonth);
    if (!data.more) break;
  }
  assert.deepEqual(sql(`select credits from public.user_profiles where id = '${u.user.id}'`), [['0']], 'not granted twice in its first month');
  const { data } = await service.rpc('grant_monthly_credits', { p_month: '2099-02-01' });
  assert.ok(data.granted_accounts >= 1);
  assert.deepEqual(sql(`select credits from public.user_profiles where id = '${u.user.id}'`), [['10']], 'next month it is granted');
});

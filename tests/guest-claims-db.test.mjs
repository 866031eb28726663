// guest-signup in two round trips (supabase/migrations/20261207900000_…): prepare_guest_signup
// takes the IP's rate-limit token and records the visitor with a one-time claim; Auth's insert of
// the anonymous user spends the claim (trigger on auth.users), attaching the visitor and granting
// the trial credits in Auth's own transaction. Driven as the Worker does, through the service
// role and supabase-js's signInAnonymously with `data`, and as an attacker would, with the anon key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { anonClient, serviceClient, signedUpUser, sql, uniqueEmail } from './support/stack.mjs';

const service = serviceClient();

/** A rate-limit bucket key of the shape take_rate_limit_token accepts. */
const freshKey = () => `test:${randomBytes(32).toString('hex')}`;

/** prepare_guest_signup as guest-signup calls it, with a bucket of its own. */
async function prepare({ key = freshKey(), limit = 5, visitor = { utm_source: 'claims' } } = {}) {
  return service.rpc('prepare_guest_signup', { p_key: key, p_limit: limit, p_window_secs: 3600, p_visitor: visitor });
}

/** An anonymous sign-up carrying `claim`, and a marker to find the account (or its absence). */
async function signUpWithClaim(claim) {
  const marker = randomUUID();
  const client = anonClient();
  const { data, error } = await client.auth.signInAnonymously({ options: { data: { guest_signup_claim: claim, marker } } });
  return { client, data, error, marker };
}

const accountsWithMarker = (marker) =>
  sql(`select count(*) from auth.users where raw_user_meta_data ->> 'marker' = '${marker}'`)[0][0];
const claimHash = (claim) => createHash('sha256').update(claim).digest('hex');
const claimsStored = (claim) =>
  sql(`select count(*) from private.guest_signup_claims where claim_hash = '\\x${claimHash(claim)}'`)[0][0];

test('prepare records an unattached visitor for an hour and keeps only the hash of its claim', async () => {
  const { data, error } = await prepare();
  assert.equal(error, null);
  assert.equal(data.allowed, true);
  assert.match(data.claim, /^[0-9a-f]{64}$/);
  const [[owner, hours]] = sql(`select coalesce(auth_user_id::text, 'none'),
                                       round(extract(epoch from expire_at - now()) / 3600)
                                  from public.visitor where visitor_id = '${data.visitor_id}'`);
  assert.deepEqual([owner, hours], ['none', '1']);
  assert.equal(claimsStored(data.claim), '1');
  assert.equal(sql(`select count(*) from private.guest_signup_claims
                     where encode(claim_hash, 'hex') like '%${data.claim.slice(0, 16)}%'`)[0][0], '0',
    'the claim itself is not stored');
});

test('the anonymous sign-up spends the claim: visitor attached, trial credits, claim gone from the metadata', async () => {
  const prepared = (await prepare()).data;
  const { client, data, error } = await signUpWithClaim(prepared.claim);
  assert.equal(error, null);
  const userId = data.user.id;
  const [[owner, expiresInDays]] = sql(`select auth_user_id, round(extract(epoch from expire_at - now()) / 86400)
                                          from public.visitor where visitor_id = '${prepared.visitor_id}'`);
  assert.equal(owner, userId);
  assert.equal(expiresInDays, '30', 'the visitor keeps its retention from now on');
  assert.deepEqual(sql(`select p.credits = l.starting_credits, p.starting_credits_received
                          from public.user_profiles p join public.levels l on l.level_id = p.level
                         where p.id = '${userId}'`), [['t', 't']]);
  assert.equal(sql(`select raw_user_meta_data ? 'guest_signup_claim' from auth.users where id = '${userId}'`)[0][0], 'f');
  assert.equal(claimsStored(prepared.claim), '0', 'spent');
  // The guest sees its own visitor through RLS.
  const own = await client.from('visitor').select('visitor_id').single();
  assert.equal(own.data.visitor_id, prepared.visitor_id);
});

test('a claim works once: replayed, unknown or expired, Auth makes no account', async () => {
  const prepared = (await prepare()).data;
  assert.equal((await signUpWithClaim(prepared.claim)).error, null);

  const replay = await signUpWithClaim(prepared.claim);
  assert.equal(replay.error?.status, 500);
  assert.match(replay.error.message, /Database error saving new user/);
  assert.equal(accountsWithMarker(replay.marker), '0');

  const forged = await signUpWithClaim('f'.repeat(64));
  assert.equal(forged.error?.status, 500);
  assert.equal(accountsWithMarker(forged.marker), '0');

  const late = (await prepare()).data;
  sql(`update private.guest_signup_claims set expires_at = now() - interval '1 second'
        where claim_hash = '\\x${claimHash(late.claim)}'`);
  const expired = await signUpWithClaim(late.claim);
  assert.equal(expired.error?.status, 500);
  assert.equal(accountsWithMarker(expired.marker), '0');
  assert.equal(sql(`select count(*) from public.visitor where visitor_id = '${late.visitor_id}' and auth_user_id is null`)[0][0], '1',
    'the visitor stays unattached, for the retention job');
});

test('an e-mail sign-up carrying a claim gets the claim stripped and no visitor', async () => {
  const prepared = (await prepare()).data;
  const client = anonClient();
  const { data, error } = await client.auth.signUp({
    email: uniqueEmail('claim'), password: `pw-${randomUUID()}`, options: { data: { guest_signup_claim: prepared.claim } },
  });
  assert.equal(error, null);
  assert.equal(sql(`select raw_user_meta_data ? 'guest_signup_claim' from auth.users where id = '${data.user.id}'`)[0][0], 'f');
  assert.equal(sql(`select count(*) from public.visitor where visitor_id = '${prepared.visitor_id}' and auth_user_id is null`)[0][0], '1');
  assert.equal(claimsStored(prepared.claim), '1', 'not spent by an account that is not a guest');
});

test('only the service role may prepare a sign-up', async () => {
  const anon = await anonClient().rpc('prepare_guest_signup', { p_key: freshKey(), p_limit: 5, p_window_secs: 60, p_visitor: {} });
  assert.equal(anon.error?.code, '42501');
  const { client } = await signedUpUser();
  const user = await client.rpc('prepare_guest_signup', { p_key: freshKey(), p_limit: 5, p_window_secs: 60, p_visitor: {} });
  assert.equal(user.error?.code, '42501');
});

test('an empty bucket or a refused visitor writes nothing and spends no token', async () => {
  const key = freshKey();
  const visitors = () => sql('select count(*) from public.visitor')[0][0];
  assert.equal((await prepare({ key, limit: 1 })).data.allowed, true);
  const before = visitors();
  const refused = await prepare({ key, limit: 1 });
  assert.equal(refused.data.allowed, false);
  assert.ok(refused.data.retry_after > 0);
  assert.equal(visitors(), before);

  const other = freshKey();
  const unknown = await prepare({ key: other, visitor: { favourite_colour: 'blue' } });
  assert.equal(unknown.error?.code, '22023');
  assert.match(unknown.error.message, /unknown visitor attributes: favourite_colour/);
  const tooLong = await prepare({ key: other, visitor: { utm_source: 'x'.repeat(201) } });
  assert.equal(tooLong.error?.code, '23514');
  assert.equal(visitors(), before);
  assert.equal(sql(`select count(*) from public.rate_limit_buckets where bucket_key = '${other}'`)[0][0], '0');
});

test('a visitor whose sign-up never came is purged once it expires', async () => {
  const prepared = (await prepare()).data;
  const run = await service.rpc('purge_expired_guests', { p_now: new Date(Date.now() + 2 * 3600_000).toISOString(), p_limit: 10000 });
  assert.equal(run.error, null);
  assert.equal(sql(`select count(*) from public.visitor where visitor_id = '${prepared.visitor_id}'`)[0][0], '0');
  assert.equal(claimsStored(prepared.claim), '0', 'its claim with it');
});

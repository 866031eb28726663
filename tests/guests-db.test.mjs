// guest-signup's database layer (migrations 20261122004000..004004): levels, the guest level on
// user_profiles, visitor, auth_vault, and the functions the Worker calls through /rest/v1/rpc
// with the service key. Guests are real Supabase Auth anonymous users made by supabase-js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { anonClient, serviceClient, signedUpUser, sql, uniqueEmail } from './support/stack.mjs';

const service = serviceClient();

/** A fresh guest: an anonymous Supabase Auth session, as the app starts one. */
async function guest() {
  const client = anonClient();
  const { data, error } = await client.auth.signInAnonymously();
  assert.equal(error, null);
  assert.equal(data.user.is_anonymous, true);
  return { client, user: data.user };
}

const visitorAttributes = {
  landing_url: 'https://app.example.test/pricing?utm_source=news',
  referrer_host: 'news.example.test',
  utm_source: 'news',
  utm_medium: 'email',
  utm_campaign: 'launch',
  device_type: 'mobile',
  device_class: 'phone',
  os_name: 'Android',
  os_version: '14',
  browser_name: 'Chrome',
  browser_version: '126.0.0.0',
  runtime_engine: 'chromium',
  user_agent_hash: 'a'.repeat(64),
  screen_width: 412,
  screen_height: 915,
  touch_support: true,
  app_platform: 'browser',
  display_mode: 'browser',
  geo_country: 'DE',
  timezone_guess: 'Europe/Berlin',
  ip_address: '203.0.113.7',
};

/** Records the visitor of `userId` as guest-signup does; returns the RPC's answer. */
async function recordVisitor(userId, attributes = visitorAttributes) {
  const { data, error } = await service.rpc('record_guest_visitor', { p_user_id: userId, p_visitor: attributes });
  assert.equal(error, null);
  return data;
}

/** A guest with its visitor recorded. */
async function guestWithVisitor(attributes) {
  const g = await guest();
  const recorded = await recordVisitor(g.user.id, attributes);
  return { ...g, visitorId: recorded.visitor_id };
}

/**
 * Moves a guest `days` into the past: its account's creation and sign-in, its sessions' refresh
 * tokens, and its visitor's first visit and expiry (the clock the retention job reads).
 */
function ageGuest(userId, days) {
  const ago = `interval '${days} days'`;
  sql(`update auth.users set created_at = created_at - ${ago}, last_sign_in_at = last_sign_in_at - ${ago} where id = '${userId}';
       update auth.refresh_tokens set created_at = created_at - ${ago}
        where session_id in (select id from auth.sessions where user_id = '${userId}');
       update public.visitor set first_seen_at = first_seen_at - ${ago}, expire_at = expire_at - ${ago}
        where auth_user_id = '${userId}'`);
}

/** Runs the retention job to the end; returns the ids of the accounts it deleted. */
async function purgeGuests() {
  const deleted = new Set();
  let more = true;
  while (more) {
    const { data, error } = await service.rpc('purge_expired_guests', { p_limit: 50 });
    assert.equal(error, null);
    data.deleted_user_ids.forEach((id) => deleted.add(id));
    more = data.more;
  }
  return deleted;
}

/** A rate-limit key as the Worker makes one: scope and HMAC of the client IP. */
function rateLimitKey(ip = `198.51.100.${Math.floor(Math.random() * 250)}`) {
  return `guest-signup:${createHmac('sha256', randomBytes(32)).update(ip).digest('hex')}`;
}

test('an anonymous sign-in makes a guest profile at level 1; a sign-up makes level 2', async () => {
  const g = await guest();
  const profile = await g.client.from('user_profiles').select('id, is_guest, level, email, email_verified').single();
  assert.equal(profile.error, null);
  assert.deepEqual(profile.data, { id: g.user.id, is_guest: true, level: 1, email: null, email_verified: false });

  const u = await signedUpUser(undefined, 'guests-user');
  const full = await u.client.from('user_profiles').select('is_guest, level, email_verified, last_login_at').single();
  assert.equal(full.data.is_guest, false);
  assert.equal(full.data.level, 2);
  assert.equal(full.data.email_verified, true, 'sign-up with confirmation off confirms the e-mail');
  assert.ok(full.data.last_login_at, 'the sign-in time is copied from auth.users');
});

test('levels are readable by everyone and writable by nobody through the API', async () => {
  const levels = await anonClient().from('levels').select('level_id, code').order('level_id');
  assert.equal(levels.error, null);
  assert.deepEqual(levels.data, [
    { level_id: 1, code: 'guest' }, { level_id: 2, code: 'user' }, { level_id: 3, code: 'paid1' },
    { level_id: 4, code: 'paid2' }, { level_id: 5, code: 'super' },
  ]);
  const g = await guest();
  assert.equal((await g.client.from('levels').select('code').eq('level_id', 1).single()).data.code, 'guest');

  const insert = await g.client.from('levels').insert({ level_id: 9, code: 'mine', name: 'Mine' });
  assert.equal(insert.status, 403);
  const rename = await g.client.from('levels').update({ name: 'VIP' }).eq('level_id', 1);
  assert.equal(rename.status, 403);
  const anonDelete = await anonClient().from('levels').delete().eq('level_id', 5);
  assert.equal(anonDelete.status, 401);
  assert.deepEqual(sql(`select count(*), min(name) from public.levels where name in ('Guest', 'Super User')`), [['2', 'Guest']]);
});

test('the service role records a visitor; only its guest reads it, and the guest keeps owner-only rows', async () => {
  const a = await guest();
  const recorded = await recordVisitor(a.user.id);
  assert.equal(recorded.auth_user_id, a.user.id);
  assert.equal(recorded.level, 'guest');
  const ttl = Date.parse(recorded.expire_at) - Date.parse(recorded.first_seen_at);
  assert.equal(ttl, 30 * 24 * 3600 * 1000, 'expires after the default 30 days');

  const mine = await a.client.from('visitor').select('*').single();
  assert.equal(mine.error, null);
  assert.equal(mine.data.visitor_id, recorded.visitor_id);
  assert.equal(mine.data.level, 1);
  assert.equal(mine.data.linked_to_user, false);
  assert.equal(mine.data.user_id, null);
  assert.equal(mine.data.ip_address, '203.0.113.7');
  assert.equal(mine.data.screen_width, 412);
  assert.equal(mine.data.utm_campaign, 'launch');
  assert.equal(mine.data.retention_ttl_days, 30);

  // An owner-only row written and read with the guest session (the test table `notes`).
  const note = await a.client.from('notes').insert({ body: 'guest draft' }).select('id, user_id').single();
  assert.equal(note.error, null);
  assert.equal(note.data.user_id, a.user.id);
  assert.equal((await a.client.from('notes').select('body')).data.length, 1);

  const b = await guest();
  assert.deepEqual((await b.client.from('visitor').select('visitor_id')).data, [], 'another guest sees no visitor');
  assert.deepEqual((await b.client.from('notes').select('id')).data, [], 'nor the first guest\'s rows');
  assert.deepEqual((await b.client.from('user_profiles').select('id').eq('id', a.user.id)).data, []);

  // Nobody writes visitors through the API, not even their guest.
  const forged = await a.client.from('visitor').insert({ auth_user_id: a.user.id });
  assert.equal(forged.status, 403);
  const relabel = await a.client.from('visitor').update({ linked_to_user: true }).eq('visitor_id', recorded.visitor_id);
  assert.equal(relabel.status, 403);
  const selfRecord = await a.client.rpc('record_guest_visitor', { p_user_id: a.user.id, p_visitor: {} });
  assert.equal(selfRecord.status, 403);
  assert.equal(selfRecord.error.code, '42501');
});

test('record_guest_visitor refuses bad input and wrong accounts, writing nothing', async () => {
  const g = await guest();
  const u = await signedUpUser(undefined, 'guests-notguest');
  const cases = [
    [{ p_user_id: g.user.id, p_visitor: { level: 5 } }, 400, '22023', null, /unknown visitor attributes: level/],
    [{ p_user_id: g.user.id, p_visitor: { user_id: u.user.id, linked_to_user: true } }, 400, '22023', null, /linked_to_user, user_id/],
    [{ p_user_id: g.user.id, p_visitor: [1, 2] }, 400, '22023', null, /JSON object/],
    [{ p_user_id: g.user.id, p_visitor: { screen_width: 'wide' } }, 400, '22P02', null, /integer/],
    [{ p_user_id: g.user.id, p_visitor: { ip_address: 'not-an-ip' } }, 400, '22P02', null, /inet/],
    [{ p_user_id: g.user.id, p_visitor: { screen_width: 0 } }, 400, '23514', null, /screen_width/],
    [{ p_user_id: g.user.id, p_visitor: { landing_url: 'javascript:alert(1)' } }, 400, '23514', null, /landing_url/],
    [{ p_user_id: g.user.id, p_visitor: { utm_source: 'x'.repeat(201) } }, 400, '23514', null, /utm_source/],
    [{ p_user_id: g.user.id, p_visitor: { device_type: 'toaster' } }, 400, '23514', null, /device_type/],
    [{ p_user_id: g.user.id, p_visitor: { user_agent_hash: 'not-a-hash' } }, 400, '23514', null, /user_agent_hash/],
    [{ p_user_id: g.user.id, p_visitor: { retention_ttl_days: 0 } }, 400, '23514', null, /retention_ttl_days/],
    [{ p_user_id: randomUUID(), p_visitor: {} }, 404, 'PT404', 'account_not_found', /no account/],
    [{ p_user_id: u.user.id, p_visitor: {} }, 409, 'PT409', 'account_not_guest', /not a guest/],
  ];
  for (const [args, status, code, hint, message] of cases) {
    const { error, status: got } = await service.rpc('record_guest_visitor', args);
    assert.equal(got, status, JSON.stringify(args));
    assert.equal(error.code, code, JSON.stringify(args));
    if (hint) assert.equal(error.hint, hint);
    assert.match(`${error.message} ${error.details ?? ''}`, message, JSON.stringify(args));
  }
  assert.deepEqual(sql(`select count(*) from public.visitor where auth_user_id in ('${g.user.id}', '${u.user.id}')`), [['0']]);

  await recordVisitor(g.user.id, { retention_ttl_days: 7 });
  const again = await service.rpc('record_guest_visitor', { p_user_id: g.user.id, p_visitor: {} });
  assert.equal(again.status, 409);
  assert.equal(again.error.hint, 'visitor_exists');
  assert.deepEqual(sql(`select count(*), min(retention_ttl_days) from public.visitor where auth_user_id = '${g.user.id}'`), [['1', '7']]);
});

test('the upgrade keeps the id, ends the guest, moves the level to user and links the visitor', async () => {
  const g = await guestWithVisitor();
  await g.client.from('notes').insert({ body: 'written as a guest' });
  const email = uniqueEmail('guests-upgrade');

  const { data, error } = await g.client.auth.updateUser({ email, password: `pw-${randomUUID()}` });
  assert.equal(error, null);
  assert.equal(data.user.id, g.user.id, 'same id');
  assert.equal(data.user.is_anonymous, false);
  // The new session the client holds (refresh it so the token says is_anonymous false).
  const refreshed = await g.client.auth.refreshSession();
  assert.equal(refreshed.error, null);

  const profile = await g.client.from('user_profiles').select('id, is_guest, level, email, email_verified, linked_visitor_ids').single();
  assert.deepEqual(profile.data, {
    id: g.user.id, is_guest: false, level: 2, email, email_verified: true, linked_visitor_ids: [g.visitorId],
  });

  const visitor = await g.client.from('visitor').select('visitor_id, auth_user_id, user_id, linked_to_user, linked_at, linked_by, level').single();
  assert.equal(visitor.error, null);
  assert.equal(visitor.data.visitor_id, g.visitorId);
  assert.equal(visitor.data.auth_user_id, g.user.id);
  assert.equal(visitor.data.user_id, g.user.id);
  assert.equal(visitor.data.linked_to_user, true);
  assert.equal(visitor.data.linked_by, 'upgrade');
  assert.equal(visitor.data.level, 2);
  assert.ok(Math.abs(Date.parse(visitor.data.linked_at) - Date.now()) < 60_000);

  const notes = await g.client.from('notes').select('body, user_id');
  assert.deepEqual(notes.data, [{ body: 'written as a guest', user_id: g.user.id }], 'the guest\'s rows are still the user\'s');
});

test('signing in on another device links that device\'s visitor to the account', async () => {
  const u = await signedUpUser(undefined, 'guests-devices');
  const device = await guestWithVisitor({ ...visitorAttributes, device_type: 'desktop', device_class: 'desktop' });
  const link = (userId = u.user.id, visitorId = device.visitorId, guestId = device.user.id) =>
    service.rpc('link_visitor_to_user', { p_user_id: userId, p_visitor_id: visitorId, p_guest_user_id: guestId });

  // The visitor id alone is not enough: the guest that holds it must be named.
  const wrongGuest = await link(u.user.id, device.visitorId, randomUUID());
  assert.equal(wrongGuest.status, 404);
  assert.equal(wrongGuest.error.hint, 'visitor_not_found');
  const toGuest = await link((await guest()).user.id);
  assert.equal(toGuest.status, 409);
  assert.equal(toGuest.error.hint, 'account_is_guest');
  const noAccount = await link(randomUUID());
  assert.equal(noAccount.status, 404);
  assert.equal(noAccount.error.hint, 'account_not_found');

  const linked = await link();
  assert.equal(linked.error, null);
  assert.equal(linked.data.visitor_id, device.visitorId);
  assert.equal(linked.data.user_id, u.user.id);
  assert.equal(linked.data.linked_by, 'sign_in');
  assert.equal(linked.data.already_linked, false);

  const again = await link();
  assert.equal(again.error, null);
  assert.equal(again.data.already_linked, true);
  assert.equal(again.data.linked_at, linked.data.linked_at);

  const seen = await u.client.from('visitor').select('visitor_id, device_type, linked_by, level');
  assert.deepEqual(seen.data, [{ visitor_id: device.visitorId, device_type: 'desktop', linked_by: 'sign_in', level: 2 }]);
  const profile = await u.client.from('user_profiles').select('linked_visitor_ids').single();
  assert.deepEqual(profile.data.linked_visitor_ids, [device.visitorId], 'listed once, however often linked');

  const other = await signedUpUser(undefined, 'guests-devices-other');
  const stolen = await link(other.user.id);
  assert.equal(stolen.status, 409);
  assert.equal(stolen.error.hint, 'visitor_linked_elsewhere');
  assert.deepEqual((await other.client.from('visitor').select('visitor_id')).data, []);

  const userCall = await u.client.rpc('link_visitor_to_user', { p_user_id: u.user.id, p_visitor_id: device.visitorId, p_guest_user_id: device.user.id });
  assert.equal(userCall.status, 403);
});

test('retention deletes expired guests and never an upgraded account or a linked visitor', async () => {
  const expired = await guestWithVisitor();
  await expired.client.from('notes').insert({ body: 'abandoned draft' });
  const fresh = await guestWithVisitor();
  const upgraded = await guestWithVisitor();
  assert.equal((await upgraded.client.auth.updateUser({ email: uniqueEmail('guests-kept'), password: `pw-${randomUUID()}` })).error, null);
  // A guest whose device's visitor was linked to a full account on sign-in.
  const account = await signedUpUser(undefined, 'guests-retention');
  const moved = await guestWithVisitor();
  const link = await service.rpc('link_visitor_to_user', { p_user_id: account.user.id, p_visitor_id: moved.visitorId, p_guest_user_id: moved.user.id });
  assert.equal(link.error, null);

  // 31 days without activity (retention counts from the last activity: see the next tests).
  for (const g of [expired, upgraded, moved]) ageGuest(g.user.id, 31);

  const deleted = await purgeGuests();
  assert.ok(deleted.has(expired.user.id), 'the expired guest is deleted');
  assert.ok(deleted.has(moved.user.id), 'the guest whose visitor moved to an account is deleted');
  assert.ok(!deleted.has(upgraded.user.id), 'an upgraded account is never deleted');
  assert.ok(!deleted.has(fresh.user.id), 'an unexpired guest is kept');

  const exists = (table, column, id) => sql(`select count(*) from ${table} where ${column} = '${id}'`)[0][0];
  assert.equal(exists('auth.users', 'id', expired.user.id), '0');
  assert.equal(exists('public.user_profiles', 'id', expired.user.id), '0');
  assert.equal(exists('public.visitor', 'visitor_id', expired.visitorId), '0');
  assert.equal(exists('public.notes', 'user_id', expired.user.id), '0', 'the guest\'s rows go with it');
  assert.equal(exists('auth.users', 'id', upgraded.user.id), '1');
  assert.equal(exists('public.visitor', 'visitor_id', upgraded.visitorId), '1');
  assert.equal(exists('auth.users', 'id', fresh.user.id), '1');
  assert.deepEqual(sql(`select auth_user_id is null, user_id from public.visitor where visitor_id = '${moved.visitorId}'`),
    [['t', account.user.id]], 'the linked visitor stays with its account');

  // The deleted guest's session is dead; the upgraded account still works.
  const dead = await expired.client.auth.refreshSession();
  assert.notEqual(dead.error, null);
  assert.equal((await upgraded.client.from('visitor').select('linked_to_user').single()).data.linked_to_user, true);

  const anonCall = await anonClient().rpc('purge_expired_guests', {});
  assert.equal(anonCall.status, 401);
  const bad = await service.rpc('purge_expired_guests', { p_limit: 0 });
  assert.equal(bad.status, 400);
});

test('retention: a guest active every day keeps its data past day 30; idle for 30 days it goes', async () => {
  const daily = await guestWithVisitor();
  await daily.client.from('notes').insert({ body: 'day 1 draft' });
  // First visit 40 days ago (expire_at has passed), but the app refreshed its session today.
  ageGuest(daily.user.id, 40);
  const refreshed = await daily.client.auth.refreshSession();
  assert.equal(refreshed.error, null);
  assert.ok(!(await purgeGuests()).has(daily.user.id), 'active today: kept although its first visit was 40 days ago');
  assert.equal(sql(`select count(*) from public.notes where user_id = '${daily.user.id}'`)[0][0], '1');

  // The same guest, 31 days after that refresh: deleted with its rows.
  ageGuest(daily.user.id, 31);
  assert.ok((await purgeGuests()).has(daily.user.id), 'idle past the retention time: deleted');
  assert.equal(sql(`select count(*) from public.notes where user_id = '${daily.user.id}'`)[0][0], '0');
});

test('retention: an anonymous account made straight through POST /auth/v1/signup {} (no visitor) is purged a day after its last activity', async () => {
  // signInAnonymously() is exactly POST /auth/v1/signup {} with the anon key: no guest-signup,
  // no visitor row.
  const direct = await guest();
  await direct.client.from('notes').insert({ body: 'around the Worker' });
  const active = await guest();
  assert.deepEqual(sql(`select count(*) from public.visitor where auth_user_id in ('${direct.user.id}', '${active.user.id}')`), [['0']]);
  assert.ok(!(await purgeGuests()).has(direct.user.id), 'a fresh one is kept for a day');

  ageGuest(direct.user.id, 2);
  ageGuest(active.user.id, 2);
  assert.equal((await active.client.auth.refreshSession()).error, null, 'this one is still in use');
  const deleted = await purgeGuests();
  assert.ok(deleted.has(direct.user.id), 'idle for a day without a visitor: deleted');
  assert.ok(!deleted.has(active.user.id), 'in use: kept');
  assert.equal(sql(`select count(*) from auth.users where id = '${direct.user.id}'`)[0][0], '0');
  assert.equal(sql(`select count(*) from public.notes where user_id = '${direct.user.id}'`)[0][0], '0');
});

test('the rate limit lets the burst through, then refuses with retry_after; keys are hashes', async () => {
  const key = rateLimitKey();
  const take = (k = key, limit = 3, windowSecs = 60) =>
    service.rpc('take_rate_limit_token', { p_key: k, p_limit: limit, p_window_secs: windowSecs });

  const answers = [];
  for (let i = 0; i < 4; i += 1) {
    const { data, error } = await take();
    assert.equal(error, null);
    answers.push(data);
  }
  assert.deepEqual(answers.slice(0, 3), [
    { allowed: true, remaining: 2, retry_after: 0 },
    { allowed: true, remaining: 1, retry_after: 0 },
    { allowed: true, remaining: 0, retry_after: 0 },
  ]);
  assert.equal(answers[3].allowed, false);
  assert.equal(answers[3].remaining, 0);
  assert.ok(answers[3].retry_after >= 19 && answers[3].retry_after <= 20, `one token back every 20 s, got ${answers[3].retry_after}`);

  assert.equal((await take(rateLimitKey())).data.allowed, true, 'another IP has its own bucket');

  // Concurrent requests never spend the same token.
  const burstKey = rateLimitKey();
  const burst = await Promise.all(Array.from({ length: 10 }, () => take(burstKey, 5, 3600)));
  assert.equal(burst.filter(({ data }) => data.allowed).length, 5);

  for (const [k, limit, windowSecs] of [['203.0.113.7', 3, 60], ['guest-signup:203.0.113.7', 3, 60], [key, 0, 60], [key, 3, 0]]) {
    const { status, error } = await take(k, limit, windowSecs);
    assert.equal(status, 400, k);
    assert.equal(error.code, '22023');
  }
  assert.deepEqual(sql(`select count(*) from public.rate_limit_buckets where bucket_key !~ '^[a-z-]+:[0-9a-f]{64}$'`), [['0']]);

  // Buckets full again are the same as none; the retention job drops them.
  const purged = await service.rpc('purge_idle_rate_limit_buckets', { p_now: new Date(Date.now() + 7200_000).toISOString() });
  assert.equal(purged.error, null);
  assert.ok(purged.data >= 3);
  assert.deepEqual(sql(`select count(*) from public.rate_limit_buckets where bucket_key in ('${key}', '${burstKey}')`), [['0']]);

  const g = await guest();
  assert.equal((await g.client.rpc('take_rate_limit_token', { p_key: key, p_limit: 1, p_window_secs: 1 })).status, 403);
  assert.equal((await g.client.from('rate_limit_buckets').select('*')).status, 403);
});

test('auth_vault keeps no credential in the clear; owners read theirs, only the server writes', async () => {
  const u = await signedUpUser(undefined, 'guests-vault');
  const store = (payload, extra = {}) => service.from('auth_vault')
    .insert({ user_id: u.user.id, provider: 'supabase', kind: 'session', payload, ...extra })
    .select('artifact_id, status').single();

  for (const payload of [
    { access_token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig', token_type: 'bearer' },
    { session: { user: { id: u.user.id }, refreshToken: 'v1.abc' } },
    [{ provider: 'google', id_token: 'eyJ...' }],
    { Password: 'hunter2' },
    { client_secret: 42 },
    { access_token: 'enc:v1:k1:tooShort' },
  ]) {
    const { status, error } = await store(payload);
    assert.equal(status, 400, JSON.stringify(payload));
    assert.equal(error.code, '23514');
    assert.match(error.message, /auth_vault_payload_no_clear_credentials/);
  }
  assert.deepEqual(sql(`select count(*) from public.auth_vault where user_id = '${u.user.id}'`), [['0']]);

  const sealed = await store({
    access_token: `enc:v1:k2026:${randomBytes(60).toString('base64url')}`,
    refresh_token: `sha256:${'0f'.repeat(32)}`,
    provider_token: null,
    token_type: 'bearer',
    expires_in: 3600,
    user: { id: u.user.id, email: u.email },
  });
  assert.equal(sealed.error, null);
  assert.equal(sealed.data.status, 'active');
  const claims = await service.from('auth_vault')
    .insert({ user_id: u.user.id, provider: 'google', kind: 'claims', payload: { sub: '1234', email_verified: true } });
  assert.equal(claims.error, null);
  const badEnum = await store({}, { provider: 'myspace' });
  assert.equal(badEnum.status, 400);

  const mine = await u.client.from('auth_vault').select('provider, kind').order('provider');
  assert.deepEqual(mine.data, [{ provider: 'supabase', kind: 'session' }, { provider: 'google', kind: 'claims' }]);
  const other = await signedUpUser(undefined, 'guests-vault-other');
  assert.deepEqual((await other.client.from('auth_vault').select('artifact_id')).data, []);
  const userWrite = await u.client.from('auth_vault').insert({ user_id: u.user.id, provider: 'custom', kind: 'other' });
  assert.equal(userWrite.status, 403);
  const userRevoke = await u.client.from('auth_vault').update({ status: 'revoked' }).eq('user_id', u.user.id);
  assert.equal(userRevoke.status, 403);
});

test('users cannot change their level, plan, limits or flags; presentation fields stay editable', async () => {
  const g = await guest();
  const u = await signedUpUser(undefined, 'guests-level');
  for (const [who, fields] of [
    [g, { level: 5 }], [u, { level: 3 }], [u, { plan_code: 'paid2-yearly', paid_until: '2099-01-01T00:00:00Z' }],
    [u, { limits: { segmentations_per_day: 1e9 } }], [u, { feature_flags: ['beta', 'admin'] }],
    [u, { is_guest: false }], [g, { linked_visitor_ids: [randomUUID()] }], [u, { email_verified: true, phone: '+15550100' }],
  ]) {
    const { status, error } = await who.client.from('user_profiles').update(fields).eq('id', who.user.id);
    assert.equal(status, 403, JSON.stringify(fields));
    assert.equal(error.code, '42501');
  }
  assert.deepEqual(sql(`select level, plan_code is null, limits::text, cardinality(feature_flags) from public.user_profiles
                         where id in ('${g.user.id}', '${u.user.id}') order by level`),
  [['1', 't', '{}', '0'], ['2', 't', '{}', '0']]);

  const named = await u.client.from('user_profiles').update({ display_name: 'Greg' }).eq('id', u.user.id).select('display_name, level').single();
  assert.equal(named.error, null);
  assert.deepEqual(named.data, { display_name: 'Greg', level: 2 });

  // The server can (service role).
  const promoted = await service.from('user_profiles').update({ level: 3, plan_code: 'paid1-monthly', feature_flags: ['beta'] })
    .eq('id', u.user.id).select('level, plan_code, feature_flags').single();
  assert.equal(promoted.error, null);
  assert.deepEqual(promoted.data, { level: 3, plan_code: 'paid1-monthly', feature_flags: ['beta'] });
  const bogusLevel = await service.from('user_profiles').update({ level: 42 }).eq('id', u.user.id);
  assert.equal(bogusLevel.status, 409);
  assert.equal(bogusLevel.error.code, '23503');
});

test('anon sees nothing but the levels', async () => {
  const g = await guestWithVisitor();
  await service.from('auth_vault').insert({ user_id: g.user.id, provider: 'supabase', kind: 'claims', payload: { sub: g.user.id } });
  const anon = anonClient();
  for (const table of ['visitor', 'auth_vault', 'user_profiles', 'rate_limit_buckets']) {
    const { status, data } = await anon.from(table).select('*');
    assert.equal(status, 401, table);
    assert.equal(data, null);
  }
  for (const [fn, args] of [
    ['record_guest_visitor', { p_user_id: g.user.id, p_visitor: {} }],
    ['link_visitor_to_user', { p_user_id: g.user.id, p_visitor_id: g.visitorId, p_guest_user_id: g.user.id }],
    ['take_rate_limit_token', { p_key: rateLimitKey(), p_limit: 1, p_window_secs: 1 }],
    ['purge_idle_rate_limit_buckets', {}],
  ]) {
    const { status, error } = await anon.rpc(fn, args);
    assert.equal(status, 401, fn);
    assert.equal(error.code, '42501');
  }
});

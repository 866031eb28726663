// Seeds 000 and 001 end to end: guest-signup gives a visitor a real anonymous session and a
// visitor record, supabase-js uses and upgrades that session, the per-IP limit holds, bad input
// writes nothing, and the retention job removes expired guests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { anonClient, serviceClient, sql, stack, uniqueEmail } from './support/stack.mjs';
import { call, invoke } from './support/functions.mjs';

const UA = {
  chromeAndroid: 'Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP1A.240505.005) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  firefoxDesktop: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
};

/** The Worker's local settings (the test stack's dev.vars). */
function devVars() {
  const path = process.env.DEVSTACK_DEV_VARS ?? new URL('../.dev.vars', import.meta.url).pathname;
  const vars = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = line.match(/^([A-Z_]+)="?(.*?)"?$/);
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}
const vars = devVars();
const [limitRequests] = (vars.GUEST_SIGNUP_RATE_LIMIT ?? '10/3600').split('/').map(Number);

/** A client address no other test (or earlier run) used, so each test has its own bucket. */
function freshIp() {
  // Canonical form (no leading zeros), as the Worker writes and hashes it.
  // Non-zero groups, so the /64 below is written without further zero compression.
  const groups = [0, 2, 4].map((i) => (randomBytes(6).readUInt16BE(i) | 1).toString(16));
  return `2001:db8:${groups.join(':')}::7`;
}

/** The rate-limit bucket key the Worker uses for `ip` (one of freshIp's): its /64 network. */
function bucketKey(ip) {
  const network = `${ip.split(':').slice(0, 4).join(':')}::/64`;
  return `guest-signup:${createHmac('sha256', vars.RATE_LIMIT_SECRET).update(network).digest('hex')}`;
}

const guestUrl = `${stack.functionsUrl}/guest-signup`;

/** POST /guest-signup as a browser app does (anon key), from `ip` with `userAgent`. */
function signUp(body, { ip = freshIp(), userAgent = UA.chromeAndroid, headers = {} } = {}) {
  return call(guestUrl, {
    method: 'POST',
    headers: {
      apikey: stack.anonKey,
      Authorization: `Bearer ${stack.anonKey}`,
      'Content-Type': 'application/json',
      'CF-Connecting-IP': ip,
      'User-Agent': userAgent,
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body ?? {}),
  });
}

/** A guest made through the function, with a supabase-js client holding its session. */
async function guest(body = {}, options = {}) {
  const res = await signUp(body, options);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  const client = anonClient();
  const { data, error } = await client.auth.setSession({
    access_token: res.body.access_token,
    refresh_token: res.body.refresh_token,
  });
  assert.equal(error, null);
  assert.equal(data.user.id, res.body.user_id);
  return { client, ...res.body };
}

const counts = () => sql(`select (select count(*) from auth.users where is_anonymous),
                                 (select count(*) from public.visitor)`)[0];

test('guest-signup returns a real anonymous session that supabase-js uses under RLS', async () => {
  const ip = freshIp();
  const res = await signUp({ landing_url: 'https://app.example.test/' }, { ip });
  assert.equal(res.status, 201);
  assert.deepEqual(Object.keys(res.body).sort(),
    ['access_token', 'expires_in', 'level', 'refresh_token', 'token_type', 'user_id', 'visitor_id']);
  assert.equal(res.body.token_type, 'bearer');
  assert.equal(res.body.level, 'guest');
  assert.ok(res.body.expires_in > 0);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');

  const a = anonClient();
  const set = await a.auth.setSession({ access_token: res.body.access_token, refresh_token: res.body.refresh_token });
  assert.equal(set.error, null);
  const { data: { user } } = await a.auth.getUser();
  assert.equal(user.id, res.body.user_id);
  assert.equal(user.is_anonymous, true);

  const visitor = await a.from('visitor').select('visitor_id, auth_user_id, level, linked_to_user').single();
  assert.deepEqual(visitor.data, { visitor_id: res.body.visitor_id, auth_user_id: user.id, level: 1, linked_to_user: false });
  const profile = await a.from('user_profiles').select('is_guest, level, credits').single();
  assert.deepEqual(profile.data, { is_guest: true, level: 1, credits: 3 }, 'a recorded guest has its trial credits');

  const note = await a.from('notes').insert({ body: 'guest draft' }).select('id, user_id').single();
  assert.equal(note.error, null);
  assert.equal(note.data.user_id, user.id);
  assert.deepEqual((await a.from('notes').select('body')).data, [{ body: 'guest draft' }]);

  // The same refresh token keeps working (supabase-js can refresh the guest's session).
  const refreshed = await a.auth.refreshSession();
  assert.equal(refreshed.error, null);
  assert.equal(refreshed.data.user.id, user.id);

  const b = await guest();
  assert.notEqual(b.user_id, user.id);
  assert.notEqual(b.visitor_id, res.body.visitor_id);
  assert.deepEqual((await b.client.from('notes').select('id')).data, [], 'another guest cannot read it');
  assert.deepEqual((await b.client.from('visitor').select('visitor_id').eq('visitor_id', res.body.visitor_id)).data, []);
});

test('supabase-js functions.invoke from a signed-out app works (apikey + anon bearer)', async () => {
  const res = await invoke(anonClient(), 'guest-signup', { body: { utm_source: 'invoke' }, headers: { 'CF-Connecting-IP': freshIp() } });
  assert.equal(res.status, 201);
  assert.equal(sql(`select utm_source from public.visitor where visitor_id = '${res.body.visitor_id}'`)[0][0], 'invoke');
  // With no body at all (invoke without `body`): a visitor with only what the headers say.
  const empty = await call(guestUrl, { method: 'POST', headers: { apikey: stack.anonKey, 'CF-Connecting-IP': freshIp() } });
  assert.equal(empty.status, 201);
});

test('User-Agent families, UTM tags, referrer host, IP and country are recorded', async () => {
  const cases = [
    [UA.chromeAndroid, ['mobile', 'phone', 'Android', '14', 'Chrome', 'chromium', '', 'Pixel 8']],
    [UA.safariIphone, ['mobile', 'phone', 'iOS', '17.5', 'Safari', 'webkit', 'Apple', 'iPhone']],
    [UA.firefoxDesktop, ['desktop', 'desktop', 'Windows', '10', 'Firefox', 'gecko', '', '']],
    [UA.googlebot, ['', 'bot', '', '', 'Googlebot', '', '', '']],
  ];
  for (const [userAgent, expected] of cases) {
    const ip = freshIp();
    const res = await signUp({
      landing_url: 'https://app.example.test/pricing?utm_source=news',
      referrer: 'https://News.Example.test:8443/story?token=secret',
      utm_source: 'news', utm_medium: 'email', utm_campaign: 'launch', utm_term: 'shoes', utm_content: 'banner',
      screen_width: 412, screen_height: 915, touch_support: true,
      app_platform: 'pwa', app_name: 'Vision', app_version: '1.2.3', display_mode: 'standalone',
      install_source: 'add_to_home', timezone_guess: 'Europe/Berlin',
    }, { ip, userAgent, headers: { 'CF-IPCountry': 'de' } });
    assert.equal(res.status, 201, userAgent);
    const [row] = sql(`select device_type, device_class, os_name, os_version, browser_name, runtime_engine,
                              device_brand, device_model, user_agent_hash, referrer_host, utm_source, utm_medium,
                              utm_campaign, utm_term, utm_content, ip_address, geo_country, landing_url,
                              screen_width, touch_support, app_platform, display_mode, install_source, timezone_guess
                         from public.visitor where visitor_id = '${res.body.visitor_id}'`);
    assert.deepEqual(row.slice(0, 8), expected, userAgent);
    assert.equal(row[8], createHash('sha256').update(userAgent).digest('hex'));
    assert.deepEqual(row.slice(9), [
      'news.example.test:8443', 'news', 'email', 'launch', 'shoes', 'banner', ip, 'DE',
      'https://app.example.test/pricing?utm_source=news', '412', 't', 'pwa', 'standalone', 'add_to_home', 'Europe/Berlin',
    ]);
  }
  const [[stored]] = sql(`select count(*) from public.visitor where referrer_host like '%token%' or landing_url like '%secret%'`);
  assert.equal(stored, '0', 'only the referrer\'s host is kept');
});

test('the upgrade keeps the id, ends the guest, moves the level to user and links the visitor', async () => {
  const g = await guest({ utm_campaign: 'upgrade' });
  await g.client.from('notes').insert({ body: 'written as a guest' });
  const email = uniqueEmail('guest-upgrade');
  const password = `pw-${randomUUID()}`;

  const { data, error } = await g.client.auth.updateUser({ email, password });
  assert.equal(error, null);
  assert.equal(data.user.id, g.user_id, 'same id');
  assert.equal(data.user.is_anonymous, false);
  assert.equal((await g.client.auth.refreshSession()).error, null);
  const { data: { user } } = await g.client.auth.getUser();
  assert.equal(user.is_anonymous, false);

  const profile = await g.client.from('user_profiles').select('id, is_guest, level, email, linked_visitor_ids').single();
  assert.deepEqual(profile.data, { id: g.user_id, is_guest: false, level: 2, email, linked_visitor_ids: [g.visitor_id] });
  const visitor = await g.client.from('visitor').select('visitor_id, user_id, linked_to_user, linked_by, linked_at, level').single();
  assert.equal(visitor.data.visitor_id, g.visitor_id);
  assert.equal(visitor.data.user_id, g.user_id);
  assert.equal(visitor.data.linked_to_user, true);
  assert.equal(visitor.data.linked_by, 'upgrade');
  assert.equal(visitor.data.level, 2);
  assert.ok(visitor.data.linked_at);
  assert.deepEqual((await g.client.from('notes').select('body, user_id')).data,
    [{ body: 'written as a guest', user_id: g.user_id }], 'the guest\'s rows are still the user\'s');

  // The same e-mail and password sign in from another client, to the same id.
  const signIn = await anonClient().auth.signInWithPassword({ email, password });
  assert.equal(signIn.error, null);
  assert.equal(signIn.data.user.id, g.user_id);
});

test(`more than the allowed sign-ups from one IP get 429 with Retry-After; other IPs are unaffected`, async () => {
  const ip = freshIp();
  for (let i = 0; i < limitRequests; i++) {
    assert.equal((await signUp({}, { ip })).status, 201, `sign-up ${i + 1} of ${limitRequests}`);
  }
  const before = counts();
  const limited = await signUp({}, { ip });
  assert.equal(limited.status, 429);
  assert.equal(limited.body.code, 'rate_limited');
  const retryAfter = Number(limited.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${limited.headers.get('retry-after')}`);
  assert.match(limited.headers.get('access-control-expose-headers') ?? '', /retry-after/i);
  assert.deepEqual(counts(), before, 'a refused sign-up creates nothing');

  assert.equal((await signUp({}, { ip: freshIp() })).status, 201, 'another IP still signs up');
  assert.equal((await signUp({}, { ip })).status, 429, 'the first IP is still limited');
  // The table holds a keyed hash, never the address.
  assert.deepEqual(sql(`select count(*) from public.rate_limit_buckets where bucket_key = '${bucketKey(ip)}'`), [['1']]);
  assert.deepEqual(sql(`select count(*) from public.rate_limit_buckets where bucket_key like '%${ip}%'`), [['0']]);
});

test('an IPv6 client rotating through addresses of its /64 meets one limit', async () => {
  const prefix = freshIp().split(':').slice(0, 4).join(':');
  for (let i = 0; i < limitRequests; i++) {
    const ip = `${prefix}:${(i + 1).toString(16)}::${(i + 2).toString(16)}`;
    assert.equal((await signUp({}, { ip })).status, 201, `sign-up ${i + 1} from ${ip}`);
  }
  const rotated = await signUp({}, { ip: `${prefix}:ffff:ffff:ffff:ffff` });
  assert.equal(rotated.status, 429, 'a new address in the same /64 is the same client');
  assert.equal((await signUp({}, { ip: freshIp() })).status, 201, 'another /64 is another client');
});

test('bad bodies and credentials get a 4xx naming the problem; nothing is written, no token spent', async () => {
  const ip = freshIp();
  const before = counts();
  const cases = [
    ['{"utm_source": ', 400, 'invalid_json', /invalid JSON at line 1/],
    ['["https://app.example.test/"]', 400, 'invalid_body', /the body must be a JSON object/],
    [{ utmSource: 'typo' }, 400, 'invalid_body', /unknown field `utmSource`/],
    [{ level: 5 }, 400, 'invalid_body', /unknown field `level`/],
    [{ landing_url: 'javascript:alert(1)' }, 400, 'invalid_body', /landing_url must be an absolute http\(s\) URL/],
    [{ referrer: 'not a url' }, 400, 'invalid_body', /referrer must be an absolute http\(s\) URL/],
    [{ utm_source: 'x'.repeat(201) }, 400, 'invalid_body', /utm_source is longer than 200 characters/],
    [{ screen_width: 0 }, 400, 'invalid_body', /screen_width must be between 1 and 100000/],
    [{ screen_height: 'tall' }, 400, 'invalid_body', /field `screen_height`: invalid type/],
    [{ touch_support: 'yes' }, 400, 'invalid_body', /expected a boolean/],
    [{ app_platform: 'toaster' }, 400, 'invalid_body', /app_platform must be one of/],
    [{ timezone_guess: '../../etc/passwd' }, 400, 'invalid_body', /timezone_guess must be an IANA/],
    [{ landing_url: `https://app.example.test/${'a'.repeat(9000)}` }, 413, 'payload_too_large', /larger than 8192 bytes/],
  ];
  for (const [body, status, code, message] of cases) {
    const res = await signUp(body, { ip });
    assert.equal(res.status, status, JSON.stringify(body).slice(0, 80));
    assert.equal(res.body.code, code);
    assert.match(res.body.error, message);
  }
  const noKey = await call(guestUrl, { method: 'POST', headers: { 'CF-Connecting-IP': ip }, body: '{}' });
  assert.equal(noKey.status, 401);
  assert.equal(noKey.body.code, 'missing_api_key');
  const wrongKey = await signUp({}, { ip, headers: { apikey: 'sb_publishable_not-this-project' } });
  assert.equal(wrongKey.status, 401);
  assert.equal(wrongKey.body.code, 'invalid_api_key');
  const get = await call(guestUrl, { headers: { apikey: stack.anonKey } });
  assert.equal(get.status, 405);
  const preflight = await call(guestUrl, { method: 'OPTIONS' });
  assert.equal(preflight.status, 200);
  assert.match(preflight.headers.get('access-control-allow-methods'), /POST/);
  const unknownRoute = await call(`${guestUrl}/elsewhere`, { method: 'POST', headers: { apikey: stack.anonKey } });
  assert.equal(unknownRoute.status, 404);

  assert.deepEqual(counts(), before, 'no account and no visitor was made');
  assert.deepEqual(sql(`select count(*) from public.rate_limit_buckets where bucket_key = '${bucketKey(ip)}'`), [['0']],
    'refused requests spend no rate-limit token');
});

test('a visitor the database refuses makes no account (no orphan guest)', async () => {
  // Test-only: make the database refuse visitors of two marked campaigns, one as bad input
  // (check violation, 400) and one as an internal failure.
  sql(`create or replace function public.test_refuse_marked_visitor() returns trigger language plpgsql as $$
       begin
         if new.utm_campaign = 'refuse-400' then
           raise exception using errcode = '23514', message = 'test: visitor refused';
         elsif new.utm_campaign = 'refuse-500' then
           raise exception using errcode = 'XX000', message = 'test: database broke';
         end if;
         return new;
       end $$;
       create trigger test_refuse_marked_visitor before insert on public.visitor
         for each row execute function public.test_refuse_marked_visitor();`);
  try {
    const before = counts();
    const refused = await signUp({ utm_campaign: 'refuse-400' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, 'invalid_visitor');
    assert.match(refused.body.error, /test: visitor refused/);
    const broken = await signUp({ utm_campaign: 'refuse-500' });
    assert.ok(broken.status >= 500, `status ${broken.status}`);
    assert.doesNotMatch(JSON.stringify(broken.body), /database broke/, 'internals stay in the logs');
    assert.deepEqual(counts(), before, 'neither refusal left an account or a visitor');
  } finally {
    sql(`drop trigger test_refuse_marked_visitor on public.visitor;
         drop function public.test_refuse_marked_visitor();`);
  }
});

test('the retention job removes an expired guest and keeps an upgraded one', async () => {
  const expired = await guest();
  await expired.client.from('notes').insert({ body: 'abandoned draft' });
  const fresh = await guest();
  const upgraded = await guest();
  assert.equal((await upgraded.client.auth.updateUser({ email: uniqueEmail('guest-kept'), password: `pw-${randomUUID()}` })).error, null);
  // 31 days without activity: first visit, sign-in and session refreshes moved back (retention
  // counts from the last activity).
  for (const g of [expired, upgraded]) {
    sql(`update auth.users set created_at = created_at - interval '31 days', last_sign_in_at = last_sign_in_at - interval '31 days'
          where id = '${g.user_id}';
         update auth.refresh_tokens set created_at = created_at - interval '31 days'
          where session_id in (select id from auth.sessions where user_id = '${g.user_id}');
         update public.visitor set first_seen_at = first_seen_at - interval '31 days', expire_at = expire_at - interval '31 days'
          where visitor_id = '${g.visitor_id}'`);
  }

  // Only the service key may run it on demand.
  const anon = await invoke(anonClient(), 'guest-signup/retention');
  assert.equal(anon.status, 403);
  assert.equal(anon.body.code, 'service_key_required');
  const noKey = await call(`${guestUrl}/retention`, { method: 'POST' });
  assert.equal(noKey.status, 401);

  const run = await invoke(serviceClient(), 'guest-signup/retention');
  assert.equal(run.status, 200);
  assert.ok(run.body.deleted_guests >= 1);
  assert.ok(run.body.deleted_visitors >= 1);
  assert.equal(run.body.more, false);

  const exists = (table, column, id) => sql(`select count(*) from ${table} where ${column} = '${id}'`)[0][0];
  assert.equal(exists('auth.users', 'id', expired.user_id), '0', 'the expired guest is gone');
  assert.equal(exists('public.visitor', 'visitor_id', expired.visitor_id), '0');
  assert.equal(exists('public.notes', 'user_id', expired.user_id), '0', 'with what it wrote');
  assert.equal(exists('auth.users', 'id', upgraded.user_id), '1', 'an upgraded account is kept');
  assert.equal(exists('public.visitor', 'visitor_id', upgraded.visitor_id), '1', 'with its linked visitor');
  assert.equal(exists('auth.users', 'id', fresh.user_id), '1', 'an unexpired guest is kept');
  const { error } = await expired.client.auth.refreshSession();
  assert.notEqual(error, null, 'the deleted guest\'s session is over');
});

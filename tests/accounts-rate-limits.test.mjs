// Supabase Auth's per-client request limits on the endpoints that check a secret, at the CLI's
// local defaults (`[auth.rate_limit] token_verifications = 30`, `token_refresh = 150`, per
// 5 minutes, bursts of 30): hammering /verify with wrong codes is answered
// `429 over_request_rate_limit` before the code can be guessed, and the right code works once
// the bucket refills (one request per 10 s); the same for password sign-ins at /token. Runs its
// own devstack (the shared test stack's limits are raised so its files do not share one bucket).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@supabase/supabase-js';
import { uniqueEmail } from './support/stack.mjs';
import { mailedCode } from './support/mail.mjs';
import { authRequest } from './support/auth-mail.mjs';
import { ownStackForFile } from './support/own-stack.mjs';

const BASE = Number(process.env.E2E_PORT_BASE ?? 24400);
const BURST = 30;
const own = ownStackForFile({
  port: BASE + 151,
  env: { GOTRUE_RATE_LIMIT_VERIFY: '30', GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '150', GOTRUE_RATE_LIMIT_HEADER: '' },
});
const client = () => own.client();

/** A wrong code for `email`: never the mailed one. */
const wrongCode = (code, i) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');

test('wrong e-mail codes are refused 429 over_request_rate_limit after the burst; the right code works after the window', async () => {
  const email = uniqueEmail('hammer');
  const { error } = await client().auth.signInWithOtp({ email });
  assert.equal(error, null);
  const [message] = await own.mail.waitForMessages(email, 1);
  const code = mailedCode(message);

  const statuses = [];
  for (let i = 0; i < BURST + 5; i++) {
    const res = await authRequest(own.project, '/verify', { method: 'POST', body: { type: 'email', email, token: wrongCode(code, i) } });
    statuses.push(res.status);
    if (res.status === 429) {
      assert.deepEqual(res.json, { code: 'over_request_rate_limit', message: 'Request rate limit reached' });
    }
  }
  assert.deepEqual(statuses.slice(0, BURST), Array(BURST).fill(403), 'the burst is answered as wrong codes');
  assert.deepEqual(statuses.slice(BURST), Array(5).fill(429));

  // supabase-js sees Auth's code; even the right code waits for the bucket.
  const limited = await client().auth.verifyOtp({ email, token: code, type: 'email' });
  assert.equal(limited.error?.status, 429);
  assert.equal(limited.error?.code, 'over_request_rate_limit');
  // GET /verify (a mailed link) counts against the same bucket.
  const link = await fetch(`${own.project.url}/auth/v1/verify?token=x&type=magiclink`, { redirect: 'manual', headers: { apikey: own.project.anonKey } });
  assert.equal(link.status, 429);

  await sleep(10_500); // 30 per 5 minutes: one request more every 10 s
  const { data, error: verifyError } = await client().auth.verifyOtp({ email, token: code, type: 'email' });
  assert.equal(verifyError, null);
  assert.equal(data.user.email, email);
  assert.ok(data.session?.access_token);
  const again = await client().auth.verifyOtp({ email, token: code, type: 'email' });
  assert.equal(again.error?.status, 429, 'one request per refill: the next one waits again');
});

test('password guesses at /token are refused 429 after the burst; an unknown grant type is not counted', async () => {
  const email = uniqueEmail('guess');
  const password = 'the-real-password';
  const admin = createClient(own.project.url, own.project.serviceKey, { auth: { persistSession: false, autoRefreshToken: false } });
  const created = await admin.auth.admin.createUser({ email, password, email_confirm: true });
  assert.equal(created.error, null);

  const unknown = await authRequest(own.project, '/token?grant_type=nonsense', { method: 'POST', body: {} });
  assert.equal(unknown.status, 400);

  // Each wrong guess takes a bcrypt comparison, so the bucket refills a little meanwhile
  // (one every 2 s): at least the burst is answered, then the limit holds.
  const codes = [];
  while (codes.at(-1) !== 'over_request_rate_limit' && codes.length < 2 * BURST) {
    const { error } = await client().auth.signInWithPassword({ email, password: `guess-${codes.length}` });
    codes.push(error?.code);
  }
  const answered = codes.slice(0, -1);
  assert.ok(answered.length >= BURST && answered.length < 2 * BURST, `${answered.length} guesses answered`);
  assert.deepEqual(answered, Array(answered.length).fill('invalid_credentials'));
  assert.equal(codes.at(-1), 'over_request_rate_limit');
  const right = await client().auth.signInWithPassword({ email, password });
  assert.equal(right.error?.status, 429, 'the right password waits for the bucket too');

  await sleep(2_500); // 150 per 5 minutes: one request more every 2 s
  const later = await client().auth.signInWithPassword({ email, password });
  assert.equal(later.error, null);
  assert.ok(later.data.session?.access_token);
});

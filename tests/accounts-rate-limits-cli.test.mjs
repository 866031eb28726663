// Supabase Auth's other rate limits, set as the CLI's `[auth.rate_limit]` keys on
// `devstack start`: per client (told apart here by GOTRUE_RATE_LIMIT_HEADER, as behind the hosted
// proxy) a bucket of 30 for each of e-mail sign-ups, /recover, /otp and PUT /user at
// `sign_in_sign_ups` per 5 minutes; anonymous sign-ins at `anonymous_users` an hour; MFA
// challenges and verifications (a bucket each) at GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY a
// minute; and, with confirmations on,
// `email_sent` mails an hour for the whole project. Over a per-client limit:
// `429 over_request_rate_limit`; over the mail limit: `429 over_email_send_rate_limit`.
// Only the last test sends mail: the project's mail budget is 3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@supabase/supabase-js';
import { uniqueEmail } from './support/stack.mjs';
import { ownStackForFile } from './support/own-stack.mjs';
import { totpCode } from './support/auth-mail.mjs';

const BASE = Number(process.env.E2E_PORT_BASE ?? 24400);
const BURST = 30;
const CLIENT_HEADER = 'x-test-client';
const MAIL_BUDGET = 3;
const own = ownStackForFile({
  port: BASE + 161,
  args: [
    '--email-confirmations',
    '--auth-rate-limit-email-sent', String(MAIL_BUDGET),
    // 300 per 5 minutes: one request more every second after the burst.
    '--auth-rate-limit-sign-in-sign-ups', '300',
    '--auth-rate-limit-anonymous-users', '3',
  ],
  env: { GOTRUE_RATE_LIMIT_HEADER: CLIENT_HEADER, GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY: '15' },
});

/** A sessionless supabase-js client that the limits count as `client`. */
const clientAs = (client) =>
  createClient(own.project.url, own.project.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { headers: { [CLIENT_HEADER]: client } },
  });
const admin = () =>
  createClient(own.project.url, own.project.serviceKey, { auth: { persistSession: false, autoRefreshToken: false } });

const tag = () => crypto.randomUUID();

/**
 * Calls `request` until it is refused 429; returns the error codes answered before (the burst of
 * 30, and a few more if the bucket refilled meanwhile) and the refusal.
 */
async function untilLimited(request) {
  const answered = [];
  for (;;) {
    const result = await request();
    if (result.error?.status === 429) {
      assert.ok(answered.length >= BURST && answered.length < BURST + 5, `${answered.length} answered before the limit`);
      return { answered, over: result };
    }
    answered.push(result.error?.code);
    assert.ok(answered.length < BURST + 5, 'never limited');
  }
}

test('/recover: a burst of 30 per client, then 429 over_request_rate_limit; another client and /otp have their own; one more after the refill', async () => {
  const me = clientAs(tag());
  // Unknown addresses: answered alike, and no mail is sent.
  const { answered, over } = await untilLimited(() => me.auth.resetPasswordForEmail(uniqueEmail('nobody')));
  assert.deepEqual(answered, Array(answered.length).fill(undefined), 'answered {} until the limit');
  assert.equal(over.error?.status, 429);
  assert.equal(over.error?.code, 'over_request_rate_limit');
  assert.equal(over.error?.message, 'Request rate limit reached');

  assert.equal((await clientAs(tag()).auth.resetPasswordForEmail(uniqueEmail('nobody'))).error, null, 'another client');
  const otp = await me.auth.signInWithOtp({ email: uniqueEmail('nobody'), options: { shouldCreateUser: false } });
  assert.equal(otp.error?.code, 'otp_disabled', '/otp counts in a bucket of its own');

  await sleep(1_100);
  assert.equal((await me.auth.resetPasswordForEmail(uniqueEmail('nobody'))).error, null, 'refilled');
  assert.equal((await me.auth.resetPasswordForEmail(uniqueEmail('nobody'))).error?.status, 429, 'one at a time');
});

test('e-mail sign-ups count before the password is checked; anonymous sign-ins have an hourly bucket of their own', async () => {
  const me = clientAs(tag());
  const { answered, over } = await untilLimited(() => me.auth.signUp({ email: uniqueEmail('weak'), password: 'x' }));
  assert.deepEqual(answered, Array(answered.length).fill('weak_password'));
  assert.equal(over.error?.status, 429);
  assert.equal(over.error?.code, 'over_request_rate_limit');

  // anonymous_users = 3: three at once, then none for 20 minutes.
  for (let i = 0; i < 3; i++) {
    const { data, error } = await me.auth.signInAnonymously();
    assert.equal(error, null);
    assert.equal(data.user.is_anonymous, true);
  }
  const fourth = await me.auth.signInAnonymously();
  assert.equal(fourth.error?.status, 429);
  assert.equal(fourth.error?.code, 'over_request_rate_limit');
  assert.equal((await clientAs(tag()).auth.signInAnonymously()).error, null, 'another client');
});

test('PUT /user and MFA challenges are counted per client once signed in', async () => {
  const email = uniqueEmail('mfa');
  const password = 'a-good-password';
  assert.equal((await admin().auth.admin.createUser({ email, password, email_confirm: true })).error, null);
  const me = clientAs(tag());
  assert.equal((await me.auth.signInWithPassword({ email, password })).error, null);

  let n = 0;
  const updates = await untilLimited(() => me.auth.updateUser({ data: { n: n++ } }));
  assert.deepEqual(updates.answered, Array(updates.answered.length).fill(undefined));
  const update = updates.over;
  assert.equal(update.error?.code, 'over_request_rate_limit');

  const { data: factor, error } = await me.auth.mfa.enroll({ factorType: 'totp' });
  assert.equal(error, null);
  const challenges = await untilLimited(() => me.auth.mfa.challenge({ factorId: factor.id }));
  assert.deepEqual(challenges.answered, Array(challenges.answered.length).fill(undefined));
  const challenge = challenges.over;
  assert.equal(challenge.error?.code, 'over_request_rate_limit');
});

test('MFA verifications are counted per client in a bucket of their own: 429 over_request_rate_limit after the burst, the right code too', async () => {
  const email = uniqueEmail('mfa-verify');
  const password = 'a-good-password';
  assert.equal((await admin().auth.admin.createUser({ email, password, email_confirm: true })).error, null);
  const me = clientAs(tag());
  assert.equal((await me.auth.signInWithPassword({ email, password })).error, null);
  const { data: factor, error } = await me.auth.mfa.enroll({ factorType: 'totp' });
  assert.equal(error, null);
  const { data: challenge } = await me.auth.mfa.challenge({ factorId: factor.id });
  const guess = totpCode(factor.totp.secret, 10); // five minutes ahead: not a code now
  const verifies = await untilLimited(() => me.auth.mfa.verify({ factorId: factor.id, challengeId: challenge.id, code: guess }));
  assert.deepEqual(verifies.answered, Array(verifies.answered.length).fill('mfa_verification_failed'));
  assert.equal(verifies.over.error?.code, 'over_request_rate_limit');
  assert.equal(verifies.over.error?.message, 'Request rate limit reached');
  const right = await me.auth.mfa.verify({ factorId: factor.id, challengeId: challenge.id, code: totpCode(factor.totp.secret) });
  assert.deepEqual([right.error?.status, right.error?.code], [429, 'over_request_rate_limit']);

  // Challenges have their own bucket; a factor that is not the caller's is answered before the limit.
  assert.equal((await me.auth.mfa.challenge({ factorId: factor.id })).error, null);
  const unknown = await me.auth.mfa.verify({ factorId: crypto.randomUUID(), challengeId: challenge.id, code: guess });
  assert.deepEqual([unknown.error?.status, unknown.error?.code], [404, 'mfa_factor_not_found']);
  // Another client (another rate-limit key, the same IP address) verifies the same challenge:
  // the limit is the client's, not the factor's.
  const elsewhere = clientAs(tag());
  assert.equal((await elsewhere.auth.signInWithPassword({ email, password })).error, null);
  const { data: lifted, error: liftError } = await elsewhere.auth.mfa.verify({ factorId: factor.id, challengeId: challenge.id, code: totpCode(factor.totp.secret) });
  assert.equal(liftError, null);
  assert.equal(JSON.parse(Buffer.from(lifted.access_token.split('.')[1], 'base64url')).aal, 'aal2');
});

test('email_sent: the project mails 3 an hour with confirmations on; the next sign-up is refused 429 over_email_send_rate_limit and leaves no account', async () => {
  const client = clientAs(tag());
  const sent = [];
  for (let i = 0; i < MAIL_BUDGET; i++) {
    const email = uniqueEmail('budget');
    const { data, error } = await client.auth.signUp({ email, password: 'a-good-password' });
    assert.equal(error, null);
    assert.equal(data.session, null, 'confirmations are on');
    sent.push(email);
  }
  for (const email of sent) await own.mail.waitForMessages(email, 1);

  const refused = uniqueEmail('refused');
  const over = await clientAs(tag()).auth.signUp({ email: refused, password: 'a-good-password' });
  assert.equal(over.error?.status, 429, 'the budget is the whole project\'s, not a client\'s');
  assert.equal(over.error?.code, 'over_email_send_rate_limit');
  assert.equal(over.error?.message, 'email rate limit exceeded');
  const { data: listed } = await admin().auth.admin.listUsers({ perPage: 1000 });
  assert.ok(!listed.users.some((u) => u.email === refused), 'the sign-up was rolled back');
  assert.deepEqual(await own.mail.messagesTo(refused), []);

  // A resend for a pending sign-up waits for the budget too; /recover of an unknown address sends nothing and is not refused.
  await sleep(1_100); // past the per-address frequency (max_frequency = 1s), which answers the same code
  const resend = await client.auth.resend({ type: 'signup', email: sent[0] });
  assert.equal(resend.error?.code, 'over_email_send_rate_limit');
  assert.equal(resend.error?.message, 'email rate limit exceeded');
  assert.equal((await client.auth.resetPasswordForEmail(uniqueEmail('nobody'))).error, null);
});

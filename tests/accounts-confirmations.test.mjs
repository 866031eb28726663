// Accounts on a stack with confirmations on, as every hosted project has them
// (`devstack start --email-confirmations`), a minute between mails to one address and secure
// password change on: sign-up waits for its e-mail, /verify by link or code, /resend, rate
// limits, no enumeration through sign-up, both addresses confirm an e-mail change, and a stale
// session changes its password only with a reauthentication nonce. Runs its own devstack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueEmail } from './support/stack.mjs';
import { mailedCode, verifyLink } from './support/mail.mjs';
import { authRequest, clientWithSession, followLink } from './support/auth-mail.mjs';
import { ownStackForFile } from './support/own-stack.mjs';
import { execFileSync } from 'node:child_process';

const BASE = Number(process.env.E2E_PORT_BASE ?? 24400);
const own = ownStackForFile({
  port: BASE + 141,
  args: ['--email-confirmations'],
  env: {
    GOTRUE_SMTP_MAX_FREQUENCY: '60s',
    GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION: 'true',
  },
});
const client = () => own.client();
const psql = (query) => execFileSync('psql', [own.project.dbUrl, '-X', '-A', '-t', '-c', query], { encoding: 'utf8' }).trim();

test('settings report confirmations on; sign-up returns the user, no session, and mails', async () => {
  const settings = await authRequest(own.project, '/settings');
  assert.equal(settings.json.mailer_autoconfirm, false);
  const email = uniqueEmail('confirm');
  const { data, error } = await client().auth.signUp({ email, password: 'pending-password', options: { emailRedirectTo: `${own.project.url}/welcome` } });
  assert.equal(error, null);
  assert.equal(data.session, null);
  assert.equal(data.user.email, email);
  assert.ok(data.user.confirmation_sent_at);
  assert.equal(data.user.email_confirmed_at, undefined);
  const early = await client().auth.signInWithPassword({ email, password: 'pending-password' });
  assert.equal(early.error?.code, 'email_not_confirmed');

  const [message] = await own.mail.waitForMessages(email, 1);
  assert.equal(message.Subject, 'Confirm your email address');
  const { link, type } = verifyLink(message);
  assert.equal(type, 'signup');
  const followed = await followLink(link);
  assert.equal(followed.to, `${own.project.url}/welcome`);
  assert.equal(followed.fragment.type, 'signup');
  const confirmed = await clientWithSession(own.project, followed.fragment);
  const { data: me } = await confirmed.auth.getUser();
  assert.ok(me.user.email_confirmed_at);
  assert.equal(me.user.user_metadata.email_verified, true);
  assert.equal((await client().auth.signInWithPassword({ email, password: 'pending-password' })).error, null);
  assert.equal((await followLink(link)).fragment.error_code, 'otp_expired', 'a confirmation link works once');
});

test('confirming by code (verifyOtp type signup); wrong and reused codes are refused', async () => {
  const email = uniqueEmail('code');
  await client().auth.signUp({ email, password: 'pending-password' });
  const [message] = await own.mail.waitForMessages(email, 1);
  const code = mailedCode(message);
  const wrong = await client().auth.verifyOtp({ email, token: code === '000000' ? '111111' : '000000', type: 'signup' });
  assert.equal(wrong.error?.code, 'otp_expired');
  const { data, error } = await client().auth.verifyOtp({ email, token: code, type: 'signup' });
  assert.equal(error, null);
  assert.ok(data.session.access_token);
  const reused = await client().auth.verifyOtp({ email, token: code, type: 'signup' });
  assert.equal(reused.error?.code, 'otp_expired');
});

test('signing up again: no enumeration, and one mail a minute per address', async () => {
  const email = uniqueEmail('again');
  const first = await client().auth.signUp({ email, password: 'pending-password' });
  assert.equal(first.error, null);
  const tooSoon = await client().auth.signUp({ email, password: 'pending-password' });
  assert.equal(tooSoon.error?.code, 'over_email_send_rate_limit');
  assert.equal(tooSoon.error?.status, 429);
  assert.match(tooSoon.error.message, /^For security purposes, you can only request this after \d+ seconds\.$/);
  const resend = await client().auth.resend({ type: 'signup', email });
  assert.equal(resend.error?.code, 'over_email_send_rate_limit');
  assert.equal((await own.mail.messagesTo(email)).length, 1);

  // Once the minute is over, resend mails a fresh code and the old one stops working.
  psql(`UPDATE auth.users SET confirmation_sent_at = now() - interval '61 seconds' WHERE email = '${email}'`);
  const [old] = await own.mail.waitForMessages(email, 1);
  assert.equal((await client().auth.resend({ type: 'signup', email })).error, null);
  const [fresh] = await own.mail.waitForMessages(email, 2);
  const stale = await client().auth.verifyOtp({ email, token: mailedCode(old), type: 'signup' });
  assert.equal(stale.error?.code, 'otp_expired');
  assert.equal((await client().auth.verifyOtp({ email, token: mailedCode(fresh), type: 'signup' })).error, null);

  // A confirmed address signing up again gets a look-alike answer and no mail.
  const repeat = await client().auth.signUp({ email, password: 'someone-else' });
  assert.equal(repeat.error, null);
  assert.equal(repeat.data.session, null);
  assert.notEqual(repeat.data.user.id, first.data.user.id);
  assert.deepEqual(repeat.data.user.identities, []);
  const stranger = uniqueEmail('stranger');
  const unknown = await client().auth.signUp({ email: stranger, password: 'pending-password' });
  assert.deepEqual(Object.keys(repeat.data.user).sort(), Object.keys(unknown.data.user).sort());
  assert.equal((await own.mail.messagesTo(email)).length, 2);
  // Resend for unknown or confirmed addresses says nothing either.
  assert.deepEqual((await authRequest(own.project, '/resend', { method: 'POST', body: { type: 'signup', email: uniqueEmail('ghost') } })).json, {});
  assert.deepEqual((await authRequest(own.project, '/resend', { method: 'POST', body: { type: 'signup', email } })).json, {});
});

test('magic link for a new address mails the sign-up confirmation', async () => {
  const email = uniqueEmail('otp-new');
  assert.equal((await client().auth.signInWithOtp({ email })).error, null);
  const [message] = await own.mail.waitForMessages(email, 1);
  assert.equal(verifyLink(message).type, 'signup');
  const { error } = await client().auth.verifyOtp({ email, token: mailedCode(message), type: 'email' });
  assert.equal(error, null);
});

async function confirmedUser(tag) {
  const email = uniqueEmail(tag);
  const password = 'confirmed-password';
  await client().auth.signUp({ email, password });
  const [message] = await own.mail.waitForMessages(email, 1);
  const { data, error } = await client().auth.verifyOtp({ email, token: mailedCode(message), type: 'signup' });
  assert.equal(error, null);
  const signedIn = client();
  await signedIn.auth.setSession(data.session);
  return { email, password, client: signedIn, session: data.session };
}

test('secure e-mail change: both addresses must confirm; resend works for it', async () => {
  const { email, password, client: signedIn } = await confirmedUser('secure-change');
  const newEmail = uniqueEmail('secure-new');
  const { error } = await signedIn.auth.updateUser({ email: newEmail });
  assert.equal(error, null);
  const [toNew] = await own.mail.waitForMessages(newEmail, 1);
  const [toCurrent] = await own.mail.waitForMessages(email, 2); // the confirmation, then this
  const first = await followLink(verifyLink(toNew).link);
  assert.equal(first.fragment.message, 'Confirmation link accepted. Please proceed to confirm link sent to the other email');
  assert.equal((await signedIn.auth.refreshSession()).data.user.email, email, 'one confirmation is not enough');
  const second = await client().auth.verifyOtp({ email, token: mailedCode(toCurrent), type: 'email_change' });
  assert.equal(second.error, null);
  assert.equal(second.data.user.email, newEmail);
  assert.equal((await client().auth.signInWithPassword({ email: newEmail, password })).error, null);
  const resend = await client().auth.resend({ type: 'email_change', email: newEmail });
  assert.equal(resend.error, null, 'no pending change: nothing to resend, and no error');
});

test('secure password change: a day-old session needs the reauthentication nonce', async () => {
  const { email, client: signedIn, session } = await confirmedUser('reauth');
  // A fresh session changes its password directly (GoTrue's 24-hour rule).
  assert.equal((await signedIn.auth.updateUser({ password: 'second-password' })).error, null);
  psql(`UPDATE auth.sessions SET created_at = now() - interval '25 hours' WHERE id = '${JSON.parse(Buffer.from(session.access_token.split('.')[1], 'base64url')).session_id}'`);
  const refused = await signedIn.auth.updateUser({ password: 'third-password' });
  assert.equal(refused.error?.code, 'reauthentication_needed');
  const bad = await signedIn.auth.updateUser({ password: 'third-password', nonce: '000000' });
  assert.equal(bad.error?.code, 'reauthentication_not_valid');
  assert.equal((await signedIn.auth.reauthenticate()).error, null);
  const messages = await own.mail.waitForMessages(email, 2);
  const nonce = mailedCode(messages[0]);
  assert.equal(messages[0].Subject, `${nonce} is your verification code`);
  assert.equal((await signedIn.auth.updateUser({ password: 'third-password', nonce })).error, null);
  const reused = await signedIn.auth.updateUser({ password: 'fourth-password', nonce });
  assert.equal(reused.error?.code, 'reauthentication_not_valid');
  assert.equal((await client().auth.signInWithPassword({ email, password: 'third-password' })).error, null);
});

// Accounts on a stack with confirmations on, as every hosted project has them
// (`devstack start --email-confirmations`), a minute between mails to one address and secure
// password change on: sign-up waits for its e-mail, /verify by link or code, /resend, rate
// limits, no enumeration through sign-up, recovery and magic link, both addresses confirm an
// e-mail change (also under PKCE), and a stale session changes its password only with a
// reauthentication nonce. Runs its own devstack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniqueEmail } from './support/stack.mjs';
import { mailedCode, verifyLink } from './support/mail.mjs';
import { authRequest, clientWithSession, followLink } from './support/auth-mail.mjs';
import { ownStackForFile } from './support/own-stack.mjs';
import { amrOf, codeFrom, pkceClient } from './support/pkce.mjs';
import { execFileSync } from 'node:child_process';

const BASE = Number(process.env.E2E_PORT_BASE ?? 24400);
const own = ownStackForFile({
  port: BASE + 141,
  args: ['--email-confirmations'],
  env: {
    GOTRUE_SMTP_MAX_FREQUENCY: '60s',
    GOTRUE_SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION: 'true',
    // More than the CLI's 30 /verify requests come from this file's one address; the limit
    // itself is tests/accounts-rate-limits.test.mjs's.
    GOTRUE_RATE_LIMIT_VERIFY: '100000',
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

/** Follows a /verify link; its 303's address with the query and the fragment as objects. */
async function redirectOf(link) {
  const res = await fetch(link, { redirect: 'manual' });
  assert.equal(res.status, 303, `verify answered ${res.status}: ${await res.text()}`);
  const to = new URL(res.headers.get('location'));
  return {
    at: `${to.origin}${to.pathname}`,
    query: Object.fromEntries(to.searchParams),
    fragment: Object.fromEntries(new URLSearchParams(to.hash.slice(1))),
  };
}

test('secure e-mail change, PKCE: both addresses get a pkce_ link; the first redirects with the message in query and fragment, the second with ?code=', async () => {
  const { email, password } = await confirmedUser('pkce-secure');
  const pkce = pkceClient(own.project);
  assert.equal((await pkce.auth.signInWithPassword({ email, password })).error, null);
  const newEmail = uniqueEmail('pkce-secure-new');
  const page = `${own.project.url}/account`;
  const { data: pending, error } = await pkce.auth.updateUser({ email: newEmail }, { emailRedirectTo: `${page}?tab=email` });
  assert.equal(error, null);
  assert.deepEqual([pending.user.email, pending.user.new_email], [email, newEmail]);
  const stored = () => psql(`SELECT email, email_change_confirm_status, email_change_token_current, email_change_token_new FROM auth.users WHERE id = '${pending.user.id}'`).split('|');
  const [, , currentToken, newToken] = stored();
  assert.match(currentToken, /^pkce_[0-9a-f]{56}$/);
  assert.match(newToken, /^pkce_[0-9a-f]{56}$/);
  assert.notEqual(currentToken, newToken);

  const [toNew] = await own.mail.waitForMessages(newEmail, 1);
  const [toCurrent] = await own.mail.waitForMessages(email, 2); // the sign-up confirmation, then this
  const linkNew = verifyLink(toNew);
  const linkCurrent = verifyLink(toCurrent);
  assert.deepEqual([linkNew.type, linkNew.token, linkNew.redirectTo], ['email_change', newToken, `${page}?tab=email`]);
  assert.deepEqual([linkCurrent.type, linkCurrent.token, linkCurrent.redirectTo], ['email_change', currentToken, `${page}?tab=email`]);

  // The first link: GoTrue's message in the query and in the fragment, no code, no session.
  const message = 'Confirmation link accepted. Please proceed to confirm link sent to the other email';
  const first = await redirectOf(linkNew.link);
  assert.equal(first.at, page);
  assert.deepEqual(first.query, { tab: 'email', message });
  assert.deepEqual(first.fragment, { message, sb: '' });
  assert.deepEqual(stored(), [email, '1', currentToken, ''], 'one address confirmed, the change still pending');
  assert.equal((await pkce.auth.getUser()).data.user.email, email);
  // Spent: following it again is GoTrue's error, in the query and the fragment (PKCE).
  const again = await redirectOf(linkNew.link);
  const expired = { error: 'access_denied', error_code: 'otp_expired', error_description: 'Email link is invalid or has expired' };
  assert.deepEqual(again.query, { tab: 'email', ...expired });
  assert.deepEqual(again.fragment, { ...expired, sb: '' });

  // The second link completes the change and ends in the flow's code, exchanged by its verifier holder.
  const code = await codeFrom(linkCurrent.link, page);
  const wrong = await authRequest(own.project, '/token?grant_type=pkce', { method: 'POST', body: { auth_code: code, code_verifier: 'x'.repeat(43) } });
  assert.deepEqual([wrong.status, wrong.json.code], [400, 'bad_code_verifier']);
  assert.deepEqual(stored(), [newEmail, '0', '', '']);
  const exchanged = await pkce.auth.exchangeCodeForSession(code);
  assert.equal(exchanged.error, null);
  assert.equal(exchanged.data.user.email, newEmail);
  assert.deepEqual(amrOf(exchanged.data.session), ['email_change']);
  assert.equal((await client().auth.signInWithPassword({ email: newEmail, password })).error, null);
  assert.equal((await client().auth.signInWithPassword({ email, password })).error?.code, 'invalid_credentials');
  assert.equal((await redirectOf(linkCurrent.link)).query.error_code, 'otp_expired', 'the second link works once too');
});

test('secure e-mail change: another user\'s code, a wrong code and an expired change are refused', async () => {
  const { email, client: signedIn } = await confirmedUser('change-unhappy');
  const other = await confirmedUser('change-other');
  const newEmail = uniqueEmail('change-unhappy-new');
  assert.equal((await signedIn.auth.updateUser({ email: newEmail })).error, null);
  const [toNew] = await own.mail.waitForMessages(newEmail, 1);
  const [toCurrent] = await own.mail.waitForMessages(email, 2);
  const newCode = mailedCode(toNew);
  const currentCode = mailedCode(toCurrent);
  // The codes are good only with the addresses they were sent to.
  const stolen = await client().auth.verifyOtp({ email: other.email, token: currentCode, type: 'email_change' });
  assert.deepEqual([stolen.error?.status, stolen.error?.code], [403, 'otp_expired']);
  const swapped = await client().auth.verifyOtp({ email, token: newCode, type: 'email_change' });
  assert.equal(swapped.error?.code, 'otp_expired');
  const wrong = await client().auth.verifyOtp({ email: newEmail, token: newCode === '000000' ? '111111' : '000000', type: 'email_change' });
  assert.equal(wrong.error?.message, 'Token has expired or is invalid');
  // The first code answers GoTrue's message, not a session.
  const half = await authRequest(own.project, '/verify', { method: 'POST', body: { type: 'email_change', email: newEmail, token: newCode } });
  assert.deepEqual([half.status, half.json], [200, { msg: 'Confirmation link accepted. Please proceed to confirm link sent to the other email', code: '200' }]);
  const reused = await client().auth.verifyOtp({ email: newEmail, token: newCode, type: 'email_change' });
  assert.equal(reused.error?.code, 'otp_expired');
  // Past mailer_otp_exp the other address's link and code no longer complete it.
  psql(`UPDATE auth.users SET email_change_sent_at = now() - interval '2 hours' WHERE email = '${email}'`);
  assert.equal((await followLink(verifyLink(toCurrent).link)).fragment.error_code, 'otp_expired');
  const late = await client().auth.verifyOtp({ email, token: currentCode, type: 'email_change' });
  assert.equal(late.error?.code, 'otp_expired');
  assert.equal((await signedIn.auth.refreshSession()).data.user.email, email, 'the address did not change');
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

test('a reauthentication nonce expires with mailer_otp_exp (1 hour)', async () => {
  const { email, client: signedIn, session } = await confirmedUser('reauth-late');
  psql(`UPDATE auth.sessions SET created_at = now() - interval '25 hours' WHERE id = '${JSON.parse(Buffer.from(session.access_token.split('.')[1], 'base64url')).session_id}'`);
  assert.equal((await signedIn.auth.reauthenticate()).error, null);
  const [mail] = await own.mail.waitForMessages(email, 2);
  psql(`UPDATE auth.users SET reauthentication_sent_at = now() - interval '61 minutes' WHERE email = '${email}'`);
  const late = await authRequest(own.project, '/user', { method: 'PUT', token: session.access_token, body: { password: 'late-password', nonce: mailedCode(mail) } });
  assert.deepEqual([late.status, late.json], [422, { code: 'reauthentication_not_valid', message: 'Nonce has expired or is invalid' }]);
  assert.equal((await client().auth.signInWithPassword({ email, password: 'late-password' })).error?.code, 'invalid_credentials');
});

test('recovery and magic link with confirmations on: one mail a minute for both (they share GoTrue\'s recovery token); a recovery link confirms a pending address', async () => {
  const { email, password } = await confirmedUser('recover-on');
  assert.equal((await client().auth.resetPasswordForEmail(email, { redirectTo: `${own.project.url}/reset` })).error, null);
  const [recovery] = await own.mail.waitForMessages(email, 2);
  assert.equal(verifyLink(recovery).type, 'recovery');
  const tooSoon = await client().auth.signInWithOtp({ email });
  assert.deepEqual([tooSoon.error?.status, tooSoon.error?.code], [429, 'over_email_send_rate_limit']);
  const followed = await followLink(verifyLink(recovery).link);
  assert.deepEqual([followed.to, followed.fragment.type], [`${own.project.url}/reset`, 'recovery']);
  const recovering = await clientWithSession(own.project, followed.fragment);
  assert.equal((await recovering.auth.updateUser({ password: 'recovered-password' })).error, null);
  assert.equal((await client().auth.signInWithPassword({ email, password })).error?.code, 'invalid_credentials');

  psql(`UPDATE auth.users SET recovery_sent_at = now() - interval '61 seconds' WHERE email = '${email}'`);
  assert.equal((await client().auth.signInWithOtp({ email })).error, null);
  const [magic] = await own.mail.waitForMessages(email, 3);
  assert.equal(verifyLink(magic).type, 'magiclink');
  const signedIn = await client().auth.verifyOtp({ email, token: mailedCode(magic), type: 'email' });
  assert.equal(signedIn.error, null);
  assert.equal((await followLink(verifyLink(magic).link)).fragment.error_code, 'otp_expired', 'the link went with the code');

  const pending = uniqueEmail('recover-pending');
  await client().auth.signUp({ email: pending, password: 'pending-password' });
  assert.equal((await client().auth.resetPasswordForEmail(pending)).error, null);
  const [reset] = await own.mail.waitForMessages(pending, 2);
  const confirmed = await clientWithSession(own.project, (await followLink(verifyLink(reset).link)).fragment);
  assert.ok((await confirmed.auth.getUser()).data.user.email_confirmed_at, 'the recovery link confirmed the address');
});

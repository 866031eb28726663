// PKCE for `/resend` and the e-mail change (`PUT /user` with `code_challenge`), as Supabase Auth
// does them and supabase-js (flowType 'pkce') asks for them: the mailed tokens are `pkce_`-
// prefixed, the link redirects with ?code=, and only the client holding the verifier exchanges
// it; the typed code still verifies. A malformed challenge is refused before anything changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceClient, signedUpUser, sql, stack, uniqueEmail } from './support/stack.mjs';
import { mailedCode, verifyLink, waitForMessages } from './support/mail.mjs';
import { authRequest } from './support/auth-mail.mjs';
import { amrOf, codeFrom, pkceClient } from './support/pkce.mjs';

/** A signed-in PKCE client of a fresh account. */
async function signedInPkce(tag) {
  const { email, password } = await signedUpUser(stack, tag);
  const client = pkceClient();
  assert.equal((await client.auth.signInWithPassword({ email, password })).error, null);
  return { client, email };
}

test('resend (signup), PKCE: the new confirmation link ends in ?code=, exchanged by the verifier holder', async () => {
  const email = uniqueEmail('pkce-resend');
  const created = await serviceClient().auth.admin.createUser({ email, password: 'pkce-resend-pw' });
  assert.equal(created.error, null);
  assert.equal(created.data.user.email_confirmed_at, undefined, 'not confirmed yet');
  const client = pkceClient();
  const redirectTo = `${stack.url}/welcome`;
  assert.equal((await client.auth.resend({ type: 'signup', email, options: { emailRedirectTo: redirectTo } })).error, null);
  const [mail] = await waitForMessages(email, 1);
  const { link, token, type } = verifyLink(mail);
  assert.equal(type, 'signup');
  assert.match(token, /^pkce_[0-9a-f]{56}$/);
  const code = await codeFrom(link, redirectTo);
  const wrong = await authRequest(stack, '/token?grant_type=pkce', { method: 'POST', body: { auth_code: code, code_verifier: 'x'.repeat(43) } });
  assert.deepEqual([wrong.status, wrong.json.code], [400, 'bad_code_verifier']);
  const { data, error } = await client.auth.exchangeCodeForSession(code);
  assert.equal(error, null);
  assert.equal(data.user.email, email);
  assert.ok(data.user.email_confirmed_at, 'the link confirmed the address');
  assert.deepEqual(amrOf(data.session), ['email/signup']);
});

test('e-mail change, PKCE: the link redirects with ?code=; the exchange signs in with the new address', async () => {
  const { client, email } = await signedInPkce('pkce-change');
  const newEmail = uniqueEmail('pkce-changed');
  const redirectTo = `${stack.url}/account`;
  const { data: pending, error } = await client.auth.updateUser({ email: newEmail }, { emailRedirectTo: redirectTo });
  assert.equal(error, null);
  assert.equal(pending.user.new_email, newEmail);
  assert.equal(pending.user.email, email);
  const [stored] = sql(`SELECT email_change_token_new FROM auth.users WHERE email = '${email}'`);
  assert.match(stored[0], /^pkce_/, 'the stored token carries the flow prefix');
  assert.deepEqual(sql(`SELECT authentication_method FROM auth.flow_state f JOIN auth.users u ON u.id = f.user_id WHERE u.email = '${email}'`), [['email_change']]);

  const [mail] = await waitForMessages(newEmail, 1);
  const { link, token, type } = verifyLink(mail);
  assert.equal(type, 'email_change');
  assert.match(token, /^pkce_/);
  const code = await codeFrom(link, redirectTo);
  const exchanged = await client.auth.exchangeCodeForSession(code);
  assert.equal(exchanged.error, null);
  assert.equal(exchanged.data.user.email, newEmail);
  assert.deepEqual(amrOf(exchanged.data.session), ['email_change']);
  assert.equal((await client.auth.getUser()).data.user.email, newEmail);
  const again = await authRequest(stack, '/token?grant_type=pkce', { method: 'POST', body: { auth_code: code, code_verifier: 'x'.repeat(43) } });
  assert.deepEqual([again.status, again.json.code], [404, 'flow_state_not_found'], 'the code is spent');
});

test('e-mail change, PKCE: the mailed code typed by hand still verifies (verifyOtp email_change)', async () => {
  const { client } = await signedInPkce('pkce-change-code');
  const newEmail = uniqueEmail('pkce-changed-code');
  assert.equal((await client.auth.updateUser({ email: newEmail })).error, null);
  const [mail] = await waitForMessages(newEmail, 1);
  const code = mailedCode(mail);
  const wrong = await pkceClient().auth.verifyOtp({ email: newEmail, token: code === '000000' ? '111111' : '000000', type: 'email_change' });
  assert.equal(wrong.error?.code, 'otp_expired');
  const { data, error } = await pkceClient().auth.verifyOtp({ email: newEmail, token: code, type: 'email_change' });
  assert.equal(error, null);
  assert.equal(data.user.email, newEmail);
  assert.ok(data.session?.access_token);
});

test('a malformed challenge on PUT /user or /resend is refused 400 before anything changes', async () => {
  const { email, session } = await signedUpUser(stack, 'pkce-bad');
  const newEmail = uniqueEmail('pkce-bad-new');
  const half = await authRequest(stack, '/user', { method: 'PUT', token: session.access_token, body: { email: newEmail, code_challenge: 'a'.repeat(43) } });
  assert.deepEqual([half.status, half.json.code, half.json.message], [400, 'validation_failed', 'PKCE flow requires code_challenge_method and code_challenge']);
  const short = await authRequest(stack, '/user', { method: 'PUT', token: session.access_token, body: { email: newEmail, code_challenge: 'short', code_challenge_method: 's256' } });
  assert.deepEqual([short.status, short.json.code], [400, 'validation_failed']);
  assert.deepEqual(sql(`SELECT coalesce(nullif(email_change, ''), 'none') FROM auth.users WHERE email = '${email}'`), [['none']], 'no change pending');
  // Without an e-mail change the challenge is not read, as Supabase Auth ignores it.
  const plain = await authRequest(stack, '/user', { method: 'PUT', token: session.access_token, body: { data: { a: 1 }, code_challenge: 'short' } });
  assert.equal(plain.status, 200);

  const resend = await authRequest(stack, '/resend', { method: 'POST', body: { type: 'signup', email, code_challenge_method: 's256' } });
  assert.deepEqual([resend.status, resend.json.code, resend.json.message], [400, 'validation_failed', 'PKCE flow requires code_challenge_method and code_challenge']);
});

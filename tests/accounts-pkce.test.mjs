// PKCE for the mailed flows (supabase-js with flowType 'pkce', as server-rendered apps use it):
// the link redirects with ?code= instead of a session in the fragment, and only the client that
// holds the code_verifier exchanges it (exchangeCodeForSession, POST /token?grant_type=pkce),
// once and within the flow state's 5 minutes. Errors as Supabase Auth answers them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, signedUpUser, sql, stack, uniqueEmail } from './support/stack.mjs';
import { mailedCode, messagesTo, verifyLink, waitForMessages } from './support/mail.mjs';
import { authRequest, followLink } from './support/auth-mail.mjs';
import { amrOf, codeFrom, pkceClient } from './support/pkce.mjs';

test('magic link, PKCE: ?code= on the redirect, exchanged once by the client holding the verifier', async () => {
  const { email } = await signedUpUser(stack, 'pkce-magic');
  const client = pkceClient();
  const redirectTo = `${stack.url}/auth/callback`;
  assert.equal((await client.auth.signInWithOtp({ email, options: { emailRedirectTo: redirectTo, shouldCreateUser: false } })).error, null);
  const [mail] = await waitForMessages(email, 1);
  const { link, token, type } = verifyLink(mail);
  assert.equal(type, 'magiclink');
  assert.match(token, /^pkce_[0-9a-f]{56}$/, 'the mailed token carries the flow prefix');
  const code = await codeFrom(link, redirectTo);
  // Someone with the code but another verifier gets nothing.
  const wrong = await authRequest(stack, '/token?grant_type=pkce', { method: 'POST', body: { auth_code: code, code_verifier: 'x'.repeat(43) } });
  assert.deepEqual([wrong.status, wrong.json.code, wrong.json.message], [400, 'bad_code_verifier', 'code challenge does not match previously saved code verifier']);
  const { data, error } = await client.auth.exchangeCodeForSession(code);
  assert.equal(error, null);
  assert.equal(data.user.email, email);
  assert.deepEqual(amrOf(data.session), ['magiclink']);
  assert.equal((await client.auth.getUser()).data.user.email, email, 'the client is signed in');
  // The code is spent with the flow state.
  const reused = await authRequest(stack, '/token?grant_type=pkce', { method: 'POST', body: { auth_code: code, code_verifier: 'x'.repeat(43) } });
  assert.deepEqual([reused.status, reused.json.code, reused.json.message], [404, 'flow_state_not_found', 'invalid flow state, no valid flow state found']);
  assert.deepEqual(sql(`SELECT count(*) FROM auth.flow_state WHERE auth_code = '${code}'`), [['0']]);
});

test('recovery, PKCE: the code signs in for a new password; unknown addresses still answer {}', async () => {
  const { email } = await signedUpUser(stack, 'pkce-recover');
  const client = pkceClient();
  const redirectTo = `${stack.url}/reset-password`;
  assert.equal((await client.auth.resetPasswordForEmail(email, { redirectTo })).error, null);
  const [mail] = await waitForMessages(email, 1);
  const code = await codeFrom(verifyLink(mail).link, redirectTo);
  const { data, error } = await client.auth.exchangeCodeForSession(code);
  assert.equal(error, null);
  assert.equal(data.redirectType, 'recovery');
  assert.deepEqual(amrOf(data.session), ['recovery']);
  assert.equal((await client.auth.updateUser({ password: 'pkce-new-password' })).error, null);
  assert.equal((await anonClient().auth.signInWithPassword({ email, password: 'pkce-new-password' })).error, null);
  const stranger = uniqueEmail('pkce-nobody');
  assert.equal((await pkceClient().auth.resetPasswordForEmail(stranger)).error, null);
  assert.equal((await messagesTo(stranger)).length, 0);
});

test('a PKCE mail\'s code typed by hand still verifies (verifyOtp), as Supabase Auth accepts it', async () => {
  const { email } = await signedUpUser(stack, 'pkce-code');
  const client = pkceClient();
  assert.equal((await client.auth.signInWithOtp({ email, options: { shouldCreateUser: false } })).error, null);
  const [mail] = await waitForMessages(email, 1);
  const { data, error } = await anonClient().auth.verifyOtp({ email, token: mailedCode(mail), type: 'email' });
  assert.equal(error, null);
  assert.ok(data.session.access_token);
  // The link of the same mail is spent now.
  const spent = await followLink(verifyLink(mail).link);
  assert.equal(spent.fragment.error_code, 'otp_expired');
  assert.equal(new URL(spent.to).searchParams.get('error_code'), 'otp_expired', 'PKCE errors are in the query too');
});

test('an expired flow state is refused 422 flow_state_expired', async () => {
  const { email } = await signedUpUser(stack, 'pkce-expired');
  const client = pkceClient();
  const redirectTo = `${stack.url}/auth/callback`;
  assert.equal((await client.auth.signInWithOtp({ email, options: { emailRedirectTo: redirectTo, shouldCreateUser: false } })).error, null);
  const [mail] = await waitForMessages(email, 1);
  const code = await codeFrom(verifyLink(mail).link, redirectTo);
  sql(`UPDATE auth.flow_state SET auth_code_issued_at = now() - interval '6 minutes' WHERE auth_code = '${code}'`);
  const { error } = await client.auth.exchangeCodeForSession(code);
  assert.equal(error?.status, 422);
  assert.equal(error.code, 'flow_state_expired');
  assert.equal(error.message, 'invalid flow state, flow state has expired');
});

test('malformed PKCE requests answer GoTrue\'s validation errors', async () => {
  const email = uniqueEmail('pkce-bad');
  const cases = [
    [{ email, code_challenge: 'a'.repeat(43) }, 'PKCE flow requires code_challenge_method and code_challenge'],
    [{ email, code_challenge_method: 's256' }, 'PKCE flow requires code_challenge_method and code_challenge'],
    [{ email, code_challenge: 'short', code_challenge_method: 's256' }, 'code challenge has to be between 43 and 128 characters'],
    [{ email, code_challenge: `${'a'.repeat(42)}/`, code_challenge_method: 's256' }, 'code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes'],
  ];
  for (const [body, msg] of cases) {
    for (const path of ['/otp', '/recover']) {
      const res = await authRequest(stack, path, { method: 'POST', body });
      assert.deepEqual([res.status, res.json.code, res.json.message], [400, 'validation_failed', msg], `${path} ${JSON.stringify(body)}`);
    }
  }
  assert.equal((await messagesTo(email)).length, 0);
  const empty = await authRequest(stack, '/token?grant_type=pkce', { method: 'POST', body: { auth_code: '', code_verifier: 'v' } });
  assert.deepEqual([empty.status, empty.json.code, empty.json.message], [400, 'validation_failed', 'invalid request: both auth code and code verifier should be non-empty']);
  const unknown = await authRequest(stack, '/token?grant_type=pkce', { method: 'POST', body: { auth_code: crypto.randomUUID(), code_verifier: 'v'.repeat(43) } });
  assert.deepEqual([unknown.status, unknown.json.code], [404, 'flow_state_not_found']);
});

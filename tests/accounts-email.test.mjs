// Accounts people run themselves, on the test stack (confirmations off, as `supabase start`):
// recovery, magic link and e-mail code, e-mail change, admin invitations and generated links,
// each read from the mail catcher as a person would; expired, reused, wrong and other users'
// codes; no enumeration through /recover or /otp; what devstack does not serve answers as
// Supabase Auth does with the feature off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, serviceClient, signedUpUser, sql, stack, uniqueEmail } from './support/stack.mjs';
import { mailedCode, messagesTo, verifyLink, waitForMessages } from './support/mail.mjs';
import { authRequest, clientWithSession, followLink } from './support/auth-mail.mjs';

const site = `${stack.url}/`;

test('settings say confirmations are off; sign-up returns a session and mails nothing', async () => {
  const settings = await authRequest(stack, '/settings');
  assert.equal(settings.json.mailer_autoconfirm, true);
  const { session, email } = await signedUpUser(stack, 'noconfirm');
  assert.ok(session?.access_token);
  assert.equal((await messagesTo(email)).length, 0);
});

test('forgotten password: recover -> mail -> link -> new password; the link works once', async () => {
  const { email, password } = await signedUpUser(stack, 'recover');
  const client = anonClient();
  const redirectTo = `${stack.url}/reset-password`;
  const { error } = await client.auth.resetPasswordForEmail(email, { redirectTo });
  assert.equal(error, null);
  const [mail] = await waitForMessages(email, 1);
  assert.equal(mail.Subject, 'Reset your password');
  const { link, type, redirectTo: mailedRedirect } = verifyLink(mail);
  assert.equal(type, 'recovery');
  assert.equal(mailedRedirect, redirectTo);
  const followed = await followLink(link);
  assert.equal(followed.to, redirectTo);
  assert.equal(followed.fragment.type, 'recovery');
  const recovering = await clientWithSession(stack, followed.fragment);
  const { error: updateError } = await recovering.auth.updateUser({ password: 'a-brand-new-password' });
  assert.equal(updateError, null);
  const old = await anonClient().auth.signInWithPassword({ email, password });
  assert.equal(old.error?.code, 'invalid_credentials');
  const fresh = await anonClient().auth.signInWithPassword({ email, password: 'a-brand-new-password' });
  assert.equal(fresh.error, null);
  // The link was spent: following it again lands on the page with GoTrue's error.
  const again = await followLink(link);
  assert.equal(again.fragment.error_code, 'otp_expired');
  assert.equal(again.fragment.error, 'access_denied');
  assert.equal(again.fragment.error_description, 'Email link is invalid or has expired');
});

test('recovery does not tell who has an account', async () => {
  const { email } = await signedUpUser(stack, 'enum');
  const stranger = uniqueEmail('nobody');
  const known = await authRequest(stack, '/recover', { method: 'POST', body: { email } });
  const unknown = await authRequest(stack, '/recover', { method: 'POST', body: { email: stranger } });
  assert.deepEqual([known.status, known.json], [200, {}]);
  assert.deepEqual([unknown.status, unknown.json], [200, {}]);
  await waitForMessages(email, 1);
  assert.equal((await messagesTo(stranger)).length, 0);
  const malformed = await authRequest(stack, '/recover', { method: 'POST', body: { email: 'not-an-address' } });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.code, 'validation_failed');
});

test('magic link and e-mail code: signInWithOtp, verifyOtp; codes are single-use and per address', async () => {
  const { email, user } = await signedUpUser(stack, 'otp');
  const { error } = await anonClient().auth.signInWithOtp({ email, options: { emailRedirectTo: site } });
  assert.equal(error, null);
  const [mail] = await waitForMessages(email, 1);
  assert.equal(mail.Subject, 'Your sign-in link');
  assert.equal(verifyLink(mail).type, 'magiclink');
  const code = mailedCode(mail);
  assert.match(code, /^\d{6}$/);

  // Another user's address with this code, and a wrong code, are refused.
  const other = await signedUpUser(stack, 'otp-other');
  const stolen = await anonClient().auth.verifyOtp({ email: other.email, token: code, type: 'email' });
  assert.equal(stolen.error?.code, 'otp_expired');
  assert.equal(stolen.error?.status, 403);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  const guessed = await anonClient().auth.verifyOtp({ email, token: wrong, type: 'email' });
  assert.equal(guessed.error?.message, 'Token has expired or is invalid');

  const signedIn = await anonClient().auth.verifyOtp({ email, token: code, type: 'email' });
  assert.equal(signedIn.error, null);
  assert.equal(signedIn.data.user.id, user.id);
  const claims = JSON.parse(Buffer.from(signedIn.data.session.access_token.split('.')[1], 'base64url'));
  assert.equal(claims.aal, 'aal1');
  assert.deepEqual(claims.amr.map((a) => a.method), ['otp']);
  const reused = await anonClient().auth.verifyOtp({ email, token: code, type: 'email' });
  assert.equal(reused.error?.code, 'otp_expired');
  // The link of the same mail went with the code.
  assert.equal((await followLink(verifyLink(mail).link)).fragment.error_code, 'otp_expired');
});

test('signInWithOtp signs a new address up (create_user), or says signups are off for otp', async () => {
  const email = uniqueEmail('otp-new');
  const refused = await anonClient().auth.signInWithOtp({ email, options: { shouldCreateUser: false } });
  assert.equal(refused.error?.code, 'otp_disabled');
  assert.equal(refused.error?.message, 'Signups not allowed for otp');
  assert.equal((await messagesTo(email)).length, 0);

  const { error } = await anonClient().auth.signInWithOtp({ email, options: { data: { display_name: 'Newcomer' } } });
  assert.equal(error, null);
  const [mail] = await waitForMessages(email, 1);
  const followed = await followLink(verifyLink(mail).link);
  assert.equal(followed.fragment.type, 'magiclink');
  const client = await clientWithSession(stack, followed.fragment);
  const { data } = await client.auth.getUser();
  assert.equal(data.user.email, email);
  assert.equal(data.user.user_metadata.display_name, 'Newcomer');
});

test('an expired link or code is refused (mailer_otp_exp)', async () => {
  const { email } = await signedUpUser(stack, 'expired');
  await anonClient().auth.signInWithOtp({ email });
  const [mail] = await waitForMessages(email, 1);
  sql(`UPDATE auth.users SET recovery_sent_at = now() - interval '2 hours' WHERE email = '${email}'`);
  const late = await anonClient().auth.verifyOtp({ email, token: mailedCode(mail), type: 'magiclink' });
  assert.equal(late.error?.code, 'otp_expired');
  const lateLink = await authRequest(stack, '/verify', {
    method: 'POST',
    body: { type: 'magiclink', token_hash: verifyLink(mail).token },
  });
  assert.equal(lateLink.status, 403);
  assert.deepEqual(lateLink.json, { code: 'otp_expired', message: 'Email link is invalid or has expired' });
});

test('tokens are stored hashed, never as the mailed code', async () => {
  const { email } = await signedUpUser(stack, 'hashed');
  await anonClient().auth.resetPasswordForEmail(email);
  const [mail] = await waitForMessages(email, 1);
  const [[stored]] = sql(`SELECT recovery_token FROM auth.users WHERE email = '${email}'`);
  assert.match(stored, /^[0-9a-f]{56}$/);
  assert.notEqual(stored, mailedCode(mail));
  assert.equal(stored, verifyLink(mail).token);
});

test('e-mail change: the new address confirms it (confirmations off), then signs in', async () => {
  const { client, email, password } = await signedUpUser(stack, 'change');
  const newEmail = uniqueEmail('changed');
  const { data, error } = await client.auth.updateUser({ email: newEmail }, { emailRedirectTo: site });
  assert.equal(error, null);
  assert.equal(data.user.email, email);
  assert.equal(data.user.new_email, newEmail);
  const [toNew] = await waitForMessages(newEmail, 1);
  const [toCurrent] = await waitForMessages(email, 1);
  assert.equal(toNew.Subject, 'Confirm your new email address');
  assert.match(toCurrent.Text, new RegExp(`confirm ${newEmail} as your new email address`));
  const followed = await followLink(verifyLink(toNew).link);
  assert.equal(followed.fragment.type, 'email_change');
  const signedIn = await anonClient().auth.signInWithPassword({ email: newEmail, password });
  assert.equal(signedIn.error, null);
  assert.equal(signedIn.data.user.email, newEmail);
  const taken = await client.auth.updateUser({ email: (await signedUpUser(stack, 'taken')).email });
  assert.equal(taken.error?.code, 'email_exists');
});

test('admin invitations: inviteUserByEmail mails a link that signs the invitee in', async () => {
  const admin = serviceClient();
  const email = uniqueEmail('invitee');
  const { data, error } = await admin.auth.admin.inviteUserByEmail(email, { data: { team: 'blue' }, redirectTo: site });
  assert.equal(error, null);
  assert.ok(data.user.invited_at);
  assert.equal(data.user.email_confirmed_at, undefined);
  const [mail] = await waitForMessages(email, 1);
  assert.equal(mail.Subject, "You've been invited");
  const followed = await followLink(verifyLink(mail).link);
  assert.equal(followed.fragment.type, 'invite');
  const invitee = await clientWithSession(stack, followed.fragment);
  const { error: setError } = await invitee.auth.updateUser({ password: 'invitee-password' });
  assert.equal(setError, null);
  assert.equal((await anonClient().auth.signInWithPassword({ email, password: 'invitee-password' })).error, null);
  const again = await admin.auth.admin.inviteUserByEmail(email);
  assert.equal(again.error?.code, 'email_exists');
  const notAdmin = await anonClient().auth.admin.inviteUserByEmail(uniqueEmail('x'));
  assert.equal(notAdmin.error?.status, 403);
});

test('an invitation link works once, and not after mailer_otp_exp; nor does its code', async () => {
  const admin = serviceClient();
  const email = uniqueEmail('invitee-once');
  assert.equal((await admin.auth.admin.inviteUserByEmail(email, { redirectTo: site })).error, null);
  const [mail] = await waitForMessages(email, 1);
  const { link } = verifyLink(mail);
  assert.ok((await followLink(link)).fragment.access_token);
  const again = await followLink(link);
  assert.deepEqual([again.fragment.error_code, again.fragment.error_description], ['otp_expired', 'Email link is invalid or has expired']);

  const late = uniqueEmail('invitee-late');
  const invited = await admin.auth.admin.inviteUserByEmail(late);
  assert.equal(invited.error, null);
  const [lateMail] = await waitForMessages(late, 1);
  sql(`UPDATE auth.users SET confirmation_sent_at = now() - interval '61 minutes' WHERE email = '${late}'`);
  assert.equal((await followLink(verifyLink(lateMail).link)).fragment.error_code, 'otp_expired');
  const code = await anonClient().auth.verifyOtp({ email: late, token: mailedCode(lateMail), type: 'invite' });
  assert.deepEqual([code.error?.status, code.error?.code], [403, 'otp_expired']);
  const { data } = await admin.auth.admin.getUserById(invited.data.user.id);
  assert.equal(data.user.email_confirmed_at, undefined, 'still unconfirmed');
});

test('admin.generateLink: every type, no mail sent; the links and codes verify', async () => {
  const admin = serviceClient();
  const { email } = await signedUpUser(stack, 'genlink');
  for (const type of ['magiclink', 'recovery']) {
    const { data, error } = await admin.auth.admin.generateLink({ type, email, options: { redirectTo: site } });
    assert.equal(error, null, type);
    assert.equal(data.properties.verification_type, type);
    assert.match(data.properties.email_otp, /^\d{6}$/);
    assert.equal(data.properties.redirect_to, site);
    const followed = await followLink(data.properties.action_link);
    assert.equal(followed.fragment.type, type);
  }
  const signup = await admin.auth.admin.generateLink({ type: 'signup', email: uniqueEmail('gen-signup'), password: 'gen-password' });
  assert.equal(signup.error, null);
  const verified = await anonClient().auth.verifyOtp({ token_hash: signup.data.properties.hashed_token, type: 'signup' });
  assert.equal(verified.error, null);
  const invite = await admin.auth.admin.generateLink({ type: 'invite', email: uniqueEmail('gen-invite') });
  assert.equal(invite.error, null);
  assert.ok(invite.data.user.invited_at);
  const newEmail = uniqueEmail('gen-new');
  const change = await admin.auth.admin.generateLink({ type: 'email_change_new', email, newEmail });
  assert.equal(change.error, null);
  assert.equal((await followLink(change.data.properties.action_link)).fragment.type, 'email_change');
  assert.equal((await admin.auth.admin.getUserById(change.data.user.id)).data.user.email, newEmail);
  const missing = await admin.auth.admin.generateLink({ type: 'recovery', email: uniqueEmail('ghost') });
  assert.equal(missing.error?.code, 'user_not_found');
  const badType = await authRequest(stack, '/admin/generate_link', {
    method: 'POST', key: stack.serviceKey, token: stack.serviceKey, body: { type: 'bogus', email },
  });
  assert.equal(badType.status, 400);
  assert.equal(badType.json.message, 'Invalid email action link type requested: bogus');
  assert.equal((await messagesTo(email)).length, 0, 'generated links are not mailed');
});

test('verify: malformed requests answer GoTrue’s validation errors', async () => {
  const noType = await authRequest(stack, '/verify', { method: 'POST', body: { token_hash: 'x' } });
  assert.deepEqual([noType.status, noType.json.message], [400, 'Verify requires a verification type']);
  const both = await authRequest(stack, '/verify', { method: 'POST', body: { type: 'signup', token: '1', token_hash: 'x' } });
  assert.equal(both.json.message, 'Verify requires either a token or a token hash');
  const extra = await authRequest(stack, '/verify', { method: 'POST', body: { type: 'signup', token_hash: 'x', email: 'a@b.co' } });
  assert.equal(extra.json.message, 'Only the token_hash and type should be provided');
  const badEmail = await authRequest(stack, '/verify', { method: 'POST', body: { type: 'email', token: '123456', email: 'nope' } });
  assert.deepEqual([badEmail.status, badEmail.json.message], [422, 'Invalid email format']);
  const unknown = await authRequest(stack, '/verify', { method: 'POST', body: { type: 'signup', token_hash: 'f'.repeat(56) } });
  assert.deepEqual([unknown.status, unknown.json.code], [403, 'otp_expired']);
  const get = await fetch(`${stack.url}/auth/v1/verify?type=signup&token=nope&redirect_to=${encodeURIComponent('https://evil.example.net/')}`, {
    redirect: 'manual', headers: { apikey: stack.anonKey },
  });
  assert.equal(get.status, 303);
  // A redirect_to that is neither the site nor allowed falls back to the site URL.
  assert.ok(get.headers.get('location').startsWith(`${stack.url}#error=access_denied`), get.headers.get('location'));
});

test('features devstack does not serve answer as Supabase Auth does with them off', async () => {
  const oauth = await authRequest(stack, '/authorize?provider=github');
  assert.deepEqual([oauth.status, oauth.json], [400, { code: 'validation_failed', message: 'Unsupported provider: provider is not enabled' }]);
  const sso = await anonClient().auth.signInWithSSO({ domain: 'example.com' });
  assert.equal(sso.error?.code, 'saml_provider_disabled');
  const passkeys = await authRequest(stack, '/passkeys/authentication/options', { method: 'POST', body: {} });
  assert.deepEqual([passkeys.status, passkeys.json.code], [404, 'passkey_disabled']);
  const phone = await anonClient().auth.signInWithOtp({ phone: '+15555550100' });
  assert.equal(phone.error?.code, 'phone_provider_disabled');
  const nowhere = await authRequest(stack, '/no/such/endpoint');
  assert.deepEqual([nowhere.status, nowhere.text], [404, '404 page not found\n']);
});

// TOTP second factors through supabase-js's auth.mfa: enroll (QR code, secret, otpauth URI),
// challenge, verify with a code computed as an authenticator app does (RFC 6238), unenroll;
// the session's aal and amr in the access token, and RLS that requires aal2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, signedUpUser, stack } from './support/stack.mjs';
import { authRequest, totpCode as totp } from './support/auth-mail.mjs';

const claimsOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));

test('enroll, challenge, verify: the session becomes aal2 with totp in its amr; RLS can require it', async () => {
  const { client } = await signedUpUser(stack, 'mfa');
  const { data: enrolled, error } = await client.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'Phone app' });
  assert.equal(error, null);
  assert.equal(enrolled.type, 'totp');
  assert.match(enrolled.totp.secret, /^[A-Z2-7]{32}$/);
  assert.match(enrolled.totp.uri, /^otpauth:\/\/totp\/.+\?algorithm=SHA1&digits=6&issuer=.+&period=30&secret=/);
  assert.match(enrolled.totp.qr_code, /^data:image\/svg\+xml;utf-8,<\?xml/);
  const duplicate = await client.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'Phone app' });
  assert.equal(duplicate.error?.code, 'mfa_factor_name_conflict');

  const insert = await client.from('aal2_secrets').insert({ body: 'before' });
  assert.equal(insert.error?.code, '42501', 'aal1 cannot write');

  const { data: challenge } = await client.auth.mfa.challenge({ factorId: enrolled.id });
  assert.ok(challenge.expires_at > Date.now() / 1000);
  const wrong = await client.auth.mfa.verify({ factorId: enrolled.id, challengeId: challenge.id, code: totp(enrolled.totp.secret, 10) });
  assert.equal(wrong.error?.code, 'mfa_verification_failed');
  const { data: verified, error: verifyError } = await client.auth.mfa.verify({
    factorId: enrolled.id, challengeId: challenge.id, code: totp(enrolled.totp.secret),
  });
  assert.equal(verifyError, null);
  const claims = claimsOf(verified.access_token);
  assert.equal(claims.aal, 'aal2');
  assert.deepEqual(claims.amr.map((a) => a.method).sort(), ['password', 'totp']);
  const { data: level } = await client.auth.mfa.getAuthenticatorAssuranceLevel();
  assert.deepEqual([level.currentLevel, level.nextLevel], ['aal2', 'aal2']);
  const replay = await client.auth.mfa.verify({ factorId: enrolled.id, challengeId: challenge.id, code: totp(enrolled.totp.secret) });
  assert.equal(replay.error?.code, 'mfa_factor_not_found', 'a challenge is spent once verified');

  assert.equal((await client.from('aal2_secrets').insert({ body: 'after' })).error, null);
  const { data: rows } = await client.from('aal2_secrets').select('body');
  assert.deepEqual(rows, [{ body: 'after' }]);
  // The refreshed session keeps aal2.
  const refreshed = await client.auth.refreshSession();
  assert.equal(claimsOf(refreshed.data.session.access_token).aal, 'aal2');
  const { data: factors } = await client.auth.mfa.listFactors();
  assert.deepEqual(factors.totp.map((f) => [f.id, f.status]), [[enrolled.id, 'verified']]);
});

test('a new sign-in is aal1 with aal2 next; unenrolling a verified factor needs aal2', async () => {
  const { client, email, password } = await signedUpUser(stack, 'mfa-unenroll');
  const { data: enrolled } = await client.auth.mfa.enroll({ factorType: 'totp' });
  const done = await client.auth.mfa.challengeAndVerify({ factorId: enrolled.id, code: totp(enrolled.totp.secret) });
  assert.equal(done.error, null);

  const fresh = anonClient();
  await fresh.auth.signInWithPassword({ email, password });
  const { data: level } = await fresh.auth.mfa.getAuthenticatorAssuranceLevel();
  assert.deepEqual([level.currentLevel, level.nextLevel], ['aal1', 'aal2']);
  const refused = await fresh.auth.mfa.unenroll({ factorId: enrolled.id });
  assert.equal(refused.error?.code, 'insufficient_aal');
  const second = await fresh.auth.mfa.enroll({ factorType: 'totp', friendlyName: 'second' });
  assert.equal(second.error?.code, 'insufficient_aal');

  const lifted = await fresh.auth.mfa.challengeAndVerify({ factorId: enrolled.id, code: totp(enrolled.totp.secret) });
  assert.equal(lifted.error, null);
  const { data: removed, error } = await fresh.auth.mfa.unenroll({ factorId: enrolled.id });
  assert.equal(error, null);
  assert.equal(removed.id, enrolled.id);
  const after = await fresh.auth.refreshSession();
  assert.equal(claimsOf(after.data.session.access_token).aal, 'aal1');
});

test("another user's factor is not found; phone and webauthn enrolment answer as disabled", async () => {
  const owner = await signedUpUser(stack, 'mfa-owner');
  const other = await signedUpUser(stack, 'mfa-other');
  const { data: enrolled } = await owner.client.auth.mfa.enroll({ factorType: 'totp' });
  const stolen = await other.client.auth.mfa.challenge({ factorId: enrolled.id });
  assert.equal(stolen.error?.code, 'mfa_factor_not_found');
  const gone = await other.client.auth.mfa.unenroll({ factorId: enrolled.id });
  assert.equal(gone.error?.code, 'mfa_factor_not_found');
  const phone = await authRequest(stack, '/factors', {
    method: 'POST', token: other.session.access_token, body: { factor_type: 'phone', phone: '+15555550100' },
  });
  assert.deepEqual([phone.status, phone.json.code], [422, 'mfa_phone_enroll_not_enabled']);
  const unauthenticated = await authRequest(stack, '/factors', { method: 'POST', body: { factor_type: 'totp' } });
  assert.equal(unauthenticated.status, 401);
});

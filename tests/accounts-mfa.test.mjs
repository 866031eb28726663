// TOTP second factors through supabase-js's auth.mfa: enroll (QR code, secret, otpauth URI),
// challenge, verify with a code computed as an authenticator app does (RFC 6238), unenroll;
// the session's aal and amr in the access token, and RLS that requires aal2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, signedUpUser, sql, stack } from './support/stack.mjs';
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

test('an expired challenge is refused 422 mfa_challenge_expired and removed; malformed verifications answer GoTrue\'s errors', async () => {
  const { client, session } = await signedUpUser(stack, 'mfa-late');
  const { data: enrolled } = await client.auth.mfa.enroll({ factorType: 'totp' });
  const { data: challenge } = await client.auth.mfa.challenge({ factorId: enrolled.id });
  sql(`UPDATE auth.mfa_challenges SET created_at = now() - interval '301 seconds' WHERE id = '${challenge.id}'`);
  const verify = (factorId, body) => authRequest(stack, `/factors/${factorId}/verify`, { method: 'POST', token: session.access_token, body });
  const late = await verify(enrolled.id, { challenge_id: challenge.id, code: totp(enrolled.totp.secret) });
  assert.deepEqual([late.status, late.json], [422, {
    code: 'mfa_challenge_expired',
    message: `MFA challenge ${challenge.id} has expired, verify against another challenge or create a new challenge.`,
  }]);
  const gone = await verify(enrolled.id, { challenge_id: challenge.id, code: totp(enrolled.totp.secret) });
  assert.deepEqual([gone.status, gone.json], [422, { code: 'mfa_factor_not_found', message: 'MFA factor with the provided challenge ID not found' }]);
  assert.deepEqual(sql(`SELECT count(*) FROM auth.mfa_challenges WHERE id = '${challenge.id}'`), [['0']]);

  const notUuid = await verify('not-a-uuid', { challenge_id: challenge.id, code: '123456' });
  assert.deepEqual([notUuid.status, notUuid.json], [404, { code: 'validation_failed', message: 'factor_id must be an UUID' }]);
  const { data: fresh } = await client.auth.mfa.challenge({ factorId: enrolled.id });
  const noCode = await verify(enrolled.id, { challenge_id: fresh.id, code: '' });
  assert.deepEqual([noCode.status, noCode.json], [400, { code: 'validation_failed', message: 'Code needs to be non-empty' }]);
  const { data: level } = await client.auth.mfa.getAuthenticatorAssuranceLevel();
  assert.equal(level.currentLevel, 'aal1', 'nothing was verified');
});

test('a challenge is verified only from the address it was made from (the first of X-Forwarded-For, as GoTrue reads it)', async () => {
  const { client, session } = await signedUpUser(stack, 'mfa-ip');
  const { data: enrolled } = await client.auth.mfa.enroll({ factorType: 'totp' });
  const from = async (ip, path, body) => {
    const res = await fetch(`${stack.url}/auth/v1/factors/${enrolled.id}/${path}`, {
      method: 'POST',
      headers: {
        apikey: stack.anonKey, authorization: `Bearer ${session.access_token}`, 'content-type': 'application/json',
        'x-supabase-api-version': '2024-01-01', 'x-forwarded-for': ip,
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  };
  const challenge = await from('203.0.113.5, 10.0.0.1', 'challenge', {});
  assert.equal(challenge.status, 200);
  assert.deepEqual(sql(`SELECT host(ip_address) FROM auth.mfa_challenges WHERE id = '${challenge.json.id}'`), [['203.0.113.5']]);
  const elsewhere = await from('198.51.100.7', 'verify', { challenge_id: challenge.json.id, code: totp(enrolled.totp.secret) });
  assert.deepEqual([elsewhere.status, elsewhere.json], [422, { code: 'mfa_ip_address_mismatch', message: 'Challenge and verify IP addresses mismatch.' }]);
  const here = await from('not-an-address, 203.0.113.5', 'verify', { challenge_id: challenge.json.id, code: totp(enrolled.totp.secret) });
  assert.equal(here.status, 200);
  assert.equal(claimsOf(here.json.access_token).aal, 'aal2');
});

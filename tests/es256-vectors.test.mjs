// ES256 signature vectors against the Workers as they run in workerd, where edge-auth checks
// ES256 signatures with the runtime's WebCrypto (`crypto.subtle.verify`), while native builds
// and the fuzz targets use p256. The same cases as edge-auth's native test
// `es256_vectors_valid_tampered_wrong_key_high_s_and_malformed_signatures`
// (shared/auth/src/verifier_tests.rs), with the same expected answers: the two backends must
// refuse the same tokens with the same codes. Each token is a valid one, signed with the test
// project's current ES256 key, with one thing changed. Skipped on a --legacy-jwt (HS256) stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { signedUpUser, signingKeys, stack } from './support/stack.mjs';
import { call } from './support/functions.mjs';

/** The order n of the P-256 group. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const current = stack.signingKeysPath ? signingKeys().find((k) => k.key_ops.includes('sign')) : null;
const skip = current?.alg === 'ES256' ? false : 'the test stack does not sign with ES256';

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const scalar = (n) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
const big = (bytes) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);

/** `<header>.<payload>` signed with a private JWK; `dsaEncoding` 'ieee-p1363' is JWS's raw r ‖ s. */
function signed(jwk, header, claims, dsaEncoding = 'ieee-p1363') {
  const input = `${b64(header)}.${b64(claims)}`;
  const { kty, crv, x, y, d } = jwk;
  const key = createPrivateKey({ key: { kty, crv, x, y, d }, format: 'jwk' });
  return { input, signature: sign('sha256', Buffer.from(input), { key, dsaEncoding }) };
}

const token = (input, signature) => `${input}.${Buffer.from(signature).toString('base64url')}`;

/** GET save-connection (it lists the caller's connections) with the token as the caller's. */
async function answer(accessToken) {
  const res = await call(`${stack.functionsUrl}/save-connection`, {
    headers: { apikey: stack.anonKey, Authorization: `Bearer ${accessToken}` },
  });
  return res.status === 200 ? 'ok' : `${res.status} ${res.body?.code}`;
}

test('ES256 vectors: the Workers (WebCrypto) accept the valid token and its high-s twin, and refuse tampered payloads and signatures, other keys, DER, wrong lengths and out-of-range scalars as the native backend does', { skip }, async () => {
  const { user } = await signedUpUser(undefined, 'es256-vectors');
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: user.id, role: 'authenticated', aud: 'authenticated', iss: `${stack.url}/auth/v1`, iat: now, exp: now + 600 };
  const header = { alg: 'ES256', typ: 'JWT', kid: current.kid };
  const { input, signature } = signed(current, header, claims);
  const r = signature.subarray(0, 32);
  const s = signature.subarray(32);
  const flipped = Buffer.from(signature);
  flipped[40] ^= 0x01;
  const forged = { ...claims, sub: '00000000-0000-0000-0000-000000000001' };
  const badClaims = { ...claims, role: 5 };
  const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

  const cases = [
    ['valid', token(input, signature), 'ok'],
    ['the twin signature (r, n - s): ECDSA accepts both and JWS does not ask for low s', token(input, Buffer.concat([r, scalar(N - big(s))])), 'ok'],
    ['payload swapped, signature kept', token(`${b64(header)}.${b64(forged)}`, signature), '401 bad_signature'],
    ['one bit of s flipped', token(input, flipped), '401 bad_signature'],
    ['signed by a key the JWKS does not have, under its kid', token(input, signed(otherKey, header, claims).signature), '401 bad_signature'],
    ['DER-encoded signature', token(input, signed(current, header, claims, 'der').signature), '401 bad_signature'],
    ['empty signature', token(input, Buffer.alloc(0)), '401 bad_signature'],
    ['63 bytes', token(input, signature.subarray(0, 63)), '401 bad_signature'],
    ['65 bytes', token(input, Buffer.concat([signature, Buffer.alloc(1)])), '401 bad_signature'],
    ['r = 0', token(input, Buffer.concat([Buffer.alloc(32), s])), '401 bad_signature'],
    ['s = n', token(input, Buffer.concat([r, scalar(N)])), '401 bad_signature'],
    ['r = n - 1 (in range, wrong)', token(input, Buffer.concat([scalar(N - 1n), s])), '401 bad_signature'],
    ['malformed claims, well-formed wrong signature: the claims are read first', token(`${b64(header)}.${b64(badClaims)}`, signature), '401 malformed_claims'],
    ['malformed claims, signature out of range: the signature\'s form is checked first', token(`${b64(header)}.${b64(badClaims)}`, Buffer.concat([Buffer.alloc(32), s])), '401 bad_signature'],
  ];
  const got = {};
  for (const [name, accessToken] of cases) got[name] = await answer(accessToken);
  assert.deepEqual(got, Object.fromEntries(cases.map(([name, , expected]) => [name, expected])));
});

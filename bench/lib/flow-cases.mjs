// Happy and unhappy requests the flows section sends to each Rust function and its JavaScript
// peer before measuring (their answers must be equal): access tokens on a new (ES256) and a
// legacy (HS256) project, and process-webhook's senders and bodies. Each case is
// [flow, label, path, request].
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { jwtClaims, projectSigningKey, signJwt, webhookSignature } from './seed.mjs';

const ROWS = '/bench/rest/v1/bench_items?select=id&limit=2';
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/**
 * Token cases on tenant-proxy's GET (read-only): `es256` for a project that signs with its
 * signing key (no JWT secret in the function's settings), `hs256` for a legacy one.
 */
export function tokenCases(project, owner) {
  const key = projectSigningKey(project);
  const claims = jwtClaims(owner.token);
  const now = Math.floor(Date.now() / 1000);
  const es = (extra = {}, header = {}) => signJwt({ alg: 'ES256', typ: 'JWT', kid: key.kid, ...header }, { ...claims, ...extra }, { privateKey: key.privateKey });
  const hs = (extra = {}) => signJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, ...extra }, { secret: project.jwtSecret });
  const [head, body, signature] = owner.token.split('.');
  const signatureBytes = Buffer.from(signature, 'base64url');
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const get = (label, token) => ['tenant-proxy', label, ROWS, { headers: { authorization: `Bearer ${token}` } }];
  const es256 = [
    get('ES256 session', owner.token),
    get('ES256: expired', es({ exp: now - 3600, iat: now - 7200 })),
    get('ES256: kid not in the JWKS', es({}, { kid: 'bench-unknown-kid' })),
    get('ES256: no kid', signJwt({ alg: 'ES256', typ: 'JWT' }, claims, { privateKey: key.privateKey })),
    get('ES256: signed by another key under the project kid', signJwt({ alg: 'ES256', typ: 'JWT', kid: key.kid }, claims, { privateKey: other })),
    get('ES256: claims altered after signing', `${head}.${b64url(JSON.stringify({ ...claims, sub: randomUUID() }))}.${signature}`),
    get('ES256: signature one byte short', `${head}.${body}.${b64url(signatureBytes.subarray(0, 63))}`),
    get('ES256: r = 0', `${head}.${body}.${b64url(Buffer.concat([Buffer.alloc(32), signatureBytes.subarray(32)]))}`),
    get('ES256: padded base64', `${head}.${body}.${signature}=`),
    get('alg confusion: HS256 with the JWT secret on an ES256 project', hs()),
    get('alg confusion: HS256 keyed with the public JWK', signJwt({ alg: 'HS256', typ: 'JWT', kid: key.kid }, claims, { secret: JSON.stringify(key.jwk) })),
    get('alg none', `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${body}.`),
    get('RS256 header on the EC key', es({}, { alg: 'RS256' })),
    get('ES256: service_role claims', es({ role: 'service_role' })),
    get('ES256: another issuer', es({ iss: 'https://evil.example.com/auth/v1' })),
    get('ES256: audience anon', es({ aud: 'anon' })),
    get('ES256: audience list', es({ aud: ['x', 'authenticated'] })),
    get('ES256: not valid for an hour', es({ nbf: now + 3600 })),
    get('ES256: exp a string', es({ exp: 'soon' })),
    get('ES256: exp with a fraction', es({ exp: now + 3600.5 })),
    get('ES256: no exp', es({ exp: undefined })),
    get('ES256: sub not a UUID', es({ sub: 'abc' })),
    get('ES256: sub a braced UUID', es({ sub: `{${owner.id}}` })),
    get('ES256: header typ a number', es({}, { typ: 5 })),
    get('ES256: is_anonymous null', es({ is_anonymous: null })),
  ];
  const hs256 = [
    get('HS256 session', owner.hs256),
    get('ES256 session on a legacy project', owner.token),
    get('HS256: forged signature', `${owner.hs256.split('.').slice(0, 2).join('.')}.${b64url(Buffer.alloc(32, 7))}`),
    get('HS256: signature one byte short', `${owner.hs256.split('.').slice(0, 2).join('.')}.${b64url(Buffer.from(owner.hs256.split('.')[2], 'base64url').subarray(0, 31))}`),
    get('HS256: expired', hs({ exp: now - 3600 })),
    get('HS256: service_role claims', hs({ role: 'service_role' })),
    get('HS256: app_metadata a string', hs({ app_metadata: 'x' })),
  ];
  return { es256, hs256 };
}

/**
 * process-webhook's senders and bodies against a finished task. `prime(request)` sends a
 * request once before the comparison (a delivery id both contenders must then see as replayed).
 */
export async function webhookCases({ taskId, apiKey, secrets, body }, prime) {
  const whsec = secrets.split(/[\s,]+/)[0];
  const now = Math.floor(Date.now() / 1000);
  const keyed = { 'x-api-key': apiKey };
  const signed = (id, timestamp, payload = body) => ({ 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': webhookSignature(whsec, id, timestamp, payload) });
  const post = (label, headers, payload = body, extra = {}) => ['process-webhook', label, '', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload, ...extra }];
  const json = (fields) => JSON.stringify({ task_id: taskId, status: 'done', ...fields });
  const replayId = `bench-replay-${randomUUID()}`;
  const signedId = `bench-signed-${randomUUID()}`;
  const replay = post('Idempotency-Key seen before: replayed', { ...keyed, 'idempotency-key': replayId });
  const signedReplay = post('signed (Standard Webhooks), id seen before: replayed', signed(signedId, now));
  for (const [, , , request] of [replay, signedReplay]) await prime(request);
  const zeros = `v1,${Buffer.alloc(32).toString('base64')}`;
  return [
    post('done again (X-API-Key): unchanged', keyed),
    replay,
    signedReplay,
    post('Idempotency-Key reused for another status', { ...keyed, 'idempotency-key': replayId }, json({ status: 'error' })),
    post('signature that does not match', { ...signed('msg-bad', now), 'webhook-signature': zeros }),
    post('signature over another body', signed('msg-other', now, json({ status: 'processing' }))),
    post('timestamp 10 minutes old (replay)', signed('msg-old', now - 600)),
    post('timestamp 10 minutes ahead', signed('msg-ahead', now + 600)),
    post('timestamp not a number', { ...signed('msg-nan', now), 'webhook-timestamp': 'yesterday' }),
    post('webhook-id and timestamp, no signature', { 'webhook-id': 'msg-half', 'webhook-timestamp': String(now) }),
    post('signature without webhook-id', { 'webhook-signature': zeros, 'webhook-timestamp': String(now) }),
    post('valid X-API-Key with a bad signature', { ...keyed, ...signed('msg-mixed', now), 'webhook-signature': zeros }),
    post('no credentials', {}),
    post('wrong X-API-Key', { 'x-api-key': `${apiKey.slice(0, -1)}${apiKey.endsWith('x') ? 'y' : 'x'}` }),
    post('conflicting delivery ids', { ...keyed, 'idempotency-key': 'a-1', 'webhook-id': 'b-2' }),
    post('delivery id with a space', { ...keyed, 'idempotency-key': 'has space' }),
    post('truncated JSON', keyed, body.slice(0, -12)),
    post('trailing characters', keyed, `${body} x`),
    post('JSON on two lines with a bad value', keyed, `{\n"task_id": nope}`),
    post('empty body', keyed, ''),
    post('an array', keyed, `["${taskId}", "done"]`),
    post('a string', keyed, '"done"'),
    post('unknown status', keyed, json({ status: 'pending' })),
    post('status a number', keyed, json({ status: 1 })),
    post('misspelt field maskUrl', keyed, json({ maskUrl: 'https://masks.example.test/m.png' })),
    post('missing task_id', keyed, JSON.stringify({ status: 'done' })),
    post('task_id not a UUID', keyed, json({ task_id: '42' })),
    post('task_id with a bad character', keyed, json({ task_id: `${taskId.slice(0, -1)}g` })),
    post('task_id in braces', keyed, json({ task_id: `{${taskId}}` })),
    post('task_id null', keyed, json({ task_id: null })),
    post('duplicate status', keyed, `{"task_id":"${taskId}","status":"done","status":"done"}`),
    post('unknown task', keyed, json({ task_id: randomUUID() })),
    post('processing after done: status conflict', keyed, json({ status: 'processing' })),
    post('credits_used with processing', keyed, json({ status: 'processing', credits_used: 1 })),
    post('credits_used 2.0', keyed, `{"task_id":"${taskId}","status":"done","credits_used":2.0}`),
    post('credits_used past the maximum', keyed, json({ credits_used: 5000 })),
    post('credits_used a string', keyed, json({ credits_used: '2' })),
    post('mask_url over http', keyed, json({ mask_url: 'http://masks.example.test/m.png' })),
    post('mask_url relative', keyed, json({ mask_url: '/m.png' })),
    post('mask_url with credentials', keyed, json({ mask_url: 'https://user:pw@masks.example.test/m.png' })),
    post('mask_url with a control character', keyed, json({ mask_url: 'https://masks.example.test/\u0007.png' })),
    post('labels an object', keyed, json({ labels: { cat: 1 } })),
    post('labels nested 9 deep', keyed, json({ labels: [[[[[[[[1]]]]]]]] })),
    post('labels with a number out of range', keyed, `{"task_id":"${taskId}","status":"done","labels":[1e400]}`),
    post('metadata an array', keyed, json({ metadata: [1] })),
    post('metadata with U+0000', keyed, json({ metadata: { 'k\u0000': 1 } })),
    post('error with status done', keyed, json({ error: 'oops' })),
    post('oversized body', keyed, json({ metadata: { blob: 'x'.repeat(256 * 1024) } })),
    post('GET not allowed', keyed, body, { method: 'GET', body: undefined }),
    ['process-webhook', 'OPTIONS preflight', '', { method: 'OPTIONS' }],
    ['process-webhook', 'unknown route', '/nope', { method: 'POST', headers: keyed, body }],
  ];
}

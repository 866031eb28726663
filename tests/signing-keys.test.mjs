// Asymmetric signing keys end to end (issue 15), as Supabase projects and `supabase start` use
// them: access tokens signed ES256/RS256 with a `kid`, the public keys at
// /auth/v1/.well-known/jwks.json, /rest/v1 and the functions verifying through them, rotation
// through standby → current → previously used → revoked, the new `sb_` API keys through the
// gateway, and supabase-js unchanged. The first tests run against the test stack (ES256 by
// default; scripts/test.sh runs this file again on a --legacy-jwt stack); the rotation test runs
// a stack of its own (RS256 from a key file) with the functions configured as a new project is:
// only SUPABASE_PUBLISHABLE_KEY / SUPABASE_SECRET_KEY, no JWT secret.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import { forgeAccessToken, signJwt, signJwtWithKey, signedUpUser, signingKeys, stack, uniqueEmail } from './support/stack.mjs';
import { call, startFunctions } from './support/functions.mjs';

const legacy = !stack.signingKeysPath;
const repo = new URL('..', import.meta.url).pathname;
const binary = join(repo, 'target/debug/devstack');
const nodeAuth = { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false };

const header = (token) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
const currentKey = (project = stack) => signingKeys(project).find((k) => k.key_ops.includes('sign'));

/** GET /rest/v1/rpc/whoami (a test fixture: the role and auth.uid() the request ran as). */
async function whoami(url, headers) {
  const res = await fetch(`${url}/rest/v1/rpc/whoami`, { headers });
  return { status: res.status, body: await res.json() };
}

/** A key pair the project does not have, as a private JWK. */
function foreignKey(alg = 'ES256') {
  const { privateKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), alg, kid: randomUUID() };
}

test('supabase-js: sign-up, sign-in, refresh, getUser and getClaims work; getClaims checks an asymmetric token against the JWKS itself', async () => {
  const requests = [];
  const client = createClient(stack.url, stack.anonKey, {
    auth: nodeAuth,
    global: { fetch: (url, init) => (requests.push(String(url)), fetch(url, init)) },
  });
  const email = uniqueEmail('claims');
  const password = `pw-${randomUUID()}`;
  const signUp = await client.auth.signUp({ email, password });
  assert.equal(signUp.error, null);
  const signIn = await client.auth.signInWithPassword({ email, password });
  assert.equal(signIn.error, null);
  const refreshed = await client.auth.refreshSession();
  assert.equal(refreshed.error, null);
  const token = refreshed.data.session.access_token;
  assert.notEqual(refreshed.data.session.refresh_token, signIn.data.session.refresh_token, 'the refresh token rotated');
  if (legacy) {
    assert.equal(header(token).alg, 'HS256');
    assert.equal(header(token).kid, undefined);
  } else {
    assert.deepEqual([header(token).alg, header(token).kid], [currentKey().alg, currentKey().kid], 'signed by the current key, which it names');
  }
  const user = await client.auth.getUser();
  assert.equal(user.error, null);
  assert.equal(user.data.user.email, email);

  requests.length = 0;
  const claims = await client.auth.getClaims();
  assert.equal(claims.error, null);
  assert.equal(claims.data.claims.sub, signUp.data.user.id);
  assert.equal(claims.data.claims.role, 'authenticated');
  if (legacy) {
    assert.ok(requests.some((u) => u.endsWith('/auth/v1/user')), 'an HS256 token is checked by Auth');
  } else {
    assert.ok(requests.some((u) => u.endsWith('/auth/v1/.well-known/jwks.json')), 'the JWKS was fetched');
    assert.ok(!requests.some((u) => u.endsWith('/auth/v1/user')), 'verified in the client, no call to Auth');
  }
  const forged = forgeAccessToken({ ...claims.data.claims, exp: Math.floor(Date.now() / 1000) + 600 });
  const refused = await client.auth.getClaims(forged);
  assert.ok(refused.error, 'a forged token is refused by getClaims');
});

test('the JWKS lists the public keys only, never a private part or the JWT secret, cached 10 minutes', async () => {
  const res = await fetch(`${stack.url}/auth/v1/.well-known/jwks.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=600');
  const text = await res.text();
  const { keys } = JSON.parse(text);
  assert.ok(!text.includes(stack.jwtSecret));
  assert.ok(!text.includes(Buffer.from(stack.jwtSecret).toString('base64url')));
  if (legacy) {
    assert.deepEqual(keys, [], 'an HS256 project publishes nothing');
    return;
  }
  const file = signingKeys();
  assert.deepEqual(keys.map((k) => k.kid).sort(), file.map((k) => k.kid).sort());
  for (const key of keys) {
    for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(key[part], undefined, `no ${part} in ${key.kid}`);
    assert.deepEqual(key.key_ops, ['verify']);
    assert.equal(key.use, 'sig');
  }
  for (const { d } of file) assert.ok(!text.includes(d));
});

test('the new API keys through the gateway: sb_secret_ is service_role, sb_publishable_ is anon, a user token passes through', async () => {
  const user = await signedUpUser(undefined, 'sb-keys');
  const cases = [
    [{ apikey: stack.secretKey }, 'service_role'],
    [{ apikey: stack.secretKey, Authorization: `Bearer ${stack.publishableKey}` }, 'service_role'],
    [{ apikey: stack.publishableKey }, 'anon'],
    [{ apikey: stack.publishableKey, Authorization: `Bearer ${stack.publishableKey}` }, 'anon'],
    [{ apikey: stack.publishableKey, Authorization: `Bearer ${user.session.access_token}` }, 'authenticated'],
  ];
  for (const [headers, role] of cases) {
    const answer = await whoami(stack.url, headers);
    assert.equal(answer.status, 200, JSON.stringify(headers));
    assert.equal(answer.body.role, role, JSON.stringify(headers));
  }
  const admin = await fetch(`${stack.url}/auth/v1/admin/users?per_page=1`, { headers: { apikey: stack.secretKey } });
  assert.equal(admin.status, 200, 'apikey: sb_secret_ alone reaches the admin API');
  const notAdmin = await fetch(`${stack.url}/auth/v1/admin/users?per_page=1`, { headers: { apikey: stack.publishableKey } });
  assert.equal(notAdmin.status, 403);
});

test('a token signed by a key the project does not have is refused at /rest/v1, Auth and a function; the legacy secret still verifies', async () => {
  const user = await signedUpUser(undefined, 'forged');
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: user.user.id, role: 'authenticated', aud: 'authenticated', iss: `${stack.url}/auth/v1`, iat: now, exp: now + 600 };
  const tokens = { 'known kid, other key': forgeAccessToken(claims) };
  if (!legacy) tokens['unknown kid'] = signJwtWithKey(claims, foreignKey());
  for (const [what, token] of Object.entries(tokens)) {
    const rest = await whoami(stack.url, { apikey: stack.anonKey, Authorization: `Bearer ${token}` });
    assert.equal(rest.status, 401, what);
    assert.equal(rest.body.code, 'PGRST301', what);
    const auth = await fetch(`${stack.url}/auth/v1/user`, { headers: { apikey: stack.anonKey, Authorization: `Bearer ${token}` } });
    assert.equal(auth.status, 403, what);
    const fn = await call(`${stack.functionsUrl}/save-connection`, { headers: { apikey: stack.anonKey, Authorization: `Bearer ${token}` } });
    assert.equal(fn.status, 401, what);
    assert.equal(fn.body.code, legacy || what === 'known kid, other key' ? 'bad_signature' : 'unknown_key_id', what);
  }
  // PostgREST keeps accepting the legacy secret beside a JWKS, as the CLI configures it.
  const hs256 = signJwt(claims);
  const answer = await whoami(stack.url, { apikey: stack.anonKey, Authorization: `Bearer ${hs256}` });
  assert.deepEqual([answer.status, answer.body.sub], [200, user.user.id]);
});

// --- rotation, on a stack of its own -------------------------------------------------------

const BASE = Number(process.env.E2E_PORT_BASE ?? 24400);
const PORT = BASE + 121;
const DB_PORT = BASE + 122;
const MAIL_PORT = BASE + 123;
const FUNCTIONS_PORT = BASE + 141;
const running = [];
after(() => {
  for (const stop of running.reverse()) stop();
});

function devstack(stateDir, ...args) {
  return execFileSync(binary, ['--root', repo, '--port', String(PORT), '--db-port', String(DB_PORT), '--mail-port', String(MAIL_PORT), '--state-dir', stateDir, ...args], { encoding: 'utf8' });
}

async function startOwnStack(stateDir, keysFile) {
  const child = spawn(binary, ['--root', repo, '--port', String(PORT), '--db-port', String(DB_PORT), '--mail-port', String(MAIL_PORT), '--state-dir', stateDir, 'start',
    '--migrations', 'supabase/migrations', '--migrations', 'tests/fixtures/migrations', '--dev-vars', join(stateDir, 'dev.vars'),
    '--functions-url', `http://127.0.0.1:${FUNCTIONS_PORT}`, '--signing-keys', keysFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  running.push(() => child.kill('SIGTERM'));
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/auth/v1/health`)).ok) return { exited, output: () => output };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`devstack did not start:\n${output}`);
}

test('rotation: a standby key is published before it signs, the previous key keeps verifying, a revoked one does not — at /rest/v1, Auth and functions with only sb_ keys', { skip: legacy && 'runs once, on the default stack' }, async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'devstack-keys-'));
  chmodSync(stateDir, 0o755); // Postgres runs as its own user and must reach its data dir
  const keysFile = join(stateDir, 'signing_keys.json');
  execFileSync(binary, ['gen', 'signing-key', '--algorithm', 'RS256', '--output', keysFile]);
  const [first] = JSON.parse(readFileSync(keysFile, 'utf8'));
  assert.deepEqual([first.alg, first.kty, first.key_ops], ['RS256', 'RSA', ['sign', 'verify']]);

  await startOwnStack(stateDir, keysFile);
  const status = JSON.parse(readFileSync(join(stateDir, 'status.json'), 'utf8')).projects[0];
  const project = { url: status.API_URL, anonKey: status.ANON_KEY, signingKeysPath: status.SIGNING_KEYS_PATH };
  assert.equal(project.signingKeysPath, keysFile);
  assert.deepEqual(status.SIGNING_KEYS, [{ kid: first.kid, alg: 'RS256', state: 'current' }]);
  const devVars = readFileSync(join(stateDir, 'dev.vars'), 'utf8');
  assert.doesNotMatch(devVars, /SUPABASE_JWT_SECRET/, 'the functions verify through the JWKS');
  assert.match(devstack(stateDir, 'status'), new RegExp(`${first.kid} RS256 \\(current\\)`));

  // A standby key, added before the functions first look at the JWKS.
  const added = devstack(stateDir, 'keys', 'add', '--algorithm', 'ES256');
  const standby = JSON.parse(readFileSync(keysFile, 'utf8'))[1];
  assert.match(added, new RegExp(`${standby.kid}\\tES256\\tstandby`));
  const jwks = async () => (await (await fetch(`${project.url}/auth/v1/.well-known/jwks.json`)).json()).keys.map((k) => k.kid);
  assert.deepEqual(await jwks(), [first.kid, standby.kid], 'the standby key is published at once');

  // The functions as a new project has them: the new API keys, no legacy keys, no JWT secret.
  const sharedVars = readFileSync(process.env.DEVSTACK_DEV_VARS, 'utf8').split('\n').filter((l) => l && !l.startsWith('SUPABASE_'));
  const envFile = join(stateDir, 'functions.vars');
  writeFileSync(envFile, [...sharedVars, `SUPABASE_URL="${status.API_URL}"`, `SUPABASE_PUBLISHABLE_KEY="${status.PUBLISHABLE_KEY}"`,
    `SUPABASE_SECRET_KEY="${status.SECRET_KEY}"`].join('\n') + '\n');
  const functions = await startFunctions({ port: FUNCTIONS_PORT, inspectorPort: FUNCTIONS_PORT + 1, envFile });
  running.push(functions.stop);

  const client = createClient(project.url, status.PUBLISHABLE_KEY, { auth: nodeAuth });
  const email = uniqueEmail('rotation');
  const password = `pw-${randomUUID()}`;
  const signUp = await client.auth.signUp({ email, password });
  assert.equal(signUp.error, null);
  const userId = signUp.data.user.id;
  const signIn = async () => (await client.auth.signInWithPassword({ email, password })).data.session.access_token;
  const restAs = async (token) => (await whoami(project.url, { apikey: status.PUBLISHABLE_KEY, Authorization: `Bearer ${token}` })).status;
  const functionAs = async (token) => (await call(`${project.url}/functions/v1/save-connection`, { headers: { apikey: status.PUBLISHABLE_KEY, Authorization: `Bearer ${token}` } })).status;

  const oldToken = await signIn();
  assert.deepEqual([header(oldToken).alg, header(oldToken).kid], ['RS256', first.kid], 'an RS256 stack signs RS256');
  assert.equal(await restAs(oldToken), 200);
  assert.equal(await functionAs(oldToken), 200, 'the function verifies RS256 through the JWKS (its first fetch)');
  const claims = await client.auth.getClaims(oldToken);
  assert.equal(claims.error, null, 'supabase-js verifies RS256 too');

  // Rotate: the standby key signs; the function knew it already, so it needs no new fetch
  // (and could not refetch yet: at most one JWKS fetch per 30 s).
  assert.match(devstack(stateDir, 'keys', 'rotate'), new RegExp(`${first.kid}\\tRS256\\tpreviously used`));
  const newToken = await signIn();
  assert.deepEqual([header(newToken).alg, header(newToken).kid], ['ES256', standby.kid]);
  for (const token of [newToken, oldToken]) {
    assert.equal(await restAs(token), 200);
    assert.equal(await functionAs(token), 200);
  }
  assert.equal((await client.auth.getUser(oldToken)).error, null, 'a previously used key still verifies at Auth');

  // Revoke the first key: /rest/v1 and Auth refuse its tokens at once; the function's cached
  // JWKS keeps it until that set is refreshed (at the latest 10 minutes, the JWKS max-age).
  devstack(stateDir, 'keys', 'revoke', first.kid);
  assert.deepEqual(await jwks(), [standby.kid]);
  assert.equal(await restAs(oldToken), 401);
  assert.equal((await client.auth.getUser(oldToken)).error.code, 'bad_jwt');
  assert.equal(await restAs(newToken), 200);

  // A key made current with no standby time: the function meets an unknown kid and fetches the
  // JWKS again (once the 30 s throttle since its last fetch has passed); that fresh set no
  // longer has the revoked key.
  devstack(stateDir, 'keys', 'add');
  devstack(stateDir, 'keys', 'rotate');
  const third = currentKey(project);
  const thirdToken = await signIn();
  assert.equal(header(thirdToken).kid, third.kid);
  assert.equal(await restAs(thirdToken), 200);
  let accepted = false;
  for (let i = 0; i < 50 && !accepted; i++) {
    accepted = (await functionAs(thirdToken)) === 200;
    if (!accepted) await new Promise((r) => setTimeout(r, 1000));
  }
  assert.ok(accepted, 'the function picked the new key up by refetching the JWKS');
  assert.equal(await functionAs(oldToken), 401, 'after the refetch the revoked key is refused by the function too');
  assert.equal(await functionAs(newToken), 200, 'the previously used key still verifies');

  // A token under the current kid but signed by another key.
  const now = Math.floor(Date.now() / 1000);
  const forged = forgeAccessToken({ sub: userId, role: 'authenticated', aud: 'authenticated', iss: `${project.url}/auth/v1`, iat: now, exp: now + 600 }, project);
  assert.equal(await restAs(forged), 401);
  assert.equal(await functionAs(forged), 401);

  // The other functions' auth with only the sb_ keys: Auth and PostgREST calls with
  // sb_publishable_/sb_secret_ (guest-signup signs a guest up; create-invitation checks the
  // caller's role through the service key).
  const guest = await call(`${project.url}/functions/v1/guest-signup`, { method: 'POST', headers: { apikey: status.PUBLISHABLE_KEY, 'CF-Connecting-IP': '203.0.113.77' } });
  assert.equal(guest.status, 201, JSON.stringify(guest.body));
  assert.equal(header(guest.body.access_token).kid, third.kid);
  const invite = await call(`${project.url}/functions/v1/create-invitation`, {
    method: 'POST',
    headers: { apikey: status.PUBLISHABLE_KEY, Authorization: `Bearer ${thirdToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ profile_id: randomUUID() }),
  });
  assert.equal(invite.status, 403, JSON.stringify(invite.body));
  assert.equal(invite.body.code, 'not_admin');
  const noToken = await call(`${project.url}/functions/v1/save-connection`, { headers: { apikey: status.PUBLISHABLE_KEY } });
  assert.equal(noToken.status, 401);
});

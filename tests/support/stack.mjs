// The running local stack, as devstack describes it in <state-dir>/status.json.
// scripts/test.sh points DEVSTACK_STATUS at the test stack; by default the dev stack is used.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHmac, createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';

const statusPath = process.env.DEVSTACK_STATUS ?? new URL('../../.devstack/status.json', import.meta.url).pathname;

function loadProjects(path = statusPath) {
  let status;
  try {
    status = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${path}: start the stack first (scripts/dev.sh) or run scripts/test.sh (${e.message})`);
  }
  const byName = Object.fromEntries(status.projects.map((p) => [p.name, describe(p)]));
  return { main: describe(status.projects[0]), byName };
}

function describe(p) {
  return {
    name: p.name,
    url: p.API_URL,
    restUrl: p.REST_URL,
    functionsUrl: p.FUNCTIONS_URL,
    mailUrl: p.MAILPIT_URL,
    dbUrl: p.DB_URL,
    jwtSecret: p.JWT_SECRET,
    anonKey: p.ANON_KEY,
    serviceKey: p.SERVICE_ROLE_KEY,
    publishableKey: p.PUBLISHABLE_KEY,
    secretKey: p.SECRET_KEY,
    /** The asymmetric signing keys' file (GoTrue's format), or null for a `--legacy-jwt` stack. */
    signingKeysPath: p.SIGNING_KEYS_PATH ?? null,
  };
}

const projects = loadProjects();

/** The main project of another stack, from its status.json (a test file's own devstack). */
export function mainProjectOf(statusFile) {
  return loadProjects(statusFile).main;
}

/** The main project (where the functions' tables live). */
export const stack = projects.main;

/** An extra project started with `--tenant NAME=PORT`, standing in for a tenant's Supabase. */
export function tenantProject(name) {
  const p = projects.byName[name];
  if (!p) throw new Error(`no tenant project named ${name} in ${statusPath}`);
  return p;
}

const nodeClientOptions = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };

/** A supabase-js client with the anon key, as a browser app has. */
export function anonClient(project = stack) {
  return createClient(project.url, project.anonKey, nodeClientOptions);
}

/** A supabase-js client with the service key, as a server has. */
export function serviceClient(project = stack) {
  return createClient(project.url, project.serviceKey, nodeClientOptions);
}

/** A unique e-mail address for one test. */
export function uniqueEmail(tag = 'user') {
  return `${tag}-${randomUUID()}@example.test`;
}

/** Signs up a fresh user; returns its signed-in client, user and session. */
export async function signedUpUser(project = stack, tag = 'user') {
  const client = anonClient(project);
  const email = uniqueEmail(tag);
  const password = `pw-${randomUUID()}`;
  const { data, error } = await client.auth.signUp({ email, password });
  if (error) throw error;
  return { client, user: data.user, session: data.session, email, password };
}

/** A signed-up user given `role` by an operator (SQL), as roles are given. */
export async function userWithRole(role, tag = role) {
  const user = await signedUpUser(undefined, `inv-${tag}`);
  sql(`update public.user_profiles set role = '${role}' where id = '${user.user.id}'`);
  return user;
}

/** A people record made by an admin through /rest/v1 (the admins' insert policy). */
export async function createProfile(admin, fields = {}) {
  const { data, error } = await admin.client
    .from('profiles')
    .insert({ first_name: 'Ada', last_name: 'Lovelace', email: uniqueEmail('ada'), ...fields })
    .select()
    .single();
  assert.equal(error, null);
  return data;
}

/** An HS256 JWT signed with a secret, for tests that need a token Auth did not issue. */
export function signJwt(claims, secret = stack.jwtSecret, header = { alg: 'HS256', typ: 'JWT' }) {
  const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
  const body = `${b64(header)}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** The private JWKs of a project's key file, read now (`devstack keys` changes it). */
export function signingKeys(project = stack) {
  return JSON.parse(readFileSync(project.signingKeysPath, 'utf8'));
}

/** A JWT signed with a private JWK (ES256 or RS256), `kid` in its header as GoTrue sets it. */
export function signJwtWithKey(claims, jwk, kid = jwk.kid) {
  const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
  const body = `${b64({ alg: jwk.alg, typ: 'JWT', kid })}.${b64(claims)}`;
  const params = ['kty', 'crv', 'x', 'y', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'];
  const key = createPrivateKey({ key: Object.fromEntries(params.filter((k) => jwk[k]).map((k) => [k, jwk[k]])), format: 'jwk' });
  const options = jwk.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key;
  return `${body}.${sign('sha256', Buffer.from(body), options).toString('base64url')}`;
}

/**
 * An access token signed the way the project's Auth signs one now: with the current signing key
 * (or the JWT secret on a `--legacy-jwt` stack), for tests that need claims Auth would not issue.
 */
export function signAccessToken(claims, project = stack) {
  if (!project.signingKeysPath) return signJwt(claims, project.jwtSecret);
  return signJwtWithKey(claims, signingKeys(project).find((k) => k.key_ops.includes('sign')));
}

/**
 * A forged access token: signed by a key the project does not have, under the current key's
 * `kid` (or, on a `--legacy-jwt` stack, with a wrong HS256 secret).
 */
export function forgeAccessToken(claims, project = stack) {
  if (!project.signingKeysPath) return signJwt(claims, 'not-the-project-secret-not-the-project-secret');
  const current = signingKeys(project).find((k) => k.key_ops.includes('sign'));
  const { privateKey } = current.alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return signJwtWithKey(claims, { ...privateKey.export({ format: 'jwk' }), alg: current.alg }, current.kid);
}

/** Runs SQL as the superuser (for checks the API must not allow) and returns rows as arrays. */
export function sql(query, project = stack) {
  const out = execFileSync('psql', [project.dbUrl, '-X', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', query], {
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t'));
}

/**
 * A raw request to /rest/v1, for what supabase-js hides (status lines, headers): `json` is the
 * parsed body when it is JSON; `token`, when given, is sent as the bearer.
 */
export async function restRequest(path, { method = 'GET', headers = {}, body, key = stack.anonKey, token } = {}) {
  const res = await fetch(`${stack.restUrl}${path}`, {
    method,
    headers: {
      apikey: key,
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

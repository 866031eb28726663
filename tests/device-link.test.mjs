// Seed 001's cross-device visitors end to end: a guest on device A (guest-signup) becomes a
// full account; on device B, which has a guest of its own, the same person signs in and the app
// calls POST /functions/v1/guest-signup/link with the new session and B's guest token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { anonClient, signJwt, sql, stack, uniqueEmail } from './support/stack.mjs';
import { call } from './support/functions.mjs';
import { freshIp, functionGuest } from './support/guests.mjs';

const linkUrl = `${stack.functionsUrl}/guest-signup/link`;

/** POST /guest-signup/link as the app does: apikey, the signed-in session, B's guest token. */
function link(accessToken, body, { ip = '203.0.113.44', apikey = stack.anonKey } = {}) {
  const headers = { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip };
  if (apikey) headers.apikey = apikey;
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  return call(linkUrl, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** A guest on device A that became a full account; returns its e-mail, password and visitor. */
async function upgradedGuest() {
  const a = await functionGuest();
  const email = uniqueEmail('device-a');
  const password = `pw-${randomUUID()}`;
  assert.equal((await a.client.auth.updateUser({ email, password })).error, null);
  return { ...a, email, password };
}

/** Device B: its guest, then a sign-in there; returns B's guest token and the new session. */
async function signInOnNewDevice(account) {
  const b = await functionGuest();
  const device = anonClient();
  const { data, error } = await device.auth.signInWithPassword({ email: account.email, password: account.password });
  assert.equal(error, null);
  return { guest: b, session: data.session };
}

test('signing in on device B links B\'s visitor to the account and merges it with device A\'s', async () => {
  const a = await upgradedGuest();
  const { guest: b, session } = await signInOnNewDevice(a);

  const linked = await link(session.access_token, { guest_access_token: b.access_token });
  assert.equal(linked.status, 200, JSON.stringify(linked.body));
  assert.equal(linked.body.visitor_id, b.visitor_id);
  assert.equal(linked.body.user_id, a.user_id);
  assert.equal(linked.body.linked_by, 'sign_in');
  assert.equal(linked.body.already_linked, false);
  assert.deepEqual(linked.body.linked_visitor_ids, [a.visitor_id]);

  const [[linkedBy, userId, others, notes]] = sql(`select linked_by, user_id, linked_visitor_ids::text, merge_notes
                                                   from public.visitor where visitor_id = '${b.visitor_id}'`);
  assert.deepEqual([linkedBy, userId, JSON.parse(others)], ['sign_in', a.user_id, [a.visitor_id]]);
  assert.match(notes, /at sign-in/);
  const [[ids, ip]] = sql(`select linked_visitor_ids::text, host(last_ip) from public.user_profiles where id = '${a.user_id}'`);
  assert.deepEqual(JSON.parse(ids).sort(), [a.visitor_id, b.visitor_id].sort());
  assert.equal(ip, '203.0.113.44', 'last_ip is the address the sign-in came from');

  const again = await link(session.access_token, { guest_access_token: b.access_token });
  assert.equal(again.status, 200);
  assert.equal(again.body.already_linked, true);
});

test('refusals: no key, no session, a guest session, bad bodies, a token that is not a guest\'s, another account\'s device', async () => {
  const a = await upgradedGuest();
  const { guest: b, session } = await signInOnNewDevice(a);
  const before = sql(`select linked_to_user from public.visitor where visitor_id = '${b.visitor_id}'`);

  const cases = [
    [await link(session.access_token, { guest_access_token: b.access_token }, { apikey: null }), 401, 'missing_api_key'],
    [await link(null, { guest_access_token: b.access_token }), 401, 'missing_authorization'],
    [await link(b.access_token, { guest_access_token: b.access_token }), 403, 'guest_not_allowed'],
    [await link(session.access_token, {}), 400, 'invalid_body'],
    [await link(session.access_token, { guest_access_token: b.access_token, visitor_id: b.visitor_id }), 400, 'invalid_body'],
    [await link(session.access_token, 'not json'), 400, 'invalid_json'],
    [await link(session.access_token, { guest_access_token: session.access_token }), 400, 'invalid_guest_token'],
    [await link(session.access_token, { guest_access_token: 'x.y.z' }), 400, 'invalid_guest_token'],
    [await link(session.access_token, { guest_access_token: signJwt({ sub: b.user_id, role: 'authenticated', is_anonymous: true, exp: 1 }) }), 400, 'invalid_guest_token'],
    [await link(session.access_token, { guest_access_token: signJwt({ sub: b.user_id, is_anonymous: true, exp: 4102444800 }, 'not-the-secret') }), 400, 'invalid_guest_token'],
  ];
  for (const [answer, status, code] of cases) {
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.code, code, JSON.stringify(answer.body));
  }
  assert.deepEqual(sql(`select linked_to_user from public.visitor where visitor_id = '${b.visitor_id}'`), before, 'nothing was linked');

  // B's visitor, once linked to A, stays A's.
  assert.equal((await link(session.access_token, { guest_access_token: b.access_token })).status, 200);
  const other = await upgradedGuest();
  const otherSession = (await anonClient().auth.signInWithPassword({ email: other.email, password: other.password })).data.session;
  const stolen = await link(otherSession.access_token, { guest_access_token: b.access_token }, { ip: freshIp() });
  assert.equal(stolen.status, 409);
  assert.equal(stolen.body.code, 'visitor_linked_elsewhere');
});

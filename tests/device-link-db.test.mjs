// Seed 001's cross-device visitors in the database (20261201150200_sign_in_device_link.sql):
// link_signed_in_device links the visitor of the guest a device held to the account that signs
// in there (linked_by 'sign_in'), merges it with the account's other visitors
// (linked_visitor_ids both ways, merge_notes) and stamps last_login_at / last_ip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { anonClient, serviceClient, sql, uniqueEmail } from './support/stack.mjs';

const service = serviceClient();

/** A guest with its visitor recorded, as guest-signup makes one. */
async function guestWithVisitor(deviceType) {
  const client = anonClient();
  const { data, error } = await client.auth.signInAnonymously();
  assert.equal(error, null);
  const recorded = await service.rpc('record_guest_visitor', { p_user_id: data.user.id, p_visitor: { device_type: deviceType } });
  assert.equal(recorded.error, null);
  return { client, user: data.user, visitorId: recorded.data.visitor_id };
}

const link = (userId, guestId, ip = '198.51.100.23') =>
  service.rpc('link_signed_in_device', { p_user_id: userId, p_guest_user_id: guestId, p_ip: ip });

test('a guest on device A upgrades; signing in on device B links B\'s visitor and merges the two', async () => {
  // Device A: a guest who becomes a full account (its visitor is linked by the upgrade).
  const a = await guestWithVisitor('mobile');
  const email = uniqueEmail('link-db');
  const password = `pw-${randomUUID()}`;
  assert.equal((await a.client.auth.updateUser({ email, password })).error, null);
  sql(`update public.user_profiles set last_login_at = now() - interval '3 days' where id = '${a.user.id}'`);

  // Device B: its own guest, then the same person signs in there.
  const b = await guestWithVisitor('desktop');
  const linked = await link(a.user.id, b.user.id);
  assert.equal(linked.error, null);
  assert.equal(linked.data.visitor_id, b.visitorId);
  assert.equal(linked.data.user_id, a.user.id);
  assert.equal(linked.data.linked_by, 'sign_in');
  assert.equal(linked.data.already_linked, false);
  assert.deepEqual(linked.data.linked_visitor_ids, [a.visitorId]);

  const [[deviceB]] = sql(`select to_jsonb(v)::text from public.visitor v where visitor_id = '${b.visitorId}'`);
  const visitorB = JSON.parse(deviceB);
  assert.equal(visitorB.user_id, a.user.id);
  assert.equal(visitorB.linked_to_user, true);
  assert.equal(visitorB.auth_user_id, b.user.id, 'it still says which guest it came from');
  assert.deepEqual(visitorB.linked_visitor_ids, [a.visitorId]);
  assert.match(visitorB.merge_notes, new RegExp(`Linked to account ${a.user.id} at sign-in`));
  assert.match(visitorB.merge_notes, new RegExp(a.visitorId));
  assert.deepEqual(sql(`select linked_visitor_ids::text from public.visitor where visitor_id = '${a.visitorId}'`), [[JSON.stringify([b.visitorId])]]);

  const [[ids, ip, loginAgeSecs]] = sql(`select linked_visitor_ids::text, host(last_ip), extract(epoch from now() - last_login_at)::int
                                        from public.user_profiles where id = '${a.user.id}'`);
  assert.deepEqual(JSON.parse(ids).sort(), [a.visitorId, b.visitorId].sort());
  assert.equal(ip, '198.51.100.23');
  assert.ok(Number(loginAgeSecs) < 60, 'last_login_at is this sign-in');

  // The account reads both of its devices through RLS.
  const { data: session } = await anonClient().auth.signInWithPassword({ email, password });
  const own = anonClient();
  await own.auth.setSession(session.session);
  const seen = await own.from('visitor').select('visitor_id, linked_by').order('linked_by');
  assert.deepEqual(seen.data, [
    { visitor_id: b.visitorId, linked_by: 'sign_in' },
    { visitor_id: a.visitorId, linked_by: 'upgrade' },
  ]);

  // Again (a second sign-in on B): no change, the notes stay, the login is stamped again.
  const again = await link(a.user.id, b.user.id, null);
  assert.equal(again.error, null);
  assert.equal(again.data.already_linked, true);
  assert.deepEqual(sql(`select merge_notes = '${visitorB.merge_notes.replaceAll("'", "''")}' from public.visitor where visitor_id = '${b.visitorId}'`), [['t']]);
  assert.deepEqual(sql(`select host(last_ip) from public.user_profiles where id = '${a.user.id}'`), [['198.51.100.23']], 'a null ip keeps the last one');
});

test('refusals: a guest account, a guest without visitor, a visitor of another account, itself; only the service role', async () => {
  const owner = await guestWithVisitor('mobile');
  assert.equal((await owner.client.auth.updateUser({ email: uniqueEmail('link-db-o'), password: `pw-${randomUUID()}` })).error, null);
  const device = await guestWithVisitor('desktop');

  const asGuest = await link((await guestWithVisitor('tablet')).user.id, device.user.id);
  assert.equal(asGuest.status, 409);
  assert.equal(asGuest.error.hint, 'account_is_guest');

  const bare = anonClient();
  const { data: bareGuest } = await bare.auth.signInAnonymously();
  const noVisitor = await link(owner.user.id, bareGuest.user.id);
  assert.equal(noVisitor.status, 404);
  assert.equal(noVisitor.error.hint, 'visitor_not_found');

  const self = await link(owner.user.id, owner.user.id);
  assert.equal(self.status, 400);
  assert.equal(self.error.code, '22023');

  assert.equal((await link(owner.user.id, device.user.id)).error, null);
  const other = await guestWithVisitor('mobile');
  assert.equal((await other.client.auth.updateUser({ email: uniqueEmail('link-db-x'), password: `pw-${randomUUID()}` })).error, null);
  const stolen = await link(other.user.id, device.user.id);
  assert.equal(stolen.status, 409);
  assert.equal(stolen.error.hint, 'visitor_linked_elsewhere');
  assert.deepEqual(sql(`select user_id from public.visitor where visitor_id = '${device.visitorId}'`), [[owner.user.id]]);

  const userCall = await owner.client.rpc('link_signed_in_device', { p_user_id: owner.user.id, p_guest_user_id: device.user.id });
  assert.equal(userCall.status, 403);
  assert.equal((await anonClient().rpc('link_signed_in_device', { p_user_id: owner.user.id, p_guest_user_id: device.user.id })).status, 401);
});

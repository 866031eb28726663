// Load: create-invitation and accept-invitation at sustained open-loop rates.
// create-invitation: an admin invites N fresh profiles, then re-invites each of a tenth of them
// (409 invitation_exists, nothing written); the database must hold exactly one pending
// invitation per 201. accept-invitation: N invitations made beforehand, each previewed (GET) and
// accepted (POST) once on the schedule; the database must hold exactly one account per 201,
// linked, with its invitation accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { signedUpUser, sql } from '../support/stack.mjs';
import { assertNoServerErrors, testTimeout, functionUrl, loadShape, openLoop, pool, report, runId, send, summarize } from './support/load.mjs';

const createShape = loadShape('create-invitation');
const acceptShape = loadShape('accept-invitation', { rate: 10 });

async function admin() {
  const user = await signedUpUser(undefined, 'load-admin');
  sql(`update public.user_profiles set role = 'admin' where id = '${user.user.id}'`);
  return user;
}

/** N unlinked profiles tagged with the run (last_name), with unique addresses. */
function profiles(run, n, createdBy) {
  return sql(`with made as (insert into public.profiles (first_name, last_name, email, created_by)
    select 'Load ' || g, '${run}', '${run}-' || g || '@example.test', '${createdBy}' from generate_series(1, ${n}) g returning id, email) select id, email from made`).map(([id, email]) => ({ id, email }));
}

const inviteRequest = (inviter, profileId) => ({
  url: functionUrl('create-invitation'),
  method: 'POST',
  headers: { 'content-type': 'application/json', Authorization: `Bearer ${inviter.session.access_token}` },
  body: JSON.stringify({ profile_id: profileId }),
});

test('create-invitation under sustained load: no 5xx, one pending invitation per 201, repeats refused', { timeout: testTimeout(createShape.seconds) }, async () => {
  const { rate, seconds } = createShape;
  const run = runId();
  const total = Math.round(rate * seconds);
  const inviters = await pool([0, 1, 2], 3, admin);
  const isRepeat = (i) => i % 10 === 9;
  const fresh = Array.from({ length: total }, (_, i) => i).filter((i) => !isRepeat(i));
  const people = profiles(run, fresh.length, inviters[0].user.id);
  const profileOf = new Map(fresh.map((i, k) => [i, people[k].id]));
  const result = await openLoop({
    rate,
    seconds,
    // A repeat invites the profile of request i - 5 again (invited ~5 intervals earlier).
    request: (i) => inviteRequest(inviters[i % inviters.length], profileOf.get(isRepeat(i) ? i - 5 : i)),
  });
  report(summarize('create-invitation', result));
  assertNoServerErrors(result, assert);
  const firsts = result.results.filter((r) => !isRepeat(r.i));
  const repeats = result.results.filter((r) => isRepeat(r.i));
  assert.deepEqual([...new Set(firsts.map((r) => r.status))], [201], 'every first invitation answered 201');
  for (const r of repeats) {
    assert.equal(r.status, 409, JSON.stringify(r.json));
    assert.equal(r.json.code, 'invitation_exists');
    assert.equal(r.json.invitation.id, result.results[r.i - 5].json.id, 'the 409 carries the active invitation');
  }
  const [[count, pending, distinctProfiles]] = sql(`
    select count(*), count(*) filter (where i.status = 'pending'), count(distinct i.profile_id)
      from public.profile_invitations i join public.profiles p on p.id = i.profile_id where p.last_name = '${run}'`);
  assert.equal(Number(count), firsts.length, 'one invitation per 201, none for a refused repeat');
  assert.equal(Number(pending), firsts.length);
  assert.equal(Number(distinctProfiles), firsts.length);
  const ids = sql(`select i.id from public.profile_invitations i join public.profiles p on p.id = i.profile_id where p.last_name = '${run}'`).map(([id]) => id);
  assert.deepEqual(new Set(ids), new Set(firsts.map((r) => r.json.id)), 'the rows are the invitations answered');
});

test('accept-invitation under sustained load: no 5xx, one linked account per 201, each link used once', { timeout: testTimeout(acceptShape.seconds) }, async () => {
  const { rate, seconds } = acceptShape;
  const run = runId();
  const total = Math.round(rate * seconds);
  // Requests alternate preview (GET) and accept (POST) of the same invitation.
  const invitations = Math.ceil(total / 2);
  const inviter = await admin();
  const people = profiles(run, invitations, inviter.user.id);
  const created = await pool(people, 6, async (p) => {
    const answer = await send(inviteRequest(inviter, p.id));
    assert.equal(answer.status, 201, answer.text);
    return answer.json;
  });
  const passwords = created.map(() => `pw-${randomUUID()}`);
  const acceptUrl = functionUrl('accept-invitation');
  const result = await openLoop({
    rate,
    seconds,
    request: (i) => {
      const k = Math.floor(i / 2);
      if (i % 2 === 0) return { url: `${acceptUrl}?token=${encodeURIComponent(created[k].token)}` };
      return {
        url: acceptUrl,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: created[k].token, password: passwords[k] }),
      };
    },
  });
  report(summarize('accept-invitation', result));
  assertNoServerErrors(result, assert);
  const previews = result.results.filter((r) => r.i % 2 === 0);
  const accepts = result.results.filter((r) => r.i % 2 === 1);
  // A preview may run after its accept has committed (open loop: they overlap) → 410.
  for (const r of previews) assert.ok(r.status === 200 || (r.status === 410 && r.json.code === 'invitation_used'), JSON.stringify(r.json));
  assert.deepEqual([...new Set(accepts.map((r) => r.status))], [201], 'every accept answered 201');

  const [[accounts, linked, accepted]] = sql(`
    select (select count(*) from auth.users u join public.profiles p on lower(p.email) = lower(u.email) where p.last_name = '${run}'),
           (select count(*) from public.profiles p join public.user_profiles up on up.id = p.user_id where p.last_name = '${run}' and up.role = 'user'),
           (select count(*) from public.profile_invitations i join public.profiles p on p.id = i.profile_id
             where p.last_name = '${run}' and i.status = 'accepted' and i.accepted_by = p.user_id)`);
  assert.equal(Number(accounts), accepts.length, 'one account per 201');
  assert.equal(Number(linked), accepts.length, 'each linked to its profile with role user');
  assert.equal(Number(accepted), accepts.length, 'each invitation accepted by that account');
  const users = new Set(accepts.map((r) => r.json.user_id));
  assert.equal(users.size, accepts.length);
});

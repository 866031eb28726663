// Load: save-connection at a sustained open-loop rate. The first half of the schedule creates
// connections (201), the second half re-saves each of them once with new values (200); the
// database must then hold exactly those rows, each with the values of its update.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signedUpUser, sql, tenantProject } from '../support/stack.mjs';
import { assertNoServerErrors, testTimeout, functionUrl, loadShape, openLoop, pool, report, runId, summarize } from './support/load.mjs';

const tenant = tenantProject('tenant');

const { rate, seconds } = loadShape('save-connection');

test('save-connection under sustained load: no 5xx, every create and update lands exactly once', { timeout: testTimeout(seconds) }, async () => {
  const run = runId();
  const users = await pool(Array.from({ length: 8 }, (_, i) => i), 4, () => signedUpUser(undefined, `load-conn`));
  const total = Math.round(rate * seconds);
  const half = Math.floor(total / 2);
  // Request i < half creates connection i of user i % users; request half + j updates connection j.
  const plan = (i) => {
    const j = i < half ? i : i - half;
    return { j, user: users[j % users.length], create: i < half };
  };
  const result = await openLoop({
    rate,
    seconds,
    request: (i) => {
      const { j, user, create } = plan(i);
      // An odd count leaves one request over: a list, which writes nothing.
      if (!create && j >= half) return { url: functionUrl('save-connection'), method: 'GET', headers: { Authorization: `Bearer ${user.session.access_token}` } };
      return {
        url: functionUrl('save-connection'),
        method: 'POST',
        headers: { 'content-type': 'application/json', Authorization: `Bearer ${user.session.access_token}` },
        body: JSON.stringify({
          name: `${run}-${j}`,
          url: tenant.url,
          anon_key: tenant.anonKey,
          service_role_key: tenant.serviceKey,
          allow_writes: !create,
        }),
      };
    },
  });
  report(summarize('save-connection', result));
  assertNoServerErrors(result, assert);

  const creates = result.results.filter((r) => plan(r.i).create);
  const updates = result.results.filter((r) => !plan(r.i).create && plan(r.i).j < half);
  assert.deepEqual([...new Set(creates.map((r) => r.status))], [201], 'every create answered 201');
  assert.deepEqual([...new Set(updates.map((r) => r.status))], [200], 'every update answered 200');
  for (const r of updates) assert.equal(r.json.allow_writes, true);
  // Each update names the row its create made.
  const createdIds = new Map(creates.map((r) => [plan(r.i).j, r.json.id]));
  for (const r of updates) assert.equal(r.json.id, createdIds.get(plan(r.i).j));

  const owners = users.map((u) => `'${u.user.id}'`).join(',');
  const [[rows, names, writable, updated, sealed]] = sql(`
    select count(*), count(distinct name), count(*) filter (where allow_writes),
           count(*) filter (where updated_at > created_at),
           count(*) filter (where service_role_key_encrypted like 'enc:v1:%' and anon_key_encrypted like 'enc:v1:%')
      from public.connections where user_id in (${owners}) and name like '${run}-%'`);
  assert.equal(Number(rows), creates.length, 'one row per accepted create');
  assert.equal(Number(names), creates.length);
  assert.equal(Number(writable), updates.length, 'every accepted update is in its row');
  assert.equal(Number(updated), updates.length);
  assert.equal(Number(sealed), creates.length, 'both keys sealed in every row');
});

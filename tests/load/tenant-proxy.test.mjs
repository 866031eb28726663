// Load: tenant-proxy at a sustained open-loop rate, relaying to the `tenant` project. Three of
// every four requests read (a filtered, counted select whose answer is known), the fourth
// inserts an order through a connection with allow_writes; the tenant's database must then hold
// exactly the inserted orders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signedUpUser, sql, stack, tenantProject } from '../support/stack.mjs';
import { invoke } from '../support/functions.mjs';
import { assertNoServerErrors, testTimeout, functionUrl, loadShape, openLoop, pool, report, runId, summarize } from './support/load.mjs';

const tenant = tenantProject('tenant');

const { rate, seconds } = loadShape('tenant-proxy');

test('tenant-proxy under sustained load: no 5xx, reads answer right, every accepted insert is in the tenant', { timeout: testTimeout(seconds) }, async () => {
  const run = runId();
  const users = await pool(Array.from({ length: 4 }, (_, i) => i), 4, async (i) => {
    const user = await signedUpUser(undefined, 'load-proxy');
    const saved = await invoke(user.client, 'save-connection', {
      body: { name: `${run}-${i}`, url: tenant.url, anon_key: tenant.anonKey, service_role_key: tenant.serviceKey, allow_writes: true },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    return { ...user, connection: `${run}-${i}` };
  });
  const isWrite = (i) => i % 4 === 3;
  const result = await openLoop({
    rate,
    seconds,
    request: (i) => {
      const user = users[i % users.length];
      const base = `${functionUrl('tenant-proxy')}/${user.connection}/rest/v1/orders`;
      const headers = { apikey: stack.anonKey, Authorization: `Bearer ${user.session.access_token}` };
      if (isWrite(i)) {
        return {
          url: `${base}?select=id,customer`,
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', prefer: 'return=representation' },
          body: JSON.stringify({ customer: `${run}-${i}`, status: 'new', total_cents: i }),
        };
      }
      return {
        url: `${base}?select=customer,total_cents&status=eq.paid&order=total_cents.desc`,
        headers: { ...headers, prefer: 'count=exact' },
      };
    },
  });
  report(summarize('tenant-proxy', result));
  assertNoServerErrors(result, assert);

  const writes = result.results.filter((r) => isWrite(r.i));
  const reads = result.results.filter((r) => !isWrite(r.i));
  assert.deepEqual([...new Set(reads.map((r) => r.status))], [200], 'every read answered 200');
  for (const r of reads) {
    assert.deepEqual(r.json, [{ customer: 'margaret', total_cents: 15000 }, { customer: 'ada', total_cents: 1250 }]);
    assert.equal(r.headers.get('content-range'), '0-1/2');
  }
  assert.deepEqual([...new Set(writes.map((r) => r.status))], [201], 'every insert answered 201');

  const [[count, sum, distinct]] = sql(
    `select count(*), coalesce(sum(total_cents), 0), count(distinct customer) from public.orders where customer like '${run}-%'`,
    tenant,
  );
  assert.equal(Number(count), writes.length, 'the tenant holds one order per accepted insert');
  assert.equal(Number(distinct), writes.length);
  assert.equal(Number(sum), writes.reduce((s, r) => s + r.i, 0));
  const ids = new Set(writes.map((r) => r.json[0].id));
  assert.equal(ids.size, writes.length, 'each insert answered its own row');
});

// Load: guest-signup at a sustained open-loop rate. Most requests come from a new address each;
// one in four from one of three "hot" addresses, which the per-IP limit (GUEST_SIGNUP_RATE_LIMIT,
// scripts/load.sh sets 5/3600) must cut off after exactly that many sign-ups each. The
// database must then hold one anonymous account and one visitor per 201, and nothing for a 429.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql, stack } from '../support/stack.mjs';
import { assertNoServerErrors, testTimeout, devVars, functionUrl, loadShape, openLoop, percentile, report, runId, summarize } from './support/load.mjs';

const [limit, windowSeconds] = (devVars().GUEST_SIGNUP_RATE_LIMIT ?? '10/3600').split('/').map(Number);
const freshIp = () => `2001:db8:${[0, 2, 4].map((i) => randomBytes(6).readUInt16BE(i).toString(16)).join(':')}::9`;

const { rate, seconds } = loadShape('guest-signup');

test('guest-signup under sustained load: no 5xx, one guest and visitor per 201, the per-IP limit exact', { timeout: testTimeout(seconds) }, async () => {
  assert.ok(seconds < windowSeconds / limit, 'the run is shorter than one token refill, so the limit is exact');
  const run = runId();
  const hot = [freshIp(), freshIp(), freshIp()];
  const ipOf = (i) => (i % 4 === 3 ? hot[Math.floor(i / 4) % hot.length] : freshIp());
  const result = await openLoop({
    rate,
    seconds,
    request: (i) => ({
      url: functionUrl('guest-signup'),
      method: 'POST',
      headers: {
        apikey: stack.anonKey,
        Authorization: `Bearer ${stack.anonKey}`,
        'content-type': 'application/json',
        'cf-connecting-ip': ipOf(i),
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
      },
      body: JSON.stringify({ utm_campaign: run, utm_content: String(i), landing_url: 'https://app.example.test/' }),
    }),
  });
  const summary = summarize('guest-signup', result);
  // Latency apart for the hot addresses (their sign-ups contend for one rate-limit bucket row).
  const p99 = (rs) => Math.round(percentile(rs.map((r) => r.ms).sort((a, b) => a - b), 99));
  summary.p99_ms_new_addresses = p99(result.results.filter((r) => r.i % 4 !== 3));
  summary.p99_ms_hot_addresses = p99(result.results.filter((r) => r.i % 4 === 3));
  report(summary);
  assertNoServerErrors(result, assert);
  const fromHot = result.results.filter((r) => r.i % 4 === 3);
  const others = result.results.filter((r) => r.i % 4 !== 3);
  assert.deepEqual([...new Set(others.map((r) => r.status))], [201], 'every sign-up from a new address answered 201');
  for (const ip of hot) {
    const mine = fromHot.filter((r) => ipOf(r.i) === ip);
    const ok = mine.filter((r) => r.status === 201).length;
    assert.equal(ok, Math.min(limit, mine.length), `exactly ${limit} sign-ups from one address`);
    for (const r of mine.filter((r) => r.status !== 201)) {
      assert.equal(r.status, 429);
      assert.equal(r.json.code, 'rate_limited');
      assert.ok(Number(r.headers.get('retry-after')) > 0);
    }
  }
  const accepted = result.results.filter((r) => r.status === 201);
  const [[visitors, guests, distinctUsers]] = sql(`
    select count(*), count(*) filter (where u.is_anonymous), count(distinct v.auth_user_id)
      from public.visitor v left join auth.users u on u.id = v.auth_user_id where v.utm_campaign = '${run}'`);
  assert.equal(Number(visitors), accepted.length, 'one visitor per 201');
  assert.equal(Number(guests), accepted.length, 'each with its own anonymous account');
  assert.equal(Number(distinctUsers), accepted.length);
  const ids = sql(`select visitor_id from public.visitor where utm_campaign = '${run}'`).map(([id]) => id);
  assert.deepEqual(new Set(ids), new Set(accepted.map((r) => r.json.visitor_id)));
});

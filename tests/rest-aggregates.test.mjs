// /rest/v1 aggregates in `select` (`count()`, `col.sum()`, `avg`, `max`, `min`), as PostgREST
// v12 serves them with `db-aggregates-enabled` (Plan.hs, QueryBuilder.hs, SqlFragment.groupF;
// test/spec/Feature/Query/AggregateFunctionsSpec.hs): grouped by the other selected columns,
// casts before and after, aliases, inside embeds, hoisted out of spread embeds. The shared test
// stack keeps them off, as PostgREST and Supabase do by default (400 PGRST123); this file starts a
// stack of its own with `--db-aggregates-enabled`.
// Fixtures: the agg_* tables of tests/fixtures/migrations/20261207960000_rest_spread_aggregate_fixtures.sql.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownStackForFile } from './support/own-stack.mjs';
import { anonClient, restRequest as sharedRest } from './support/stack.mjs';

const BASE = Number(process.env.E2E_PORT_BASE ?? 24400);
const own = ownStackForFile({
  port: BASE + 171,
  args: ['--db-aggregates-enabled', '--migrations', 'supabase/migrations', '--migrations', 'tests/fixtures/migrations'],
});

/** A raw GET to the own stack's /rest/v1 as anon. */
async function rest(path) {
  const res = await fetch(`${own.project.restUrl}${path}`, { headers: { apikey: own.project.anonKey } });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

test('count() counts the rows; an alias and a cast of the result apply', async () => {
  const all = await own.client().from('agg_invoices').select('count()');
  assert.equal(all.error, null);
  assert.deepEqual(all.data, [{ count: 5 }]);
  const named = await rest('/agg_invoices?select=n:count()::text');
  assert.equal(named.status, 200);
  assert.deepEqual(named.json, [{ n: '5' }]);
  // Filters narrow what is counted.
  const paid = await own.client().from('agg_invoices').select('count()').eq('status', 'paid');
  assert.deepEqual(paid.data, [{ count: 3 }]);
});

test('sum, avg, max, min and count of a column, named after the function', async () => {
  const res = await own.client().from('agg_invoices').select('total.sum(), total.avg(), total.max(), total.min(), total.count()');
  assert.equal(res.error, null);
  assert.deepEqual(res.data, [{ sum: 2700, avg: 540, max: 1200, min: 100, count: 5 }]);
});

test('the other selected columns group the aggregates; aliases and casts on both', async () => {
  const byStatus = await own.client().from('agg_invoices').select('status, count(), total.sum()').order('status');
  assert.deepEqual(byStatus.data, [
    { status: 'open', count: 2, sum: 1400 },
    { status: 'paid', count: 3, sum: 1300 },
  ]);
  const aliased = await rest('/agg_invoices?select=state:status,charged:total.sum()::text&order=status.desc');
  assert.deepEqual(aliased.json, [
    { state: 'paid', charged: '1300' },
    { state: 'open', charged: '1400' },
  ]);
  const byProject = await rest('/agg_invoices?select=total.sum(),total.max(),total.min(),project_id&order=project_id.desc');
  assert.deepEqual(byProject.json, [
    { sum: 1200, max: 1200, min: 1200, project_id: 3 },
    { sum: 1200, max: 700, min: 500, project_id: 2 },
    { sum: 300, max: 200, min: 100, project_id: 1 },
  ]);
});

test('the argument can be cast first: a JSON text value summed as an integer', async () => {
  const res = await own.client().from('agg_invoices').select('hours:details->>hours::int.sum()::text');
  assert.equal(res.error, null);
  assert.deepEqual(res.data, [{ hours: '15' }]);
  const unaliased = await rest(`/agg_invoices?select=${encodeURIComponent('details->>hours::int.sum()')}`);
  assert.deepEqual(unaliased.json, [{ sum: 15 }]);
});

test('aggregates inside an embed aggregate the embedded rows of each parent', async () => {
  const res = await own.client().from('agg_projects').select('name, agg_invoices(total.sum(), count())').order('id');
  assert.equal(res.error, null);
  assert.deepEqual(res.data, [
    { name: 'alpha', agg_invoices: [{ sum: 300, count: 2 }] },
    { name: 'beta', agg_invoices: [{ sum: 1200, count: 2 }] },
    { name: 'gamma', agg_invoices: [{ sum: 1200, count: 1 }] },
    { name: 'orphan', agg_invoices: [{ sum: null, count: 0 }] },
  ]);
  // An embedded object beside aggregates is one of the grouping terms.
  const grouped = await rest('/agg_invoices?select=project_id,total:total.sum(),agg_projects(name)&order=project_id');
  assert.equal(grouped.status, 200);
  assert.deepEqual(grouped.json, [
    { project_id: 1, total: 300, agg_projects: { name: 'alpha' } },
    { project_id: 2, total: 1200, agg_projects: { name: 'beta' } },
    { project_id: 3, total: 1200, agg_projects: { name: 'gamma' } },
  ]);
});

test('an aggregate in a spread embed is applied over the parent\'s rows, grouped by the rest', async () => {
  const res = await rest('/agg_invoices?select=status,...agg_projects(projects:id.count())&order=status');
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, [
    { status: 'open', projects: 2 },
    { status: 'paid', projects: 3 },
  ]);
  const byClient = await own.client().from('agg_projects').select('client_id, ...agg_clients(client:name), count()').order('client_id');
  assert.deepEqual(byClient.data, [
    { client_id: 1, client: 'acme', count: 2 },
    { client_id: 2, client: 'globex', count: 1 },
    { client_id: null, client: null, count: 1 },
  ]);
});

test('unhappy paths: an unknown column, sum of text, an unknown function', async () => {
  const unknown = await own.client().from('agg_invoices').select('nope.sum()');
  assert.equal(unknown.status, 400);
  assert.equal(unknown.error.code, '42703');
  assert.equal(unknown.error.message, 'column agg_invoices.nope does not exist');
  // Postgres has no sum(text): PostgREST passes on its 42883, which it answers 404.
  const text = await rest('/agg_invoices?select=status.sum()');
  assert.equal(text.status, 404);
  assert.equal(text.json.code, '42883');
  assert.equal(text.json.message, 'function sum(text) does not exist');
  const median = await rest('/agg_invoices?select=total.median()');
  assert.equal(median.status, 400);
  assert.equal(median.json.code, 'PGRST100');
  // `count` names no relation, and `count(col)` is not PostgREST's syntax.
  const counted = await rest('/agg_invoices?select=count(id)');
  assert.equal(counted.status, 400);
  assert.equal(counted.json.code, 'PGRST100');
  // A bad cast of the result is Postgres's error, the cast reaching SQL only as a type name.
  const cast = await rest('/agg_invoices?select=total.sum()::nosuchtype');
  assert.equal(cast.status, 400);
  assert.equal(cast.json.code, '42704');
  const injected = await rest(`/agg_invoices?select=${encodeURIComponent('total.sum()::text);drop table agg_invoices;--')}`);
  assert.equal(injected.status, 400);
  assert.equal(injected.json.code, 'PGRST100');
  const still = await rest('/agg_invoices?select=count()');
  assert.deepEqual(still.json, [{ count: 5 }]);
});

test('aggregates off (the shared stack, PostgREST\'s default): 400 PGRST123 at any depth', async () => {
  const shared = anonClient();
  const top = await shared.from('agg_invoices').select('total.sum()');
  assert.equal(top.status, 400);
  assert.deepEqual(top.error, { code: 'PGRST123', details: null, hint: null, message: 'Use of aggregate functions is not allowed' });
  for (const select of ['count()', 'status,count()', 'name,agg_invoices(total.max())', 'status,...agg_projects(id.count())']) {
    const table = select.startsWith('name') ? 'agg_projects' : 'agg_invoices';
    const res = await sharedRest(`/${table}?select=${select}`);
    assert.equal(res.status, 400, select);
    assert.equal(res.json.code, 'PGRST123', select);
  }
  // The columns themselves still read.
  const plain = await shared.from('agg_invoices').select('status').eq('id', 1);
  assert.deepEqual(plain.data, [{ status: 'paid' }]);
  // `count` without parentheses is no aggregate to PostgREST but a column, which Postgres reads
  // as `count(t)` (attribute notation): PostgREST's backwards-compatible count, on either way.
  const legacy = await sharedRest('/agg_projects?select=name,agg_invoices(count)&order=id');
  assert.equal(legacy.status, 200);
  assert.deepEqual(legacy.json.map((p) => p.agg_invoices), [[{ count: 2 }], [{ count: 2 }], [{ count: 1 }], [{ count: 0 }]]);
  const total = await sharedRest('/agg_invoices?select=count');
  assert.deepEqual(total.json, [{ count: 5 }]);
});

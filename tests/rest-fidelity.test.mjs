// /rest/v1 behaviours PostgREST's own test suite checks (test/spec/Feature/Query/*Spec.hs) and
// supabase-js apps meet: Prefer tx/handling/max-affected, upsert statuses, missing=default on
// identity/domain/generated columns, functions with a single unnamed parameter, overload and
// error texts, RPC counts, self-referencing, duplicate and empty embeds.
// Fixtures: tests/fixtures/migrations/20261207500000_rest_fidelity_fixtures.sql.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, restRequest as rest, serviceClient, sql, stack } from './support/stack.mjs';

const anon = anonClient();
const service = serviceClient();

const qty = (id) => Number(sql(`select qty from public.fid_items where id = ${Number(id)}`)[0][0]);

test('handling=strict with max-affected: too many rows is PGRST124 and nothing is written', async () => {
  const before = [1, 2, 3].map(qty);
  const patched = await rest('/fid_items?id=lte.3', {
    method: 'PATCH',
    body: { qty: 0 },
    headers: { Prefer: 'handling=strict, max-affected=2' },
  });
  assert.equal(patched.status, 400);
  assert.deepEqual(patched.json, {
    code: 'PGRST124',
    details: 'The query affects 3 rows',
    hint: null,
    message: 'Query result exceeds max-affected preference constraint',
  });
  assert.deepEqual([1, 2, 3].map(qty), before);

  // Through supabase-js's maxAffected() (handling=strict plus max-affected).
  const viaClient = await anon.from('fid_items').delete().lte('id', 3).maxAffected(2);
  assert.equal(viaClient.status, 400);
  assert.equal(viaClient.error.code, 'PGRST124');
  assert.equal(sql('select count(*) from public.fid_items where id <= 3')[0][0], '3');

  const within = await rest('/fid_items?id=eq.1', {
    method: 'PATCH',
    body: { qty: 41 },
    headers: { Prefer: 'handling=strict, max-affected=1' },
  });
  assert.equal(within.status, 204);
  assert.equal(within.headers.get('preference-applied'), 'handling=strict, max-affected=1');
  assert.equal(qty(1), 41);

  // Lenient: max-affected is ignored (and not echoed), the write commits.
  const lenient = await rest('/fid_items?id=in.(2,3)', {
    method: 'PATCH',
    body: { qty: 7 },
    headers: { Prefer: 'handling=lenient, max-affected=0' },
  });
  assert.equal(lenient.status, 204);
  assert.equal(lenient.headers.get('preference-applied'), 'handling=lenient');
  assert.deepEqual([2, 3].map(qty), [7, 7]);
});

test('max-affected on rpc: a set-returning function is counted, a scalar one is PGRST128', async () => {
  const before = qty(10);
  const many = await rest('/rpc/fid_bump_all', { method: 'POST', body: {}, headers: { Prefer: 'handling=strict, max-affected=5' } });
  assert.equal(many.status, 400);
  assert.equal(many.json.code, 'PGRST124');
  assert.match(many.json.details, /^The query affects \d+ rows$/);
  assert.equal(qty(10), before);

  const scalar = await rest('/rpc/fid_bump_one', { method: 'POST', body: { item: 10 }, headers: { Prefer: 'handling=strict, max-affected=1' } });
  assert.equal(scalar.status, 400);
  assert.deepEqual(scalar.json, {
    code: 'PGRST128',
    details: null,
    hint: null,
    message: 'Function must return SETOF or TABLE when max-affected preference is used with handling=strict',
  });
  assert.equal(qty(10), before);
});

test('handling=strict refuses unknown preferences with PGRST122; lenient ignores them', async () => {
  const strict = await rest('/fid_items?id=eq.4', {
    method: 'PATCH',
    body: { qty: 1 },
    headers: { Prefer: 'handling=strict, anything=goes, count=none' },
  });
  assert.equal(strict.status, 400);
  assert.deepEqual(strict.json, {
    code: 'PGRST122',
    details: 'Invalid preferences: anything=goes, count=none',
    hint: null,
    message: 'Invalid preferences given with handling=strict',
  });
  assert.equal(qty(4), 4);

  const read = await rest('/fid_items?id=eq.4&select=id', { headers: { Prefer: 'handling=strict, count=exact, timezone=UTC' } });
  assert.equal(read.status, 200);
  assert.equal(read.headers.get('preference-applied'), 'count=exact, handling=strict');
  assert.equal(read.headers.get('content-range'), '0-0/1');

  const lenient = await rest('/fid_items?id=eq.4&select=id', { headers: { Prefer: 'anything=goes' } });
  assert.equal(lenient.status, 200);
  assert.deepEqual(lenient.json, [{ id: 4 }]);
});

test('tx=rollback: the answer is the write\'s, nothing is kept', async () => {
  const inserted = await anon.from('fid_items').insert({ id: 500, name: 'dry run' }).select().rollback();
  assert.equal(inserted.error, null);
  assert.equal(inserted.status, 201);
  assert.deepEqual(inserted.data, [{ id: 500, name: 'dry run', qty: 0 }]);
  assert.equal(sql('select count(*) from public.fid_items where id = 500')[0][0], '0');

  const patched = await rest('/fid_items?id=eq.5', {
    method: 'PATCH',
    body: { qty: 99 },
    headers: { Prefer: 'tx=rollback, return=representation' },
  });
  assert.equal(patched.status, 200);
  assert.deepEqual(patched.json, [{ id: 5, name: 'item 5', qty: 99 }]);
  assert.equal(patched.headers.get('preference-applied'), 'return=representation, tx=rollback');
  assert.equal(qty(5), 5);

  const called = await rest('/rpc/fid_bump_one', { method: 'POST', body: { item: 5 }, headers: { Prefer: 'tx=rollback' } });
  assert.equal(called.status, 200);
  assert.equal(called.json, 105);
  assert.equal(qty(5), 5);

  const committed = await rest('/fid_items?id=eq.6', { method: 'DELETE', headers: { Prefer: 'tx=commit' } });
  assert.equal(committed.status, 204);
  assert.equal(committed.headers.get('preference-applied'), 'tx=commit');
  assert.equal(sql('select count(*) from public.fid_items where id = 6')[0][0], '0');
});

test('an upsert that only updates answers 200; one that inserts answers 201', async () => {
  const updatedOnly = await service
    .from('fid_items')
    .upsert([{ id: 7, name: 'seven', qty: 70 }, { id: 8, name: 'eight', qty: 80 }])
    .select('id, qty');
  assert.equal(updatedOnly.error, null);
  assert.equal(updatedOnly.status, 200);
  assert.deepEqual(updatedOnly.data, [{ id: 7, qty: 70 }, { id: 8, qty: 80 }]);

  const mixed = await service.from('fid_items').upsert([{ id: 8, name: 'eight', qty: 81 }, { id: 600, name: 'new', qty: 1 }]).select('id');
  assert.equal(mixed.status, 201);
  assert.deepEqual(mixed.data, [{ id: 8 }, { id: 600 }]);

  // ignore-duplicates creating nothing is still 201, as PostgREST answers.
  const ignored = await service.from('fid_items').upsert({ id: 8, name: 'x' }, { ignoreDuplicates: true }).select('id');
  assert.equal(ignored.status, 201);
  assert.deepEqual(ignored.data, []);
});

test('missing=default takes identity, domain and column defaults; a generated column refuses a value', async () => {
  const created = await rest('/fid_defaults?columns=id,label,code,qty&select=label,code,qty,twice', {
    method: 'POST',
    body: [{ label: 'a' }, { label: 'b', qty: 2 }],
    headers: { Prefer: 'return=representation, missing=default' },
  });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(created.json, [
    { label: 'a', code: 'dom', qty: 5, twice: 10 },
    { label: 'b', code: 'dom', qty: 2, twice: 4 },
  ]);
  assert.equal(created.headers.get('preference-applied'), 'missing=default, return=representation');
  const ids = sql("select count(distinct id) from public.fid_defaults where label in ('a', 'b')")[0][0];
  assert.equal(ids, '2');

  const generated = await rest('/fid_defaults?columns=label,twice', {
    method: 'POST',
    body: [{ label: 'c' }, { label: 'd', twice: 1 }],
    headers: { Prefer: 'return=representation, missing=default' },
  });
  assert.equal(generated.status, 400);
  assert.deepEqual(generated.json, {
    code: '428C9',
    details: 'Column "twice" is a generated column.',
    hint: null,
    message: 'cannot insert a non-DEFAULT value into column "twice"',
  });
});

test('functions with a single unnamed parameter take the raw body by Content-Type', async () => {
  const json = await rest('/rpc/fid_unnamed_json', { method: 'POST', body: { a: [1, 2], b: 'c' } });
  assert.equal(json.status, 200);
  assert.deepEqual(json.json, { a: [1, 2], b: 'c' });

  const array = await rest('/rpc/fid_unnamed_json', { method: 'POST', body: [1, 2, 3] });
  assert.deepEqual(array.json, [1, 2, 3]);

  const jsonb = await anon.rpc('fid_unnamed_jsonb', { x: 1 });
  assert.equal(jsonb.error, null);
  assert.deepEqual(jsonb.data, { x: 1, seen: true });

  const text = await rest('/rpc/fid_unnamed_text', { method: 'POST', body: 'hello, world', headers: { 'content-type': 'text/plain' } });
  assert.equal(text.status, 200);
  assert.equal(text.json, 'got: hello, world');

  const bytes = await fetch(`${stack.restUrl}/rpc/fid_unnamed_bytea`, {
    method: 'POST',
    headers: { apikey: stack.anonKey, 'content-type': 'application/octet-stream' },
    body: new Uint8Array([0, 255, 10, 13, 39, 92]),
  });
  assert.equal(bytes.status, 200);
  assert.equal(await bytes.json(), 6);

  const xml = await rest('/rpc/fid_unnamed_xml', { method: 'POST', body: '<a>b</a>', headers: { 'content-type': 'text/xml' } });
  assert.equal(xml.status, 200);
  assert.equal(xml.json, 'xml: <a>b</a>');

  // The body's type picks among unnamed overloads.
  const overText = await rest('/rpc/fid_unnamed_over', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
  assert.equal(overText.json, 'text');
  const overJson = await rest('/rpc/fid_unnamed_over', { method: 'POST', body: { any: 1 } });
  assert.equal(overJson.json, 'json');

  const none = await rest('/rpc/fid_hinted', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
  assert.equal(none.status, 404);
  assert.deepEqual(none.json, {
    code: 'PGRST202',
    details: 'Searched for the function public.fid_hinted with a single unnamed text parameter, but no matches were found in the schema cache.',
    hint: null,
    message: 'Could not find the function public.fid_hinted in the schema cache',
  });
});

test('rpc errors name candidates in PostgREST\'s order and hint the closest parameters', async () => {
  const ambiguous = await anon.rpc('fid_ambiguous', { a: 1 });
  assert.equal(ambiguous.status, 300);
  assert.deepEqual(ambiguous.error, {
    code: 'PGRST203',
    details: null,
    hint: 'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
    message:
      'Could not choose the best candidate function between: public.fid_ambiguous(a => integer), public.fid_ambiguous(a => text), public.fid_ambiguous(a => integer, b => integer)',
  });

  const two = await anon.rpc('fid_ambiguous', { a: 1, b: 2 });
  assert.equal(two.data, 'two');

  const typo = await anon.rpc('fid_hinted', { alpha: 1, betta: 2 });
  assert.equal(typo.status, 404);
  assert.deepEqual(typo.error, {
    code: 'PGRST202',
    details:
      'Searched for the function public.fid_hinted with parameters alpha, betta or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.',
    hint: 'Perhaps you meant to call the function public.fid_hinted(alpha, beta)',
    message: 'Could not find the function public.fid_hinted(alpha, betta) in the schema cache',
  });
});

test('count=exact on a function returning one value counts it', async () => {
  const scalar = await rest('/rpc/add_numbers?a=3&b=4', { headers: { Prefer: 'count=exact' } });
  assert.equal(scalar.status, 200);
  assert.equal(scalar.json, 7);
  assert.equal(scalar.headers.get('content-range'), '0-0/1');

  const viaClient = await anon.rpc('fid_hinted', { alpha: 1, beta: 2 }, { count: 'exact' });
  assert.equal(viaClient.data, 3);
  assert.equal(viaClient.count, 1);
});

test('self-referencing keys embed: children by the table\'s name, the parent by the key column', async () => {
  const children = await anon.from('fid_nodes').select('id, fid_nodes(id, name)').eq('id', 1);
  assert.equal(children.error, null);
  assert.deepEqual(children.data, [{ id: 1, fid_nodes: [{ id: 2, name: 'left' }, { id: 3, name: 'right' }] }]);

  const parent = await anon.from('fid_nodes').select('id, parent_id(name)').in('id', [1, 2]).order('id');
  assert.equal(parent.error, null);
  assert.deepEqual(parent.data, [
    { id: 1, parent_id: null },
    { id: 2, parent_id: { name: 'root' } },
  ]);

  const aliased = await anon.from('fid_nodes').select('id, kids:fid_nodes!parent_id(id)').eq('id', 2);
  assert.deepEqual(aliased.data, [{ id: 2, kids: [] }]);
});

test('the same embed twice is 42712; an empty embed filters without a key', async () => {
  const twice = await rest('/books?select=id,authors(name),authors(country)');
  assert.equal(twice.status, 400);
  assert.deepEqual(twice.json, {
    code: '42712',
    details: null,
    hint: null,
    message: 'table name "books_authors_1" specified more than once',
  });

  const aliased = await anon.from('books').select('id, a:authors(name), b:authors(country)').eq('id', 3);
  assert.deepEqual(aliased.data, [{ id: 3, a: { name: 'Stanisław Lem' }, b: { country: 'PL' } }]);

  const expected = (await anon.from('books').select('id').eq('author_id', 2).order('id')).data;
  assert.ok(expected.length > 0);
  const filtered = await anon.from('books').select('id, authors!inner()').eq('authors.id', 2).order('id');
  assert.equal(filtered.error, null);
  assert.deepEqual(filtered.data, expected);
});

test('PGRST201 names each relationship from the embedding table\'s side', async () => {
  const res = await rest('/fid_teams?select=*,fid_matches(*)');
  assert.equal(res.status, 300);
  assert.equal(res.json.code, 'PGRST201');
  assert.equal(res.json.message, "Could not embed because more than one relationship was found for 'fid_teams' and 'fid_matches'");
  const details = [...res.json.details].sort((a, b) => a.relationship.localeCompare(b.relationship));
  assert.deepEqual(details, [
    { cardinality: 'one-to-many', embedding: 'fid_teams with fid_matches', relationship: 'fid_matches_away_fkey using fid_teams(id) and fid_matches(away)' },
    { cardinality: 'one-to-many', embedding: 'fid_teams with fid_matches', relationship: 'fid_matches_home_fkey using fid_teams(id) and fid_matches(home)' },
  ]);
  assert.match(res.json.hint, /^Try changing 'fid_matches' to one of the following: /);
  assert.ok(res.json.hint.includes("'fid_matches!fid_matches_home_fkey'"));
  assert.ok(res.json.hint.includes("'fid_matches!fid_matches_away_fkey'"));

  const chosen = await anon.from('fid_teams').select('name, fid_matches!home(id)').eq('id', 1);
  assert.deepEqual(chosen.data, [{ name: 'reds', fid_matches: [{ id: 1 }] }]);
});

test('CSV is Postgres\'s record text, as PostgREST prints it', async () => {
  const res = await rest('/fid_csv?order=id', { headers: { Accept: 'text/csv' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.equal(
    res.text,
    [
      'id,label,flag,doc,tags',
      '1,plain,t,"{""a"": 1, ""b"": [1, 2]}","{x,y}"',
      '2,"with, comma ""and"" quotes",f,,{}',
      '3,"",,"""text""",',
    ].join('\n'),
  );
  const picked = await anon.from('fid_csv').select('id, label').eq('id', 1).csv();
  assert.equal(picked.data, 'id,label\n1,plain');
  const none = await rest('/fid_csv?id=eq.0', { headers: { Accept: 'text/csv' } });
  assert.equal(none.text, '\n');
});

test('nulls=stripped (supabase-js stripNulls) leaves out null-valued keys; vnd.pgrst.array+json is JSON', async () => {
  const rows = await anon.from('fid_csv').select('id, label, flag, doc').order('id').stripNulls();
  assert.equal(rows.error, null);
  assert.deepEqual(rows.data, [
    { id: 1, label: 'plain', flag: true, doc: { a: 1, b: [1, 2] } },
    { id: 2, label: 'with, comma "and" quotes', flag: false },
    { id: 3, label: '', doc: 'text' },
  ]);
  const one = await anon.from('fid_csv').select('id, flag, tags').eq('id', 3).single().stripNulls();
  assert.deepEqual(one.data, { id: 3 });

  const wire = await rest('/fid_csv?select=id,doc&id=eq.2', { headers: { Accept: 'application/vnd.pgrst.array+json;nulls=stripped' } });
  assert.equal(wire.headers.get('content-type'), 'application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8');
  assert.deepEqual(wire.json, [{ id: 2 }]);
  const plain = await rest('/fid_csv?select=id,doc&id=eq.2', { headers: { Accept: 'application/vnd.pgrst.array+json' } });
  assert.equal(plain.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.deepEqual(plain.json, [{ id: 2, doc: null }]);

  const written = await rest('/fid_items?id=eq.9&select=id,name', {
    method: 'PATCH',
    body: { name: 'nine' },
    headers: { Prefer: 'return=representation', Accept: 'application/vnd.pgrst.array+json;nulls=stripped' },
  });
  assert.equal(written.status, 200);
  assert.deepEqual(written.json, [{ id: 9, name: 'nine' }]);
});

test('count=planned answers the planner\'s estimate, count=estimated the larger of it and the exact count', async () => {
  sql('analyze public.fid_counted');
  const planned = await rest('/fid_counted?select=id&order=id&limit=10', { headers: { Prefer: 'count=planned' } });
  assert.equal(planned.status, 206);
  assert.equal(planned.headers.get('content-range'), '0-9/50');
  assert.equal(planned.headers.get('preference-applied'), 'count=planned');
  assert.equal(planned.json.length, 10);

  // Rows the planner has not seen yet: the estimate stays what ANALYZE found, the exact count moves.
  sql('insert into public.fid_counted select generate_series(51, 60)');
  const estimated = await anon.from('fid_counted').select('id', { count: 'estimated' }).order('id').limit(5);
  assert.equal(estimated.status, 206);
  assert.ok(estimated.count >= 60, `estimated ${estimated.count}`);
  const viaClient = await anon.from('fid_counted').select('id', { count: 'planned', head: true }).lte('id', 50);
  assert.ok(Number.isInteger(viaClient.count) && viaClient.count > 0, `planned ${viaClient.count}`);
});

test('the plan media type is refused as PostgREST refuses it with db-plan-enabled off', async () => {
  const plan = await anon.from('fid_counted').select('id').explain();
  assert.equal(plan.status, 406);
  assert.equal(plan.error.code, 'PGRST107');
  assert.match(plan.error.message, /^None of these media types are available: application\/vnd\.pgrst\.plan/);
});

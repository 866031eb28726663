// Computed fields: a function of a table's row type is selected, filtered and ordered as a
// column (PostgREST's computed fields, resolved by Postgres's functional notation `t.f` =
// `f(t)`); computed relationships: a function of a row returning a table's rows is embedded
// by its name (PostgREST v12). Fixtures:
// tests/fixtures/migrations/20261208000000_rest_computed_fixtures.sql.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, restRequest as rest } from './support/stack.mjs';

const anon = anonClient();

test('a computed field is selected and renamed as a column', async () => {
  const { data, error } = await anon.from('sp_entities').select('id, label, shout:label').order('id');
  assert.equal(error, null);
  assert.deepEqual(data, [
    { id: 1, label: 'ENTITY ONE #1', shout: 'ENTITY ONE #1' },
    { id: 2, label: 'ENTITY TWO #2', shout: 'ENTITY TWO #2' },
  ]);
  // `*` does not include it, as in PostgREST.
  const all = await anon.from('sp_entities').select('*').eq('id', 1);
  assert.deepEqual(all.data, [{ id: 1, name: 'entity one' }]);
});

test('a computed field filters and orders', async () => {
  const filtered = await anon.from('sp_entities').select('id').eq('label', 'ENTITY TWO #2');
  assert.equal(filtered.error, null);
  assert.deepEqual(filtered.data, [{ id: 2 }]);
  const ordered = await anon.from('sp_entities').select('id').order('label', { ascending: false });
  assert.deepEqual(ordered.data, [{ id: 2 }, { id: 1 }]);
  const like = await anon.from('sp_entities').select('id').like('label', '%ONE%');
  assert.deepEqual(like.data, [{ id: 1 }]);
});

test('a computed field inside an embed', async () => {
  const { data, error } = await anon.from('sp_children').select('id, sp_entities(label)').eq('id', 1);
  assert.equal(error, null);
  assert.deepEqual(data, [{ id: 1, sp_entities: { label: 'ENTITY ONE #1' } }]);
});

test('an unknown field is 42703, as Postgres answers PostgREST', async () => {
  const res = await rest('/sp_entities?select=id,no_such_field');
  assert.equal(res.status, 400);
  assert.equal(res.json.code, '42703');
});

test('a computed relationship embeds the rows its function returns: SETOF as an array', async () => {
  const { data, error } = await anon.from('sp_entities').select('id, kids(name)').order('id');
  assert.equal(error, null);
  assert.deepEqual(data, [
    { id: 1, kids: [{ name: 'child one' }, { name: 'child two' }] },
    { id: 2, kids: [] },
  ]);
  // Filters, order and limit on it, as on any embed.
  const narrowed = await anon
    .from('sp_entities')
    .select('id, kids(id)')
    .eq('id', 1)
    .gt('kids.id', 1);
  assert.deepEqual(narrowed.data, [{ id: 1, kids: [{ id: 2 }] }]);
  const inner = await anon.from('sp_entities').select('id, kids!inner(id)').order('id');
  assert.deepEqual(inner.data.map((e) => e.id), [1]);
});

test('a computed relationship returning one row (or ROWS 1) embeds an object; spreads work on it', async () => {
  const owner = await anon.from('sp_children').select('name, owner(name)').order('id');
  assert.equal(owner.error, null);
  assert.deepEqual(owner.data, [
    { name: 'child one', owner: { name: 'entity one' } },
    { name: 'child two', owner: { name: 'entity one' } },
    { name: 'child three', owner: null },
  ]);
  const first = await anon.from('sp_entities').select('id, first_kid(name)').eq('id', 1);
  assert.deepEqual(first.data, [{ id: 1, first_kid: { name: 'child one' } }]);
  const spread = await anon.from('sp_children').select('name, ...owner(entity:name)').eq('id', 1);
  assert.deepEqual(spread.data, [{ name: 'child one', entity: 'entity one' }]);
});

test('a function of another table\'s row is no relationship: PGRST200', async () => {
  const res = await rest('/sp_children?select=id,kids(*)');
  assert.equal(res.status, 400);
  assert.equal(res.json.code, 'PGRST200');
});

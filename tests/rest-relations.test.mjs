// /rest/v1 many-to-many embeds through a junction table, as PostgREST v12 detects them
// (SchemaCache.addM2MRels: a table whose two different foreign keys' columns all belong to
// its primary key) and names them in PGRST201 (Error.compressedRel, relHint).
// Fixtures: tests/fixtures/migrations/20261207950000_rest_relations_fixtures.sql. Spread embeds
// (`...relation(cols)`, PostgREST v12: to-one only, PGRST119 otherwise) on the sp_* tables of
// tests/fixtures/migrations/20261207960000_rest_spread_aggregate_fixtures.sql.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, restRequest as rest, stack } from './support/stack.mjs';

const anon = anonClient();

test('a junction table embeds the other side as an array, both ways', async () => {
  const users = await anon.from('m2m_users').select('name, m2m_groups(name)').order('id');
  assert.equal(users.error, null);
  assert.deepEqual(
    users.data.map((u) => ({ ...u, m2m_groups: u.m2m_groups.map((g) => g.name).sort() })),
    [
      { name: 'ann', m2m_groups: ['admins', 'devs'] },
      { name: 'bob', m2m_groups: ['devs'] },
      // m2m_invites has keys to both tables but outside a primary key: no junction.
      { name: 'cyd', m2m_groups: [] },
    ],
  );
  const groups = await anon
    .from('m2m_groups')
    .select('name, members:m2m_users(name)')
    .eq('id', 20)
    .order('name', { referencedTable: 'members', ascending: false });
  assert.deepEqual(groups.data, [{ name: 'devs', members: [{ name: 'bob' }, { name: 'ann' }] }]);
});

test('filters, !inner and paging apply to the embed behind the junction', async () => {
  const inner = await anon
    .from('m2m_users')
    .select('name, m2m_groups!inner(name)')
    .eq('m2m_groups.name', 'admins');
  assert.deepEqual(inner.data, [{ name: 'ann', m2m_groups: [{ name: 'admins' }] }]);
  const limited = await rest('/m2m_users?select=name,m2m_groups(name)&id=eq.1&m2m_groups.order=name.desc&m2m_groups.limit=1');
  assert.equal(limited.status, 200);
  assert.deepEqual(limited.json, [{ name: 'ann', m2m_groups: [{ name: 'devs' }] }]);
  // The junction itself still embeds one-to-many.
  const direct = await rest('/m2m_users?select=name,m2m_memberships(since)&id=eq.2');
  assert.deepEqual(direct.json, [{ name: 'bob', m2m_memberships: [{ since: 2022 }] }]);
});

test('two junctions are PGRST201 naming each; the junction as hint picks one', async () => {
  const res = await rest('/m2m_actors?select=*,m2m_films(*)');
  assert.equal(res.status, 300);
  assert.equal(res.json.code, 'PGRST201');
  assert.equal(res.json.message, "Could not embed because more than one relationship was found for 'm2m_actors' and 'm2m_films'");
  const details = [...res.json.details].sort((a, b) => a.relationship.localeCompare(b.relationship));
  assert.deepEqual(details, [
    { cardinality: 'many-to-many', embedding: 'm2m_actors with m2m_films', relationship: 'm2m_awards using m2m_awards_actor_id_fkey(actor_id) and m2m_awards_film_id_fkey(film_id)' },
    { cardinality: 'many-to-many', embedding: 'm2m_actors with m2m_films', relationship: 'm2m_roles using m2m_roles_actor_id_fkey(actor_id) and m2m_roles_film_id_fkey(film_id)' },
  ]);
  assert.match(res.json.hint, /^Try changing 'm2m_films' to one of the following: .*\. Find the desired relationship in the 'details' key\.$/);
  assert.ok(res.json.hint.includes("'m2m_films!m2m_roles'"));
  assert.ok(res.json.hint.includes("'m2m_films!m2m_awards'"));

  const roles = await anon.from('m2m_actors').select('name, m2m_films!m2m_roles(title)').order('id');
  assert.deepEqual(
    roles.data.map((a) => ({ ...a, m2m_films: a.m2m_films.map((f) => f.title).sort() })),
    [{ name: 'lee', m2m_films: ['alpha', 'beta'] }, { name: 'kim', m2m_films: ['beta'] }],
  );
  const awards = await anon.from('m2m_films').select('title, m2m_actors!m2m_awards(name)').order('id');
  assert.deepEqual(awards.data, [
    { title: 'alpha', m2m_actors: [] },
    { title: 'beta', m2m_actors: [{ name: 'kim' }] },
  ]);
  const unknown = await rest('/m2m_actors?select=*,m2m_films!m2m_nothing(*)');
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.code, 'PGRST200');
});

test('a spread embed lifts a many-to-one row\'s columns into the parent, null without a match', async () => {
  const children = await anon.from('sp_children').select('id, ...sp_entities(entity:name)').order('id');
  assert.equal(children.error, null);
  assert.deepEqual(children.data, [
    { id: 1, entity: 'entity one' },
    { id: 2, entity: 'entity one' },
    { id: 3, entity: null },
  ]);
  // Nested: a spread inside a spread lifts through both levels.
  const chain = await rest('/sp_grandchildren?select=name,...sp_children(parent:name,...sp_entities(grandparent:name))&order=id');
  assert.equal(chain.status, 200);
  assert.deepEqual(chain.json, [
    { name: 'grandchild one', parent: 'child one', grandparent: 'entity one' },
    { name: 'grandchild two', parent: 'child two', grandparent: 'entity one' },
    { name: 'grandchild three', parent: 'child three', grandparent: null },
  ]);
  // Inside a normal embed, into the embedded object.
  const inside = await rest('/sp_grandchildren?select=name,child:sp_children(name,...sp_entities(parent:name))&order=id&limit=1');
  assert.deepEqual(inside.json, [{ name: 'grandchild one', child: { name: 'child one', parent: 'entity one' } }]);
});

test('a spread embed on a one-to-one key; !inner and filters apply as for other embeds', async () => {
  const countries = await anon.from('sp_countries').select('name, ...sp_capitals(capital:name)').order('id');
  assert.deepEqual(countries.data, [
    { name: 'Afghanistan', capital: 'Kabul' },
    { name: 'Algeria', capital: 'Algiers' },
    { name: 'Atlantis', capital: null },
  ]);
  const inner = await anon.from('sp_countries').select('name, ...sp_capitals!inner(capital:name)').order('id');
  assert.deepEqual(inner.data, [
    { name: 'Afghanistan', capital: 'Kabul' },
    { name: 'Algeria', capital: 'Algiers' },
  ]);
  const filtered = await anon
    .from('sp_countries')
    .select('name, ...sp_capitals!inner(capital:name)')
    .eq('sp_capitals.name', 'Algiers');
  assert.deepEqual(filtered.data, [{ name: 'Algeria', capital: 'Algiers' }]);
  // Without !inner a filtered-out row leaves its columns null, the parent stays.
  const left = await rest('/sp_countries?select=id,...sp_capitals(capital:name)&sp_capitals.name=eq.Algiers&order=id');
  assert.deepEqual(left.json, [
    { id: 1, capital: null },
    { id: 2, capital: 'Algiers' },
    { id: 3, capital: null },
  ]);
});

test('a junction row spreads the other side into each embedded row', async () => {
  const res = await rest('/m2m_users?select=name,groups:m2m_memberships(since,...m2m_groups(group:name))&id=eq.1&groups.order=since');
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, [{ name: 'ann', groups: [{ since: 2020, group: 'admins' }, { since: 2021, group: 'devs' }] }]);
});

test('a spread on a to-many relationship is PGRST119; a bad spread is PGRST100 or PGRST200', async () => {
  const many = await anon.from('sp_entities').select('*, ...sp_children(*)');
  assert.equal(many.status, 400);
  assert.deepEqual(many.error, {
    code: 'PGRST119',
    details: "'sp_entities' and 'sp_children' do not form a many-to-one or one-to-one relationship",
    hint: null,
    message: "A spread operation on 'sp_children' is not possible",
  });
  // Many-to-many is to-many too.
  const m2m = await rest('/m2m_users?select=name,...m2m_groups(name)');
  assert.equal(m2m.status, 400);
  assert.equal(m2m.json.code, 'PGRST119');
  assert.equal(m2m.json.message, "A spread operation on 'm2m_groups' is not possible");
  // A spread takes no alias and needs its parentheses (PostgREST's grammar).
  for (const select of ['id,e:...sp_entities(name)', 'id,...sp_entities']) {
    const res = await rest(`/sp_children?select=${select}`);
    assert.equal(res.status, 400, select);
    assert.equal(res.json.code, 'PGRST100', select);
  }
  const unknown = await rest('/sp_children?select=id,...sp_nothing(name)');
  assert.equal(unknown.status, 400);
  assert.equal(unknown.json.code, 'PGRST200');
  const column = await rest('/sp_children?select=id,...sp_entities(nope)');
  assert.equal(column.status, 400);
  assert.equal(column.json.code, '42703');
});

test('a spread embed in a mutation\'s representation', async () => {
  const res = await rest('/sp_children?id=eq.2&select=id,name,...sp_entities(entity:name)', {
    method: 'PATCH',
    key: stack.serviceKey,
    token: stack.serviceKey,
    headers: { prefer: 'return=representation,tx=rollback' },
    body: { name: 'renamed' },
  });
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, [{ id: 2, name: 'renamed', entity: 'entity one' }]);
});

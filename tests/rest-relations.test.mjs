// /rest/v1 many-to-many embeds through a junction table, as PostgREST v12 detects them
// (SchemaCache.addM2MRels: a table whose two different foreign keys' columns all belong to
// its primary key) and names them in PGRST201 (Error.compressedRel, relHint).
// Fixtures: tests/fixtures/migrations/20261207950000_rest_relations_fixtures.sql.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonClient, restRequest as rest } from './support/stack.mjs';

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

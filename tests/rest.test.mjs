// /rest/v1 through the official supabase-js client (and plain fetch where the wire matters):
// reads, filters, embedding, counts and ranges, writes and upserts, rpc, errors, RLS, and
// attempts at SQL injection. Fixtures: tests/fixtures/migrations/*_rest_fixtures.sql.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { anonClient, restRequest as rest, serviceClient, signedUpUser, signJwt, sql, stack } from './support/stack.mjs';

const anon = anonClient();
const service = serviceClient();

test('select with columns, aliases, casts, filters, order and limit', async () => {
  const { data, error } = await anon
    .from('books')
    .select('id, name:title, pages::text')
    .gte('pages', 200)
    .neq('id', 5)
    .order('pages', { ascending: false })
    .limit(2);
  assert.equal(error, null);
  assert.deepEqual(data, [
    { id: 2, name: 'The Left Hand of Darkness', pages: '304' },
    { id: 4, name: 'Kindred', pages: '264' },
  ]);

  const filtered = await anon
    .from('books')
    .select('id')
    .in('id', [1, 3, 5])
    .ilike('title', '%the%')
    .is('isbn', null);
  assert.deepEqual(filtered.data, [{ id: 5 }]);

  const ored = await anon.from('books').select('id').or('pages.lt.190,and(author_id.eq.2,pages.gt.250)').order('id');
  assert.deepEqual(ored.data, [{ id: 1 }, { id: 5 }]);

  const negated = await anon.from('books').select('id').not('author_id', 'in', '(1,2)');
  assert.deepEqual(negated.data, [{ id: 4 }]);

  const view = await anon.from('book_titles').select('title, author').eq('id', 3).single();
  assert.deepEqual(view.data, { title: 'Solaris', author: 'Stanisław Lem' });
});

test('count=exact, Range and Content-Range, 206 and 416', async () => {
  const { data, count, error } = await anon.from('books').select('id', { count: 'exact' }).order('id').range(1, 2);
  assert.equal(error, null);
  assert.equal(count, 5);
  assert.deepEqual(data, [{ id: 2 }, { id: 3 }]);

  const head = await anon.from('books').select('*', { count: 'exact', head: true }).eq('author_id', 1);
  assert.equal(head.count, 2);
  assert.equal(head.data, null);

  const partial = await rest('/books?select=id&order=id', { headers: { Range: '0-1', Prefer: 'count=exact, return=minimal' } });
  assert.equal(partial.status, 206);
  assert.equal(partial.headers.get('content-range'), '0-1/5');
  assert.equal(partial.headers.get('preference-applied'), 'count=exact');

  const empty = await rest('/books?id=eq.999', { headers: { Prefer: 'count=exact' } });
  assert.equal(empty.status, 200);
  assert.equal(empty.headers.get('content-range'), '*/0');
  assert.deepEqual(empty.json, []);

  const beyond = await rest('/books?offset=10', { headers: { Prefer: 'count=exact' } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.json.code, 'PGRST103');
  assert.equal(beyond.json.details, 'An offset of 10 was requested, but there are only 5 rows.');
});

test('single and maybeSingle', async () => {
  const one = await anon.from('authors').select('name').eq('id', 2).single();
  assert.deepEqual(one.data, { name: 'Stanisław Lem' });

  const none = await anon.from('authors').select('name').eq('id', 99).single();
  assert.equal(none.status, 406);
  assert.equal(none.error.code, 'PGRST116');
  assert.equal(none.error.details, 'The result contains 0 rows');
  assert.equal(none.error.message, 'Cannot coerce the result to a single JSON object');

  const many = await rest('/authors', { headers: { Accept: 'application/vnd.pgrst.object+json' } });
  assert.equal(many.status, 406);
  assert.equal(many.json.details, 'The result contains 3 rows');

  const maybe = await anon.from('authors').select('name').eq('id', 99).maybeSingle();
  assert.equal(maybe.error, null);
  assert.equal(maybe.data, null);
});

test('embedding: many-to-one as an object, one-to-many as an array, !inner, embedded filters', async () => {
  const { data, error } = await anon
    .from('books')
    .select('title, author:authors(name), reviews(stars)')
    .in('id', [1, 2])
    .order('id');
  assert.equal(error, null);
  assert.deepEqual(data, [
    { title: 'A Wizard of Earthsea', author: { name: 'Ursula K. Le Guin' }, reviews: [{ stars: 5 }, { stars: 4 }] },
    { title: 'The Left Hand of Darkness', author: { name: 'Ursula K. Le Guin' }, reviews: [] },
  ]);

  const authors = await anon.from('authors').select('name, books(title)').eq('id', 2).order('id', { referencedTable: 'books' }).single();
  assert.deepEqual(authors.data, { name: 'Stanisław Lem', books: [{ title: 'Solaris' }, { title: 'The Cyberiad' }] });

  const inner = await anon.from('books').select('id, authors!inner(country)').eq('authors.country', 'PL').order('id');
  assert.deepEqual(inner.data, [
    { id: 3, authors: { country: 'PL' } },
    { id: 5, authors: { country: 'PL' } },
  ]);

  const missing = await anon.from('books').select('id, publishers(*)');
  assert.equal(missing.status, 400);
  assert.equal(missing.error.code, 'PGRST200');
});

test('insert, upsert, update and delete with Prefer return and count', async () => {
  const owner = randomUUID();
  const inserted = await service.from('settings').insert({ owner, key: 'theme', value: 'dark' }).select().single();
  assert.equal(inserted.status, 201);
  assert.deepEqual(inserted.data, { owner, key: 'theme', value: 'dark', version: 1 });

  const minimal = await service.from('settings').insert([{ owner, key: 'a', value: '1' }, { owner, key: 'b' }]);
  assert.equal(minimal.status, 201);
  assert.equal(minimal.data, null);
  assert.deepEqual(sql(`select key, coalesce(value, '-') from public.settings where owner = '${owner}' order by key`), [
    ['a', '1'],
    ['b', '-'],
    ['theme', 'dark'],
  ]);

  const duplicate = await service.from('settings').insert({ owner, key: 'theme', value: 'light' });
  assert.equal(duplicate.status, 409);
  assert.equal(duplicate.error.code, '23505');

  const upserted = await service
    .from('settings')
    .upsert([{ owner, key: 'theme', value: 'light' }, { owner, key: 'lang', value: 'pl' }], { onConflict: 'owner,key' })
    .select('key, value')
    .order('key');
  assert.equal(upserted.error, null);
  assert.deepEqual(upserted.data, [
    { key: 'lang', value: 'pl' },
    { key: 'theme', value: 'light' },
  ]);

  const ignored = await service
    .from('settings')
    .upsert({ owner, key: 'lang', value: 'en' }, { ignoreDuplicates: true })
    .select();
  assert.deepEqual(ignored.data, []);

  const updated = await service.from('settings').update({ value: 'x' }, { count: 'exact' }).eq('owner', owner).like('key', 't*');
  assert.equal(updated.status, 204);
  assert.equal(updated.count, 1);

  const deleted = await service.from('settings').delete({ count: 'exact' }).eq('owner', owner).select('key').order('key');
  assert.equal(deleted.status, 200);
  assert.equal(deleted.count, 4);
  assert.deepEqual(deleted.data.map((r) => r.key), ['a', 'b', 'lang', 'theme']);
});

test('PUT replaces the one row its whole primary key names', async () => {
  const owner = randomUUID();
  const path = `/settings?owner=eq.${owner}&key=eq.k`;
  const created = await rest(path, {
    method: 'PUT',
    key: stack.serviceKey,
    headers: { Prefer: 'return=representation' },
    body: { owner, key: 'k', value: 'v' },
  });
  assert.equal(created.status, 200);
  assert.deepEqual(created.json, [{ owner, key: 'k', value: 'v', version: 1 }]);

  const replaced = await rest(path, { method: 'PUT', key: stack.serviceKey, body: { owner, key: 'k', value: 'w', version: 2 } });
  assert.equal(replaced.status, 204);
  assert.deepEqual(sql(`select value, version from public.settings where owner = '${owner}'`), [['w', '2']]);

  const partialKey = await rest(`/settings?owner=eq.${owner}`, { method: 'PUT', key: stack.serviceKey, body: { owner, key: 'k' } });
  assert.equal(partialKey.status, 405);
  assert.equal(partialKey.json.code, 'PGRST105');

  const mismatch = await rest(path, { method: 'PUT', key: stack.serviceKey, body: { owner, key: 'other' } });
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.json.code, 'PGRST115');
});

test('write errors: unknown column, invalid JSON, mismatched keys, constraint violations', async () => {
  const unknown = await service.from('settings').insert({ owner: 'o', key: 'k', colour: 'red' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.error.code, 'PGRST204');
  assert.equal(unknown.error.message, "Could not find the 'colour' column of 'settings' in the schema cache");

  const invalid = await rest('/settings', { method: 'POST', key: stack.serviceKey, body: '{"owner":' });
  assert.equal(invalid.status, 400);
  assert.deepEqual(invalid.json, { code: 'PGRST102', details: null, hint: null, message: 'Empty or invalid json' });

  const mismatched = await rest('/settings', {
    method: 'POST',
    key: stack.serviceKey,
    body: [{ owner: 'o', key: 'a' }, { owner: 'o', value: 'b' }],
  });
  assert.equal(mismatched.status, 400);
  assert.equal(mismatched.json.message, 'All object keys must match');

  const check = await service.from('books').insert({ id: 100, title: 'Zero', pages: 0 });
  assert.equal(check.status, 400);
  assert.equal(check.error.code, '23514');

  const notNull = await service.from('books').insert({ id: 101 });
  assert.equal(notNull.error.code, '23502');

  const fk = await service.from('books').insert({ id: 102, title: 'Orphan', author_id: 999 });
  assert.equal(fk.status, 409);
  assert.equal(fk.error.code, '23503');

  const badType = await anon.from('books').select('id').eq('id', 'not-a-number');
  assert.equal(badType.status, 400);
  assert.equal(badType.error.code, '22P02');
});

test('rpc: scalar, set of scalars, table rows with filters, GET for stable functions, errors', async () => {
  const sum = await anon.rpc('add_numbers', { a: 2, b: 40 });
  assert.deepEqual([sum.status, sum.data], [200, 42]);

  const series = await anon.rpc('series', { n: 3 });
  assert.deepEqual(series.data, [1, 2, 3]);

  const books = await anon.rpc('books_by_author', { author: 'Stanisław Lem' }).select('title').lt('pages', 250);
  assert.deepEqual(books.data, [{ title: 'Solaris' }]);

  const embedded = await anon.rpc('books_by_author', { author: 'Ursula K. Le Guin' }).select('id, authors(country)').order('id');
  assert.deepEqual(embedded.data, [
    { id: 1, authors: { country: 'US' } },
    { id: 2, authors: { country: 'US' } },
  ]);

  const counted = await rest('/rpc/series', { method: 'POST', body: { n: 2 }, headers: { Prefer: 'count=exact, return=representation' } });
  assert.deepEqual(counted.json, [1, 2]);
  assert.equal(counted.headers.get('content-range'), '0-1/*');
  assert.equal(counted.headers.get('preference-applied'), 'count=exact');

  const viaGet = await anon.rpc('add_numbers', { a: 1, b: 2 }, { get: true });
  assert.equal(viaGet.data, 3);

  const raised = await anon.rpc('fail_with', { message: 'no way' });
  assert.equal(raised.status, 400);
  assert.deepEqual(raised.error, { code: 'P0001', details: null, hint: 'raised on purpose', message: 'no way' });

  const missing = await anon.rpc('add_numbers', { a: 1 });
  assert.equal(missing.status, 404);
  assert.equal(missing.error.code, 'PGRST202');
  assert.equal(missing.error.message, 'Could not find the function public.add_numbers(a) in the schema cache');

  const whole = await rest('/rpc/echo_body', { method: 'POST', body: { payload: { nested: [1, { two: 2 }] } } });
  assert.deepEqual(whole.json, { nested: [1, { two: 2 }] });

  const volatileGet = await rest('/rpc/bump_priority?todo_id=1');
  assert.equal(volatileGet.status, 405);
  assert.equal(volatileGet.json.code, '25006');
});

test('row-level security is Postgres\'s own: owners only, the role and claims reach SQL', async () => {
  const a = await signedUpUser(undefined, 'rest-a');
  const b = await signedUpUser(undefined, 'rest-b');

  const created = await a.client.from('todos').insert({ title: 'buy milk', tags: ['home'], meta: { n: 1 } }).select().single();
  assert.equal(created.error, null);
  assert.equal(created.data.user_id, a.user.id);
  assert.deepEqual(created.data.tags, ['home']);

  const mine = await a.client.from('todos').select('title, meta->n').contains('tags', ['home']);
  assert.deepEqual(mine.data, [{ title: 'buy milk', n: 1 }]);

  const theirs = await b.client.from('todos').select('*', { count: 'exact' });
  assert.equal(theirs.count, 0);

  const stolen = await b.client.from('todos').update({ title: 'mine now' }).eq('id', created.data.id).select();
  assert.deepEqual(stolen.data, []);

  const forged = await b.client.from('todos').insert({ title: 'planted', user_id: a.user.id });
  assert.equal(forged.status, 403);
  assert.equal(forged.error.code, '42501');

  const anonymous = await anon.from('todos').insert({ title: 'anon' });
  assert.equal(anonymous.status, 401);

  const who = await a.client.rpc('whoami');
  assert.deepEqual(who.data, { role: 'authenticated', sub: a.user.id });

  const bumped = await a.client.rpc('bump_priority', { todo_id: created.data.id }).single();
  assert.equal(bumped.data.priority, 1);

  const bye = await a.client.from('todos').delete().eq('id', created.data.id).select('id');
  assert.deepEqual(bye.data, [{ id: created.data.id }]);
});

test('PostgREST errors for bad requests and bad tokens', async () => {
  const table = await anon.from('bookz').select('*');
  assert.equal(table.status, 404);
  assert.deepEqual(table.error, {
    code: 'PGRST205',
    details: null,
    hint: "Perhaps you meant the table 'public.books'",
    message: "Could not find the table 'public.bookz' in the schema cache",
  });

  const column = await anon.from('books').select('id, nope');
  assert.equal(column.status, 400);
  assert.equal(column.error.code, '42703');
  assert.equal(column.error.message, 'column books.nope does not exist');

  const parse = await rest('/books?id=equals.1');
  assert.equal(parse.status, 400);
  assert.equal(parse.json.code, 'PGRST100');
  assert.equal(parse.json.message, '"failed to parse filter (equals.1)" (line 1, column 1)');

  const noKey = await fetch(`${stack.restUrl}/books`);
  assert.equal(noKey.status, 401);
  assert.deepEqual(await noKey.json(), { message: 'No API key found in request' });

  const expired = signJwt({ sub: randomUUID(), role: 'authenticated', aud: 'authenticated', exp: Math.floor(Date.now() / 1000) - 10 });
  const late = await rest('/books', { headers: { Authorization: `Bearer ${expired}` } });
  assert.equal(late.status, 401);
  assert.equal(late.json.code, 'PGRST303');
  assert.equal(late.json.message, 'JWT expired');
  assert.match(late.headers.get('www-authenticate'), /^Bearer error="invalid_token"/);

  const forged = signJwt({ role: 'service_role' }, 'not-the-secret-not-the-secret-not-the-secret');
  const refused = await rest('/books', { headers: { Authorization: `Bearer ${forged}` } });
  assert.equal(refused.status, 401);
  assert.equal(refused.json.code, 'PGRST301');

  const schema = await rest('/books', { headers: { 'Accept-Profile': 'auth' } });
  assert.equal(schema.status, 406);
  assert.equal(schema.json.code, 'PGRST106');

  const tooBig = await rest('/settings', { method: 'POST', key: stack.serviceKey, body: `[${'{"owner":"o","key":"k"},'.repeat(500000)}{}]` });
  assert.equal(tooBig.status, 413);
});

test('injection attempts stay data', async () => {
  const quote = await anon.from('books').select('id').eq('title', "x'; DROP TABLE public.books; --");
  assert.deepEqual([quote.error, quote.data], [null, []]);

  // A value cannot close the logic tree early: it is a parse error, never SQL.
  const orIn = await anon.from('books').select('id').or('title.eq.a\'),id.gt.(0');
  assert.equal(orIn.error.code, 'PGRST100');
  const quotedOr = await anon.from('books').select('id').or('title.eq."a\'),id.gt.(0"');
  assert.deepEqual([quotedOr.error, quotedOr.data], [null, []]);

  const column = await rest('/books?select=id,"title\\"; DROP TABLE public.books; --"');
  assert.equal(column.status, 400);

  const order = await rest(`/books?order=${encodeURIComponent('id;DELETE FROM public.books')}`);
  assert.equal(order.status, 400);

  const cast = await rest(`/books?select=${encodeURIComponent('id::int;drop table public.books')}`);
  assert.equal(cast.status, 400);
  assert.equal(cast.json.code, 'PGRST100');

  const onConflict = await rest(`/settings?on_conflict=${encodeURIComponent('owner);drop table public.settings;--')}`, {
    method: 'POST',
    key: stack.serviceKey,
    headers: { Prefer: 'resolution=merge-duplicates' },
    body: { owner: 'o', key: 'k' },
  });
  assert.equal(onConflict.status, 400);
  assert.equal(onConflict.json.code, 'PGRST100');
  const quotedConflict = await rest(`/settings?on_conflict=${encodeURIComponent('"owner\\");drop table public.settings;--"')}`, {
    method: 'POST',
    key: stack.serviceKey,
    headers: { Prefer: 'resolution=merge-duplicates' },
    body: { owner: 'o', key: 'k' },
  });
  assert.equal(quotedConflict.status, 400);
  assert.equal(quotedConflict.json.code, 'PGRST204');

  const rpcArg = await anon.rpc('add_numbers', { a: 1, 'b) ; drop table public.books; --': 2 });
  assert.equal(rpcArg.status, 404);

  const nul = await rest('/books?title=eq.a%00b');
  assert.equal(nul.status, 400);

  assert.deepEqual(sql('select count(*) from public.books'), [['5']]);
  assert.deepEqual(sql("select to_regclass('public.settings') is not null"), [['t']]);
});

test('the schema cache reloads on NOTIFY pgrst', async () => {
  const name = `late_${randomUUID().replaceAll('-', '')}`;
  const before = await anon.from(name).select('*');
  assert.equal(before.status, 404);
  sql(`create table public.${name} (id int primary key); insert into public.${name} values (7); notify pgrst, 'reload schema';`);
  let after;
  for (let i = 0; i < 50; i++) {
    after = await anon.from(name).select('*');
    if (after.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(after.data, [{ id: 7 }]);
  sql(`drop table public.${name}; notify pgrst, 'reload schema';`);
});

// `storage.search`, Supabase Storage's listing function, as migrations, policies and SQL call it:
// the signature and defaults of Storage's current schema (no `levels`: the level follows from
// prefix || search), one level under a prefix (folders with a null id), sorted, limited and
// offset, run as the caller so that RLS on storage.objects decides; and the same answer as the
// list endpoint, which calls it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { serviceClient, signedUpUser, sql, stack } from './support/stack.mjs';


/** `query` in one transaction as `authenticated` with `userId`'s JWT claims, rows of tab-separated fields. */
function sqlAs(userId, query) {
  const claims = JSON.stringify({ sub: userId, role: 'authenticated' });
  const script = `begin;
set local role authenticated;
select set_config('request.jwt.claims', '${claims}', true) \\g /dev/null
${query};
commit;`;
  const out = execFileSync('psql', [stack.dbUrl, '-X', '-q', '-A', '-t', '-F', '\t', '-v', 'ON_ERROR_STOP=1'], { input: script, encoding: 'utf8' });
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

async function uploadAll(names) {
  const images = serviceClient().storage.from('images');
  for (const name of names) {
    const { error } = await images.upload(name, Buffer.from(`bytes of ${name}`), { contentType: 'image/png' });
    assert.equal(error, null, name);
  }
}

test('storage.search has Supabase signature and answers one level as the list endpoint does', async () => {
  const a = await signedUpUser(undefined, 'search-a');
  const id = a.user.id;
  await uploadAll([`${id}/b.png`, `${id}/a.png`, `${id}/zdir/c.png`, `${id}/adir/deep/d.png`, `${id}/c.png`]);

  // Storage's defaults: limits 100, offsets 0, search '', sorted by name, ascending.
  assert.deepEqual(
    sql(`select pg_get_function_arguments('storage.search(text,text,integer,integer,text,text,text)'::regprocedure)`),
    [["prefix text, bucketname text, limits integer DEFAULT 100, offsets integer DEFAULT 0, search text DEFAULT ''::text, sortcolumn text DEFAULT 'name'::text, sortorder text DEFAULT 'asc'::text"]],
  );
  assert.deepEqual(sql(`select name, id is null from storage.search('', 'images', 1500, 0, '${id}')`), [[id, 't']]);

  const level = sqlAs(id, `select name, id is null, metadata->>'mimetype' from storage.search('${id}/', 'images')`);
  assert.deepEqual(level, [
    ['a.png', 'f', 'image/png'],
    ['adir', 't', ''],
    ['b.png', 'f', 'image/png'],
    ['c.png', 'f', 'image/png'],
    ['zdir', 't', ''],
  ]);
  const listed = await a.client.storage.from('images').list(id);
  assert.equal(listed.error, null);
  assert.deepEqual(listed.data.map((e) => [e.name, e.id === null ? 't' : 'f', e.metadata?.mimetype ?? '']), level, 'list answers what storage.search does');

  assert.deepEqual(
    sqlAs(id, `select name from storage.search('${id}/', 'images', 100, 0, '', 'name', 'desc')`).flat(),
    ['zdir', 'c.png', 'b.png', 'adir', 'a.png'],
  );
  // search narrows the names by their start, in any case and literally; limits and offsets page the whole level.
  assert.deepEqual(sqlAs(id, `select name from storage.search('${id}/', 'images', 100, 0, 'B')`).flat(), ['b.png']);
  assert.deepEqual(sqlAs(id, `select name from storage.search('${id}/', 'images', 100, 0, '_')`).flat(), []);
  assert.deepEqual(sqlAs(id, `select name from storage.search('${id}/', 'images', 100, 0, 'adir/')`).flat(), ['adir/deep']);
  assert.deepEqual(sqlAs(id, `select name from storage.search('${id}/', 'images', 2, 1)`).flat(), ['adir', 'b.png']);
  assert.deepEqual(sqlAs(id, `select name from storage.search('${id}/adir/', 'images')`).flat(), ['deep']);
  // An unknown sort column or order falls back to name, ascending (nothing else reaches the query).
  assert.deepEqual(
    sqlAs(id, `select name from storage.search('${id}/', 'images', 100, 0, '', 'name; drop table x', 'sideways')`).flat(),
    ['a.png', 'adir', 'b.png', 'c.png', 'zdir'],
  );
  // By a date, folders first, then the objects in upload order.
  assert.deepEqual(
    sqlAs(id, `select name from storage.search('${id}/', 'images', 100, 0, '', 'created_at', 'asc')`).flat(),
    ['adir', 'zdir', 'b.png', 'a.png', 'c.png'],
  );
});

test('storage.search runs as the caller: RLS on storage.objects decides what it shows', async () => {
  const a = await signedUpUser(undefined, 'search-own');
  const b = await signedUpUser(undefined, 'search-other');
  await uploadAll([`${a.user.id}/mine.png`, `${b.user.id}/theirs.png`]);

  assert.deepEqual(sqlAs(a.user.id, `select name from storage.search('${b.user.id}/', 'images')`), []);
  assert.deepEqual(sqlAs(b.user.id, `select name from storage.search('${b.user.id}/', 'images')`), [['theirs.png']]);
  const top = sqlAs(a.user.id, `select name from storage.search('', 'images', 1500)`).flat();
  assert.deepEqual(top, [a.user.id], 'only their own folder at the top level');
  // No policy on masks for this user's objects: nothing, not an error.
  assert.deepEqual(sqlAs(a.user.id, `select name from storage.search('', 'masks')`), []);
  assert.equal(sqlAs(randomUUID(), `select count(*) from storage.search('${a.user.id}/', 'images')`)[0][0], '0');
});

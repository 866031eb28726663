// /rest/v1 under attack and under load of time: SQL smuggled through casts and names, limits
// that overflow, settings left on a pooled connection, statements past their role's timeout,
// and the gateway's CORS. Fixtures: tests/fixtures/migrations/*_rest_fixtures.sql and
// *_rest_attack_fixtures.sql.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { anonClient, restRequest as rest, signedUpUser, sql, stack } from './support/stack.mjs';

const select = (s) => `/books?select=${encodeURIComponent(s)}`;

test('a cast cannot smuggle a UNION over the catalogs: select=id::text AS x FROM … UNION ALL SELECT rolname FROM pg_roles', async () => {
  const union = await rest(
    select('id::text AS x FROM user_profiles WHERE FALSE UNION ALL SELECT rolname FROM pg_roles UNION ALL SELECT NULL'),
  );
  assert.equal(union.status, 400, union.text);
  for (const role of ['authenticator', 'service_role', 'supabase_auth_admin']) {
    assert.ok(!union.text.includes(role), `no role name comes back: ${union.text}`);
  }

  // Whatever could close the CAST( … ) or start SQL of its own is a PGRST100 parse error.
  for (const attack of [
    'id::text) AS x FROM pg_roles --',
    'id::text;select pg_sleep(10)',
    "id::text'",
    'id::text/**/',
    'id::text--',
    'id::$$',
    'id::int[]',
  ]) {
    const res = await rest(select(attack));
    assert.equal(res.status, 400, `${attack}: ${res.text}`);
    assert.equal(res.json.code, 'PGRST100', attack);
    assert.match(res.json.message, /^"failed to parse select parameter \(.*\)" \(line 1, column \d+\)$/, attack);
  }

  // Real type names still cast, multi-word ones included.
  const cast = await rest(select('id,pages::double precision,published::timestamp with time zone') + '&id=eq.3');
  assert.equal(cast.status, 200, cast.text);
  assert.equal(cast.json.length, 1);
  assert.equal(typeof cast.json[0].pages, 'number');
  assert.match(cast.json[0].published, /^\d{4}-\d{2}-\d{2}T00:00:00/);
  assert.deepEqual(sql('select count(*) from public.books'), [['5']]);
});

test('order, filters, on_conflict, columns, embedding hints and rpc argument names stay names', async () => {
  const attacks = [
    ['order', `/books?order=${encodeURIComponent('id;select pg_sleep(10)')}`],
    ['order by a quoted name', `/books?order=${encodeURIComponent('"id\\" desc, (select 1)--".desc')}`],
    ['filter column', `/books?${encodeURIComponent('id) or (1=1')}=eq.1`],
    ['json path key', `/books?select=id&${encodeURIComponent("title->>'x')) or true--")}=eq.1`],
    ['fts language', `/books?title=${encodeURIComponent("fts(english') or true--).cat")}`],
    ['embedding hint', select('id,authors!"books_author_id_fkey\\") ; drop table books --"(name)')],
    ['embedding name', select('id,"authors(select 1)"(name)')],
    ['columns', `/settings?columns=${encodeURIComponent('owner) select 1 --')}`],
  ];
  for (const [what, path] of attacks) {
    const res = await rest(path, what === 'columns' ? { method: 'POST', body: { owner: 'o', key: 'k' }, key: stack.serviceKey } : {});
    assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${res.text}`);
    assert.ok(res.json?.code, `${what}: a PostgREST error body`);
  }
  // An argument name no parameter has: on GET it is a filter (and not a name), in a body no
  // function matches it.
  const argName = 'b") ; select pg_sleep(10) --';
  const rpcGet = await rest(`/rpc/add_numbers?a=1&${encodeURIComponent(argName)}=2`);
  assert.equal(rpcGet.status, 400, rpcGet.text);
  assert.equal(rpcGet.json.code, 'PGRST100');
  const rpcPost = await rest('/rpc/add_numbers', { method: 'POST', body: { a: 1, [argName]: 2 } });
  assert.equal(rpcPost.status, 404, rpcPost.text);
  assert.equal(rpcPost.json.code, 'PGRST202');
  assert.deepEqual(sql('select count(*) from public.books'), [['5']]);
  assert.deepEqual(sql("select count(*) from public.settings where owner = 'o'"), [['0']]);
});

test('huge limit, offset and Range values are answered, never crash devstack', async () => {
  const max = '9223372036854775807';
  const page = await rest(`/books?select=id&order=id&limit=${max}&offset=1`);
  assert.equal(page.status, 200, page.text);
  assert.deepEqual(page.json.map((b) => b.id), [2, 3, 4, 5]);

  const farOffset = await rest(`/books?select=id&offset=${max}`, { headers: { Range: `${max}-` } });
  assert.equal(farOffset.status, 400, farOffset.text);
  assert.equal(farOffset.json.code, '22003');

  const range = await rest(`/books?select=id&limit=${max}`, { headers: { Range: `0-${max}` } });
  assert.equal(range.status, 200, range.text);
  assert.equal(range.json.length, 5);

  const embedded = await rest(`/authors?select=id,books(id)&books.limit=${max}&books.offset=${max}&id=eq.1`);
  assert.equal(embedded.status, 200, embedded.text);
  assert.deepEqual(embedded.json, [{ id: 1, books: [] }]);

  const tooBig = await rest('/books?limit=99999999999999999999');
  assert.equal(tooBig.status, 400);

  // Still serving.
  const after = await rest('/books?select=id&id=eq.1');
  assert.deepEqual(after.json, [{ id: 1 }]);
});

test('settings a request leaves on its connection (SET, set_config(…, false)) never reach the next request', async () => {
  const victim = randomUUID();
  for (let i = 0; i < 24; i++) {
    const res = await rest('/rpc/leave_session_settings', { method: 'POST', body: { p_sub: victim } });
    assert.equal(res.status, 204, res.text);
  }
  const user = await signedUpUser(undefined, 'leak');
  for (let i = 0; i < 24; i++) {
    const asAnon = await rest('/rpc/request_context', { method: 'POST', body: {} });
    assert.equal(asAnon.status, 200, asAnon.text);
    assert.equal(asAnon.json.uid, null, 'no leaked sub stands in for an anonymous caller');
    assert.equal(asAnon.json.claim_sub, '');
    assert.ok(!asAnon.json.leaked, `a custom setting does not survive its request: ${asAnon.text}`);
    assert.equal(asAnon.json.current_user, 'anon');
    assert.equal(asAnon.json.role, 'anon');

    const asUser = await rest('/rpc/request_context', { method: 'POST', body: {}, token: user.session.access_token });
    assert.equal(asUser.json.uid, user.user.id);
    assert.equal(asUser.json.claim_sub, user.user.id);
    assert.equal(asUser.json.current_user, 'authenticated');
  }
});

test("a statement past its role's timeout fails as PostgREST fails it; a function's own SET statement_timeout wins", async () => {
  const user = await signedUpUser(undefined, 'timeout');
  const call = (fn, seconds, token) =>
    rest(`/rpc/${fn}`, { method: 'POST', body: { seconds }, token });
  const timed = async (promise) => {
    const started = Date.now();
    const res = await promise;
    return { ...res, seconds: (Date.now() - started) / 1000 };
  };

  const context = await rest('/rpc/request_context', { method: 'POST', body: {} });
  assert.equal(context.json.statement_timeout, '3s', "anon runs under Supabase's 3 s");
  const userContext = await rest('/rpc/request_context', { method: 'POST', body: {}, token: user.session.access_token });
  assert.equal(userContext.json.statement_timeout, '8s', "authenticated under Supabase's 8 s");

  const anonSlow = await timed(call('sleep_for', 3.5));
  assert.equal(anonSlow.status, 500, anonSlow.text);
  assert.deepEqual(anonSlow.json, {
    code: '57014',
    details: null,
    hint: null,
    message: 'canceling statement due to statement timeout',
  });
  assert.ok(anonSlow.seconds >= 2.9 && anonSlow.seconds < 5, `cancelled at 3 s, not ${anonSlow.seconds}`);

  const userOk = await call('sleep_for', 3.5, user.session.access_token);
  assert.equal(userOk.status, 200, userOk.text);

  const userSlow = await timed(call('sleep_for', 8.5, user.session.access_token));
  assert.equal(userSlow.status, 500, userSlow.text);
  assert.equal(userSlow.json.code, '57014');
  assert.ok(userSlow.seconds >= 7.9 && userSlow.seconds < 10, `cancelled at 8 s, not ${userSlow.seconds}`);

  const patient = await call('sleep_for_patiently', 8.5, user.session.access_token);
  assert.equal(patient.status, 200, patient.text);
  assert.equal(patient.json, true);

  // The timeout ends the request, not the pool: the next one is served at once.
  const after = await timed(rest('/books?select=id&id=eq.1'));
  assert.deepEqual(after.json, [{ id: 1 }]);
  assert.ok(after.seconds < 2);
});

test("CORS is the gateway's: any origin as *, never with credentials", async () => {
  const origin = 'https://evil.example';
  for (const path of ['/rest/v1/books', '/auth/v1/settings']) {
    const preflight = await fetch(`${stack.url}${path}`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'apikey, authorization, x-client-info' },
    });
    assert.ok(preflight.status < 300, `${path}: ${preflight.status}`);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.equal(preflight.headers.get('access-control-allow-credentials'), null);
    assert.match(preflight.headers.get('access-control-allow-headers'), /apikey/);

    const get = await fetch(`${stack.url}${path}`, { headers: { Origin: origin, apikey: stack.anonKey } });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('access-control-allow-origin'), '*');
    assert.equal(get.headers.get('access-control-allow-credentials'), null);
  }
  const exposed = await fetch(`${stack.restUrl}/books?select=id`, { headers: { Origin: origin, apikey: stack.anonKey } });
  assert.match(exposed.headers.get('access-control-expose-headers'), /content-range/i);

  // supabase-js in a browser keeps working (it sends no cookies).
  const { data, error } = await anonClient().from('books').select('id').eq('id', 1);
  assert.deepEqual([error, data], [null, [{ id: 1 }]]);
});

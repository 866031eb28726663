// devstack Realtime (seed 002 step 5) with the official supabase-js: postgres_changes on
// segmentation_results reach the task's owner as they are committed — the owner's INSERT and
// process-webhook's UPDATEs — and no one else, because Postgres's RLS decides, evaluated as each
// subscriber. Joins that Realtime refuses are refused with Realtime's words.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createClient } from '@supabase/supabase-js';
import { anonClient, signJwt, signedUpUser, stack } from './support/stack.mjs';
import { call } from './support/functions.mjs';

const clients = [];
after(async () => {
  await Promise.all(clients.map((c) => c.removeAllChannels()));
});

const devVars = process.env.DEVSTACK_DEV_VARS;
assert.ok(devVars, 'scripts/test.sh sets DEVSTACK_DEV_VARS to the secrets of the functions under test');
const webhookKey = /^WEBHOOK_API_KEYS="([^",]*)/m.exec(readFileSync(devVars, 'utf8'))?.[1];
assert.ok(webhookKey, `${devVars} has WEBHOOK_API_KEYS`);

/** What the inference backend reports about a task, through process-webhook (X-API-Key). */
async function report(task, body) {
  const res = await call(`${stack.functionsUrl}/process-webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': webhookKey },
    body: JSON.stringify({ task_id: task, ...body }),
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return Date.now();
}

/** Files a task as `owner` through /rest/v1; returns its id and when the insert answered. */
async function fileTask(owner, prompt = 'the cat') {
  const { data, error } = await owner.client
    .from('segmentation_results')
    .insert({ source_image_url: 'https://images.example.test/cat.png', text_prompt: prompt })
    .select('id')
    .single();
  assert.equal(error, null);
  return { id: data.id, at: Date.now() };
}

/**
 * Subscribes `client` to postgres_changes; resolves once Realtime replied to the join. `events`
 * collects each change as realtime-js hands it over, `system` the server's system messages.
 */
async function subscribe(client, binding = {}, name = `rt-${Math.random().toString(36).slice(2)}`) {
  clients.push(client);
  const events = [];
  const system = [];
  const statuses = [];
  const channel = client
    .channel(name)
    .on('postgres_changes', { event: '*', schema: 'public', table: 'segmentation_results', ...binding }, (change) =>
      events.push({ ...change, receivedAt: Date.now() }),
    )
    .on('system', {}, (message) => system.push(message));
  const joined = await new Promise((resolve) => {
    channel.subscribe((status, err) => {
      statuses.push(status);
      if (status !== 'CLOSED') resolve({ status, err });
    });
  });
  return { channel, events, system, statuses, joined };
}

/** Waits until `check()` holds, polling the collected events (not the server). */
async function until(what, check, ms = 3000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/**
 * A client acting with the token `accessToken()` returns (supabase-js's third-party token
 * option), once realtime-js has fetched it, so that the join carries it.
 */
async function clientWithToken(accessToken, options = {}) {
  const client = createClient(stack.url, stack.anonKey, { accessToken: async () => accessToken(), ...options });
  await client.realtime.setAuth();
  return client;
}

const quietly = (ms) => new Promise((r) => setTimeout(r, ms));

const ofTask = (events, id) => events.filter((e) => e.new?.id === id || e.old?.id === id);

test('the owner receives the INSERT of their task and the UPDATEs process-webhook makes within 1 s; another user and anon receive nothing of it', async () => {
  const a = await signedUpUser(undefined, 'rt-owner');
  const b = await signedUpUser(undefined, 'rt-other');
  const owner = await subscribe(a.client);
  const other = await subscribe(b.client);
  const anon = await subscribe(anonClient());
  for (const s of [owner, other, anon]) assert.equal(s.joined.status, 'SUBSCRIBED', String(s.joined.err));
  await until('Realtime to confirm the owner is subscribed', () => owner.system.some((m) => m.message === 'Subscribed to PostgreSQL'));

  const task = await fileTask(a);
  await until('the INSERT', () => ofTask(owner.events, task.id).length === 1);
  const [insert] = ofTask(owner.events, task.id);
  assert.ok(insert.receivedAt - task.at <= 1000, `INSERT after ${insert.receivedAt - task.at} ms`);
  assert.equal(insert.eventType, 'INSERT');
  assert.equal(insert.schema, 'public');
  assert.equal(insert.table, 'segmentation_results');
  assert.match(insert.commit_timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(insert.errors, null);
  assert.deepEqual(insert.old, {});
  assert.equal(insert.new.user_id, a.user.id);
  assert.equal(insert.new.status, 'pending');
  assert.equal(insert.new.text_prompt, 'the cat');
  assert.deepEqual(insert.new.metadata, {}, 'jsonb arrives as JSON');
  assert.equal(insert.new.credits_charged, null);

  const processingAt = await report(task.id, { status: 'processing' });
  await until('the processing UPDATE', () => ofTask(owner.events, task.id).length === 2);
  const processing = ofTask(owner.events, task.id)[1];
  assert.ok(processing.receivedAt - processingAt <= 1000, `UPDATE after ${processing.receivedAt - processingAt} ms`);
  assert.equal(processing.eventType, 'UPDATE');
  assert.equal(processing.new.status, 'processing');
  assert.equal(processing.old.id, task.id, 'the old record carries the key');

  const doneAt = await report(task.id, {
    status: 'done',
    mask_url: 'https://masks.example.test/cat-mask.png',
    labels: [{ label: 'cat', score: 0.97 }],
  });
  // The webhook's transaction may touch the row more than once; the last change is the row as committed.
  await until('the done UPDATE', () => ofTask(owner.events, task.id).at(-1)?.new.credits_charged === 1);
  const done = ofTask(owner.events, task.id).at(-1);
  assert.ok(done.receivedAt - doneAt <= 1000, `UPDATE after ${done.receivedAt - doneAt} ms`);
  assert.equal(done.new.status, 'done');
  assert.equal(done.new.mask_image_url, 'https://masks.example.test/cat-mask.png');
  assert.deepEqual(done.new.labels, [{ label: 'cat', score: 0.97 }]);
  assert.equal(done.new.credits_charged, 1);

  await quietly(300);
  assert.deepEqual(ofTask(other.events, task.id), [], 'user B receives nothing of A');
  assert.deepEqual(other.events, []);
  // anon may not select the table at all: Realtime tells it so for each change, with no row.
  assert.ok(anon.events.length >= 3, 'anon is told of each change');
  for (const e of anon.events) {
    assert.deepEqual([e.new, e.old, e.errors], [{}, {}, ['Error 401: Unauthorized']]);
  }
});

test('a filter id=eq.<task> delivers only that task; in.(…) those listed', async () => {
  const a = await signedUpUser(undefined, 'rt-filter');
  const first = await fileTask(a, 'first');
  const second = await fileTask(a, 'second');
  const third = await fileTask(a, 'third');
  const one = await subscribe(a.client, { event: 'UPDATE', filter: `id=eq.${first.id}` });
  const two = await subscribe(a.client, { event: 'UPDATE', filter: `id=in.(${first.id},${third.id})` });
  assert.equal(one.joined.status, 'SUBSCRIBED');
  assert.equal(two.joined.status, 'SUBSCRIBED');

  for (const t of [second, first, third]) await report(t.id, { status: 'processing' });
  await until('the filtered UPDATEs', () => one.events.length === 1 && two.events.length === 2);
  await quietly(300);
  assert.deepEqual(one.events.map((e) => e.new.id), [first.id]);
  assert.deepEqual(two.events.map((e) => e.new.id), [first.id, third.id]);
});

test('a DELETE reaches its subscriber with only the key of the row, as Realtime sends deletes under RLS', async () => {
  const a = await signedUpUser(undefined, 'rt-delete');
  const task = await fileTask(a);
  const s = await subscribe(a.client, { event: 'DELETE' });
  const { error } = await a.client.from('segmentation_results').delete().eq('id', task.id);
  assert.equal(error, null);
  await until('the DELETE', () => s.events.length === 1);
  assert.equal(s.events[0].eventType, 'DELETE');
  assert.deepEqual(s.events[0].old, { id: task.id });
  assert.deepEqual(s.events[0].new, {});
});

test('a table outside the supabase_realtime publication is refused with Realtime\'s error', async () => {
  const a = await signedUpUser(undefined, 'rt-nopub');
  const s = await subscribe(a.client, { table: 'projects' });
  await until('the system message', () => s.system.length > 0);
  assert.deepEqual(s.system[0], {
    extension: 'postgres_changes',
    status: 'error',
    message:
      'Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [event: *, schema: public, table: projects, filters: [], select: nil]',
    channel: s.channel.subTopic,
  });
  const { error } = await a.client.from('projects').insert({ name: 'not published' });
  assert.equal(error, null);
  await quietly(500);
  assert.deepEqual(s.events, []);
});

test('an invalid or expired token is refused at join with Realtime\'s errors', async () => {
  const withToken = (token) => clientWithToken(() => token);
  const forged = signJwt({ sub: 'x', role: 'authenticated', exp: Math.floor(Date.now() / 1000) + 60 }, 'not-the-project-secret-not-the-project');
  const refused = await subscribe(await withToken(forged));
  assert.equal(refused.joined.status, 'CHANNEL_ERROR');
  assert.equal(refused.joined.err.message, 'JwtSignatureError: Failed to validate JWT signature');

  const malformed = await subscribe(await withToken('not-a-jwt'));
  assert.equal(malformed.joined.err?.message, 'MalformedJWT: The token provided is not a valid JWT');

  const expired = signJwt({ sub: 'x', role: 'authenticated', exp: Math.floor(Date.now() / 1000) - 10 });
  const late = await subscribe(await withToken(expired));
  assert.match(late.joined.err?.message ?? '', /^InvalidJWTToken: Token has expired 1\d seconds ago$/);

  const noExp = signJwt({ sub: 'x', role: 'authenticated' });
  const partial = await subscribe(await withToken(noExp));
  assert.equal(partial.joined.err?.message, 'InvalidJWTToken: Fields `role` and `exp` are required in JWT');
  for (const s of [refused, malformed, late, partial]) s.channel.unsubscribe();
});

test('a subscriber whose token is refreshed keeps receiving; RLS is evaluated with the new token', async () => {
  const a = await signedUpUser(undefined, 'rt-refresh');
  const s = await subscribe(a.client);
  await until('the first confirmation', () => s.system.length === 1);
  await quietly(1100); // a token issued in another second differs
  const { error } = await a.client.auth.refreshSession();
  assert.equal(error, null);
  await until('Realtime to take the new token', () => s.system.filter((m) => m.message === 'Subscribed to PostgreSQL').length === 2);
  const task = await fileTask(a);
  await until('the INSERT after the refresh', () => ofTask(s.events, task.id).length === 1);

  // The same channel handed user B's token sees B's rows from then on, and no longer A's.
  const b = await signedUpUser(undefined, 'rt-refresh-b');
  let token = a.session.access_token;
  const switching = await clientWithToken(() => token);
  const sw = await subscribe(switching);
  const before = await fileTask(a, 'before');
  await until('A\'s row under A\'s token', () => ofTask(sw.events, before.id).length === 1);
  token = b.session.access_token;
  await switching.realtime.setAuth();
  await until('Realtime to take B\'s token', () => sw.system.filter((m) => m.message === 'Subscribed to PostgreSQL').length === 2);
  const ofA = await fileTask(a, 'after');
  const ofB = await fileTask(b, 'of b');
  await until('B\'s row under B\'s token', () => ofTask(sw.events, ofB.id).length === 1);
  await quietly(300);
  assert.deepEqual(ofTask(sw.events, ofA.id), [], 'A\'s rows are no longer delivered');
});

test('a token that runs out ends the subscription with Realtime\'s error', async () => {
  const a = await signedUpUser(undefined, 'rt-expiry');
  const exp = Math.floor(Date.now() / 1000) + 2;
  const token = signJwt({ sub: a.user.id, role: 'authenticated', aud: 'authenticated', exp });
  const s = await subscribe(await clientWithToken(() => token));
  assert.equal(s.joined.status, 'SUBSCRIBED');
  const task = await fileTask(a);
  await until('a change while the token is valid', () => ofTask(s.events, task.id).length === 1);
  await until('the expiry', () => s.system.some((m) => m.extension === 'system'), 5000);
  const ending = s.system.find((m) => m.extension === 'system');
  assert.equal(ending.status, 'error');
  assert.match(ending.message, /^Token has expired \d seconds ago$/);
  await until('the channel to close', () => s.statuses.includes('CLOSED'));
  s.channel.unsubscribe();
  const later = await fileTask(a, 'later');
  await quietly(500);
  assert.deepEqual(ofTask(s.events, later.id), []);
});

test('a subscriber that reconnects receives the changes after it, not those made while it was away', async () => {
  const a = await signedUpUser(undefined, 'rt-reconnect');
  const first = await subscribe(a.client, {}, 'rt-reconnect');
  const seen = await fileTask(a, 'seen');
  await until('the first INSERT', () => ofTask(first.events, seen.id).length === 1);
  await a.client.removeChannel(first.channel);
  await a.client.realtime.disconnect();

  const missed = await fileTask(a, 'missed while away');
  await quietly(300);

  const again = await subscribe(a.client, {}, 'rt-reconnect');
  assert.equal(again.joined.status, 'SUBSCRIBED');
  const after = await fileTask(a, 'after reconnecting');
  await until('the INSERT after reconnecting', () => ofTask(again.events, after.id).length === 1);
  await quietly(300);
  assert.deepEqual(ofTask(again.events, missed.id), [], 'Realtime does not replay');
  assert.deepEqual(ofTask(first.events, missed.id), []);
});

test('serializer 1.0.0 carries the same changes', async () => {
  const a = await signedUpUser(undefined, 'rt-v1');
  const { data } = await a.client.auth.getSession();
  const client = await clientWithToken(() => data.session.access_token, { realtime: { vsn: '1.0.0' } });
  assert.equal(client.realtime.vsn, '1.0.0');
  const s = await subscribe(client, { event: 'INSERT' });
  const task = await fileTask(a);
  await until('the INSERT', () => ofTask(s.events, task.id).length === 1);
  assert.equal(s.events[0].new.text_prompt, 'the cat');
});

test('the socket answers heartbeats, unknown topics and leaves as Phoenix does, and wants a project key', async () => {
  const url = `${stack.url.replace(/^http/, 'ws')}/realtime/v1/websocket?apikey=${stack.anonKey}&vsn=2.0.0`;
  const ws = new WebSocket(url);
  const replies = [];
  ws.onmessage = (m) => replies.push(JSON.parse(m.data));
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  ws.send(JSON.stringify([null, '1', 'phoenix', 'heartbeat', {}]));
  ws.send(JSON.stringify([null, '2', 'realtime:never-joined', 'broadcast', {}]));
  ws.send(JSON.stringify(['3', '3', 'realtime:', 'phx_join', {}]));
  ws.send(JSON.stringify(['4', '4', 'realtime:room', 'phx_join', { config: { postgres_changes: [] } }]));
  ws.send(JSON.stringify(['4', '5', 'realtime:room', 'phx_leave', {}]));
  await until('five replies', () => replies.length === 5);
  ws.close();
  assert.deepEqual(replies, [
    [null, '1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }],
    [null, '2', 'realtime:never-joined', 'phx_reply', { status: 'error', response: { reason: 'unmatched topic' } }],
    ['3', '3', 'realtime:', 'phx_reply', { status: 'error', response: { reason: 'TopicNameRequired: You must provide a topic name' } }],
    ['4', '4', 'realtime:room', 'phx_reply', { status: 'ok', response: { postgres_changes: [] } }],
    ['4', '5', 'realtime:room', 'phx_reply', { status: 'ok', response: {} }],
  ]);

  const noKey = await fetch(`${stack.url}/realtime/v1/websocket?vsn=2.0.0`);
  assert.equal(noKey.status, 401);
  assert.deepEqual(await noKey.json(), { message: 'No API key found in request' });
});

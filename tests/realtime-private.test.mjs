// devstack Realtime's private channels through the official supabase-js client, authorized as
// Supabase Realtime authorizes them: by RLS policies on realtime.messages (the fixture
// 20261207510000_realtime_private_policies.sql), evaluated as the channel's role and claims
// with realtime.topic() set — SELECT to join, INSERT to send broadcast or track presence — and
// broadcasts from the database (realtime.send, realtime.broadcast_changes) reaching them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';
import { signJwt, signedUpUser, sql, stack } from './support/stack.mjs';
import { join, until } from './support/realtime.mjs';

const clients = [];
after(async () => {
  await Promise.all(clients.map((c) => c.removeAllChannels()));
});

/** A client acting with `token()` (supabase-js's third-party token option), fetched before any join. */
async function clientWithToken(token) {
  const c = createClient(stack.url, stack.anonKey, { accessToken: async () => token() });
  await c.realtime.setAuth();
  clients.push(c);
  return c;
}

const asUser = (user) => clientWithToken(() => user.session.access_token);
const suffix = () => Math.random().toString(36).slice(2);

const quiet = () => new Promise((r) => setTimeout(r, 400));
const refusal = (topic) => new RegExp(`^Unauthorized: You do not have permissions to read from this Channel topic: ${topic}$`);
const errorText = (joined) => String(joined.err?.message ?? joined.err);

test('a private channel is joined only when a SELECT policy allows it; another user\'s topic and anon are refused', async () => {
  const a = await signedUpUser(undefined, 'rtp-owner');
  const b = await signedUpUser(undefined, 'rtp-other');
  const topic = `user:${a.user.id}`;
  const own = (await asUser(a)).channel(topic, { config: { private: true } });
  assert.equal((await join(own)).status, 'SUBSCRIBED');

  const other = await join((await asUser(b)).channel(topic, { config: { private: true } }));
  assert.equal(other.status, 'CHANNEL_ERROR');
  assert.match(errorText(other), refusal(topic));

  const anon = createClient(stack.url, stack.anonKey, { auth: { persistSession: false } });
  clients.push(anon);
  const refused = await join(anon.channel(topic, { config: { private: true } }));
  assert.equal(refused.status, 'CHANNEL_ERROR');
  assert.match(errorText(refused), refusal(topic));

  // The check leaves nothing behind in realtime.messages.
  assert.deepEqual(sql(`select count(*) from realtime.messages where topic = '${topic}'`), [['0']]);
});

test('broadcast and presence on a private channel need an INSERT policy; a refused send reaches no one', async () => {
  const a = await signedUpUser(undefined, 'rtp-send');
  const b = await signedUpUser(undefined, 'rtp-read');
  // Allowed: the owner's topic, from two of the owner's sockets.
  const topic = `user:${a.user.id}`;
  const got = [];
  const listener = (await asUser(a)).channel(topic, { config: { private: true } })
    .on('broadcast', { event: 'e' }, (m) => got.push(m));
  const sender = (await asUser(a)).channel(topic, { config: { private: true, broadcast: { ack: true }, presence: { key: 'a' } } });
  await join(listener);
  await join(sender);
  assert.equal(await sender.send({ type: 'broadcast', event: 'e', payload: { n: 1 } }), 'ok');
  await until('the owner\'s other socket', () => got.length === 1);
  assert.deepEqual(got[0].payload, { n: 1 });
  assert.equal(await sender.track({ here: true }), 'ok');

  // Readable but not writable: a notice both may join, neither may send to.
  const notice = `notice:${suffix()}`;
  const heard = [];
  const reader = (await asUser(b)).channel(notice, { config: { private: true } })
    .on('broadcast', { event: 'e' }, (m) => heard.push(m));
  const writer = (await asUser(a)).channel(notice, { config: { private: true, broadcast: { ack: true, self: true } } })
    .on('broadcast', { event: 'e' }, (m) => heard.push(m));
  assert.equal((await join(reader)).status, 'SUBSCRIBED');
  assert.equal((await join(writer)).status, 'SUBSCRIBED');
  assert.equal(await writer.send({ type: 'broadcast', event: 'e', payload: { n: 2 } }, { timeout: 1000 }), 'timed out', 'Realtime drops it unanswered');
  assert.equal(await writer.track({ here: true }), 'error');
  await quiet();
  assert.deepEqual(heard, []);
});

test('tokens: an expired one is refused at join; a refreshed one is authorized anew, and one the policies refuse ends the channel', async () => {
  const a = await signedUpUser(undefined, 'rtp-token');
  const b = await signedUpUser(undefined, 'rtp-token-b');
  const topic = `user:${a.user.id}`;
  const expired = signJwt({ sub: a.user.id, role: 'authenticated', aud: 'authenticated', exp: Math.floor(Date.now() / 1000) - 10 });
  const late = await join((await clientWithToken(() => expired)).channel(topic, { config: { private: true } }));
  assert.equal(late.status, 'CHANNEL_ERROR');
  assert.match(errorText(late), /^InvalidJWTToken: Token has expired 1\d seconds ago$/);

  let token = a.session.access_token;
  const switching = await clientWithToken(() => token);
  const system = [];
  const statuses = [];
  const channel = switching.channel(topic, { config: { private: true } }).on('system', {}, (m) => system.push(m));
  assert.equal((await join(channel, statuses)).status, 'SUBSCRIBED');
  token = b.session.access_token;
  await switching.realtime.setAuth();
  await until('the channel to end', () => system.some((m) => m.extension === 'system'));
  const ending = system.find((m) => m.extension === 'system');
  assert.equal(ending.status, 'error');
  assert.match(ending.message, refusal(topic));
  await until('the channel to close', () => statuses.includes('CLOSED'));
});

test('a public channel of the same name is another channel, open as before', async () => {
  const a = await signedUpUser(undefined, 'rtp-public');
  const topic = `user:${a.user.id}`;
  const got = [];
  const priv = (await asUser(a)).channel(topic, { config: { private: true } }).on('broadcast', { event: 'e' }, (m) => got.push(m));
  await join(priv);
  const anon = createClient(stack.url, stack.anonKey, { auth: { persistSession: false } });
  clients.push(anon);
  const pub = anon.channel(topic, { config: { broadcast: { ack: true } } });
  assert.equal((await join(pub)).status, 'SUBSCRIBED');
  assert.equal(await pub.send({ type: 'broadcast', event: 'e', payload: {} }), 'ok');
  await quiet();
  assert.deepEqual(got, []);
});

test('realtime.send from the database reaches the private channel (and only a public one when not private)', async () => {
  const a = await signedUpUser(undefined, 'rtp-db');
  const topic = `user:${a.user.id}`;
  const got = { priv: [], pub: [] };
  const priv = (await asUser(a)).channel(topic, { config: { private: true } }).on('broadcast', { event: 'ping' }, (m) => got.priv.push(m));
  const pub = (await asUser(a)).channel(topic).on('broadcast', { event: 'ping' }, (m) => got.pub.push(m));
  await join(priv);
  await join(pub);
  sql(`select realtime.send('{"n": 1}'::jsonb, 'ping', '${topic}')`);
  await until('the private channel', () => got.priv.length === 1);
  assert.equal(got.priv[0].event, 'ping');
  assert.equal(got.priv[0].payload.n, 1);
  assert.match(got.priv[0].payload.id, /^[0-9a-f-]{36}$/, 'realtime.send adds the message id');
  sql(`select realtime.send('{"n": 2}'::jsonb, 'ping', '${topic}', false)`);
  await until('the public channel', () => got.pub.length === 1);
  assert.equal(got.pub[0].payload.n, 2);
  await quiet();
  assert.equal(got.priv.length, 1);
  assert.equal(got.pub.length, 1);
});

test('realtime.broadcast_changes in a row trigger sends each change to the readers of its topic', async () => {
  const b = await signedUpUser(undefined, 'rtp-changes');
  const room = suffix();
  const got = [];
  const reader = (await asUser(b)).channel(`notice:${room}`, { config: { private: true } })
    .on('broadcast', { event: '*' }, (m) => got.push(m));
  assert.equal((await join(reader)).status, 'SUBSCRIBED');
  sql(`insert into public.realtime_notices (room, body) values ('${room}', 'hello')`);
  sql(`update public.realtime_notices set body = 'bye' where room = '${room}'`);
  await until('both changes', () => got.length === 2);
  assert.deepEqual(got.map((m) => m.event), ['INSERT', 'UPDATE']);
  assert.equal(got[0].payload.operation, 'INSERT');
  assert.equal(got[0].payload.table, 'realtime_notices');
  assert.equal(got[0].payload.schema, 'public');
  assert.equal(got[0].payload.record.body, 'hello');
  assert.equal(got[0].payload.old_record, null);
  assert.equal(got[1].payload.old_record.body, 'hello');
  assert.equal(got[1].payload.record.body, 'bye');
});

test('the REST broadcast API relays a private message only when the caller\'s INSERT policy allows it', async () => {
  const a = await signedUpUser(undefined, 'rtp-rest');
  const b = await signedUpUser(undefined, 'rtp-rest-b');
  const topic = `user:${a.user.id}`;
  const got = [];
  const channel = (await asUser(a)).channel(topic, { config: { private: true } }).on('broadcast', { event: 'news' }, (m) => got.push(m));
  await join(channel);
  const post = (token, payload) =>
    fetch(`${stack.url}/realtime/v1/api/broadcast`, {
      method: 'POST',
      headers: { apikey: stack.anonKey, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ topic, event: 'news', payload, private: true }] }),
    });
  assert.equal((await post(b.session.access_token, { from: 'b' })).status, 202);
  assert.equal((await post(stack.anonKey, { from: 'anon' })).status, 202);
  assert.equal((await post(a.session.access_token, { from: 'a' })).status, 202);
  await until('the owner\'s message', () => got.length === 1);
  await quiet();
  assert.deepEqual(got.map((m) => m.payload), [{ from: 'a' }], 'only the message the policies allow is relayed');
});

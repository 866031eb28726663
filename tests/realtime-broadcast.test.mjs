// devstack Realtime Broadcast and Presence through the official supabase-js client, as
// Supabase Realtime relays them: broadcasts between the members of a channel (`self`, `ack`),
// the REST broadcast API, presence track/untrack with sync, join and leave, and private
// channels refused as Realtime refuses a join its policies do not allow.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';
import { stack } from './support/stack.mjs';

const clients = [];
after(async () => {
  await Promise.all(clients.map((c) => c.removeAllChannels()));
});

function client() {
  const c = createClient(stack.url, stack.anonKey, { auth: { persistSession: false } });
  clients.push(c);
  return c;
}

const room = () => `room-${Math.random().toString(36).slice(2)}`;

/** Joins `channel`; resolves with the first status that is not CLOSED. */
function join(channel) {
  return new Promise((resolve) => {
    channel.subscribe((status, err) => {
      if (status !== 'CLOSED') resolve({ status, err });
    });
  });
}

async function until(what, check, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const quiet = () => new Promise((r) => setTimeout(r, 300));

test('a broadcast reaches the other members; the sender only with self', async () => {
  const name = room();
  const got = { a: [], b: [], c: [] };
  const a = client().channel(name).on('broadcast', { event: 'cursor' }, (m) => got.a.push(m));
  const b = client().channel(name, { config: { broadcast: { self: true } } }).on('broadcast', { event: 'cursor' }, (m) => got.b.push(m));
  const c = client().channel(room()).on('broadcast', { event: 'cursor' }, (m) => got.c.push(m));
  for (const ch of [a, b, c]) assert.equal((await join(ch)).status, 'SUBSCRIBED');

  assert.equal(await a.send({ type: 'broadcast', event: 'cursor', payload: { x: 1 } }), 'ok');
  await until('b to see a\'s message', () => got.b.length === 1);
  assert.deepEqual(got.b[0], { type: 'broadcast', event: 'cursor', payload: { x: 1 } });

  await b.send({ type: 'broadcast', event: 'cursor', payload: { x: 2 } });
  await until('both to see b\'s message', () => got.a.length === 1 && got.b.length === 2);
  assert.deepEqual(got.a[0].payload, { x: 2 });

  await a.send({ type: 'broadcast', event: 'other', payload: {} });
  await quiet();
  assert.equal(got.a.length, 1, 'a is not sent its own message without self');
  assert.equal(got.b.length, 2, 'b listens to cursor only');
  assert.deepEqual(got.c, [], 'another channel sees nothing');
});

test('ack: the send resolves once the server relayed it', async () => {
  const name = room();
  const got = [];
  const listener = client().channel(name).on('broadcast', { event: 'e' }, (m) => got.push(m));
  const sender = client().channel(name, { config: { broadcast: { ack: true } } });
  await join(listener);
  await join(sender);
  assert.equal(await sender.send({ type: 'broadcast', event: 'e', payload: { n: 1 } }), 'ok');
  await until('the listener', () => got.length === 1);
});

test('the REST broadcast API: 202, relayed to the channel; bad batches are 422', async () => {
  const name = room();
  const got = [];
  const listener = client().channel(name).on('broadcast', { event: 'news' }, (m) => got.push(m));
  await join(listener);

  const post = (body, headers = {}) =>
    fetch(`${stack.url}/realtime/v1/api/broadcast`, {
      method: 'POST',
      headers: { apikey: stack.anonKey, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const sent = await post({ messages: [{ topic: name, event: 'news', payload: { v: 1 } }] });
  assert.equal(sent.status, 202);
  await until('the REST message', () => got.length === 1);
  assert.deepEqual(got[0], { type: 'broadcast', event: 'news', payload: { v: 1 } });

  // What realtime-js's send() does before a channel is joined.
  const unjoined = client().channel(name);
  assert.equal(await unjoined.send({ type: 'broadcast', event: 'news', payload: { v: 2 } }), 'ok');
  await until('the fallback message', () => got.length === 2);

  // httpSend(): the single-message endpoint.
  const single = client().channel(name);
  assert.deepEqual(await single.httpSend('news', { v: 3 }), { success: true });
  await until('the single message', () => got.length === 3);

  const blank = await post({ messages: [] });
  assert.equal(blank.status, 422);
  assert.deepEqual(await blank.json(), { errors: { messages: ["can't be blank"] } });
  const invalid = await post({ messages: [{ topic: name, event: 'news', payload: 'text' }] });
  assert.equal(invalid.status, 422);
  assert.deepEqual(await invalid.json(), { errors: { messages: [{ payload: ['is invalid'] }] } });

  const noKey = await fetch(`${stack.url}/realtime/v1/api/broadcast`, { method: 'POST', body: '{}' });
  assert.equal(noKey.status, 401);

  // A private message is not relayed to the public channel of that name.
  assert.equal((await post({ messages: [{ topic: name, event: 'news', payload: {}, private: true }] })).status, 202);
  await quiet();
  assert.equal(got.length, 3);
});

test('presence: sync on join, join and leave diffs, untrack, and a leave when the socket goes', async () => {
  const name = room();
  const events = { a: [], b: [] };
  const first = client();
  const second = client();
  const a = first.channel(name, { config: { presence: { key: 'alice' } } });
  a.on('presence', { event: 'sync' }, () => events.a.push(['sync']))
    .on('presence', { event: 'join' }, ({ key, newPresences }) => events.a.push(['join', key, newPresences.map((p) => p.status)]))
    .on('presence', { event: 'leave' }, ({ key, leftPresences }) => events.a.push(['leave', key, leftPresences.map((p) => p.status)]));
  assert.equal((await join(a)).status, 'SUBSCRIBED');
  assert.equal(await a.track({ status: 'online' }), 'ok');
  await until('alice to see herself', () => a.presenceState().alice?.length === 1);
  assert.equal(a.presenceState().alice[0].status, 'online');
  assert.ok(a.presenceState().alice[0].presence_ref, 'each presence has its ref');

  const b = second.channel(name, { config: { presence: { key: 'bob' } } });
  b.on('presence', { event: 'sync' }, () => events.b.push(['sync']));
  await join(b);
  // Bob's join brings him the state as it is.
  await until('bob to be synced', () => b.presenceState().alice?.length === 1);
  assert.deepEqual(Object.keys(b.presenceState()), ['alice']);

  await b.track({ status: 'busy' });
  await until('alice to see bob join', () => a.presenceState().bob?.length === 1);
  assert.ok(events.a.some(([e, key, s]) => e === 'join' && key === 'bob' && s[0] === 'busy'));

  // Tracking again replaces bob's presence, it does not add one.
  await b.track({ status: 'away' });
  await until('alice to see bob away', () => a.presenceState().bob?.[0]?.status === 'away');
  assert.equal(a.presenceState().bob.length, 1);

  assert.equal(await b.untrack(), 'ok');
  await until('alice to see bob leave', () => !a.presenceState().bob);
  assert.ok(events.a.some(([e, key]) => e === 'leave' && key === 'bob'));

  await b.track({ status: 'back' });
  await until('bob back', () => a.presenceState().bob?.[0]?.status === 'back');
  await second.removeAllChannels();
  await until('bob gone with his channel', () => !a.presenceState().bob);
  assert.deepEqual(Object.keys(a.presenceState()), ['alice']);
});

test('a presence track that is not an object is refused with Realtime\'s reason', async () => {
  const socket = new WebSocket(`${stack.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${stack.anonKey}&vsn=1.0.0`);
  const frames = [];
  socket.onmessage = (m) => frames.push(JSON.parse(m.data));
  await new Promise((r) => (socket.onopen = r));
  const topic = `realtime:${room()}`;
  socket.send(JSON.stringify({ topic, event: 'phx_join', payload: { config: { presence: { key: 'k', enabled: true } } }, ref: '1', join_ref: '1' }));
  await until('the join reply', () => frames.some((f) => f.ref === '1'));
  await until('the presence state', () => frames.some((f) => f.event === 'presence_state'));
  socket.send(JSON.stringify({ topic, event: 'presence', payload: { type: 'presence', event: 'track', payload: 'nope' }, ref: '2', join_ref: '1' }));
  await until('the track reply', () => frames.some((f) => f.ref === '2'));
  assert.deepEqual(frames.find((f) => f.ref === '2').payload, { status: 'error', response: { reason: 'Presence track payload must be a map' } });
  socket.send(JSON.stringify({ topic, event: 'presence', payload: { type: 'presence', event: 'dance' }, ref: '3', join_ref: '1' }));
  await until('the unknown event reply', () => frames.some((f) => f.ref === '3'));
  assert.equal(frames.find((f) => f.ref === '3').payload.status, 'error');
  // An unjoined topic is unmatched.
  socket.send(JSON.stringify({ topic: 'realtime:elsewhere', event: 'broadcast', payload: { type: 'broadcast', event: 'x', payload: {} }, ref: '4' }));
  await until('the unmatched reply', () => frames.some((f) => f.ref === '4'));
  assert.deepEqual(frames.find((f) => f.ref === '4').payload, { status: 'error', response: { reason: 'unmatched topic' } });
  socket.close();
});

test('private channels are refused as Realtime refuses a join its policies do not allow', async () => {
  const name = room();
  const channel = client().channel(name, { config: { private: true } });
  const joined = await join(channel);
  assert.equal(joined.status, 'CHANNEL_ERROR');
  assert.match(String(joined.err?.message ?? joined.err), new RegExp(`Unauthorized: You do not have permissions to read from this Channel topic: ${name}`));
});

// devstack Realtime under load: SUBSCRIBERS users, each with its own supabase-js client and
// socket, subscribed to all of segmentation_results (no filter: RLS alone keeps each to their
// own rows). A writer inserts rows for those users with the service key, first at a steady
// RATE per second (delivery latency from commit: receive time minus the change's
// commit_timestamp, p50/p99), then BURST rows as fast as it can (events per second delivered).
//
//   scripts/dev.sh                               # a running stack (or DEVSTACK_STATUS=<state>/status.json)
//   node_modules/.bin/node bench/realtime.mjs    # Node 22; SUBSCRIBERS=200 RATE=20 SECONDS=10 BURST=1000
import { createClient } from '@supabase/supabase-js';
import { serviceClient, signJwt, stack, uniqueEmail } from '../tests/support/stack.mjs';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 200);
const RATE = Number(process.env.RATE ?? 20);
const SECONDS = Number(process.env.SECONDS ?? 10);
const BURST = Number(process.env.BURST ?? 1000);
const WRITERS = 8;

const service = serviceClient();
const log = (...a) => console.error('#', ...a);

async function inBatches(n, size, make) {
  const out = [];
  for (let i = 0; i < n; i += size) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => make(i + j)))));
  }
  return out;
}

log(`creating ${SUBSCRIBERS} users`);
const users = await inBatches(SUBSCRIBERS, 16, async () => {
  const { data, error } = await service.auth.admin.createUser({ email: uniqueEmail('rt-bench'), password: `pw-${Math.random()}`, email_confirm: true });
  if (error) throw error;
  return data.user.id;
});

const received = new Map(); // row id -> { user, latency }
let wrongOwner = 0;
const exp = Math.floor(Date.now() / 1000) + 3600;
log('subscribing');
const clients = await inBatches(SUBSCRIBERS, 20, async (i) => {
  const token = signJwt({ sub: users[i], role: 'authenticated', aud: 'authenticated', exp });
  const client = createClient(stack.url, stack.anonKey, { accessToken: async () => token });
  await client.realtime.setAuth(); // the join carries the user's token
  await new Promise((resolve, reject) => {
    client
      .channel(`bench-${i}`)
      .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'segmentation_results' }, (e) => {
        if (e.new.user_id !== users[i]) wrongOwner++;
        received.set(e.new.id, { at: Date.now(), latency: Date.now() - Date.parse(e.commit_timestamp) });
      })
      .subscribe((status, err) => (status === 'SUBSCRIBED' ? resolve() : status !== 'CLOSED' && reject(err ?? new Error(status))));
  });
  return client;
});

async function insert(i) {
  const { data, error } = await service
    .from('segmentation_results')
    .insert({ user_id: users[i % SUBSCRIBERS], source_image_url: 'https://images.example.test/bench.png', text_prompt: `bench ${i}` })
    .select('id')
    .single();
  if (error) throw error;
  return data.id;
}

async function settle(ids, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && ids.some((id) => !received.has(id))) await new Promise((r) => setTimeout(r, 50));
  return ids.filter((id) => received.has(id));
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

log(`steady: ${RATE}/s for ${SECONDS}s`);
const steady = [];
const start = Date.now();
for (let i = 0; i < RATE * SECONDS; i++) {
  const due = start + (i * 1000) / RATE;
  if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  steady.push(insert(i));
}
const steadyIds = await Promise.all(steady);
const steadyGot = await settle(steadyIds);
const latencies = steadyGot.map((id) => received.get(id).latency).sort((a, b) => a - b);

log(`burst: ${BURST} rows from ${WRITERS} writers`);
const burstStart = Date.now();
const burstIds = (await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
  const ids = [];
  for (let i = w; i < BURST; i += WRITERS) ids.push(await insert(i));
  return ids;
}))).flat();
const writtenIn = (Date.now() - burstStart) / 1000;
const burstGot = await settle(burstIds, 120_000);
const lastAt = Math.max(...burstGot.map((id) => received.get(id).at));
const burstLatencies = burstGot.map((id) => received.get(id).latency).sort((a, b) => a - b);

const result = {
  subscribers: SUBSCRIBERS,
  steady: { rate: RATE, sent: steadyIds.length, delivered: steadyGot.length, p50_ms: pct(latencies, 50), p99_ms: pct(latencies, 99) },
  burst: {
    sent: burstIds.length,
    delivered: burstGot.length,
    written_per_s: Math.round(burstIds.length / writtenIn),
    delivered_per_s: Math.round(burstGot.length / ((lastAt - burstStart) / 1000)),
    p50_ms: pct(burstLatencies, 50),
    p99_ms: pct(burstLatencies, 99),
  },
  delivered_to_someone_else: wrongOwner,
};
console.log(JSON.stringify(result, null, 2));
await Promise.all(clients.map((c) => c.removeAllChannels()));
process.exit(wrongOwner === 0 && steadyGot.length === steadyIds.length && burstGot.length === burstIds.length ? 0 : 1);

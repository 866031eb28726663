// The latency section (issue 30): what a user waits for at the edge is round trips to the
// Supabase region. The all-in-one Worker (build/router, and the BENCH_BASELINE build's, if any)
// is served by a workerd of its own whose SUPABASE_URL and mail API are a pass-through to the
// stack that delays every subrequest by D ms and counts them. Each flow is sent `requests`
// times, one at a time, at D = 0 and D = 30 ms: p50 at each, the subrequests per request (those
// answered before the function answered, and those after it: work deferred with waitUntil),
// and the round trips the answer waited for, (p50 at 30 − p50 at 0) / 30 ms. The first request
// after workerd starts is timed against the next one (wasm compilation and instantiation, then
// the JWKS).
import { createServer, request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { builtModules, startWorkerd } from './workerd.mjs';
import { jwtClaims, projectSigningKey, signJwt } from './seed.mjs';

const DELAYS = [0, 30];

/** Where the Worker reaches the mail API through the pass-through. */
const MAIL_PREFIX = '/__mail';

/**
 * The pass-through to `origin` (and to `mailApi` under /__mail/): every request delayed by
 * `delay` ms; each recorded with when it ended.
 */
function delayProxy(port, origin, mailApi) {
  const state = { delay: 0, seen: [] };
  const server = createServer((req, res) => {
    const entry = { path: req.url, ended: null };
    state.seen.push(entry);
    setTimeout(() => {
      const target = req.url.startsWith(`${MAIL_PREFIX}/`) ? `${mailApi}${req.url.slice(MAIL_PREFIX.length)}` : `${origin}${req.url}`;
      const upstream = httpRequest(target, { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
        answer.on('end', () => (entry.ended = performance.now()));
      });
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    }, state.delay);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ state, close: () => { server.closeAllConnections(); server.close(); } })));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One request: its time, and the subrequests it made before and after its answer. */
async function timed(proxy, request) {
  proxy.state.seen = [];
  const started = performance.now();
  const res = await fetch(request.url, { method: request.method ?? 'GET', headers: request.headers, body: request.body });
  await res.arrayBuffer();
  const answered = performance.now();
  if (!request.expect.includes(res.status)) throw new Error(`${request.url}: ${res.status}`);
  // Deferred work ends after the answer; wait until every subrequest has.
  for (let i = 0; i < 200 && proxy.state.seen.some((e) => e.ended === null); i++) await sleep(10);
  await sleep(proxy.state.delay + 20);
  const before = proxy.state.seen.filter((e) => e.ended !== null && e.ended <= answered).length;
  return { ms: answered - started, before, after: proxy.state.seen.length - before };
}

/**
 * builds: [{ label, dir }] (a build/router-shaped folder each). Returns
 * { flows: [{ flow, build, p50: {0, 30}, before, after, waited }], first: [{ build, delay, first_ms, warm_ms }] }.
 */
export async function measureLatency({ workerd, state, base, stack, vars, owner, admin, tenant, builds, requests = 30, log }) {
  const proxyUrl = `http://127.0.0.1:${base + 68}`;
  const proxy = await delayProxy(base + 68, stack.url, vars.MAIL_API_URL.replace(/\/$/, ''));
  const key = projectSigningKey(stack);
  // The session as this Worker's project (the pass-through's URL) signs it.
  const asProxy = (token) => signJwt({ alg: 'ES256', typ: 'JWT', kid: key.kid }, { ...jwtClaims(token), iss: `${proxyUrl}/auth/v1` }, { privateKey: key.privateKey });
  const ownerToken = asProxy(owner.token);
  const adminToken = asProxy(admin.token);
  const json = { 'content-type': 'application/json' };
  const bindings = { ...vars, SUPABASE_URL: proxyUrl, MAIL_API_URL: `${proxyUrl}${MAIL_PREFIX}`, GUEST_SIGNUP_RATE_LIMIT: '100000/1', TENANT_CONNECTION_CACHE_MS: undefined };
  const { data: profiles, error } = await admin.client.from('profiles')
    .insert(Array.from({ length: builds.length * DELAYS.length * requests + 1 }, (_, i) => ({ first_name: 'Ada', last_name: `L${i}`, email: `lat-${i}-${randomUUID()}@bench.test` })))
    .select('id');
  if (error) throw error;
  const replaced = profiles.pop();
  const result = { flows: [], first: [] };

  for (const build of builds) {
    const byFlow = {};
    for (const delay of DELAYS) {
      proxy.state.delay = delay;
      const port = base + 69;
      const server = await startWorkerd({
        workerd, file: join(state, 'latency.capnp'), logFile: join(state, 'latency-workerd.log'),
        workers: [
          { name: 'router', port, modules: builtModules(build.dir), bindings },
          { name: 'router-uncached', port: port + 1, modules: builtModules(build.dir), bindings: { ...bindings, TENANT_CONNECTION_CACHE_MS: '0' } },
        ],
      });
      const fn = (path, p = port) => `http://127.0.0.1:${p}/functions/v1/${path}`;
      try {
        // startWorkerd's readiness probe reached the Worker, so the module is compiled: the
        // first request of a token flow still pays for the JWKS. Timed against the next one.
        const list = { url: fn('save-connection'), headers: { authorization: `Bearer ${ownerToken}` }, expect: [200] };
        const first = await timed(proxy, list);
        const warm = await timed(proxy, list);
        result.first.push({ build: build.label, delay, first_ms: first.ms, warm_ms: warm.ms, first_subrequests: first.before + first.after, warm_subrequests: warm.before + warm.after });

        const connection = { name: 'bench-latency', url: tenant.url, anon_key: tenant.anonKey, service_role_key: tenant.serviceKey };
        const invitations = [];
        for (const profile of profiles.splice(0, requests)) {
          const res = await fetch(fn('create-invitation'), { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, ...json }, body: JSON.stringify({ profile_id: profile.id }) });
          if (res.status !== 201) throw new Error(`seeding an invitation: ${res.status} ${await res.text()}`);
          invitations.push((await res.json()).token);
        }
        const flows = [
          ['save-connection POST (upsert)', () => ({ url: fn('save-connection'), method: 'POST', headers: { authorization: `Bearer ${ownerToken}`, ...json }, body: JSON.stringify(connection), expect: [200, 201] })],
          ['tenant-proxy GET 3 rows (connection cached)', () => ({ url: fn('tenant-proxy/bench-latency/rest/v1/bench_items?select=*&limit=3'), headers: { authorization: `Bearer ${ownerToken}` }, expect: [200] })],
          ['tenant-proxy GET 3 rows (TENANT_CONNECTION_CACHE_MS=0)', () => ({ url: fn('tenant-proxy/bench-latency/rest/v1/bench_items?select=*&limit=3', port + 1), headers: { authorization: `Bearer ${ownerToken}` }, expect: [200] })],
          ['accept-invitation GET (preview)', () => ({ url: fn(`accept-invitation?token=${invitations[0]}`), expect: [200] })],
          ['accept-invitation POST', () => ({ url: fn('accept-invitation'), method: 'POST', headers: json, body: JSON.stringify({ token: invitations.shift(), password: `pw-${randomUUID()}` }), expect: [201] })],
          ['create-invitation POST (replace)', () => ({ url: fn('create-invitation'), method: 'POST', headers: { authorization: `Bearer ${adminToken}`, ...json }, body: JSON.stringify({ profile_id: replaced.id, replace: true }), expect: [201] })],
          ['guest-signup POST', () => ({ url: fn('guest-signup'), method: 'POST', headers: { apikey: vars.SUPABASE_ANON_KEY, authorization: `Bearer ${vars.SUPABASE_ANON_KEY}`, 'cf-connecting-ip': `2001:db8::${randomUUID().slice(0, 4)}`, ...json }, body: '{}', expect: [201] })],
        ];
        for (const [flow, request] of flows) {
          log(`latency: ${flow}, ${build.label}, D = ${delay} ms`);
          const runs = [];
          for (let i = 0; i < requests; i++) runs.push(await timed(proxy, request()));
          const entry = (byFlow[flow] ??= { flow, build: build.label, p50: {}, before: 0, after: 0 });
          entry.p50[delay] = median(runs.map((r) => r.ms));
          if (delay === Math.max(...DELAYS)) {
            entry.before = median(runs.map((r) => r.before));
            entry.after = median(runs.map((r) => r.after));
          }
        }
      } finally {
        server.stop();
        await sleep(300);
      }
    }
    for (const entry of Object.values(byFlow)) {
      entry.waited = (entry.p50[30] - entry.p50[0]) / 30;
      result.flows.push(entry);
    }
  }
  proxy.close();
  return result;
}

const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** The section's tables, as markdown lines. */
export function latencyTable({ flows, first }) {
  return [
    '',
    'Round trips to the origin: the all-in-one Worker behind a pass-through that delays every subrequest by D ms (`bench/lib/latency.mjs`), one request at a time. Subrequests: medians per request at D = 30 ms, those the answer waited for + those after it (`waitUntil`); round trips waited = (p50 at 30 − p50 at 0) / 30 ms.',
    '',
    '| flow | build | subrequests before + after the answer | round trips waited | p50 ms, D = 0 | p50 ms, D = 30 ms |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...flows.map((f) => `| ${f.flow} | ${f.build} | ${f.before} + ${f.after} | ${fmt(f.waited, 1)} | ${fmt(f.p50[0], 1)} | ${fmt(f.p50[30], 1)} |`),
    '',
    '| first request after workerd starts (save-connection GET) | D ms | first ms | next ms | subrequests first / next |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...first.map((f) => `| ${f.build} | ${f.delay} | ${fmt(f.first_ms, 1)} | ${fmt(f.warm_ms, 1)} | ${f.first_subrequests} / ${f.warm_subrequests} |`),
  ];
}

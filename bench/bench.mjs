// The benchmark harness (scripts/bench.sh runs it once the stack is up): seeds data, serves the
// built Workers with `workerd serve`, drives them with wrk and prints one markdown table.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { builtModules, startWorkerd } from './lib/workerd.mjs';
import { wrk } from './lib/wrk.mjs';
import { hs256Twin, peerInputs, sealedConnectionArgs, sha256Hex, signedUpUser, sql } from './lib/seed.mjs';
import { tokenCases, webhookCases } from './lib/flow-cases.mjs';
import { measureOps, OPS } from './lib/ops.mjs';
import { startupProfile, wasmSize } from './lib/size.mjs';
import { withCpu } from './lib/cpu.mjs';
import { profileWhile } from './lib/profile.mjs';
import { alternate, compareFlows } from './lib/flows.mjs';
import { latencyTable, measureLatency } from './lib/latency.mjs';

const repo = new URL('..', import.meta.url).pathname;
const env = process.env;
const base = Number(env.BENCH_PORT_BASE ?? 26400);
const state = env.BENCH_STATE;
const seconds = Number(env.BENCH_SECONDS ?? 8);
const connections = Number(env.BENCH_CONNECTIONS ?? 8);
const pin = (env.BENCH_PIN ?? '1') !== '0' && cpus().length >= 2;
const sections = new Set((env.BENCH_SECTIONS ?? 'latency flows functions proxy peer ops sizes startup').split(/\s+/).filter(Boolean));
// BENCH_PROFILE="bench-worker,peer-js,save-connection (GET),…": CPU profiles of those Workers
// (or function rows) under load, through workerd's inspector, printed after the table.
const profiled = (env.BENCH_PROFILE ?? '').split(',').map((p) => p.trim()).filter(Boolean);
const inspectorPort = base + 52;
const FUNCTIONS = ['save-connection', 'tenant-proxy', 'process-webhook', 'create-invitation', 'accept-invitation', 'guest-signup'];
const log = (msg) => process.stderr.write(`\x1b[1m==> ${msg}\x1b[0m\n`);
// BENCH_ROWS="save-connection,tenant-proxy": only these rows (functions) and flows.
const only = (env.BENCH_ROWS ?? '').split(',').map((r) => r.trim()).filter(Boolean);
const selected = (name) => !only.length || only.includes(name);

// --- the stack ---------------------------------------------------------------------------------
const status = JSON.parse(readFileSync(join(state, 'status.json'), 'utf8'));
const describe = (p) => ({ name: p.name, url: p.API_URL, dbUrl: p.DB_URL, jwtSecret: p.JWT_SECRET, anonKey: p.ANON_KEY, serviceKey: p.SERVICE_ROLE_KEY, signingKeysPath: p.SIGNING_KEYS_PATH });
const main = describe(status.projects[0]);
const tenant = describe(status.projects.find((p) => p.name === 'tenant'));
const vars = Object.fromEntries(
  readFileSync(join(state, 'dev.vars'), 'utf8')
    .split('\n')
    .map((line) => /^([A-Z0-9_]+)="(.*)"$/.exec(line))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);

// --- seed --------------------------------------------------------------------------------------
log('seeding users');
const owner = await signedUpUser(main, 'bench-owner');
const admin = await signedUpUser(main, 'bench-admin');
// The stack signs sessions ES256, as every new Supabase project does. `hs256` is the same session
// as a legacy project (HS256 with its JWT secret) would have issued it: the functions, proxy and
// peer sections use it, so their figures stay comparable with earlier runs.
owner.hs256 = hs256Twin(main, owner.token);
admin.hs256 = hs256Twin(main, admin.token);
sql(main, `update public.user_profiles set role = 'admin' where id = '${admin.id}'`);
const peer = await peerInputs(main, vars, owner, tenant);

// --- latency: the all-in-one Worker behind a pass-through that delays every subrequest --------
// (lib/latency.mjs), in a workerd of its own; the BENCH_BASELINE folder's router build beside it.
let latency = null;
if (sections.has('latency')) {
  const latencyBuilds = [{ label: 'current', dir: join(repo, 'build', 'router') }];
  if (env.BENCH_BASELINE && existsSync(join(repo, env.BENCH_BASELINE, 'router', 'index_bg.wasm'))) {
    latencyBuilds.push({ label: 'baseline', dir: join(repo, env.BENCH_BASELINE, 'router') });
  }
  latency = await measureLatency({
    workerd: join(repo, 'node_modules/.bin/workerd'), state, base, stack: main, vars, owner, admin, tenant,
    builds: latencyBuilds, requests: Number(env.BENCH_LATENCY_REQUESTS ?? 30), log,
  });
  if ([...sections].every((s) => s === 'latency')) {
    const lines = latencyTable(latency);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (env.BENCH_OUT) writeFileSync(env.BENCH_OUT, `${lines.join('\n')}\n`);
    process.exit(0);
  }
}

// --- workerd -----------------------------------------------------------------------------------
const port = Object.fromEntries(FUNCTIONS.map((name, i) => [name, base + 41 + i]));
port['bench-worker'] = base + 50;
port['peer-js'] = base + 51;
// The real flows with a JavaScript peer (bench/peer-js/flows.mjs); the first two take a user's
// access token and are run on both kinds of project.
const FLOWS = ['save-connection', 'tenant-proxy', 'accept-invitation', 'process-webhook'];
const TOKEN_FLOWS = ['save-connection', 'tenant-proxy'];
// BENCH_BASELINE=build-base: earlier builds of those functions (e.g. main's, made with
// scripts/build-functions.sh and moved there), served beside the current ones for a before/after;
// a flow without a build there (or that BENCH_ROWS leaves out) is measured without.
const baselineDir = env.BENCH_BASELINE ? join(repo, env.BENCH_BASELINE) : null;
const baselineFlows = baselineDir ? FLOWS.filter((name) => selected(name) && existsSync(join(baselineDir, name, 'index_bg.wasm'))) : [];
// …and of bench/rust-worker, when the folder has one: a third contender in the peer section.
const baselineBenchWorker = baselineDir && existsSync(join(baselineDir, 'bench-worker', 'index.js'));
// BENCH_BUILDS="save-connection=build/x,…": serve other builds of some functions (comparisons),
// in the functions section and as the flows' Rust contenders.
const buildDirs = Object.fromEntries(
  (env.BENCH_BUILDS ?? '').split(',').filter(Boolean).map((pair) => pair.split('=')).map(([name, dir]) => [name.trim(), join(repo, dir.trim())]),
);
// A new project's functions (devstack's dev.vars: no JWT secret, ES256 sessions through the
// JWKS) and a legacy project's (SUPABASE_JWT_SECRET set: HS256 sessions too).
const functionBindings = { ...vars, GUEST_SIGNUP_RATE_LIMIT: '100000/1' };
const legacyBindings = { ...functionBindings, SUPABASE_JWT_SECRET: main.jwtSecret };
const peerModules = (names) => names.map((name) => ({ name, path: join(repo, 'bench/peer-js', name), kind: 'esModule' }));
const flowsJsModules = peerModules(['flows.mjs', 'wire.mjs', 'envelope.mjs', 'access-token.mjs', 'webhook.mjs', 'strict-json.mjs'])
  // tenant-proxy's own relay.js, which the peer imports (the same deadline and idle timeout).
  .concat([{ name: 'relay.js', path: join(repo, 'functions/tenant-proxy/src/relay.js'), kind: 'esModule' }]);
// The flows' contenders, each on a port from base+53: `<flow>@es256` (a new project's Rust
// function), `flows-js@es256`/`@hs256` (the JavaScript peer), `<flow>@baseline-es256`/`-hs256`;
// the HS256 Rust contenders are the functions section's Workers.
const flowWorkers = [];
const serveFlow = (key, modules, bindings) => {
  port[key] = base + 53 + flowWorkers.length;
  flowWorkers.push({ name: key.replace('@', '-'), port: port[key], modules, bindings });
};
for (const name of FLOWS) serveFlow(`${name}@es256`, builtModules(buildDirs[name] ?? join(repo, 'build', name)), functionBindings);
serveFlow('flows-js@es256', flowsJsModules, functionBindings);
serveFlow('flows-js@hs256', flowsJsModules, legacyBindings);
// The runtime floor (bench/peer-js/floor.mjs): the peer's subrequests and answers, none of its
// work; it checks no token, so one Worker serves the rows of both kinds of project.
serveFlow('flows-floor@es256', peerModules(['floor.mjs', 'wire.mjs', 'envelope.mjs', 'access-token.mjs', 'webhook.mjs', 'strict-json.mjs']), functionBindings);
// accept-invitation's runtime floor in Rust/wasm (bench-worker's src/floor.rs): the same
// subrequest and answer through edge-worker, so the two floors differ only by running in wasm.
serveFlow('bench-worker@floor', builtModules(join(repo, 'build', 'bench-worker')), functionBindings);
for (const name of baselineFlows) {
  serveFlow(`${name}@baseline-es256`, builtModules(join(baselineDir, name)), functionBindings);
  if (TOKEN_FLOWS.includes(name)) serveFlow(`${name}@baseline-hs256`, builtModules(join(baselineDir, name)), legacyBindings);
}
if (baselineBenchWorker) serveFlow('bench-worker@baseline', builtModules(join(baselineDir, 'bench-worker')), peer);
const workers = [
  ...FUNCTIONS.map((name) => ({ name, port: port[name], modules: builtModules(buildDirs[name] ?? join(repo, 'build', name)), bindings: legacyBindings })),
  // BENCH_WORKER_DIR: another build of bench/rust-worker (e.g. with other optimisation settings).
  { name: 'bench-worker', port: port['bench-worker'], modules: builtModules(env.BENCH_WORKER_DIR || join(repo, 'build', 'bench-worker')), bindings: peer },
  {
    name: 'peer-js',
    port: port['peer-js'],
    modules: [
      { name: 'worker.mjs', path: join(repo, 'bench/peer-js/worker.mjs'), kind: 'esModule' },
      { name: 'envelope.mjs', path: join(repo, 'bench/peer-js/envelope.mjs'), kind: 'esModule' },
    ],
    bindings: peer,
  },
  ...flowWorkers,
];
const wrkOptions = { seconds, connections, cpus: pin ? '1' : undefined };
const workerd = join(repo, 'node_modules/.bin/workerd');
const workerdVersion = execFileSync(workerd, ['--version'], { encoding: 'utf8' }).trim();
log(`starting ${workerdVersion} serve (${workers.length} Workers, ports ${base + 41}-${base + 52 + flowWorkers.length})`);
const server = await startWorkerd({
  workerd,
  file: join(state, 'workerd.capnp'),
  workers,
  cpus: pin ? '0' : undefined,
  logFile: join(state, 'workerd.log'),
  inspectorPort: profiled.length ? inspectorPort : undefined,
});
const workerdPid = server.child.pid;
/** wrk on `request`, with the CPU workerd spent per request meanwhile. */
async function drive(request, options = wrkOptions) {
  const [figures, cpuMs] = await withCpu(workerdPid, () => wrk(request, options));
  return { ...figures, cpu_ms_per_req: cpuMs / Math.max(figures.requests, 1) };
}
process.on('exit', () => server.stop());
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const fn = (name, rest = '') => `http://127.0.0.1:${port[name]}/functions/v1/${name}${rest}`;
const bearer = (token) => ({ apikey: main.anonKey, authorization: `Bearer ${token}` });
const jsonHeaders = { 'content-type': 'application/json' };
const service = (project) => ({ apikey: project.serviceKey, authorization: `Bearer ${project.serviceKey}` });

/** One request with fetch; fails the run when the status is not what a row expects. */
async function check(label, request, expected) {
  const res = await fetch(request.url, { method: request.method ?? 'GET', headers: request.headers, body: request.body });
  const text = await res.text();
  if (!expected.includes(res.status)) throw new Error(`${label}: expected ${expected.join('/')}, got ${res.status}: ${text.slice(0, 400)}`);
  return text ? JSON.parse(text) : null;
}

log('seeding a connection, a finished task and a pending invitation through the functions');
const connection = { name: 'bench', url: tenant.url, anon_key: tenant.anonKey, service_role_key: tenant.serviceKey };
await check('save-connection', { url: fn('save-connection'), method: 'POST', headers: { ...bearer(owner.hs256), ...jsonHeaders }, body: JSON.stringify(connection) }, [200, 201]);
const { data: task, error: taskError } = await owner.client
  .from('segmentation_results')
  .insert({ source_image_url: 'https://images.example.test/cat.png', text_prompt: 'the cat' })
  .select('id')
  .single();
if (taskError) throw taskError;
const webhookBody = JSON.stringify({
  task_id: task.id, status: 'done', mask_url: 'https://masks.example.test/cat-mask.png',
  labels: [{ label: 'cat', score: 0.97 }], metadata: { model: 'sam2', ms: 812 },
});
const webhookKey = vars.WEBHOOK_API_KEYS.split(',')[0].trim();
const webhookRequest = { url: fn('process-webhook'), method: 'POST', headers: { 'x-api-key': webhookKey, ...jsonHeaders }, body: webhookBody };
const applied = await check('process-webhook', webhookRequest, [200]);
if (applied.outcome !== 'applied') throw new Error(`the first delivery should apply: ${JSON.stringify(applied)}`);
const { data: profile, error: profileError } = await admin.client
  .from('profiles')
  .insert({ first_name: 'Ada', last_name: 'Lovelace', email: `ada-${Date.now()}@bench.test` })
  .select()
  .single();
if (profileError) throw profileError;
const invitation = await check('create-invitation', { url: fn('create-invitation'), method: 'POST', headers: { ...bearer(admin.hs256), ...jsonHeaders }, body: JSON.stringify({ profile_id: profile.id }) }, [201]);

// --- the rows ----------------------------------------------------------------------------------
const upsert = { ...connection, name: 'bench-upsert' };
await check('save-connection', { url: fn('save-connection'), method: 'POST', headers: { ...bearer(owner.hs256), ...jsonHeaders }, body: JSON.stringify(upsert) }, [200, 201]);
const rows = [
  {
    name: 'save-connection', what: 'POST upsert of one name: 2 seals + `rpc/save_connection` with the service key',
    request: { url: fn('save-connection'), method: 'POST', headers: { ...bearer(owner.hs256), ...jsonHeaders }, body: JSON.stringify(upsert) }, expect: [200],
    floor: { url: `${main.url}/rest/v1/rpc/save_connection`, method: 'POST', headers: { ...service(main), ...jsonHeaders }, body: JSON.stringify(await sealedConnectionArgs(vars, owner.id, upsert)) },
  },
  {
    name: 'save-connection (GET)', what: 'list: `rpc/list_connections` as the caller',
    request: { url: fn('save-connection'), headers: bearer(owner.hs256) }, expect: [200],
    floor: { url: `${main.url}/rest/v1/rpc/list_connections`, method: 'POST', headers: { ...bearer(owner.hs256), ...jsonHeaders }, body: '{}' },
  },
  {
    name: 'tenant-proxy', what: 'GET 3 rows of the tenant: connection lookup + open + relay; floor = the tenant directly',
    request: { url: fn('tenant-proxy', '/bench/rest/v1/bench_items?select=*&limit=3'), headers: bearer(owner.hs256) }, expect: [200],
    floor: { url: `${tenant.url}/rest/v1/bench_items?select=*&limit=3`, headers: service(tenant) },
  },
  {
    name: 'process-webhook', what: 'POST `done` again for a finished task (X-API-Key): answers `unchanged`',
    request: webhookRequest, expect: [200],
    floor: {
      url: `${main.url}/rest/v1/rpc/apply_segmentation_webhook`, method: 'POST', headers: { ...service(main), ...jsonHeaders },
      body: JSON.stringify({ p_task_id: task.id, p_status: 'done', p_mask_url: 'https://masks.example.test/cat-mask.png', p_labels: [{ label: 'cat', score: 0.97 }], p_metadata: { model: 'sam2', ms: 812 } }),
    },
  },
  {
    name: 'create-invitation (GET)', what: 'history of a profile (1 pending invitation, its token envelope opened)',
    request: { url: fn('create-invitation', `?profile_id=${profile.id}`), headers: bearer(admin.hs256) }, expect: [200],
    floor: { url: `${main.url}/rest/v1/rpc/list_profile_invitations`, method: 'POST', headers: { ...service(main), ...jsonHeaders }, body: JSON.stringify({ p_admin: admin.id, p_profile_id: profile.id }) },
  },
  {
    name: 'accept-invitation (GET)', what: 'preview of a pending invitation by its token',
    request: { url: fn('accept-invitation', `?token=${invitation.token}`) }, expect: [200],
    floor: { url: `${main.url}/rest/v1/rpc/preview_profile_invitation`, method: 'POST', headers: { ...service(main), ...jsonHeaders }, body: JSON.stringify({ p_token_hash: sha256Hex(invitation.token) }) },
  },
  {
    name: 'guest-signup', what: 'POST: rate-limit token + anonymous sign-up + visitor record (3 calls); floor = the sign-up alone',
    request: {
      url: fn('guest-signup'), method: 'POST',
      headers: { apikey: main.anonKey, ...jsonHeaders, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'cf-connecting-ip': '203.0.113.7' },
      body: JSON.stringify({ landing_url: 'https://app.example.com/?utm_source=bench', utm_source: 'bench', screen_width: 1280, screen_height: 800, timezone_guess: 'Europe/Berlin' }),
    },
    expect: [201],
    floor: { url: `${main.url}/auth/v1/signup`, method: 'POST', headers: { apikey: main.anonKey, authorization: `Bearer ${main.anonKey}`, ...jsonHeaders }, body: '{}' },
  },
];

const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const failures = (r) => (r.non2xx || r.errors ? ` (${r.non2xx} non-2xx, ${r.errors} socket errors)` : '');
const out = [];
const print = (line = '') => {
  out.push(line);
  process.stdout.write(`${line}\n`);
};

const load = loadavg().map((l) => l.toFixed(2)).join(' ');
const cpuModel = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown CPU';
const started = new Date();

const results = { functions: [], proxy: [], peer: [], flows: [], latency };
/** The flows section's contenders ({ flow, label, worker, request, … }), for BENCH_PROFILE. */
const flowContenders = [];

if (sections.has('flows')) {
  // Rust contenders: a new project's function (`<flow>@es256`) or a legacy project's (the
  // functions section's Worker); the JavaScript peer with the same settings.
  const rustWorker = (flow, set) => (set === 'hs256' ? flow : `${flow}@es256`);
  const url = (worker, flow, path) => `http://127.0.0.1:${port[worker]}/functions/v1/${flow}${path}`;
  const good = { ...connection, name: 'bench-flows' };
  const post = (body, headers = bearer(owner.token)) => ({ method: 'POST', headers: { ...headers, ...jsonHeaders }, body: JSON.stringify(body) });
  const forged = `${owner.token.split('.')[0]}.${owner.token.split('.')[1]}.${owner.token.split('.')[2].slice(0, -4)}AAAA`;
  const tokens = tokenCases(main, owner);
  const webhook = await webhookCases(
    { taskId: task.id, apiKey: webhookKey, secrets: vars.WEBHOOK_SECRETS, body: webhookBody },
    (request) => check('process-webhook (priming)', { url: fn('process-webhook'), ...request }, [200]),
  );
  const es256Cases = [
    ['save-connection', 'POST upsert', '', post(good)],
    ['save-connection', 'OPTIONS preflight', '', { method: 'OPTIONS' }],
    ['save-connection', 'PUT not allowed', '', { method: 'PUT', headers: bearer(owner.token) }],
    ['save-connection', 'no Authorization', '', { method: 'POST', headers: jsonHeaders, body: JSON.stringify(good) }],
    ['save-connection', 'Basic scheme', '', post(good, { authorization: 'Basic dXNlcjpwYXNz' })],
    ['save-connection', 'forged signature', '', post(good, { authorization: `Bearer ${forged}` })],
    ['save-connection', 'malformed token', '', post(good, { authorization: 'Bearer abc' })],
    ['save-connection', 'bad name', '', post({ ...good, name: '-x' })],
    ['save-connection', 'http URL', '', post({ ...good, url: 'http://example.com' })],
    ['save-connection', 'URL with a path', '', post({ ...good, url: 'https://example.com/rest' })],
    ['save-connection', 'private host', '', post({ ...good, url: 'https://10.0.0.1' })],
    ['save-connection', 'swapped keys', '', post({ ...good, anon_key: good.service_role_key })],
    ['save-connection', 'missing field', '', post({ name: 'x', url: good.url, anon_key: good.anon_key })],
    ['save-connection', 'unknown field', '', post({ ...good, allowWrites: true })],
    ['save-connection', 'not an object', '', { method: 'POST', headers: { ...bearer(owner.token), ...jsonHeaders }, body: '[1]' }],
    ['save-connection', 'empty body', '', { method: 'POST', headers: { ...bearer(owner.token), ...jsonHeaders }, body: '' }],
    ['tenant-proxy', 'GET 3 rows', '/bench/rest/v1/bench_items?select=*&limit=3', { headers: bearer(owner.token) }],
    ['tenant-proxy', 'GET with Range and count', '/bench/rest/v1/bench_items?select=id&order=id', { headers: { ...bearer(owner.token), range: '0-4', prefer: 'count=exact' } }],
    ['tenant-proxy', 'unknown table (tenant 404 relayed)', '/bench/rest/v1/nope', { headers: bearer(owner.token) }],
    ['tenant-proxy', 'unknown connection', '/nope/rest/v1/bench_items', { headers: bearer(owner.token) }],
    ['tenant-proxy', 'outside /rest/v1', '/bench/auth/v1/admin/users', { headers: bearer(owner.token) }],
    ['tenant-proxy', 'dot segments', '/bench/rest/v1/%2e%2e/auth', { headers: bearer(owner.token) }],
    ['tenant-proxy', 'no token', '/bench/rest/v1/bench_items', {}],
    ['tenant-proxy', 'OPTIONS preflight', '/bench/rest/v1/bench_items', { method: 'OPTIONS' }],
    ...tokens.es256,
    ['accept-invitation', 'GET preview', `?token=${invitation.token}`, {}],
    ['accept-invitation', 'unknown token', `?token=${'A'.repeat(43)}`, {}],
    ['accept-invitation', 'malformed token', '?token=short', {}],
    ['accept-invitation', 'no token', '', {}],
    ['accept-invitation', 'DELETE not allowed', `?token=${invitation.token}`, { method: 'DELETE' }],
    ...webhook,
  ];
  const hs256Cases = [['save-connection', 'POST upsert', '', post(good, bearer(owner.hs256))], ...tokens.hs256];
  const cases = [...es256Cases.map((c) => [...c, 'es256']), ...hs256Cases.map((c) => [...c, 'hs256'])]
    .map(([flow, label, path, request, set]) => ({ flow, label: `${label} (${set === 'es256' ? 'ES256 project' : 'legacy HS256 project'})`, path, request, set }));
  // The happy POST replaces an existing connection in both (200), whichever runs first.
  await check('save-connection', { url: fn('save-connection'), ...post(good, bearer(owner.hs256)) }, [200, 201]);
  log(`flows: ${cases.length} requests to each Rust function and its JavaScript peer, answers compared`);
  const mismatches = await compareFlows(cases, (c) => url(rustWorker(c.flow, c.set), c.flow, c.path), (c) => url(`flows-js@${c.set}`, c.flow, c.path));
  if (mismatches.length) {
    for (const m of mismatches) process.stderr.write(`MISMATCH ${m.label}\n  rust: ${JSON.stringify(m.rust)}\n  js:   ${JSON.stringify(m.js)}\n`);
    throw new Error(`${mismatches.length} of ${cases.length} answers differ between the Rust functions and their JavaScript peers`);
  }
  results.flowCases = cases.length;
  const upsert = post({ ...connection, name: 'bench-upsert' });
  const threeRows = '/bench/rest/v1/bench_items?select=*&limit=3';
  const measured = [
    ['save-connection', 'POST upsert (2 seals + `rpc/save_connection`), ES256 session', '', { ...upsert, headers: { ...upsert.headers, ...bearer(owner.token) } }, 'es256'],
    ['save-connection', 'POST upsert, HS256 session (legacy project)', '', { ...upsert, headers: { ...upsert.headers, ...bearer(owner.hs256) } }, 'hs256'],
    ['tenant-proxy', 'GET 3 rows (lookup + open + relay), ES256 session', threeRows, { headers: bearer(owner.token) }, 'es256'],
    ['tenant-proxy', 'GET 3 rows, HS256 session (legacy project)', threeRows, { headers: bearer(owner.hs256) }, 'hs256'],
    ['accept-invitation', 'GET preview by token', `?token=${invitation.token}`, {}, 'es256'],
    ['process-webhook', 'POST `done` again for a finished task (X-API-Key): `unchanged`', '', webhookRequest, 'es256'],
    ['process-webhook', 'POST `done` again with a new delivery id each time: delivery recorded', '', { ...webhookRequest, uniqueHeader: 'idempotency-key' }, 'es256'],
  ];
  const contenders = measured.filter(([flow]) => selected(flow)).flatMap(([flow, what, path, request, set]) => [
    ['Rust', rustWorker(flow, set)],
    ['JavaScript', `flows-js@${set}`],
    ['runtime floor', 'flows-floor@es256'],
    ...(flow === 'accept-invitation' ? [['Rust/wasm floor', 'bench-worker@floor']] : []),
    ...(baselineFlows.includes(flow) ? [['Rust (baseline)', `${flow}@baseline-${set}`]] : []),
  ].map(([label, worker]) => ({ flow, what, label, worker, request: { ...request, url: url(worker, flow, path) } })));
  flowContenders.push(...contenders);
  // One request to each first: a contender no case has reached (the baselines) would otherwise
  // meet wrk's first burst with an empty JWKS cache (main's builds before 2026-12-02 answered the
  // requests that arrived while the first fetch was under way 503 `auth_keys_unavailable`).
  // The runtime floor is not in the answer comparison (it answers only these requests; the
  // first one of each flow fixes what it sends); this is its first request.
  for (const c of contenders) await check(`${c.flow} (${c.label})`, c.request, [200, 201]);
  results.flows = await alternate(contenders, Number(env.BENCH_FLOW_ROUNDS ?? 3), drive, log);
}

if (sections.has('functions')) {
  for (const row of rows.filter((r) => selected(r.name))) {
    log(`${row.name}: function, then its floor (${seconds} s each, ${connections} connections)`);
    await check(row.name, row.request, row.expect);
    const f = await drive(row.request);
    const floor = await wrk(row.floor, wrkOptions);
    results.functions.push({ row, f, floor });
  }
}

if (sections.has('proxy')) {
  // At 8 connections the p50 is mostly queueing (p50 ≈ 8 / req/s); at 1 connection it is what
  // the proxy adds to one request. The BENCH_BASELINE build of tenant-proxy, if any, is
  // measured beside the current one.
  const big = '/bench/rest/v1/bench_items?select=*';
  const small = '/bench/rest/v1/bench_items?select=*&limit=3';
  const builds = [['', 'tenant-proxy'], ...(baselineFlows.includes('tenant-proxy') ? [[' (baseline)', 'tenant-proxy@baseline-hs256']] : [])];
  for (const [label, path] of [['small (3 rows)', small], ['1 MB (1000 rows)', big]]) {
    for (const c of [...new Set([1, connections])]) {
      const options = { ...wrkOptions, connections: c };
      const direct = { url: `${tenant.url}/rest/v1${path.replace('/bench/rest/v1', '')}`, headers: service(tenant) };
      for (const [suffix, worker] of builds) {
        log(`tenant-proxy${suffix} ${label} at ${c} connection(s): through the proxy, then the tenant directly`);
        const proxied = { url: `http://127.0.0.1:${port[worker]}/functions/v1/tenant-proxy${path}`, headers: bearer(owner.hs256) };
        await check('tenant-proxy', proxied, [200]);
        const p = await drive(proxied, options);
        const d = await wrk(direct, options);
        results.proxy.push({ label: `${label}${suffix}`, connections: c, p, d });
      }
    }
  }
}

if (sections.has('peer')) {
  const body = JSON.stringify({ name: peer.BENCH_ROW, envelope: peer.BENCH_ENVELOPE });
  const headers = { authorization: `Bearer ${owner.hs256}`, ...jsonHeaders };
  // Alternating rounds (BENCH_PEER_ROUNDS, 3 by default), medians of each: the machine's load
  // drifts over a run, and the two Workers should see the same drift.
  const rounds = Number(env.BENCH_PEER_ROUNDS ?? 3);
  const contenders = [['Rust/wasm (shared crates)', 'bench-worker'], ['JavaScript + WebCrypto', 'peer-js']];
  if (baselineBenchWorker) contenders.push(['Rust/wasm (baseline)', 'bench-worker@baseline']);
  const peers = contenders.map(([label, name]) => ({
    label, name, request: { url: `http://127.0.0.1:${port[name]}/peer`, method: 'POST', headers, body }, work: [], noop: [],
  }));
  for (const p of peers) {
    const answer = await check(p.name, p.request, [200]);
    if (answer.user_id !== owner.id || !answer.envelope.startsWith('enc:v1:')) throw new Error(`${p.name}: unexpected answer ${JSON.stringify(answer)}`);
  }
  for (let round = 1; round <= rounds; round++) {
    for (const p of peers) {
      log(`peer round ${round}/${rounds}: ${p.label}`);
      p.work.push(await drive(p.request));
      p.noop.push(await drive({ url: `http://127.0.0.1:${port[p.name]}/noop` }));
    }
  }
  const medianOf = (runs) => {
    const mid = (key) => [...runs.map((r) => r[key])].sort((a, b) => a - b)[Math.floor(runs.length / 2)];
    return { rps: mid('rps'), p50_ms: mid('p50_ms'), p99_ms: mid('p99_ms'), cpu_ms_per_req: mid('cpu_ms_per_req'), non2xx: Math.max(...runs.map((r) => r.non2xx)), errors: Math.max(...runs.map((r) => r.errors)) };
  };
  for (const p of peers) results.peer.push({ label: p.label, work: medianOf(p.work), noop: medianOf(p.noop), rounds: p.work.map((r) => Math.round(r.rps)) });
}

const profiles = [];
for (const name of profiled) {
  const peerRequest = (worker) => ({
    url: `http://127.0.0.1:${port[worker]}/peer`, method: 'POST',
    headers: { authorization: `Bearer ${owner.hs256}`, ...jsonHeaders },
    body: JSON.stringify({ name: peer.BENCH_ROW, envelope: peer.BENCH_ENVELOPE }),
  });
  // "bench-worker /noop": a GET of that path of a Worker (e.g. the empty answer).
  const [service, path] = name.split(' ');
  // "save-connection-baseline": that function row against the BENCH_BASELINE build.
  // (the functions rows' projects are legacy ones: the HS256 baseline where there is one)
  const baselinePort = (row) => port[`${row}@baseline-hs256`] ?? port[`${row}@baseline-es256`];
  const baselineOf = name.endsWith('-baseline') && baselinePort(name.slice(0, -9)) ? rows.find((r) => r.name === name.slice(0, -9)) : null;
  // "save-connection (runtime floor)": that contender of the flows section (the flow's first row).
  const flowContender = flowContenders.find((c) => `${c.flow} (${c.label})` === name);
  const request = flowContender ? flowContender.request
    : path?.startsWith('/') && service in port ? { url: `http://127.0.0.1:${port[service]}${path}` }
    : baselineOf ? { ...baselineOf.request, url: baselineOf.request.url.replace(`:${port[baselineOf.name]}/`, `:${baselinePort(baselineOf.name)}/`) }
    : name in port && !FUNCTIONS.includes(name) ? peerRequest(name) : rows.find((r) => r.name === name)?.request;
  if (!request) throw new Error(`BENCH_PROFILE: no request for ${name}`);
  log(`profiling ${name} under load`);
  const target = flowContender ? flowContender.worker.replace('@', '-') : service;
  const { result, busy_ms, top } = await profileWhile(inspectorPort, target, () => wrk(request, wrkOptions));
  profiles.push({ name, requests: result.requests, busy_ms, top });
}

let ops = [];
if (sections.has('ops')) {
  log('micro-benchmarks inside workerd');
  ops = await measureOps({ rust: `http://127.0.0.1:${port['bench-worker']}`, js: `http://127.0.0.1:${port['peer-js']}` });
}

let sizes = [];
if (sections.has('sizes') || sections.has('startup')) {
  for (const name of ['router', ...FUNCTIONS, 'bench-worker']) {
    const size = wasmSize(join(repo, 'build', name, 'index_bg.wasm'));
    let startup = null;
    if (sections.has('startup')) {
      log(`startup profile: ${name}`);
      const args = name === 'bench-worker' ? ['-c', 'bench/wrangler.toml', '-e', 'rust'] : name === 'router' ? [] : ['-e', name];
      startup = await startupProfile(repo, args, join(state, `startup-${name}.cpuprofile`));
    }
    sizes.push({ name, size, startup });
  }
  if (sections.has('startup')) {
    log('startup profile: peer-js');
    sizes.push({ name: 'peer-js (JavaScript)', size: null, startup: await startupProfile(repo, ['-c', 'bench/wrangler.toml'], join(state, 'startup-peer-js.cpuprofile')) });
  }
}
server.stop();

// --- the table ---------------------------------------------------------------------------------
const loadAfter = loadavg().map((l) => l.toFixed(2)).join(' ');
print(`### Benchmarks, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
print();
print(`Machine: ${cpus().length} × ${cpuModel}; load average ${load} before, ${loadAfter} after. ${workerdVersion} serve, release builds;`);
print(`wrk ${seconds} s per row at ${connections} connections${pin ? ', workerd pinned to CPU 0 and wrk to CPU 1 (devstack and Postgres float)' : ''}.`);

if (results.latency) for (const line of latencyTable(results.latency)) print(line);

if (results.flows.length) {
  print();
  print(`Answers of ${FLOWS.length} flows compared with their JavaScript peers first (${results.flowCases} happy and unhappy requests, ES256 and legacy HS256 projects): all equal. The runtime floor answers the measured requests only.`);
  print();
  print('| flow | contender | req/s | p50 ms | workerd CPU µs/req | req/s vs JS | CPU vs JS | req/s per round |');
  print('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of results.flows) {
    const js = results.flows.find((o) => o.what === r.what && o.label === 'JavaScript');
    print(`| ${r.flow}: ${r.what} | ${r.label}${r.failures ? ` (${r.failures} failed)` : ''} | ${fmt(r.rps, 0)} | ${fmt(r.p50_ms, 2)} | ${fmt(r.cpu_us, 0)} | ${fmt(r.rps / js.rps, 2)}× | ${fmt(r.cpu_us / js.cpu_us, 2)}× | ${r.rounds.join(', ')} |`);
  }
  printFloorTable(results.flows);
}

/**
 * Each flow against its runtime floor (workerd CPU µs per request, medians): the work of the
 * Rust function and of its peer above the floor, and what 1.2× the peer's req/s asks of the
 * Rust function, read as CPU (workerd is pinned to one core: req/s ≈ 1 / CPU per request).
 */
function printFloorTable(flows) {
  const rows = [...new Set(flows.map((r) => r.what))]
    .map((what) => Object.fromEntries(flows.filter((r) => r.what === what).map((r) => [r.label, r])))
    .filter((r) => r.Rust && r.JavaScript && r['runtime floor']);
  if (!rows.length) return;
  print();
  print('Against the runtime floor (`bench/peer-js/floor.mjs`: the same subrequests and answers, none of the work; not in the answer comparison):');
  print();
  print("| flow | floor CPU µs/req | Rust above the floor µs | JS above the floor µs | 1.2× JS needs Rust ≤ µs | room for Rust's own work µs (share of JS's) | floor req/s vs JS |");
  print('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { Rust: rust, JavaScript: js, 'runtime floor': floor } of rows) {
    const needed = js.cpu_us / 1.2;
    const room = needed - floor.cpu_us;
    const roomText = room > 0 ? `${fmt(room, 0)} (${fmt((room / (js.cpu_us - floor.cpu_us)) * 100, 0)}%)` : `none: the floor is above ${fmt(needed, 0)}`;
    print(`| ${rust.flow}: ${rust.what} | ${fmt(floor.cpu_us, 0)} | ${fmt(rust.cpu_us - floor.cpu_us, 0)} | ${fmt(js.cpu_us - floor.cpu_us, 0)} | ${fmt(needed, 0)} | ${roomText} | ${fmt(floor.rps / js.rps, 2)}× |`);
  }
  for (const { Rust: rust, JavaScript: js, 'runtime floor': floor, 'Rust/wasm floor': wasm } of rows.filter((r) => r['Rust/wasm floor'])) {
    print();
    print(`${rust.flow}'s floor in Rust/wasm (bench-worker's src/floor.rs, the same subrequest and answer through edge-worker): ${fmt(wasm.cpu_us, 0)} µs against ${fmt(floor.cpu_us, 0)} µs in JavaScript, so running in wasm costs ${fmt(wasm.cpu_us - floor.cpu_us, 0)} µs a request before any of the function's own work; the Rust function's work above its wasm floor: ${fmt(rust.cpu_us - wasm.cpu_us, 0)} µs (the JavaScript peer's above its floor: ${fmt(js.cpu_us - floor.cpu_us, 0)} µs).`);
  }
}

if (results.functions.length) {
  print();
  print('| function | what one request does | req/s | p50 ms | p99 ms | workerd CPU ms/req | floor req/s | floor p50 | floor p99 | overhead p50 | req/s vs floor |');
  print('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { row, f, floor } of results.functions) {
    print(`| ${row.name} | ${row.what}${failures(f)} | ${fmt(f.rps, 0)} | ${fmt(f.p50_ms, 2)} | ${fmt(f.p99_ms, 2)} | ${fmt(f.cpu_ms_per_req, 2)} | ${fmt(floor.rps, 0)} | ${fmt(floor.p50_ms, 2)} | ${fmt(floor.p99_ms, 2)} | ${fmt(f.p50_ms / floor.p50_ms, 2)}× | ${fmt(f.rps / floor.rps, 2)}× |`);
  }
  print();
  print('Floor: the bare PostgREST/Auth call the function makes, sent by wrk straight to devstack with the same body and key.');
}

if (results.proxy.length) {
  print();
  print('| tenant-proxy | connections | proxied req/s | p50 ms | p99 ms | workerd CPU ms/req | direct req/s | p50 ms | p99 ms | added p50 ms | throughput vs direct | proxied MB/s |');
  print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { label, connections: c, p, d } of results.proxy) {
    print(`| ${label}${failures(p)} | ${c} | ${fmt(p.rps, 0)} | ${fmt(p.p50_ms, 2)} | ${fmt(p.p99_ms, 2)} | ${fmt(p.cpu_ms_per_req, 2)} | ${fmt(d.rps, 0)} | ${fmt(d.p50_ms, 2)} | ${fmt(d.p99_ms, 2)} | ${fmt(p.p50_ms - d.p50_ms, 2)} | ${fmt(p.rps / d.rps, 2)}× | ${fmt(p.mb_per_s, 1)} |`);
  }
}

if (results.peer.length) {
  print();
  print('| per-request work (HS256 check + open/seal of a secret, JSON in/out) | req/s | p50 ms | p99 ms | workerd CPU µs/req | empty answer req/s | empty p50 ms | empty CPU µs/req |');
  print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const { label, work, noop } of results.peer) {
    print(`| ${label}${failures(work)} | ${fmt(work.rps, 0)} | ${fmt(work.p50_ms, 2)} | ${fmt(work.p99_ms, 2)} | ${fmt(work.cpu_ms_per_req * 1000, 0)} | ${fmt(noop.rps, 0)} | ${fmt(noop.p50_ms, 2)} | ${fmt(noop.cpu_ms_per_req * 1000, 0)} |`);
  }
  const [rust, js] = results.peer;
  if (rust && js) {
    print(`\nMedians of ${rust.rounds.length} alternating rounds (req/s per round: Rust ${rust.rounds.join(', ')}; JavaScript ${js.rounds.join(', ')}).`);
    print(`Rust/wasm does ${fmt(rust.work.rps / js.work.rps, 2)}× the requests/s of the JavaScript peer and uses ${fmt(rust.work.cpu_ms_per_req / js.work.cpu_ms_per_req, 2)}× its CPU per request.`);
  }
}

if (ops.length) {
  print();
  print('| operation (inside workerd, per op) | Rust/wasm µs | JavaScript + WebCrypto µs | native (criterion) µs |');
  print('| --- | ---: | ---: | ---: |');
  for (const o of ops) {
    print(`| ${OPS[o.op]} | ${fmt(o.rust_us, 2)} | ${fmt(o.js_us, 2)} | ${o.native_us === null ? '–' : fmt(o.native_us, 2)} |`);
  }
}

if (sizes.length) {
  print();
  print('| Worker | wasm bytes | gzip -9 bytes | startup: active CPU ms | profile window ms |');
  print('| --- | ---: | ---: | ---: | ---: |');
  for (const { name, size, startup } of sizes) {
    print(`| ${name} | ${size ? size.raw.toLocaleString('en') : '–'} | ${size ? size.gzip.toLocaleString('en') : '–'} | ${startup ? fmt(startup.active_ms, 1) : '–'} | ${startup ? fmt(startup.window_ms, 1) : '–'} |`);
  }
  if (sections.has('startup')) print('\nStartup: `wrangler check startup` (a CPU profile of the Worker\'s startup in the local workerd), median of 3.');
}

for (const { name, requests, busy_ms, top } of profiles) {
  print();
  print(`CPU profile of ${name}: ${fmt(busy_ms, 0)} ms busy over ${requests} requests (${fmt((busy_ms / Math.max(requests, 1)) * 1000, 0)} µs/request sampled); self time by function:`);
  print();
  print('| function | self ms | share |');
  print('| --- | ---: | ---: |');
  for (const t of top) print(`| \`${t.name.replace(/\|/g, '\\|').slice(0, 120)}\` | ${fmt(t.self_ms, 1)} | ${fmt(t.share * 100, 1)}% |`);
}

if (env.BENCH_OUT) writeFileSync(env.BENCH_OUT, `${out.join('\n')}\n`);
if (!existsSync(join(state, 'status.json'))) process.exitCode = 1;

// devstack itself: data survives a restart, --reset starts clean, keys stay stable, a tenant
// project is isolated from the main one. Runs its own devstack on ports of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';

const repo = new URL('..', import.meta.url).pathname;
const binary = join(repo, 'target/debug/devstack');
const stateDir = mkdtempSync(join(tmpdir(), 'devstack-lifecycle-'));
chmodSync(stateDir, 0o755); // Postgres runs as its own user and must reach its data dir
// Ports from the test stack's base (scripts/test.sh's E2E_PORT_BASE), so two checkouts can test at once.
const BASE = Number(process.env.E2E_PORT_BASE ?? 54400);
const PORT = BASE + 121;
const DB_PORT = BASE + 122;
const TENANT_PORT = BASE + 131;

async function startStack(extra = []) {
  const child = spawn(
    binary,
    ['--root', repo, '--port', String(PORT), '--db-port', String(DB_PORT), '--state-dir', stateDir, 'start',
      '--dev-vars', join(stateDir, 'dev.vars'), '--tenant', `lifecycle=${TENANT_PORT}=tests/fixtures/tenant`, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for (let i = 0; i < 120; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${PORT}/auth/v1/health`);
      if (res.ok) return { child, exited, output: () => output };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill('SIGTERM');
  throw new Error(`devstack did not start:\n${output}`);
}

async function stopStack({ child, exited }) {
  child.kill('SIGTERM');
  const code = await exited;
  assert.equal(code, 0, 'devstack exits cleanly on SIGTERM');
}

function status() {
  return JSON.parse(readFileSync(join(stateDir, 'status.json'), 'utf8')).projects;
}

function psql(dbUrl, query) {
  return execFileSync('psql', [dbUrl, '-X', '-A', '-t', '-c', query], { encoding: 'utf8' }).trim();
}

/** Runs `body` with a started stack and always stops the stack afterwards. */
async function withStack(extra, body) {
  const stack = await startStack(extra);
  try {
    return await body();
  } finally {
    await stopStack(stack);
  }
}

test('data and keys survive a restart; --reset clears both; Postgres stops with devstack', async () => {
  const email = `persist-${Date.now()}@example.test`;
  const password = 'correct-horse-battery';
  const first = await withStack(['--reset'], async () => {
    const [main, tenant] = status();
    assert.equal(main.API_URL, `http://127.0.0.1:${PORT}`);
    assert.equal(tenant.name, 'lifecycle');
    const client = createClient(main.API_URL, main.ANON_KEY, { auth: { persistSession: false } });
    const { error } = await client.auth.signUp({ email, password });
    assert.equal(error, null);
    return main;
  });
  assert.throws(() => psql(first.DB_URL, 'select 1'), 'Postgres is stopped after devstack exits');

  await withStack([], async () => {
    const [again] = status();
    assert.equal(again.ANON_KEY, first.ANON_KEY, 'keys are stable across restarts');
    assert.equal(again.JWT_SECRET, first.JWT_SECRET);
    const client = createClient(again.API_URL, again.ANON_KEY, { auth: { persistSession: false } });
    const signIn = await client.auth.signInWithPassword({ email, password });
    assert.equal(signIn.error, null, 'the account is still there after a restart');
    assert.equal(psql(again.DB_URL, `select count(*) from auth.users where email = '${email}'`), '1');
  });

  await withStack(['--reset'], async () => {
    const [fresh] = status();
    assert.notEqual(fresh.JWT_SECRET, first.JWT_SECRET, '--reset makes new keys');
    assert.equal(psql(fresh.DB_URL, 'select count(*) from auth.users'), '0', '--reset deletes the data');
  });
});

test('a tenant project has its own database, keys and port', async () => {
  await withStack([], async () => {
    const [main, tenant] = status();
    assert.notEqual(tenant.JWT_SECRET, main.JWT_SECRET);
    assert.notEqual(tenant.DB_URL, main.DB_URL);
    assert.equal(psql(tenant.DB_URL, 'select count(*) from public.orders'), '5');
    assert.equal(psql(main.DB_URL, "select count(*) from pg_tables where tablename = 'orders'"), '0');
    // A main-project key means nothing to the tenant.
    const res = await fetch(`${tenant.API_URL}/rest/v1/orders`, { headers: { apikey: main.SERVICE_ROLE_KEY } });
    assert.equal(res.status, 401);
  });
});

test('an interrupt during start-up still stops Postgres', async () => {
  const child = spawn(binary, ['--root', repo, '--port', String(PORT), '--db-port', String(DB_PORT), '--state-dir', stateDir, 'start',
    '--dev-vars', join(stateDir, 'dev.vars')], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const dbUrl = `postgresql://postgres:postgres@127.0.0.1:${DB_PORT}/postgres`;
  // Interrupt as soon as Postgres answers, while devstack is still bootstrapping.
  for (let i = 0; i < 200; i++) {
    try {
      psql(dbUrl, 'select 1');
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  child.kill('SIGTERM');
  await exited;
  assert.equal(await exited, 0, 'devstack exits cleanly');
  assert.throws(() => psql(dbUrl, 'select 1'), 'no Postgres left running');
});

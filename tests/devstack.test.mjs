// devstack itself: data survives a restart, --reset starts clean, keys stay stable, a tenant
// project is isolated from the main one. Runs its own devstack on ports of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, chmodSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';

const repo = new URL('..', import.meta.url).pathname;
const binary = join(repo, 'target/debug/devstack');
const stateDir = mkdtempSync(join(tmpdir(), 'devstack-lifecycle-'));
chmodSync(stateDir, 0o755); // Postgres runs as its own user and must reach its data dir
// Ports from the test stack's base (scripts/test.sh's E2E_PORT_BASE), so two checkouts can test at once.
const BASE = Number(process.env.E2E_PORT_BASE ?? 24400);
const PORT = BASE + 121;
const DB_PORT = BASE + 122;
const MAIL_PORT = BASE + 123;
const TENANT_PORT = BASE + 131;

async function startStack(extra = []) {
  const child = spawn(
    binary,
    ['--root', repo, '--port', String(PORT), '--db-port', String(DB_PORT), '--mail-port', String(MAIL_PORT), '--state-dir', stateDir, 'start',
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

/** Every privilege-bearing fact of a database, from the catalogs, as one comparable text. */
function privileges(dbUrl) {
  const catalogs = {
    'schema grants': `select nspname, nspacl::text from pg_namespace where nspname !~ '^pg_(toast_)?temp_' order by 1`,
    'table grants and RLS': `select n.nspname, c.relname, c.relkind, c.relacl::text, c.relrowsecurity, c.relforcerowsecurity
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname !~ '^pg_(toast_)?temp_'
      order by 1, 2`,
    'column grants': `select a.attrelid::regclass::text, a.attname, a.attacl::text from pg_attribute a
      where a.attacl is not null order by 1, 2`,
    'function grants and settings': `select p.oid::regprocedure::text, p.proacl::text, p.prosecdef, p.proconfig::text
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname not in ('pg_catalog', 'information_schema') order by 1`,
    'default privileges': `select defaclrole::regrole::text, defaclnamespace, defaclobjtype, defaclacl::text
      from pg_default_acl order by 1, 2, 3`,
    policies: `select schemaname, tablename, policyname, permissive, roles::text, cmd, qual, with_check
      from pg_policies order by 1, 2, 3`,
    'role settings': `select coalesce(r.rolname, ''), s.setdatabase, s.setconfig::text
      from pg_db_role_setting s left join pg_roles r on r.oid = s.setrole order by 1, 2`,
    'role memberships': `select roleid::regrole::text, member::regrole::text from pg_auth_members order by 1, 2`,
    'database grants': `select datname, datacl::text from pg_database order by 1`,
  };
  return Object.fromEntries(Object.entries(catalogs).map(([what, query]) => [what, psql(dbUrl, query)]));
}

test('privileges after a restart are exactly those after the first start: no re-grant undoes a REVOKE', async () => {
  const email = `grants-${Date.now()}@example.test`;
  const password = 'correct-horse-battery';
  const before = await withStack(['--reset'], async () => {
    const [main, tenant] = status();
    const client = createClient(main.API_URL, main.ANON_KEY, { auth: { persistSession: false } });
    assert.equal((await client.auth.signUp({ email, password })).error, null);
    return { main: privileges(main.DB_URL), tenant: privileges(tenant.DB_URL) };
  });
  await withStack([], async () => {
    const [main, tenant] = status();
    assert.deepEqual(privileges(main.DB_URL), before.main, 'the main project keeps its privileges');
    assert.deepEqual(privileges(tenant.DB_URL), before.tenant, 'a tenant project keeps its privileges');

    // The attack the re-grant allowed: a user raising their own credits and role.
    const client = createClient(main.API_URL, main.ANON_KEY, { auth: { persistSession: false } });
    const { data: signIn, error } = await client.auth.signInWithPassword({ email, password });
    assert.equal(error, null);
    const raise = await client
      .from('user_profiles')
      .update({ credits: 1000000, role: 'platform_super_admin' })
      .eq('id', signIn.user.id)
      .select();
    assert.equal(raise.error?.code, '42501', `refused: ${JSON.stringify(raise)}`);
    assert.deepEqual(
      psql(main.DB_URL, `select credits || ' ' || role from public.user_profiles where id = '${signIn.user.id}'`),
      '10 user',
    );
  });
});

test("Supabase's role timeouts are set once and kept across restarts", async () => {
  await withStack(['--reset'], async () => {
    const [main] = status();
    const timeouts = `select rolname || '=' || array_to_string(rolconfig, ',') from pg_roles
      where rolname in ('anon', 'authenticated', 'authenticator') order by 1`;
    assert.equal(psql(main.DB_URL, timeouts), 'anon=statement_timeout=3s\nauthenticated=statement_timeout=8s\nauthenticator=statement_timeout=8s');
    assert.equal(psql(main.DB_URL, 'show statement_timeout'), '2min', 'the global limit');
    // A migration (or an operator) may change them, as on Supabase; a restart keeps the change.
    psql(main.DB_URL, "alter role authenticated set statement_timeout = '15s'");
  });
  await withStack([], async () => {
    const [main] = status();
    assert.equal(
      psql(main.DB_URL, "select array_to_string(rolconfig, ',') from pg_roles where rolname = 'authenticated'"),
      'statement_timeout=15s',
    );
  });
});

test('the files devstack writes keys into are readable by their owner only (0600)', async () => {
  await withStack(['--reset'], async () => {
    for (const file of ['status.json', 'project-default.json', 'project-lifecycle.json', 'dev.vars']) {
      const mode = statSync(join(stateDir, file)).mode & 0o777;
      assert.equal(mode.toString(8), '600', `${file} is mode ${mode.toString(8)}`);
    }
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
  const child = spawn(binary, ['--root', repo, '--port', String(PORT), '--db-port', String(DB_PORT), '--mail-port', String(MAIL_PORT), '--state-dir', stateDir, 'start',
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

/** The postmaster of the stack's cluster and every process it started (its backends). */
function postgresProcesses() {
  const postmaster = Number(readFileSync(join(stateDir, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);
  return [postmaster, ...children];
}

test('with every Postgres process frozen, devstack answers /rest/v1 and /auth/v1 within 12 s, and normally soon after the thaw', { timeout: 120_000 }, async (t) => {
  await withStack(['--reset'], async () => {
    const [main] = status();
    const client = createClient(main.API_URL, main.ANON_KEY, { auth: { persistSession: false } });
    const email = `frozen-${Date.now()}@example.test`;
    const password = 'correct-horse-battery';
    const { data: signUp, error } = await client.auth.signUp({ email, password });
    assert.equal(error, null);
    const token = signUp.session.access_token;
    const calls = {
      'REST as anon': () => fetch(`${main.API_URL}/rest/v1/user_profiles?select=id`, { headers: { apikey: main.ANON_KEY } }),
      'REST as a user': () =>
        fetch(`${main.API_URL}/rest/v1/user_profiles?select=id`, { headers: { apikey: main.ANON_KEY, authorization: `Bearer ${token}` } }),
      'REST as service_role': () => fetch(`${main.API_URL}/rest/v1/user_profiles?select=id`, { headers: { apikey: main.SERVICE_ROLE_KEY } }),
      'Auth user': () => fetch(`${main.API_URL}/auth/v1/user`, { headers: { apikey: main.ANON_KEY, authorization: `Bearer ${token}` } }),
      'Auth sign-in': () =>
        fetch(`${main.API_URL}/auth/v1/token?grant_type=password`, {
          method: 'POST',
          headers: { apikey: main.ANON_KEY, 'content-type': 'application/json' },
          body: JSON.stringify({ email, password }),
        }),
    };
    // Warm the pools, so that frozen backends sit behind pooled connections too; each call's
    // normal answer (anon may not read user_profiles: 401) is what it must give after the thaw.
    const normal = {};
    for (const [what, call] of Object.entries(calls)) {
      normal[what] = (await call()).status;
      assert.ok(normal[what] < 500, `${what}: ${normal[what]}`);
    }

    const frozen = postgresProcesses();
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    let answers;
    try {
      answers = await Promise.all(
        Object.entries(calls).flatMap(([what, call]) =>
          [0, 1, 2].map(async () => {
            const started = Date.now();
            const res = await call();
            const body = await res.json();
            return { what, status: res.status, body, seconds: (Date.now() - started) / 1000 };
          }),
        ),
      );
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
    }
    for (const answer of answers) {
      assert.ok(answer.seconds < 12, `${answer.what} answered in ${answer.seconds} s`);
      assert.ok([500, 503, 504].includes(answer.status), `${answer.what}: ${answer.status} ${JSON.stringify(answer.body)}`);
      assert.ok(answer.body.code ?? answer.body.error_code, `${answer.what}: an error body of the service's own shape`);
    }

    const thawed = Date.now();
    for (const [what, call] of Object.entries(calls)) {
      for (;;) {
        const res = await call();
        if (res.status === normal[what]) break;
        assert.ok(Date.now() - thawed < 3000, `${what} answers normally within 3 s of the thaw (still ${res.status})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const longest = answers.reduce((a, b) => (b.seconds > a.seconds ? b : a));
    t.diagnostic(`frozen: longest answer ${longest.seconds} s (${longest.what}, ${longest.status}); ` +
      `all normal ${(Date.now() - thawed) / 1000} s after the thaw; ` +
      answers.map((a) => `${a.what} ${a.status} ${a.seconds}s`).join(', '));
  });
});

// A devstack of a test file's own (no functions, no web app) on ports of its own, for settings
// the shared test stack does not have (e.g. `--email-confirmations`).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, after } from 'node:test';
import { createClient } from '@supabase/supabase-js';
import { mainProjectOf } from './stack.mjs';
import { mailboxAt } from './mail.mjs';

const repo = new URL('../..', import.meta.url).pathname;
const binary = join(repo, 'target/debug/devstack');

/** A new state directory for `startOwnStack` (Postgres runs as its own user and must reach it). */
export function newStateDir() {
  const stateDir = mkdtempSync(join(tmpdir(), 'devstack-own-'));
  chmodSync(stateDir, 0o755);
  return stateDir;
}

/**
 * Auth's limits on sign-ups, mailing endpoints, anonymous sign-ins and MFA, lifted unless a file's
 * `env` sets them (tests/accounts-rate-limits*.test.mjs do): a file's many sign-ups from one
 * address would drain the CLI's buckets of 30.
 */
const RAISED_LIMITS = {
  GOTRUE_RATE_LIMIT_OTP: '100000',
  GOTRUE_RATE_LIMIT_ANONYMOUS_USERS: '100000',
  GOTRUE_MFA_RATE_LIMIT_CHALLENGE_AND_VERIFY: '100000',
};

/**
 * Starts devstack with `args` after `start` and `env` on API port `port` (database `port + 1`, mail catcher `port + 2`);
 * resolves to `{ project, stateDir, stop }` once Auth answers. A new state directory and `--reset` unless `stateDir`
 * (kept across restarts) and `reset: false` are given.
 */
export async function startOwnStack({ port, args = [], env = {}, stateDir = newStateDir(), reset = true }) {
  const child = spawn(
    binary,
    ['--root', repo, '--port', String(port), '--db-port', String(port + 1), '--mail-port', String(port + 2), '--state-dir', stateDir, 'start',
      ...(reset ? ['--reset'] : []), '--dev-vars', join(stateDir, 'dev.vars'), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...RAISED_LIMITS, ...env } },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; i < 240; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/auth/v1/health`);
      if (res.ok) return { project: mainProjectOf(join(stateDir, 'status.json')), stateDir, stop };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`devstack did not start:\n${output}`);
}

/**
 * A test file's own stack: started before its tests and stopped after them. The returned object's
 * `project` and `mail` (its catcher) are set once the stack is up; `client()` is a sessionless
 * supabase-js client with the anon key.
 */
export function ownStackForFile(options) {
  const file = { project: null, mail: null, client: () => sessionlessClient(file.project) };
  let own;
  before(async () => {
    own = await startOwnStack(options);
    file.project = own.project;
    file.mail = mailboxAt(own.project.mailUrl);
  });
  after(async () => {
    await own?.stop();
  });
  return file;
}

function sessionlessClient(project) {
  return createClient(project.url, project.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
}

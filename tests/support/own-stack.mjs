// A devstack of a test file's own (no functions, no web app) on ports of its own, for settings
// the shared test stack does not have (e.g. `--email-confirmations`).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mainProjectOf } from './stack.mjs';

const repo = new URL('../..', import.meta.url).pathname;
const binary = join(repo, 'target/debug/devstack');

/**
 * Starts devstack with `args` after `start` and `env` on API port `port` (database `port + 1`, mail catcher `port + 2`);
 * resolves to `{ project, stop }` once Auth answers.
 */
export async function startOwnStack({ port, args = [], env = {} }) {
  const stateDir = mkdtempSync(join(tmpdir(), 'devstack-own-'));
  chmodSync(stateDir, 0o755); // Postgres runs as its own user and must reach its data dir
  const child = spawn(
    binary,
    ['--root', repo, '--port', String(port), '--db-port', String(port + 1), '--mail-port', String(port + 2), '--state-dir', stateDir, 'start',
      '--reset', '--dev-vars', join(stateDir, 'dev.vars'), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
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
      if (res.ok) return { project: mainProjectOf(join(stateDir, 'status.json')), stop };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`devstack did not start:\n${output}`);
}

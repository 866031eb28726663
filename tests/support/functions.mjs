// Calling the Edge Functions the way an app does (supabase-js `functions.invoke`), and reading
// their JSON errors.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Invokes a function; resolves to `{ status, body }` for successes and errors alike. */
export async function invoke(client, name, options = {}) {
  const { data, error, response } = await client.functions.invoke(name, options);
  if (!error) return { status: response?.status ?? 200, body: data };
  const res = error.context;
  if (!res || typeof res.status !== 'number') throw error;
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

/** A raw fetch to a function URL with the given headers; resolves to `{ status, body, headers }`. */
export async function call(url, { method = 'GET', headers = {}, body } = {}) {
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/**
 * Starts a second `wrangler dev` with its own secrets file (e.g. another key ring), for tests
 * that need the functions under other settings. Returns `{ url, stop }`.
 */
export async function startFunctions({ port, inspectorPort, envFile }) {
  const repo = new URL('../..', import.meta.url).pathname;
  // The test stack's copy of the build (scripts/lib.sh), so this wrangler neither rebuilds nor
  // watches the checkout; the checkout itself when there is none (a dev stack).
  const stackRoot = process.env.DEVSTACK_STATUS && join(dirname(process.env.DEVSTACK_STATUS), 'worker-root');
  const cwd = stackRoot && existsSync(stackRoot) ? stackRoot : repo;
  const child = spawn(
    `${repo}node_modules/.bin/wrangler`,
    ['dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort),
      '--env-file', envFile, '--show-interactive-dev-session=false'],
    { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    try {
      const res = await fetch(`${url}/functions/v1/save-connection`, { method: 'OPTIONS' });
      if (res.status === 200) return { url, stop };
    } catch {
      // not up yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  stop();
  throw new Error(`wrangler dev did not start:\n${output}`);
}

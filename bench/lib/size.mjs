// Release wasm sizes and startup CPU profiles.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);

/** Raw and `gzip -9` size of a wasm file. */
export function wasmSize(path) {
  const bytes = readFileSync(path);
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * `wrangler check startup` (a CPU profile of the Worker's startup phase in the local workerd)
 * with `args` (-e <env> / -c <config>), `runs` times; the medians of what it reports.
 */
export async function startupProfile(repo, args, outfile, runs = 3) {
  const active = [];
  const window = [];
  for (let i = 0; i < runs; i++) {
    const { stdout, stderr } = await run(`${repo}node_modules/.bin/wrangler`, ['check', 'startup', ...args, '--outfile', outfile], {
      cwd: repo,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
      maxBuffer: 1 << 22,
    });
    const text = stdout + stderr;
    const a = /Active:\s*([\d.]+)\s*ms/.exec(text);
    const w = /Profile window:\s*([\d.]+)\s*ms/.exec(text);
    if (!a || !w) throw new Error(`wrangler check startup ${args.join(' ')} printed no profile:\n${text}`);
    active.push(Number(a[1]));
    window.push(Number(w[1]));
  }
  return { active_ms: median(active), window_ms: median(window) };
}

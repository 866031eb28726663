// Runs wrk for one request shape and returns its figures.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = new URL('../wrk/request.lua', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
let counter = 0;

/**
 * request: { url, method = 'GET', headers = {}, body, uniqueHeader } (body a string;
 * uniqueHeader: a header that gets a new value on every request).
 * options: { seconds, connections, threads, cpus (taskset list for wrk) }.
 * Returns { rps, p50_ms, p99_ms, requests, non2xx, errors, mb_per_s }.
 */
export async function wrk(request, { seconds, connections, threads = 1, cpus, timeoutSecs = 10 }) {
  const id = counter++;
  const headersFile = join(scratch, `h${id}`);
  writeFileSync(headersFile, Object.entries(request.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n'));
  const env = { ...process.env, BENCH_METHOD: request.method ?? 'GET', BENCH_HEADERS_FILE: headersFile, BENCH_BODY_FILE: '', BENCH_UNIQUE_HEADER: request.uniqueHeader ?? '' };
  if (request.body !== undefined) {
    env.BENCH_BODY_FILE = join(scratch, `b${id}`);
    writeFileSync(env.BENCH_BODY_FILE, request.body);
  }
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', `${timeoutSecs}s`, '-s', script, request.url];
  const [cmd, cmdArgs] = cpus ? ['taskset', ['-c', cpus, 'wrk', ...args]] : ['wrk', args];
  const { stdout } = await run(cmd, cmdArgs, { env, maxBuffer: 1 << 20 });
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
  const s = JSON.parse(line.slice('BENCH_JSON '.length));
  const secs = s.duration_us / 1e6;
  return {
    rps: s.requests / secs,
    p50_ms: s.p50_us / 1000,
    p99_ms: s.p99_us / 1000,
    requests: s.requests,
    non2xx: s.errors_status,
    errors: s.errors_connect + s.errors_read + s.errors_write + s.errors_timeout,
    mb_per_s: s.bytes / secs / 1e6,
  };
}

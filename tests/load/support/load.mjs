// An open-loop load generator: requests leave on a fixed schedule (request i at start + i/rate),
// whether or not earlier ones have answered, so a slow server cannot slow the sender down and
// hide its own latency. Latency is measured from each request's scheduled time.
import { appendFileSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { stack } from '../../support/stack.mjs';

/** A setting from the environment: `NAME_<SUFFIX>` first, then `NAME`, then `fallback`. */
export function setting(name, suffix, fallback) {
  const specific = suffix ? process.env[`${name}_${suffix.toUpperCase().replaceAll('-', '_')}`] : undefined;
  const value = specific ?? process.env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`${name} must be a positive number, not ${value}`);
  return number;
}

/** Rate (requests/s) and duration (s) of the load test of `fn`. */
export function loadShape(fn, { rate = 20, seconds = 30 } = {}) {
  return { rate: setting('LOAD_RATE', fn, rate), seconds: setting('LOAD_SECONDS', fn, seconds) };
}

/** A test's own bound: its sending time twice over, plus two minutes for setup and checks. */
export const testTimeout = (seconds) => (2 * seconds + 120) * 1000;

/** The functions' secrets of the stack under test (scripts/load.sh sets DEVSTACK_DEV_VARS). */
export function devVars() {
  const path = process.env.DEVSTACK_DEV_VARS;
  if (!path) throw new Error('DEVSTACK_DEV_VARS is not set: run the load tests through scripts/load.sh');
  const vars = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = line.match(/^([A-Z_]+)="?(.*?)"?$/);
    if (m) vars[m[1]] = m[2];
  }
  return vars;
}

export const functionUrl = (name) => `${stack.functionsUrl}/${name}`;

/**
 * Sends one request and reads the whole answer. Never throws: a network error or the
 * per-request timeout is recorded as `error`.
 */
export async function send({ url, method = 'GET', headers = {}, body }, { timeoutMs = 15_000 } = {}) {
  const started = performance.now();
  try {
    const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, contentType: res.headers.get('content-type'), headers: res.headers, ms: performance.now() - started };
  } catch (e) {
    return { status: 0, error: `${e.name}: ${e.cause?.code ?? e.message}`, ms: performance.now() - started };
  }
}

/**
 * Runs `count = rate * seconds` requests on a fixed schedule. `request(i)` returns the request
 * (`{url, method, headers, body}`) or a promise of it. Resolves, once every answer is in, to
 * the results in schedule order: `{i, scheduledAt, sentAt, finishedAt, status, json, error, ms}`
 * with times in ms since the run started (`startedAt`, a performance.now() value) and `ms` the
 * latency from the scheduled time.
 */
export async function openLoop({ rate, seconds, request, timeoutMs = 15_000, onResult }) {
  const count = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const results = new Array(count);
  const inFlight = [];
  const start = performance.now();
  for (let i = 0; i < count; i += 1) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sentAt = performance.now() - start;
    inFlight.push(
      (async () => {
        const req = await request(i);
        const answer = await send(req, { timeoutMs });
        const result = { i, scheduledAt: i * interval, sentAt, finishedAt: performance.now() - start, ...answer, ms: performance.now() - due };
        results[i] = result;
        if (onResult) onResult(result);
      })(),
    );
  }
  const sendSeconds = (performance.now() - start) / 1000;
  await Promise.all(inFlight);
  const totalSeconds = (performance.now() - start) / 1000;
  return { results, rate, seconds, sendSeconds, totalSeconds, startedAt: start };
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Status counts, achieved rate and latency percentiles of a run. */
export function summarize(name, run) {
  const statuses = {};
  for (const r of run.results) {
    const key = r.status === 0 ? 'network_error' : String(r.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const latencies = run.results.map((r) => r.ms).sort((a, b) => a - b);
  const requests = run.results.length;
  // Requests sent per second over the sending phase: the schedule's (n - 1) intervals.
  const achieved = requests > 1 ? (requests - 1) / (run.results[requests - 1].sentAt / 1000) : requests;
  return {
    test: name,
    target_rate: run.rate,
    achieved_rate: Number(achieved.toFixed(2)),
    seconds: run.seconds,
    requests,
    statuses,
    p50_ms: Math.round(percentile(latencies, 50)),
    p99_ms: Math.round(percentile(latencies, 99)),
    max_ms: Math.round(latencies[latencies.length - 1] ?? NaN),
  };
}

/** Prints a summary line and appends it to LOAD_REPORT (scripts/load.sh prints them all at the end). */
export function report(summary) {
  const statuses = Object.entries(summary.statuses ?? {}).map(([s, n]) => `${s}×${n}`).join(' ');
  const line = summary.kind === undefined
    ? `${summary.test}: ${summary.requests} requests in ${summary.seconds}s at ${summary.achieved_rate}/s (target ${summary.target_rate}/s); ${statuses}; p50 ${summary.p50_ms} ms, p99 ${summary.p99_ms} ms, max ${summary.max_ms} ms`
    : `${summary.test}: ${JSON.stringify(summary)}`;
  console.log(line);
  if (process.env.LOAD_REPORT) appendFileSync(process.env.LOAD_REPORT, `${JSON.stringify(summary)}\n`);
}

/** Fails with the first few unexpected answers when any answer is a 5xx or a network error. */
export function assertNoServerErrors(run, assert) {
  const bad = run.results.filter((r) => r.status === 0 || r.status >= 500);
  assert.equal(bad.length, 0, `no 5xx and no network error; got ${bad.length}, e.g. ${JSON.stringify(bad.slice(0, 3).map((r) => ({ i: r.i, status: r.status, error: r.error, body: r.text?.slice(0, 300) })))}`);
}

/** Runs `fn(item)` over `items` with at most `concurrency` at once (for test setup). */
export async function pool(items, concurrency, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next;
        next += 1;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** A short id for the rows of one run. */
export const runId = () => `load${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

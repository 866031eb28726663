// Request bodies are bounded while they stream (issue 25, item 1): a function counts the bytes
// of a chunked upload as it reads them and answers 413 as soon as they pass its limit, without
// waiting for (or holding) the rest; a refused 100 MiB body leaves the Worker serving, and the
// workerd processes do not grow with it. Sent straight to wrangler dev (FUNCTIONS_ORIGIN), with
// node:http, so that the upload can be kept open while the answer is awaited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { stack } from './support/stack.mjs';
import { freshIp } from './support/guests.mjs';

const origin = process.env.FUNCTIONS_ORIGIN;
assert.ok(origin, 'scripts/test.sh sets FUNCTIONS_ORIGIN to wrangler dev itself');

/**
 * Starts a chunked POST and writes `chunk` until the answer comes (or `maxBytes` are written,
 * then keeps the upload open without ending it). Resolves to { status, body, sent }: `sent` is
 * how many bytes had been written when the answer arrived; `status` is 'reset' when the server
 * closed the connection while the upload was still being written, before its answer was read.
 */
function chunkedUpload(path, { headers = {}, chunk, maxBytes, timeoutMs = 60_000 }) {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(`${origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...headers },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms after ${sent} bytes sent (the upload was kept open)`));
    }, timeoutMs);
    req.on('response', (res) => {
      answered = true;
      const sentWhenAnswered = sent;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode, body: parseJson(body), text: body, sent: sentWhenAnswered });
      });
    });
    req.on('error', (e) => {
      if (answered) return;
      clearTimeout(timer);
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') resolve({ status: 'reset', sent });
      else reject(e);
    });
    const pump = () => {
      while (!answered && sent < maxBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    req.flushHeaders();
    pump();
  });
}

/** The answer's JSON, or null when it is not JSON (wrangler dev's own proxy answers in text). */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const functions = [
  // [function, limit in bytes, headers]: the functions that read a body before any credential
  // (create-invitation and save-connection check the caller's token first; all use one reader).
  ['process-webhook', 256 * 1024, {}],
  ['guest-signup', 8 * 1024, { apikey: stack.anonKey, authorization: `Bearer ${stack.anonKey}`, 'cf-connecting-ip': freshIp() }],
  ['accept-invitation', 2 * 1024, { apikey: stack.anonKey }],
];

test('a chunked body past the limit is answered 413 while the upload is still open', async () => {
  for (const [name, limit, headers] of functions) {
    // Twice the limit is written, then the upload stays open: the answer must not wait for its end.
    const chunk = Buffer.from('{"x":"'.padEnd(1024, 'a'));
    const res = await chunkedUpload(`/functions/v1/${name}`, { headers, chunk, maxBytes: 2 * limit + chunk.length });
    assert.equal(res.status, 413, `${name}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.code, 'payload_too_large', name);
    assert.match(res.body.error, new RegExp(`larger than ${limit} bytes`), name);
  }
});

/** The workerd processes of wrangler dev (FUNCTIONS_PID): its proxy and the one running the Worker. */
function workerdPids() {
  const root = Number(process.env.FUNCTIONS_PID);
  assert.ok(root, 'scripts/test.sh exports FUNCTIONS_PID (wrangler dev)');
  const found = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift();
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      for (const task of readdirSync(`/proc/${pid}/task`)) {
        const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
        if (children) queue.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      continue;
    }
    if (comm === 'workerd') found.push(pid);
  }
  assert.ok(found.length > 0, `no workerd process under wrangler dev (pid ${root})`);
  return found;
}

/** The resident memory of those processes together, in MiB. */
const rssMiB = (pids) =>
  pids.reduce((sum, pid) => sum + Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]), 0) / 1024;

test('a refused 100 MiB chunked body leaves the Worker serving, and workerd does not grow with it', async (t) => {
  const pid = workerdPids();
  const probe = () => fetch(`${origin}/functions/v1/process-webhook`, { method: 'POST', body: '{}' });
  assert.equal((await probe()).status, 401, 'warm: the Worker answers before');
  const before = rssMiB(pid);
  const chunk = Buffer.alloc(64 * 1024, 'a');
  const res = await chunkedUpload('/functions/v1/process-webhook', { chunk, maxBytes: 100 * 1024 * 1024 });
  // The Worker's 413; or the connection closed under the upload once it was refused (workerd reads
  // no more); or, when the Worker answered and cancelled the body before wrangler dev's own proxy
  // had finished relaying the upload, that proxy's text error for the dropped inner connection
  // (`Error: Network connection lost.`: a local-only layer, there is no such hop in production).
  const proxyDropped = res.body === null && /Network connection lost/.test(res.text ?? '');
  if (res.status !== 'reset' && !proxyDropped) {
    assert.equal(res.status, 413, res.text);
    assert.equal(res.body?.code, 'payload_too_large', res.text);
  }
  const after = await probe();
  assert.equal(after.status, 401, 'the Worker still serves (an unauthenticated delivery is a 401)');
  const grown = rssMiB(pid) - before;
  t.diagnostic(`workerd RSS ${before.toFixed(1)} MiB before, ${(before + grown).toFixed(1)} MiB after a refused 100 MiB body (${(res.sent / 1024 / 1024).toFixed(1)} MiB written when the ${res.status} came)`);
  assert.ok(res.sent < 100 * 1024 * 1024, `the 413 came before the whole body was sent (${res.sent} bytes)`);
  assert.ok(grown < 32, `workerd grew by ${grown.toFixed(1)} MiB`);
});

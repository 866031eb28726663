// The JavaScript driver of a sans-IO flow (issue 30's prototype, bench/sansio): it does what the
// flow needs with the runtime's own objects (fetch, the request body, WebCrypto, Response) and
// calls into wasm synchronously at each step; the step strings are described in
// src/step_text.rs. build.sh bundles this file with wasm-bindgen's glue into one module.
import wasmModule from './index_bg.wasm';
import * as flows from './glue.js';

flows.initSync({ module: wasmModule });

const encoder = new TextEncoder();
/** ES256 keys the flows had imported, by the number they gave each. */
const keys = new Map();
/** Flows waiting for another flow of the isolate (a JWKS fetch in flight), by machine id. */
const waiting = new Map();
let configured = false;
/** Counts instances: a flow of a spent instance (after a panic) must not call into the new one. */
let generation = 0;

function configure(env) {
  const pairs = [];
  for (const name of flows.wanted_settings().split('\n')) {
    const value = env[name];
    if (typeof value === 'string' && !value.includes('\n')) pairs.push(name, value);
  }
  flows.configure(pairs.join('\n'));
  configured = true;
}

const fromHex = (hex) => {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
  return bytes;
};

/** The step's log lines (an `L[…]\n` prefix) go to the console; returns the step itself. */
function logged(step) {
  if (step.charCodeAt(0) !== 76 /* L */) return step;
  const end = step.indexOf('\n');
  for (const line of JSON.parse(step.slice(1, end))) console.error(line);
  return step.slice(end + 1);
}

/** Resumes the flows another flow's step woke. */
function wakeWaiting() {
  if (waiting.size === 0) return;
  const woken = flows.woken();
  if (!woken) return;
  for (const id of woken.split(',')) {
    const resume = waiting.get(Number(id));
    if (resume) {
      waiting.delete(Number(id));
      resume();
    }
  }
}

/** A subrequest, its answer read whole within its deadline (headers and body). */
async function subrequest(flow, step) {
  const end = step.indexOf('\n');
  const head = JSON.parse(step.slice(1, end));
  const signal = AbortSignal.timeout(head.t);
  const failed = (kind, error) => () => flow.fetch_failed(signal.aborted ? 0 : kind, String(error));
  let response;
  try {
    response = await fetch(head.u, { method: head.m, headers: head.h, body: head.b ? step.slice(end + 1) : undefined, signal });
  } catch (error) {
    return failed(1, error);
  }
  let text;
  try {
    text = await response.text();
  } catch (error) {
    return failed(2, error);
  }
  return () => flow.fetched(response.status, text);
}

/** The request body, read no further than `limit` bytes. */
async function requestBody(flow, request, limit) {
  if (!request.body) return () => flow.body(new Uint8Array(0));
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        reader.cancel().catch(() => {});
        return () => flow.body_failed(true);
      }
      chunks.push(value);
    }
  } catch {
    return () => flow.body_failed(false);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return () => flow.body(bytes);
}

async function importKey(flow, step) {
  const end = step.indexOf('\n');
  try {
    const key = await crypto.subtle.importKey('raw', fromHex(step.slice(end + 1)), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    return () => {
      keys.set(Number(step.slice(1, end)), key);
      return flow.done(true);
    };
  } catch {
    return () => flow.done(false);
  }
}

async function verify(flow, step) {
  const first = step.indexOf('\n');
  const second = step.indexOf('\n', first + 1);
  const key = keys.get(Number(step.slice(1, first)));
  if (!key) return () => flow.done(false);
  const signature = fromHex(step.slice(first + 1, second));
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, encoder.encode(step.slice(second + 1)));
  return () => flow.done(ok);
}

/**
 * Runs the flow from `step` to its answer (`A…`) or, after the answer, to its end (`D`). Each
 * need is performed, then its outcome handed over, unless the instance was reset meanwhile.
 */
async function drive(flow, request, step) {
  const born = generation;
  for (;;) {
    step = logged(step);
    wakeWaiting();
    let give;
    switch (step.charCodeAt(0)) {
      case 70 /* F */:
        give = await subrequest(flow, step);
        break;
      case 66 /* B */:
        give = await requestBody(flow, request, Number(step.slice(1)));
        break;
      case 73 /* I */:
        give = await importKey(flow, step);
        break;
      case 86 /* V */:
        give = await verify(flow, step);
        break;
      case 87 /* W */: {
        const id = flow.id();
        await new Promise((resume) => {
          waiting.set(id, resume);
          wakeWaiting();
        });
        give = () => flow.step();
        break;
      }
      default:
        return step;
    }
    if (born !== generation) throw new Error('the instance was reset while this flow waited');
    step = give();
  }
}

function answer(step) {
  const end = step.indexOf('\n');
  const head = JSON.parse(step.slice(1, end));
  return { response: new Response(head.b ? step.slice(end + 1) : null, { status: head.s, headers: head.h }), after: head.a };
}

const INTERNAL_ERROR = JSON.stringify({ error: 'internal server error', code: 'internal_error' });

/**
 * After a flow failed: a panic aborts (panic = "abort") and leaves the instance spent, so a new
 * one starts, as worker-build's glue does, with none of the old one's state; the flows that
 * waited in the old one fail. Frees the flow when its instance is still the current one.
 */
function recover(flow, born, error) {
  if (error instanceof WebAssembly.RuntimeError) {
    flows.__wbg_reset_state();
    generation += 1;
    keys.clear();
    for (const resume of waiting.values()) resume();
    waiting.clear();
    configured = false;
  } else if (born === generation) {
    flow.free();
  }
}

export default {
  async fetch(request, env, ctx) {
    if (!configured) configure(env);
    const born = generation;
    const headers = request.headers;
    const flow = new flows.Flow(
      request.method,
      request.url,
      headers.get('authorization'),
      headers.get('content-length'),
      headers.get('cf-ray'),
      headers.get('x-request-id'),
    );
    let done;
    try {
      done = answer(await drive(flow, request, flow.step()));
    } catch (error) {
      console.error(`save-connection: ${error}`);
      recover(flow, born, error);
      return new Response(INTERNAL_ERROR, { status: 500, headers: { 'content-type': 'application/json' } });
    }
    if (!done.after) {
      flow.free();
      return done.response;
    }
    ctx.waitUntil(
      drive(flow, request, flow.step()).then(
        () => flow.free(),
        (error) => {
          console.error(`save-connection, after the answer: ${error}`);
          recover(flow, born, error);
        },
      ),
    );
    return done.response;
  },
};

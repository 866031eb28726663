// The per-request plumbing of the relay, in the runtime's own JavaScript so that neither the
// wait for the tenant nor the body's chunks cross into wasm (relay.rs binds these; measured in
// bench/README.md): every crossing costs more than the work done on its side.

/**
 * `fetch(url, init)`, aborted when no response headers arrive within `ms`. Only the headers are
 * covered: the body streams for as long as it keeps coming (see `endedWhenIdle`), so an
 * `AbortSignal.timeout` (which would also cut a body still streaming at `ms`) does not fit.
 * Resolves to the response, or to `null` when the deadline passed (the fetch was aborted);
 * rejects when the tenant cannot be reached.
 */
export async function fetchWithin(url, init, ms) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, ms);
  try {
    init.signal = controller.signal;
    return await fetch(url, init);
  } catch (e) {
    if (timedOut) return null;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `body` passed on unchanged, chunk for chunk (no copy); when none arrives for `ms`, the stream
 * fails (the client's read of the body fails, it does not look complete) and `body` is
 * cancelled. One timer per request, not per chunk: a chunk only notes the time, and the timer,
 * when it fires early, waits out the rest.
 */
export function endedWhenIdle(body, ms) {
  let last = Date.now();
  let timer;
  const relay = new TransformStream({
    start(controller) {
      const check = () => {
        const left = last + ms - Date.now();
        if (left > 0) {
          timer = setTimeout(check, left);
          return;
        }
        const stalled = `the tenant sent nothing for ${ms} ms`;
        console.error(`tenant-proxy: ${stalled}; relay ended`);
        // Errors the client's side; the pipe then cancels the tenant's body.
        controller.error(new Error(stalled));
      };
      timer = setTimeout(check, ms);
    },
    transform(chunk, controller) {
      last = Date.now();
      controller.enqueue(chunk);
    },
    flush() {
      clearTimeout(timer);
    },
  });
  // A client that goes away cancels the relay, and the pipe cancels the tenant's body.
  body.pipeTo(relay.writable).catch(() => clearTimeout(timer));
  return relay.readable;
}

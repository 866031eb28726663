// The per-request plumbing of the relay, in the runtime's own JavaScript so that neither the
// wait for the tenant nor the body's chunks cross into wasm (relay.rs binds these; figures in
// bench/HISTORY.md): every crossing costs more than the work done on its side.

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

/** The first read of a body asks for this much; a read that fills its buffer doubles the next. */
const FIRST_READ = 16 * 1024;
const LARGEST_READ = 256 * 1024;

/**
 * `body` passed on unchanged (its bytes never enter wasm); when none of it arrives for `ms`, the
 * stream fails (the client's read of the body fails, it does not look complete) and `body` is
 * cancelled. Read with a BYOB reader into growing buffers, so what the tenant sent in many small
 * pieces crosses in few large chunks: every chunk costs promise hops in the runtime whatever its
 * size (a 1 MB answer relayed piece for piece through a TransformStream cost ~5x the CPU). One
 * timer per request, not per read: a read only notes when it started waiting, and the timer, when
 * it fires early, waits out the rest.
 */
export function endedWhenIdle(body, ms) {
  const reader = body.getReader({ mode: 'byob' });
  let size = FIRST_READ;
  // Only the time spent waiting on the tenant counts: a client that reads slowly does not.
  let waiting = false;
  let since = Date.now();
  let timer;
  return new ReadableStream(
    {
      start(controller) {
        const check = () => {
          const left = waiting ? since + ms - Date.now() : ms;
          if (left > 0) {
            timer = setTimeout(check, left);
            return;
          }
          const stalled = `the tenant sent nothing for ${ms} ms`;
          console.error(`tenant-proxy: ${stalled}; relay ended`);
          controller.error(new Error(stalled));
          reader.cancel(stalled).catch(() => {});
        };
        timer = setTimeout(check, ms);
      },
      async pull(controller) {
        let read;
        waiting = true;
        since = Date.now();
        try {
          read = await reader.read(new Uint8Array(size));
        } catch (e) {
          clearTimeout(timer);
          throw e;
        } finally {
          waiting = false;
        }
        if (read.done) {
          clearTimeout(timer);
          controller.close();
        } else {
          // A full buffer: more is waiting, read more at once next time.
          if (read.value.byteLength === size) size = Math.min(size * 2, LARGEST_READ);
          controller.enqueue(read.value);
        }
      },
      cancel(reason) {
        clearTimeout(timer);
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

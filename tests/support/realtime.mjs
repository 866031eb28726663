// Helpers of the Broadcast/Presence tests: joining a channel and waiting on what it collected.
import assert from 'node:assert/strict';

/** Joins `channel`; resolves with the first status that is not CLOSED; `statuses` keeps all. */
export function join(channel, statuses = []) {
  return new Promise((resolve) => {
    channel.subscribe((status, err) => {
      statuses.push(status);
      if (status !== 'CLOSED') resolve({ status, err });
    });
  });
}

/** Waits until `check()` holds, polling what the client collected (not the server). */
export async function until(what, check, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

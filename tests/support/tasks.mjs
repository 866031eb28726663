// Segmentation tasks the way the app files them and the inference backend claims them, for the
// end-to-end tests of the task pipeline.
import assert from 'node:assert/strict';
import { stack } from './stack.mjs';
import { call } from './functions.mjs';
import { devVar } from './guests.mjs';

/** The backend's credential: the first of the stack's WEBHOOK_API_KEYS. */
export const backendKey = () => devVar('WEBHOOK_API_KEYS').split(',')[0].trim();

/** POST /process-webhook<route> as the backend (X-API-Key unless `headers` say otherwise). */
export function backendCall(route, body, { headers = { 'x-api-key': backendKey() } } = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return call(`${stack.functionsUrl}/process-webhook${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text });
}

/**
 * Claims until nothing is pending (with hour-long leases), so that a test's own tasks are the
 * queue: other files' leftover tasks are no business of the backend under test.
 */
export async function drainTaskQueue() {
  for (;;) {
    const res = await backendCall('/claim', { max: 10, lease_seconds: 3600 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    if (res.body.tasks.length === 0) return;
  }
}

/** A pending task filed by `owner` through /rest/v1 with `fields` (an image URL by default). */
export async function fileTask(owner, fields = { source_image_url: 'https://images.example.test/cat.png', text_prompt: 'the cat' }) {
  const { data, error } = await owner.client.from('segmentation_results').insert(fields).select('id').single();
  assert.equal(error, null);
  return data.id;
}

/** The task as its owner reads it once it is no longer pending or processing. */
export async function finishedTask(owner, id, ms = 20_000) {
  const until = Date.now() + ms;
  for (;;) {
    const { data, error } = await owner.client.from('segmentation_results').select('*').eq('id', id).single();
    assert.equal(error, null);
    if (!['pending', 'processing'].includes(data.status)) return data;
    if (Date.now() > until) assert.fail(`task ${id} still ${data.status} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The user id of a supabase-js client's session. */
export async function sessionUserId(client) {
  const { data, error } = await client.auth.getSession();
  assert.equal(error, null);
  return data.session.user.id;
}

// A process-webhook delivery, signed the Standard Webhooks way or carrying X-API-Key, with the
// load stack's secrets.
import { createHmac } from 'node:crypto';
import { devVars, functionUrl } from './load.mjs';

const vars = devVars();
const apiKey = vars.WEBHOOK_API_KEYS.split(',')[0].trim();
const secret = Buffer.from(vars.WEBHOOK_SECRETS.split(/[\s,]+/)[0].replace(/^whsec_/, ''), 'base64');

/** A `done` delivery for `taskId` with delivery id `id`, charging `credits`. */
export function delivery(taskId, id, { viaKey = false, credits = 1 } = {}) {
  const body = JSON.stringify({ task_id: taskId, status: 'done', mask_url: 'https://masks.example.test/m.png', labels: [{ label: 'cat', score: 0.9 }], credits_used: credits });
  const headers = { 'content-type': 'application/json' };
  if (viaKey) {
    Object.assign(headers, { 'x-api-key': apiKey, 'idempotency-key': id });
  } else {
    const ts = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', secret).update(`${id}.${ts}.${body}`).digest('base64');
    Object.assign(headers, { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${signature}` });
  }
  return { url: functionUrl('process-webhook'), method: 'POST', headers, body };
}

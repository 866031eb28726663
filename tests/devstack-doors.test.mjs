// devstack's gateway and ports as an attacker on the same machine, or a web page doing DNS
// rebinding, meets them (issue 25, items 2 and 5): paths that would leave /functions/v1 are not
// forwarded; every port answers loopback Host headers only; the mail catcher is on a port of its
// own, not behind the API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { stack, tenantProject } from './support/stack.mjs';

/** A raw GET (the path is sent exactly as given: fetch would resolve `%2e%2e`). */
function rawGet(base, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = request({ hostname, port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const cron = encodeURIComponent('*/5 * * * *');

test('paths that would leave /functions/v1 are answered 404, never forwarded', async () => {
  for (const path of [
    `/functions/v1/%2e%2e/%2e%2e/__scheduled?cron=${cron}`,
    `/functions/v1/%2E%2E/%2E%2E/__scheduled?cron=${cron}`,
    `/functions/v1/.%2e/.%2E/__scheduled?cron=${cron}`,
    `/functions/v1/../../__scheduled?cron=${cron}`,
    `/functions/v1/guest-signup/../../../__scheduled?cron=${cron}`,
    `/functions/v1/guest-signup%2f..%2f..%2f..%2f__scheduled?cron=${cron}`,
    `/functions/v1/guest-signup%5c..%5c..%5c..%5c__scheduled?cron=${cron}`,
  ]) {
    const res = await rawGet(stack.url, path);
    assert.equal(res.status, 404, `${path}: ${res.status} ${res.body}`);
    assert.deepEqual(JSON.parse(res.body), { message: 'no Route matched with those values' }, path);
  }
  // What stays under /functions/v1 is still forwarded.
  const ok = await rawGet(stack.url, '/functions/v1/guest-signup', { apikey: stack.anonKey });
  assert.ok(ok.status !== 404 && ok.status < 500 && !ok.body.includes('no Route matched'), `${ok.status} ${ok.body}`);
});

test('every devstack port refuses a Host that is not loopback (DNS rebinding)', async () => {
  const mailUrl = stack.mailUrl;
  const ports = [
    [stack.url, '/auth/v1/health'],
    [tenantProject('tenant').url, '/auth/v1/health'],
    [mailUrl, '/api/v1/messages'],
  ];
  for (const [base, path] of ports) {
    const { port } = new URL(base);
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`, `10.0.0.1:${port}`]) {
      const res = await rawGet(base, path, { host });
      assert.equal(res.status, 403, `${base}${path} with Host ${host}: ${res.status} ${res.body}`);
      assert.equal(JSON.parse(res.body).code, 'host_not_allowed');
    }
    for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `127.3.2.1:${port}`, `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`]) {
      const res = await rawGet(base, path, { host });
      assert.equal(res.status, 200, `${base}${path} with Host ${host}: ${res.status} ${res.body}`);
    }
  }
  // A rebinding page would also reach the functions and the web app through the API port.
  const scheduled = await rawGet(stack.url, `/functions/v1/guest-signup`, { host: 'evil.example' });
  assert.equal(scheduled.status, 403);
  const app = await rawGet(stack.url, '/', { host: 'evil.example' });
  assert.equal(app.status, 403);
});

test('the mail catcher is on its own port (as the CLI\'s Mailpit), not behind the API', async () => {
  const mail = new URL(stack.mailUrl);
  assert.notEqual(mail.port, new URL(stack.url).port);
  // The API port has no mail routes left (its fallback is the web app's index.html).
  for (const path of ['/mail/api/v1/messages', '/mail/api/v1/search?query=to:a@b.c', '/mail/api/v1/chaos', '/mail/']) {
    const res = await rawGet(stack.url, path);
    assert.ok(!/"messages"|"Authentication"|Caught mail/.test(res.body), `${path} on the API port: ${res.status} ${res.body.slice(0, 200)}`);
  }
  const list = await fetch(new URL('api/v1/messages', stack.mailUrl));
  assert.equal(list.status, 200);
  assert.ok(Array.isArray((await list.json()).messages));
});

// The first admin end to end: `devstack admin grant --email X --role admin` against the running
// stack, after which the account may do what admins do through the functions (create-invitation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { signedUpUser, sql, stack, uniqueEmail } from './support/stack.mjs';
import { invoke } from './support/functions.mjs';

const run = promisify(execFile);
const repo = new URL('..', import.meta.url).pathname;
const dbPort = new URL(stack.dbUrl).port;

/** `devstack admin grant` as an operator types it (scripts/test.sh built the binary). */
const grant = (...args) => run(`${repo}target/debug/devstack`, ['--db-port', dbPort, 'admin', 'grant', ...args], { cwd: repo });

test('devstack admin grant makes the first admin, who can then invite; mistakes are refused', async () => {
  const first = await signedUpUser(undefined, 'devstack-admin');
  const { data: profile, error } = await (await signedUpUser(undefined, 'devstack-admin-peer')).client
    .from('profiles').insert({ first_name: 'Ada', last_name: 'L', email: uniqueEmail('ada') }).select('id').single();
  assert.equal(profile, null, 'a plain user cannot even make a profile');
  assert.equal(error.code, '42501');

  const before = await invoke(first.client, 'create-invitation', { body: { profile_id: '00000000-0000-0000-0000-000000000000' } });
  assert.equal(before.status, 403);
  assert.equal(before.body.code, 'not_admin');

  const { stdout } = await grant('--email', first.email, '--role', 'admin');
  assert.deepEqual(JSON.parse(stdout), { user_id: first.user.id, email: first.email, role: 'admin', previous_role: 'user' });

  const made = await first.client.from('profiles').insert({ first_name: 'Ada', last_name: 'L', email: uniqueEmail('ada') }).select('id').single();
  assert.equal(made.error, null);
  const invited = await invoke(first.client, 'create-invitation', { body: { profile_id: made.data.id } });
  assert.equal(invited.status, 201, JSON.stringify(invited.body));

  await assert.rejects(grant('--email', 'nobody@example.test', '--role', 'admin'), (e) => /no account with e-mail nobody@example.test/.test(e.stderr));
  await assert.rejects(grant('--email', first.email, '--role', 'god'), (e) => /invalid value 'god'/.test(e.stderr));
  assert.deepEqual(sql(`select role from public.user_profiles where id = '${first.user.id}'`), [['admin']]);
});

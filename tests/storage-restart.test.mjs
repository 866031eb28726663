// Storage's objects outlive devstack: rows and bytes uploaded before a restart download unchanged
// after it, and `start --reset` deletes the bytes with the data (a stack of this file's own, as
// `supabase stop` / `supabase start` and `supabase db reset` leave a project).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { serviceClient, sql } from './support/stack.mjs';
import { newStateDir, startOwnStack } from './support/own-stack.mjs';

const BASE = Number(process.env.E2E_PORT_BASE ?? 24400);
const PORT = BASE + 135;

/** The object files under the state directory (every project's). */
function storedFiles(stateDir) {
  const root = join(stateDir, 'storage');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((project) => readdirSync(join(root, project)).map((f) => `${project}/${f}`));
}

test('uploaded objects survive a restart; --reset removes their rows and bytes', async () => {
  const stateDir = newStateDir();
  const bytes = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), randomBytes(4096)]);
  const name = `restart/${randomBytes(4).toString('hex')}.png`;

  let own = await startOwnStack({ port: PORT, stateDir });
  try {
    const { error } = await serviceClient(own.project).storage.from('images').upload(name, bytes, { contentType: 'image/png' });
    assert.equal(error, null);
    assert.equal(storedFiles(stateDir).length, 1);
  } finally {
    await own.stop();
  }

  own = await startOwnStack({ port: PORT, stateDir, reset: false });
  try {
    const storage = serviceClient(own.project).storage.from('images');
    const { data, error } = await storage.download(name);
    assert.equal(error, null);
    assert.deepEqual(Buffer.from(await data.arrayBuffer()), bytes);
    const { data: info } = await storage.info(name);
    assert.equal(info.size, bytes.length);
    assert.deepEqual(sql(`select count(*) from storage.objects where bucket_id = 'images'`, own.project), [['1']]);
  } finally {
    await own.stop();
  }

  own = await startOwnStack({ port: PORT, stateDir });
  try {
    assert.deepEqual(storedFiles(stateDir), [], 'no object file left after --reset');
    assert.deepEqual(sql(`select count(*) from storage.objects`, own.project), [['0']]);
    const { data, error } = await serviceClient(own.project).storage.from('images').download(name);
    assert.equal(data, null);
    assert.match(error.message, /not found/i);
  } finally {
    await own.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
});

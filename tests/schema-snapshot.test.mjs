// docs/schema.sql is the schema the migrations give: `devstack schema-dump` applies
// supabase/migrations to a throw-away database and dumps it, and this test fails, printing the
// difference and the command that refreshes the file, when the two disagree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = new URL('..', import.meta.url).pathname;
const devstack = join(repo, 'target/debug/devstack');
const snapshot = join(repo, 'docs/schema.sql');
const refresh = 'cargo run -q -p devstack -- schema-dump --out docs/schema.sql';

test('docs/schema.sql is what the migrations give', () => {
  const dir = mkdtempSync(join(tmpdir(), 'schema-snapshot-'));
  try {
    const fresh = join(dir, 'schema.sql');
    execFileSync(devstack, ['--root', repo, 'schema-dump', '--out', fresh], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (readFileSync(fresh, 'utf8') === readFileSync(snapshot, 'utf8')) return;
    const diff = spawnSync('diff', ['-u', '--label', 'docs/schema.sql', '--label', 'the migrations', snapshot, fresh], { encoding: 'utf8' });
    assert.fail(`docs/schema.sql is not what supabase/migrations give; refresh it with\n  ${refresh}\n\n${diff.stdout}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Every relative link in the repository's Markdown leads somewhere: to a file or folder that
// exists and, with a #fragment, to a heading of that file (GitHub's anchor for it). Needs no
// stack: `node --test tests/docs-links.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const repo = resolve(new URL('..', import.meta.url).pathname);
/** Folders that hold no docs of ours: dependencies, builds, state. */
const SKIPPED = new Set(['node_modules', 'target', 'build', 'corpus', 'regressions', 'artifacts']);

function markdownFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.') || SKIPPED.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** The text outside fenced code blocks and inline code, line by line. */
function prose(text) {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

/** GitHub's anchor for a heading (github-slugger): lower case, punctuation dropped, spaces to `-`. */
export function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

const anchorsCache = new Map();
function anchorsOf(file) {
  if (!anchorsCache.has(file)) {
    const seen = new Map();
    const anchors = new Set();
    for (const line of prose(readFileSync(file, 'utf8'))) {
      const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
      if (heading) {
        const base = slug(heading[1]);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        anchors.add(n === 0 ? base : `${base}-${n}`);
      }
      for (const [, id] of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id);
    }
    anchorsCache.set(file, anchors);
  }
  return anchorsCache.get(file);
}

/** Every `[text](target)` and `![alt](target)` link of a file, with its line number. */
function links(file) {
  return prose(readFileSync(file, 'utf8')).flatMap((line, i) =>
    [...line.replace(/`[^`]*`/g, '').matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => ({ target: m[1], line: i + 1 })),
  );
}

test('slugs follow GitHub', () => {
  assert.equal(slug('`/rest/v1` — what of PostgREST it covers'), 'restv1--what-of-postgrest-it-covers');
  assert.equal(slug("Issue 14's targets against the runtime floor (2026-12-02, second pass)"), 'issue-14s-targets-against-the-runtime-floor-2026-12-02-second-pass');
  assert.equal(slug('E-mail: invitations and notices'), 'e-mail-invitations-and-notices');
});

test('every relative link in the Markdown files resolves', () => {
  const files = markdownFiles(repo);
  assert.ok(files.some((f) => f.endsWith('README.md')), 'README.md found');
  const broken = [];
  for (const file of files) {
    for (const { target, line } of links(file)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
      const [path, fragment] = target.split('#', 2);
      const destination = path ? resolve(dirname(file), decodeURI(path)) : file;
      const where = `${relative(repo, file)}:${line}: ${target}`;
      if (relative(repo, destination).startsWith('..')) continue; // outside the repository (../shared/…)
      if (!existsSync(destination)) {
        broken.push(`${where}: no such file`);
        continue;
      }
      if (fragment && statSync(destination).isFile() && destination.endsWith('.md') && !anchorsOf(destination).has(fragment)) {
        broken.push(`${where}: no heading #${fragment} in ${relative(repo, destination)}`);
      }
    }
  }
  assert.deepEqual(broken, [], `broken links:\n${broken.join('\n')}`);
});

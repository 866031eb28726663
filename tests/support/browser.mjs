// Chromium for the web app's tests (as tests/browser.test.mjs drives it): Debian's Chromium,
// headless, through playwright-core, against the stack's app (devstack --web-dir build/web).
// One browser per test file; `closeBrowser` fails the file when the app threw anywhere.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { stack } from './stack.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Without the networking flags this machine's Chromium has its connections refused.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const shots = `${new URL('../..', import.meta.url).pathname}tests/.artifacts/screenshots`;

let browser;
const contexts = [];
const pageErrors = [];

export async function launchBrowser() {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/test.sh installs it (apt-get install chromium)`);
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export async function closeBrowser() {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the app');
}

/** A fresh browser profile: its own storage, and its own client address for guest-signup's limit. */
export async function newVisitor() {
  const groups = [0, 2, 4].map((i) => randomBytes(6).readUInt16BE(i).toString(16));
  const context = await browser.newContext({
    baseURL: stack.url,
    viewport: { width: 1180, height: 900 },
    extraHTTPHeaders: { 'CF-Connecting-IP': `2001:db8:${groups.join(':')}::5` },
  });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(20_000);
  return { context, page };
}

/** Opens a path and waits until the app has booted (its session settled, the page rendered). */
export async function open(page, path) {
  await page.goto(path);
  await page.waitForSelector('html[data-ready="true"]', { state: 'attached' });
}

export const shot = (page, name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

/** Polls `check` (an async function returning truthy when done) until it holds. */
export async function until(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** The text of the page's message box `#id` once it shows a message matching `pattern`. */
export async function messageOf(page, id, pattern) {
  const box = page.locator(`#${id}`);
  const text = await until(`#${id} to show ${pattern}`, async () => {
    const t = ((await box.textContent()) ?? '').trim();
    return t && pattern.test(t) ? t : null;
  });
  return { text, kind: await box.getAttribute('class') };
}

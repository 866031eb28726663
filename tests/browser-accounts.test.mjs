// The web app's own-account flows in Chromium (as tests/browser.test.mjs drives it), each done as
// a person does: forms typed and submitted, the e-mail read from the mail catcher and its link
// opened in the browser. Forgot-password, magic-link sign-in, e-mail change, second factor,
// the profile's picture, account deletion.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';
import { dirname, join } from 'node:path';
import { anonClient, serviceClient, sql, stack } from './support/stack.mjs';
import { verifyLink, waitForMessages } from './support/mail.mjs';
import { totpCode as totp } from './support/auth-mail.mjs';
import { rectanglesPng } from './support/png.mjs';

const statusPath = process.env.DEVSTACK_STATUS ?? new URL('../.devstack/status.json', import.meta.url).pathname;
const filesDir = join(dirname(statusPath), 'storage', 'default');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const shots = `${new URL('..', import.meta.url).pathname}tests/.artifacts/screenshots`;
let browser;
const pageErrors = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/test.sh installs it`);
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the app');
});

async function newPage() {
  const groups = [0, 2, 4].map((i) => randomBytes(6).readUInt16BE(i).toString(16));
  const context = await browser.newContext({
    baseURL: stack.url,
    viewport: { width: 1180, height: 900 },
    extraHTTPHeaders: { 'CF-Connecting-IP': `2001:db8:${groups.join(':')}::7` },
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(20_000);
  return page;
}

async function open(page, path) {
  await page.goto(path);
  await page.waitForSelector('html[data-ready="true"]', { state: 'attached' });
}

async function account(tag) {
  const email = `${tag}-${randomUUID().slice(0, 8)}@example.test`;
  const password = `pw-${randomUUID()}`;
  const { error } = await anonClient().auth.signUp({ email, password });
  assert.equal(error, null);
  return { email, password };
}

async function signIn(page, email, password) {
  await open(page, '/sign-in');
  await page.fill('#signin-email', email);
  await page.fill('#signin-password', password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('[data-testid="session-email"]').filter({ hasText: email }).waitFor();
}

const shot = (page, name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

test('forgot password: the form, the e-mail, its link, a new password', async () => {
  const { email } = await account('forgot');
  const page = await newPage();
  await open(page, '/sign-in');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.fill('#forgot-email', email);
  await page.getByRole('button', { name: 'E-mail me a link' }).click();
  await page.locator('[data-testid="check-email"]').waitFor();
  await shot(page, 'accounts-forgot-check-email');
  const [mail] = await waitForMessages(email, 1);
  await open(page, verifyLink(mail).link);
  assert.equal(new URL(page.url()).pathname, '/reset-password');
  assert.equal(new URL(page.url()).hash, '', 'the session left the address bar');
  await page.fill('#reset-password', 'my-new-password-1');
  await page.fill('#reset-confirm', 'my-new-password-1');
  await page.getByRole('button', { name: 'Save the new password' }).click();
  await page.locator('#home-message').filter({ hasText: 'Your new password is saved' }).waitFor();
  const signedIn = await anonClient().auth.signInWithPassword({ email, password: 'my-new-password-1' });
  assert.equal(signedIn.error, null);
  // The used link, opened again, says so in words.
  await open(page, verifyLink(mail).link);
  await page.locator('#reset-note').filter({ hasText: 'That link did not work' }).waitFor();
});

test('magic link: sign in with the e-mailed link, no password', async () => {
  const { email } = await account('magic');
  const page = await newPage();
  await open(page, '/sign-in');
  await page.fill('#magic-email', email);
  await page.getByRole('button', { name: 'E-mail me a sign-in link' }).click();
  await page.locator('[data-testid="check-email"]').filter({ hasText: email }).waitFor();
  const [mail] = await waitForMessages(email, 1);
  await open(page, verifyLink(mail).link);
  await page.locator('#home-message').filter({ hasText: 'You are signed in.' }).waitFor();
  await page.locator('[data-testid="session-email"]').filter({ hasText: email }).waitFor();
  await shot(page, 'accounts-magic-link-signed-in');
});

test('e-mail change from the account page: check your e-mail, then the new address', async () => {
  const { email, password } = await account('change');
  const newEmail = `changed-${randomUUID().slice(0, 8)}@example.test`;
  const page = await newPage();
  await signIn(page, email, password);
  await page.locator('[data-testid="session-email"]').click();
  await page.locator('[data-testid="account-email"]').filter({ hasText: email }).waitFor();
  await page.fill('#account-new-email', newEmail);
  await page.getByRole('button', { name: 'Change e-mail' }).click();
  await page.locator('[data-testid="check-email"]').filter({ hasText: newEmail }).waitFor();
  await shot(page, 'accounts-email-change-check-email');
  const [mail] = await waitForMessages(newEmail, 1);
  await open(page, verifyLink(mail).link);
  assert.equal(new URL(page.url()).pathname, '/account');
  await page.locator('#account-message').filter({ hasText: 'Your e-mail address is changed.' }).waitFor();
  await page.locator('[data-testid="account-email"]').filter({ hasText: newEmail }).waitFor();
  assert.equal((await anonClient().auth.signInWithPassword({ email: newEmail, password })).error, null);
});

test('second factor: set up from the account page with the QR code and a code, then removed', async () => {
  const { email, password } = await account('factor');
  const page = await newPage();
  await signIn(page, email, password);
  await open(page, '/account');
  await page.getByRole('button', { name: 'Set up a second factor' }).click();
  const secret = (await page.locator('[data-testid="factor-secret"]').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await page.fill('#factor-code', totp(secret));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.locator('#factor-message').filter({ hasText: 'The second factor is on.' }).waitFor();
  await shot(page, 'accounts-factor-on');
  await page.fill('#factor-remove-code', totp(secret));
  await page.getByRole('button', { name: 'Remove the second factor' }).click();
  await page.locator('#factor-message').filter({ hasText: 'The second factor is removed.' }).waitFor();
  await page.locator('[data-testid="factor-status"]').filter({ hasText: 'Off.' }).waitFor();
});

/** The user's objects in Storage: their images and their tasks' masks (an upload of each). */
async function filesOf(email, password) {
  const client = anonClient();
  const { data, error } = await client.auth.signInWithPassword({ email, password });
  assert.equal(error, null);
  const id = data.user.id;
  const png = Buffer.from('89504e470d0a1a0a', 'hex');
  for (const name of [`${id}/a.png`, `${id}/album/b.png`]) {
    const upload = await client.storage.from('images').upload(name, png, { contentType: 'image/png' });
    assert.equal(upload.error, null);
  }
  const [[task]] = sql(`INSERT INTO public.segmentation_results (user_id, source_image_url) VALUES ('${id}', 'https://example.test/a.png') RETURNING id`);
  const mask = await serviceClient().storage.from('masks').upload(`${task}/mask.png`, png, { contentType: 'image/png' });
  assert.equal(mask.error, null);
  const versions = sql(`SELECT version FROM storage.objects WHERE (bucket_id = 'images' AND name LIKE '${id}/%') OR (bucket_id = 'masks' AND name LIKE '${task}/%')`).map(([v]) => v);
  assert.equal(versions.length, 3);
  for (const version of versions) assert.ok(existsSync(join(filesDir, version)));
  return { id, task, versions };
}

test('account deletion: asked for the password again, stated on the page, then gone with its files', async () => {
  const { email, password } = await account('leaving');
  const files = await filesOf(email, password);
  const page = await newPage();
  await signIn(page, email, password);
  await open(page, '/account');
  const card = page.locator('[data-testid="delete-card"]');
  await card.getByText('pending are revoked').waitFor();
  await card.getByText('the masks of your tasks').waitFor();
  await page.fill('#delete-password', 'not-my-password');
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await page.locator('#delete-message').filter({ hasText: /password|credentials/i }).waitFor();
  await page.fill('#delete-password', password);
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await page.locator('#home-message').filter({ hasText: 'Your account is deleted.' }).waitFor();
  await shot(page, 'accounts-deleted');
  const signIn2 = await anonClient().auth.signInWithPassword({ email, password });
  assert.equal(signIn2.error?.code, 'invalid_credentials');
  // Storage removed the files, rows and bytes, before the account went.
  assert.deepEqual(sql(`SELECT count(*) FROM storage.objects WHERE name LIKE '${files.id}/%' OR name LIKE '${files.task}/%'`), [['0']]);
  for (const version of files.versions) assert.equal(existsSync(join(filesDir, version)), false, 'no orphan bytes');
});

test('profile: a display name and a picture in Storage, shown in the header; gone with the account', async () => {
  const { email, password } = await account('avatar');
  const [[id]] = sql(`SELECT id FROM auth.users WHERE email = '${email}'`);
  const page = await newPage();
  await signIn(page, email, password);
  await open(page, '/account');
  // Checked against the bucket's limits before anything is sent.
  await page.fill('#account-display-name', 'Ada L.');
  await page.setInputFiles('#account-avatar', { name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(1024 * 1024 + 1) });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('#profile-message').filter({ hasText: 'huge.png is too large; a picture can be at most 1 MB.' }).waitFor();
  assert.deepEqual(sql(`SELECT count(*) FROM storage.objects WHERE bucket_id = 'avatars' AND name LIKE '${id}/%'`), [['0']]);
  await page.setInputFiles('#account-avatar', { name: 'me.png', mimeType: 'image/png', buffer: rectanglesPng(64, 64) });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('#profile-message').filter({ hasText: 'Saved.' }).waitFor();
  const header = page.locator('[data-testid="session-avatar"]');
  await header.waitFor();
  assert.match(await header.getAttribute('src'), new RegExp(`/storage/v1/object/public/avatars/${id}/avatar\\?v=\\d+$`));
  await page.waitForFunction(() => document.querySelector('[data-testid="session-avatar"]')?.naturalWidth === 64);
  await page.locator('[data-testid="session-name"]').filter({ hasText: 'Ada L.' }).waitFor();
  await shot(page, 'accounts-profile-avatar');
  assert.deepEqual(sql(`SELECT display_name, avatar_url LIKE '%/avatars/${id}/avatar?v=%' FROM public.user_profiles WHERE id = '${id}'`), [['Ada L.', 't']]);
  const [[version]] = sql(`SELECT version FROM storage.objects WHERE bucket_id = 'avatars' AND name = '${id}/avatar'`);
  assert.ok(existsSync(join(filesDir, version)));
  // Deleting the account takes the picture too (rows and bytes).
  page.once('dialog', (dialog) => dialog.accept());
  await page.fill('#delete-password', password);
  await page.getByRole('button', { name: 'Delete my account' }).click();
  await page.locator('#home-message').filter({ hasText: 'Your account is deleted.' }).waitFor();
  assert.deepEqual(sql(`SELECT count(*) FROM storage.objects WHERE bucket_id = 'avatars' AND name LIKE '${id}/%'`), [['0']]);
  assert.equal(existsSync(join(filesDir, version)), false, 'no orphan bytes');
});

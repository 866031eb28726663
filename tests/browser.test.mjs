// The reference web app (examples/web) in a real browser: Debian's Chromium, headless, driven by
// playwright-core, against the stack scripts/test.sh starts with `--web-dir build/web` (so the
// app, /rest/v1, /auth/v1 and /functions/v1 share one origin). Each flow is done the way a
// person does it — typing into the forms and pressing the buttons — and checked on the page and
// in the database. Screenshots of each page go to tests/.artifacts/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes, randomUUID } from 'node:crypto';
import { chromium } from 'playwright-core';
import { anonClient, serviceClient, signedUpUser, sql, stack, tenantProject, uniqueEmail } from './support/stack.mjs';
import { invoke } from './support/functions.mjs';
import { invitationLink, waitForMessages } from './support/mail.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Without the networking flags this machine's Chromium has its connections refused.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const repo = new URL('..', import.meta.url).pathname;
const shots = `${repo}tests/.artifacts/screenshots`;
const appUrl = stack.url;
const tenant = tenantProject('tenant');
const run = promisify(execFile);

let browser;
const openContexts = [];
const pageErrors = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/test.sh installs it (apt-get install chromium)`);
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const res = await fetch(`${appUrl}/`);
  assert.equal(res.status, 200, 'the stack serves the app (devstack --web-dir build/web)');
  assert.match(res.headers.get('content-type'), /text\/html/);
});

after(async () => {
  for (const context of openContexts) await context.close().catch(() => {});
  await browser?.close();
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the app');
});

/** A unique address short enough to read in a screenshot. */
const shortEmail = (tag) => `${tag}-${randomUUID().slice(0, 8)}@example.test`;

/** A signed-up account (through Auth, as the app's own sign-up does). */
async function newAccount(tag) {
  const client = anonClient();
  const email = shortEmail(tag);
  const password = `pw-${randomUUID()}`;
  const { data, error } = await client.auth.signUp({ email, password });
  assert.equal(error, null);
  return { client, user: data.user, email, password };
}

/** A fresh browser profile: its own storage, and its own client address for guest-signup's limit. */
async function newVisitor() {
  const groups = [0, 2, 4].map((i) => randomBytes(6).readUInt16BE(i).toString(16));
  const context = await browser.newContext({
    baseURL: appUrl,
    viewport: { width: 1180, height: 820 },
    extraHTTPHeaders: { 'CF-Connecting-IP': `2001:db8:${groups.join(':')}::9` },
  });
  openContexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(20_000);
  return { context, page };
}

/** Opens a path and waits until the app has booted (its session settled, the page rendered). */
async function open(page, path) {
  await page.goto(path);
  await page.waitForSelector('html[data-ready="true"]', { state: 'attached' });
}

const main = (page) => page.locator('main');
const nav = (page) => page.locator('#nav');
const shot = (page, name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

/** Polls `check` (an async function returning truthy when done) until it holds. */
async function until(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** The text of the page's message box `#id` once it shows a message (matching `pattern`, if given). */
async function messageOf(page, id, pattern) {
  const box = page.locator(`#${id}`);
  const text = await until(`#${id} to show ${pattern ?? 'a message'}`, async () => {
    const t = ((await box.textContent()) ?? '').trim();
    return t && (!pattern || pattern.test(t)) ? t : null;
  });
  return { text, kind: await box.getAttribute('class') };
}

async function signInThroughTheForm(page, email, password) {
  await open(page, '/sign-in');
  await page.fill('#signin-email', email);
  await page.fill('#signin-password', password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('[data-testid="session-email"]').filter({ hasText: email }).waitFor();
}

/** Counts requests to URLs containing `part` while `work` runs. */
async function requestsDuring(page, part, work) {
  let count = 0;
  const listener = (req) => {
    if (req.url().includes(part)) count++;
  };
  page.on('request', listener);
  try {
    await work();
  } finally {
    page.off('request', listener);
  }
  return count;
}

test('a first visit is a guest session; creating an account upgrades it and keeps the id', async () => {
  const { page } = await newVisitor();
  await open(page, '/');
  await page.locator('[data-testid="session-kind"]').filter({ hasText: 'Guest' }).waitFor();
  const guestId = (await page.locator('[data-testid="user-id"]').textContent()).trim();
  assert.match(guestId, /^[0-9a-f-]{36}$/);
  assert.deepEqual(sql(`select is_guest::text from public.user_profiles where id = '${guestId}'`), [['true']]);
  assert.deepEqual(sql(`select landing_url from public.visitor where auth_user_id = '${guestId}'`), [[`${appUrl}/`]], 'the visit is recorded');
  await shot(page, 'guest-start');

  // The form is checked before anything is sent.
  const upgrade = page.getByRole('form', { name: 'Create an account' });
  await page.fill('#f-email', 'not-an-address');
  await page.fill('#f-password', 'short');
  await page.fill('#f-confirm', 'other');
  const sent = await requestsDuring(page, '/auth/v1/user', () => upgrade.getByRole('button', { name: 'Create my account' }).click());
  assert.equal(sent, 0, 'an invalid form sends nothing');
  assert.match(await page.locator('#f-email-error').textContent(), /valid e-mail address/);
  assert.match(await page.locator('#f-password-error').textContent(), /at least 8 characters/);
  assert.match(await page.locator('#f-confirm-error').textContent(), /differ/);

  const email = shortEmail('guest');
  await page.fill('#f-email', email);
  await page.fill('#f-password', 'correct horse battery');
  await page.fill('#f-confirm', 'correct horse battery');
  await upgrade.getByRole('button', { name: 'Create my account' }).click();
  const done = await messageOf(page, 'home-message');
  assert.match(done.text, /is ready\. Everything you did as a guest is kept: your id is unchanged\./);
  await page.locator('[data-testid="session-email"]').filter({ hasText: email }).waitFor();
  assert.equal((await page.locator('[data-testid="user-id"]').textContent()).trim(), guestId, 'same id after the upgrade');
  assert.deepEqual(sql(`select is_guest::text, email from public.user_profiles where id = '${guestId}'`), [['false', email]]);
  assert.deepEqual(sql(`select linked_by from public.visitor where user_id = '${guestId}'`), [['upgrade']]);
  await shot(page, 'guest-upgraded');

  // Signed out and in again through the form: the same account.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await messageOf(page, 'home-message', /You are signed out\./);
  await signInThroughTheForm(page, email, 'correct horse battery');
  assert.equal((await page.locator('[data-testid="user-id"]').textContent()).trim(), guestId);
});

test('a stored session whose account was deleted is dropped; the visitor starts again as a guest', async () => {
  const account = await newAccount('gone');
  const { page } = await newVisitor();
  await signInThroughTheForm(page, account.email, account.password);
  const { error } = await serviceClient().auth.admin.deleteUser(account.user.id);
  assert.equal(error, null);
  await page.reload();
  await page.waitForSelector('html[data-ready="true"]', { state: 'attached' });
  await page.locator('[data-testid="session-kind"]').filter({ hasText: 'Guest' }).waitFor();
  assert.notEqual((await page.locator('[data-testid="user-id"]').textContent()).trim(), account.user.id);
  assert.equal(await page.locator('.msg.error').count(), 0, 'no error is shown');
});

test('wrong credentials and a taken address are told in words', async () => {
  const existing = await signedUpUser(undefined, 'web-taken');
  const { page } = await newVisitor();
  await open(page, '/sign-in');
  await page.fill('#signin-email', existing.email);
  await page.fill('#signin-password', 'not the password');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const wrong = await messageOf(page, 'sign-in-message');
  assert.equal(wrong.text, 'The e-mail or password is wrong.');
  assert.match(wrong.kind, /error/);

  await page.fill('#signup-email', existing.email);
  await page.fill('#signup-password', 'a fine password');
  await page.fill('#signup-confirm', 'a fine password');
  await page.getByRole('button', { name: 'Create account' }).click();
  const taken = await messageOf(page, 'sign-up-message');
  assert.match(taken.text, /already exists|already registered/i, taken.text);
  assert.doesNotMatch(taken.text, /^\d{3}\b|status/i);
});

test('Settings: a user adds a connection, sees its key hints and the tenant\'s rows through tenant-proxy, and deletes it', async () => {
  const user = await newAccount('dana');
  const { page } = await newVisitor();
  await signInThroughTheForm(page, user.email, user.password);
  await nav(page).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Add a connection' }).waitFor();
  await page.getByText('No connections yet.').waitFor();

  const form = page.getByRole('form', { name: 'Add connection' });
  // Checked in the page first: nothing reaches save-connection.
  await page.fill('#f-name', 'bad name!');
  await page.fill('#f-url', 'https://abcd.supabase.co/rest/v1');
  const sent = await requestsDuring(page, '/functions/v1/save-connection', () => form.getByRole('button', { name: 'Add connection' }).click());
  assert.equal(sent, 0);
  assert.match(await page.locator('#f-name-error').textContent(), /letters, digits/);
  assert.match(await page.locator('#f-url-error').textContent(), /without a path/);
  assert.match(await page.locator('#f-anon_key-error').textContent(), /anon/);

  // Refused by the function: its reason is shown.
  await page.fill('#f-name', 'shop');
  await page.fill('#f-url', 'http://example.com');
  await page.fill('#f-anon_key', tenant.anonKey);
  await page.fill('#f-service_role_key', tenant.serviceKey);
  await form.getByRole('button', { name: 'Add connection' }).click();
  const refused = await messageOf(page, 'add-connection-message');
  assert.match(refused.kind, /error/);
  assert.match(refused.text, /https/, refused.text);

  const name = `shop-${randomUUID().slice(0, 6)}`;
  await page.fill('#f-name', name);
  await page.fill('#f-url', tenant.url);
  await page.fill('#f-anon_key', tenant.anonKey);
  await page.fill('#f-service_role_key', tenant.serviceKey);
  // While the request is in flight (held back here for a moment) the button shows it.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route('**/functions/v1/save-connection', async (route) => {
    if (route.request().method() === 'POST') await held;
    await route.continue();
  });
  await form.getByRole('button', { name: 'Add connection' }).click();
  const inFlight = form.locator('button[type="submit"]');
  assert.equal(await inFlight.textContent(), 'Saving…');
  assert.equal(await inFlight.isDisabled(), true);
  assert.equal(await inFlight.getAttribute('aria-busy'), 'true');
  release();
  const saved = await messageOf(page, 'add-connection-message', /^Saved/);
  await page.unroute('**/functions/v1/save-connection');
  assert.equal(await inFlight.textContent(), 'Add connection');
  assert.equal(await inFlight.isDisabled(), false);
  assert.equal(saved.text, `Saved connection “${name}”.`);
  const row = page.locator(`tr[data-connection="${name}"]`);
  await row.waitFor();
  assert.equal(await row.locator('[data-testid="anon-hint"]').textContent(), `${tenant.anonKey.slice(0, 6)}…`);
  assert.equal(await row.locator('[data-testid="service-hint"]').textContent(), `${tenant.serviceKey.slice(0, 6)}…`);
  const pageText = await main(page).textContent();
  assert.ok(!pageText.includes(tenant.serviceKey) && !pageText.includes(tenant.anonKey), 'no key is shown whole');
  assert.equal(await page.locator('#f-service_role_key').inputValue(), '', 'the form is cleared after saving');

  // The data view reads the tenant's orders through tenant-proxy.
  await row.getByRole('button', { name: 'View data' }).click();
  await page.fill('#f-table', 'orders');
  await page.getByRole('button', { name: 'Load rows' }).click();
  const rows = page.locator('[data-testid="tenant-rows"] tbody tr');
  await until('tenant rows', async () => (await rows.count()) === 5);
  const customers = await page.locator('[data-testid="tenant-rows"] tbody tr td:nth-child(2)').allTextContents();
  assert.deepEqual(customers.sort(), ['ada', 'barbara', 'grace', 'linus', 'margaret']);
  assert.match(await page.locator('[data-testid="tenant-rows"]').textContent(), /5 of 5 rows from “orders”/);
  await shot(page, 'settings-connections');

  // A table the tenant does not have: words, not a status.
  await page.fill('#f-table', 'invoices');
  await page.getByRole('button', { name: 'Load rows' }).click();
  const missing = await messageOf(page, 'data-message');
  assert.equal(missing.text, 'There is no such table in that database (or it is not exposed to the API).');

  await row.getByRole('button', { name: 'Delete' }).click();
  await row.getByRole('button', { name: `Yes, delete ${name}` }).click();
  assert.equal((await messageOf(page, 'connections-message')).text, `Deleted connection “${name}”.`);
  await page.getByText('No connections yet.').waitFor();
  assert.deepEqual(sql(`select count(*) from public.connections where user_id = '${user.user.id}'`), [['0']]);
});

test('a guest is told that connections need an account', async () => {
  const { page } = await newVisitor();
  await open(page, '/settings');
  assert.match(await main(page).textContent(), /need a full account/);
});

/** A signed-up user given the admin role by an operator (SQL), as roles are given. */
async function adminUser() {
  const admin = await newAccount('admin');
  sql(`update public.user_profiles set role = 'admin' where id = '${admin.user.id}'`);
  return admin;
}

test('an admin invites from the profile page and sees the e-mail sent; the invitee registers through the link in the e-mail (mail catcher) and is signed in', async () => {
  const admin = await adminUser();
  const { context, page } = await newVisitor();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: appUrl });
  await signInThroughTheForm(page, admin.email, admin.password);
  await nav(page).getByRole('link', { name: 'Profiles' }).click();
  await page.getByRole('heading', { name: 'Add a person' }).waitFor();

  const email = shortEmail('grace');
  await page.fill('#f-first_name', 'Grace');
  await page.fill('#f-last_name', 'Hopper');
  await page.fill('#f-email', email);
  await page.getByRole('button', { name: 'Add person' }).click();
  await page.getByRole('heading', { name: 'Grace Hopper' }).waitFor();
  const profileId = page.url().split('/').pop();
  assert.equal(await page.locator('#f-email').inputValue(), email, 'the profile\'s address is the default');

  await page.getByRole('button', { name: 'Invite to register' }).click();
  await messageOf(page, 'invite-message', /Invitation created for/);
  const linkBox = page.locator('[data-testid="invitation-link"]');
  await linkBox.waitFor();
  const link = await linkBox.inputValue();
  assert.match(link, new RegExp(`^${appUrl}/register/[A-Za-z0-9_-]{43}$`));
  await page.getByRole('button', { name: 'Copy link' }).click();
  await page.getByRole('button', { name: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
  await page.locator('[data-testid="history-body"] .badge.pending').waitFor();
  await messageOf(page, 'invite-message', /It was e-mailed/);
  await page.locator('[data-testid="delivery-state"] .mail-state.sent').waitFor();
  await page.locator('[data-testid="history-delivery"] .mail-state.sent').waitFor();
  await shot(page, 'profile-invitation');

  // The invitation e-mail, as the invitee gets it (devstack's mail catcher).
  const [mail] = await waitForMessages(email, 1);
  const mailed = invitationLink(mail).link;
  assert.equal(mailed, link, 'the e-mail carries the invitation\'s link');
  const catcher = await newVisitor();
  await catcher.page.goto(stack.mailUrl);
  await catcher.page.getByRole('heading', { name: 'Caught mail' }).waitFor();
  await catcher.page.getByRole('link', { name: mail.Subject }).click();
  await catcher.page.getByRole('heading', { name: mail.Subject }).waitFor();
  await shot(catcher.page, 'mail-invitation');

  // Resend mails the same link again.
  await page.getByRole('button', { name: 'Resend e-mail' }).click();
  await messageOf(page, 'invite-message', /e-mailed again/);
  const [again] = await waitForMessages(email, 2);
  assert.equal(invitationLink(again).link, mailed);

  // The invitee, in a browser of their own with no session.
  const invitee = await newVisitor();
  await open(invitee.page, mailed);
  await invitee.page.getByRole('heading', { name: 'Hello, Grace Hopper' }).waitFor();
  assert.equal(await invitee.page.locator('#f-email').inputValue(), email);
  assert.equal(await invitee.page.locator('#f-email').getAttribute('readonly'), '');
  assert.equal(await invitee.page.locator('[data-testid="session-kind"]').count(), 0, 'the register page starts no guest session');
  await shot(invitee.page, 'register');
  await invitee.page.fill('#f-password', 'hopper-grace-1906');
  await invitee.page.fill('#f-confirm', 'hopper-grace-1907');
  await invitee.page.getByRole('button', { name: 'Create my account' }).click();
  assert.match(await invitee.page.locator('#f-confirm-error').textContent(), /differ/);
  await invitee.page.fill('#f-confirm', 'hopper-grace-1906');
  await invitee.page.getByRole('button', { name: 'Create my account' }).click();
  await messageOf(invitee.page, 'home-message', new RegExp(`Welcome, Grace! Your account ${email} is ready`));
  await invitee.page.locator('[data-testid="session-email"]').filter({ hasText: email }).waitFor();
  const userId = (await invitee.page.locator('[data-testid="user-id"]').textContent()).trim();
  assert.deepEqual(sql(`select user_id::text from public.profiles where id = '${profileId}'`), [[userId]]);
  assert.deepEqual(sql(`select role::text from public.user_profiles where id = '${userId}'`), [['user']]);

  // The new account signs in again from the start page.
  await invitee.page.getByRole('button', { name: 'Sign out' }).click();
  await signInThroughTheForm(invitee.page, email, 'hopper-grace-1906');

  // The link is spent; the admin's history shows it accepted.
  const third = await newVisitor();
  await open(third.page, link.slice(appUrl.length));
  await third.page.getByRole('heading', { name: 'This invitation was already used' }).waitFor();
  await page.reload();
  await page.waitForSelector('html[data-ready="true"]', { state: 'attached' });
  await page.locator('[data-testid="history-body"] .badge.accepted').waitFor();
  assert.match(await page.locator('[data-testid="active-invitation"]').textContent(), /already has an account/);
});

test('an admin replaces and revokes an invitation; the revoked link is refused in words', async () => {
  const admin = await adminUser();
  const { data: profile } = await admin.client.from('profiles').insert({ first_name: 'Alan', last_name: 'Turing', email: uniqueEmail('alan') }).select().single();
  const { page } = await newVisitor();
  await signInThroughTheForm(page, admin.email, admin.password);
  await open(page, `/profiles/${profile.id}`);
  await page.getByRole('button', { name: 'Invite to register' }).click();
  const first = await page.locator('[data-testid="invitation-link"]').inputValue();

  const replace = page.getByRole('button', { name: 'New link' });
  await replace.click();
  await messageOf(page, 'invite-message', /new link replaces the old one/);
  await until('a new link', async () => (await page.locator('[data-testid="invitation-link"]').inputValue()) !== first);

  await page.getByRole('button', { name: 'Revoke' }).click();
  await messageOf(page, 'invite-message', /revoked/);
  await page.getByRole('button', { name: 'Invite to register' }).waitFor();
  const statuses = await page.locator('[data-testid="history-body"] .badge').allTextContents();
  assert.deepEqual(statuses, ['revoked', 'revoked']);

  const visitor = await newVisitor();
  await open(visitor.page, first.slice(appUrl.length));
  await visitor.page.getByRole('heading', { name: 'This invitation link is not valid' }).waitFor();
  assert.match(await visitor.page.locator('[data-testid="register-error"]').textContent(), /cancelled or mistyped: ask for a new one/);
  await open(visitor.page, '/register/not-a-real-token');
  await visitor.page.getByRole('heading', { name: 'This invitation link is not valid' }).waitFor();
});

test('a user who is not an admin is told so on Profiles', async () => {
  const user = await signedUpUser(undefined, 'web-plain');
  const { page } = await newVisitor();
  await signInThroughTheForm(page, user.email, user.password);
  assert.equal(await nav(page).getByRole('link', { name: 'Profiles' }).count(), 0, 'no Profiles link for non-admins');
  await open(page, '/profiles');
  assert.match(await main(page).textContent(), /managed by administrators/);
});

test('an expired invitation link shows the expired message', async () => {
  const admin = await adminUser();
  const { data: profile } = await admin.client.from('profiles').insert({ first_name: 'Ada', last_name: 'Lovelace', email: uniqueEmail('ada') }).select().single();
  const created = await invoke(admin.client, 'create-invitation', { body: { profile_id: profile.id } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  sql(`update public.profile_invitations set created_at = now() - interval '8 days', expires_at = now() - interval '1 second' where id = '${created.body.id}'`);

  const { page } = await newVisitor();
  await open(page, `/register/${created.body.token}`);
  await page.getByRole('heading', { name: 'This invitation has expired' }).waitFor();
  assert.equal(
    (await page.locator('[data-testid="register-error"]').textContent()).trim(),
    'This invitation link has expired. Ask the person who invited you for a new one.',
  );
  assert.equal(await page.locator('#f-password').count(), 0, 'no form for a dead link');
  await shot(page, 'register-expired');
});

test('My results: a filed task turns done when the developer webhook sender reports it, live over Realtime without polling; credits go down', async () => {
  const { page } = await newVisitor();
  // Every read of the results table through /rest/v1, to prove the page is not polling.
  const resultReads = [];
  page.on('request', (r) => {
    if (r.method() === 'GET' && new URL(r.url()).pathname === '/rest/v1/segmentation_results') resultReads.push(r.url());
  });
  await open(page, '/results');
  await until('the credits', async () => /^\d+$/.test(((await page.locator('[data-testid="credits"]').textContent()) ?? '').trim()));
  await until('the Realtime subscription', async () => (await page.locator('[data-testid="live-state"]').textContent()) === 'live');
  const before = Number(await page.locator('[data-testid="credits"]').textContent());

  // Checked before sending.
  await page.fill('#f-source_image_url', 'cat.png');
  await page.getByRole('button', { name: 'File task' }).click();
  assert.match(await page.locator('#f-source_image_url-error').textContent(), /full address/);

  await page.fill('#f-source_image_url', 'https://images.example.test/cat.png');
  await page.fill('#f-text_prompt', 'the cat');
  await new Promise((r) => setTimeout(r, 2500)); // longer than the old polling period
  resultReads.length = 0;
  await page.getByRole('button', { name: 'File task' }).click();
  await messageOf(page, 'task-message', /Task filed/);
  const row = page.locator('tr[data-task-id]').first();
  await row.waitFor();
  const taskId = await row.getAttribute('data-task-id');
  assert.equal(await row.locator('[data-testid="status"]').textContent(), 'pending');

  const devVars = process.env.DEVSTACK_DEV_VARS;
  assert.ok(devVars && readFileSync(devVars, 'utf8').includes('WEBHOOK_SECRETS='), 'scripts/test.sh sets DEVSTACK_DEV_VARS');
  const sender = await run(
    'cargo',
    ['run', '-q', '-p', 'process-webhook', '--example', 'send-webhook', '--', '--dev-vars', devVars,
      '--url', `${stack.functionsUrl}/process-webhook`, '--task', taskId, '--status', 'done',
      '--mask-url', 'https://masks.example.test/cat-mask.png', '--labels', '[{"label":"cat","score":0.97}]'],
    { cwd: repo, timeout: 600_000 },
  );
  assert.match(sender.stdout + sender.stderr, /200/);

  // No reload: the page notices on its own.
  await until('the task to show done', async () => (await row.locator('[data-testid="status"]').textContent()) === 'done', 15_000);
  assert.equal(await row.locator('[data-testid="labels"]').textContent(), 'cat');
  // The charge is a second UPDATE in the webhook's transaction: its event follows the status's.
  await until('the charge to show', async () => (await row.locator('[data-testid="charged"]').textContent()) === '1', 5_000);
  await until('the credits to go down', async () => Number(await page.locator('[data-testid="credits"]').textContent()) === before - 1, 15_000);
  assert.equal(await row.getByRole('link', { name: 'mask' }).getAttribute('href'), 'https://masks.example.test/cat-mask.png');
  // The row came over the socket: since the task was filed, the page never read the table.
  assert.deepEqual(resultReads, [], 'no polling of /rest/v1/segmentation_results');
  assert.equal(await page.locator('[data-testid="live-state"]').textContent(), 'live');
  await shot(page, 'results');
});

test('My results: with no credits left, filing a task is refused in words and nothing is filed', async () => {
  const { page } = await newVisitor();
  await open(page, '/');
  await page.locator('[data-testid="session-kind"]').filter({ hasText: 'Guest' }).waitFor();
  const guestId = (await page.locator('[data-testid="user-id"]').textContent()).trim();
  sql(`update public.user_profiles set credits = 0 where id = '${guestId}'`);

  await open(page, '/results');
  await until('the credits', async () => ((await page.locator('[data-testid="credits"]').textContent()) ?? '').trim() === '0');
  await page.fill('#f-source_image_url', 'https://images.example.test/cat.png');
  await page.getByRole('button', { name: 'File task' }).click();
  const refused = await messageOf(page, 'task-message');
  assert.match(refused.text, /^No credits left\./);
  assert.match(refused.kind, /error/);
  assert.deepEqual(sql(`select count(*) from public.segmentation_results where user_id = '${guestId}'`), [['0']]);
  await shot(page, 'results-no-credits');
});

test('signing in on a device that had a guest session links its visit to the account, and says so', async () => {
  const account = await newAccount('device-b');
  const { page } = await newVisitor();
  await open(page, '/');
  await page.locator('[data-testid="session-kind"]').filter({ hasText: 'Guest' }).waitFor();
  const guestId = (await page.locator('[data-testid="user-id"]').textContent()).trim();

  await signInThroughTheForm(page, account.email, account.password);
  const note = await messageOf(page, 'home-message', /linked/);
  assert.equal(note.text, `Signed in as ${account.email}. This device's guest visit is now linked to your account.`);
  assert.deepEqual(sql(`select user_id, linked_by from public.visitor where auth_user_id = '${guestId}'`), [[account.user.id, 'sign_in']]);
  assert.ok(sql(`select last_ip from public.user_profiles where id = '${account.user.id}'`)[0][0].startsWith('2001:db8:'), 'last_ip is this browser\'s address');
  await shot(page, 'sign-in-linked');
});

test('the app is served beside the APIs without shadowing them', async () => {
  const { page } = await newVisitor();
  const response = await page.goto('/some/client/route');
  assert.equal(response.status(), 200);
  await page.waitForSelector('html[data-ready="true"]', { state: 'attached' });
  assert.match(await main(page).textContent(), /Page not found/);
  const config = await (await fetch(`${appUrl}/app-config.json`)).json();
  assert.deepEqual(Object.keys(config).sort(), ['anon_key', 'publishable_key', 'supabase_url']);
  assert.equal(config.anon_key, stack.anonKey);
  // Every /auth/v1 path is Auth's (behind the gateway's key check), as on Supabase: an unknown
  // one gets Auth's own 404, never the gateway's.
  const keyless = await fetch(`${appUrl}/auth/v1/not-a-route`);
  assert.equal(keyless.status, 401);
  assert.deepEqual(await keyless.json(), { message: 'No API key found in request' });
  const api = await fetch(`${appUrl}/auth/v1/not-a-route`, { headers: { apikey: stack.anonKey } });
  assert.equal(api.status, 404);
  assert.equal(await api.text(), '404 page not found\n');
  const rest = await anonClient().from('not_a_table').select('*');
  assert.equal(rest.error?.code, 'PGRST205', 'unknown tables still reach /rest/v1');
});

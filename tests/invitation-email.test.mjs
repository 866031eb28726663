// Issue 17 end to end: invitation e-mails through the Workers' real transport (Resend's HTTP API
// shape) into devstack's mail catcher, read back through its Mailpit-shaped API; delivery state on
// the invitation; the retry job through wrangler's /__scheduled; the inviter's notice.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { anonClient, createProfile, sql, stack, uniqueEmail, userWithRole } from './support/stack.mjs';
import { call, invoke, startFunctions } from './support/functions.mjs';
import { devVar } from './support/guests.mjs';
import { invitationLink, messagesTo, readMessage, setChaos, waitForMessages } from './support/mail.mjs';

const register = anonClient();
const sha256 = (text) => createHash('sha256').update(text).digest('hex');
const inviteAs = (admin, body) => invoke(admin.client, 'create-invitation', { body });
const history = (admin, profileId) => invoke(admin.client, `create-invitation?profile_id=${profileId}`, { method: 'GET' });
const preview = (token) => invoke(register, `accept-invitation?token=${encodeURIComponent(token)}`, { method: 'GET' });
const accept = (token, password = `pw-${randomUUID()}`) => invoke(register, 'accept-invitation', { body: { token, password } });
const delivery = (id) =>
  sql(`select status, coalesce(delivery_status::text, ''), delivery_attempts, coalesce(delivery_error, ''),
              delivery_next_attempt_at is not null, coalesce(delivery_key, '')
         from public.profile_invitations where id = '${id}'`)[0];
const MAIL_FROM = /^MAIL_FROM="(.*)"$/m.exec(readFileSync(process.env.DEVSTACK_DEV_VARS, 'utf8'))?.[1];

/** Runs the Worker's cron handler as the 5-minute trigger does (wrangler dev --test-scheduled). */
async function runRetryJob() {
  const origin = process.env.FUNCTIONS_ORIGIN;
  assert.ok(origin, 'scripts/test.sh sets FUNCTIONS_ORIGIN to wrangler dev itself');
  const run = await fetch(`${origin}/__scheduled?cron=${encodeURIComponent('*/5 * * * *')}`);
  assert.equal(run.status, 200, await run.text());
}

/** Waits (the cron handler may finish after /__scheduled answers) until the invitation's
 * [status, delivery_status, attempts] are `expected`. */
async function deliveryBecomes(id, expected) {
  for (let i = 0; i < 50 && JSON.stringify(delivery(id).slice(0, 3)) !== JSON.stringify(expected); i += 1) {
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.deepEqual(delivery(id).slice(0, 3), expected);
}

/** Makes a failed send due now, as if its back-off had passed. */
const makeDue = (id) => sql(`update public.profile_invitations set delivery_next_attempt_at = now() where id = '${id}'`);

after(() => setChaos({}));

test('creating an invitation e-mails the invitee once (text and HTML: inviter, profile, link, expiry); the link from the mail registers and the inviter is told', async () => {
  const admin = await userWithRole('admin', 'mail-admin');
  const profile = await createProfile(admin, { first_name: 'Ada', last_name: 'Lovelace' });

  const created = await inviteAs(admin, { profile_id: profile.id });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.email_sent, true);
  assert.equal(created.body.delivery_status, 'sent');
  assert.equal(created.body.delivery_attempts, 1);
  assert.equal(created.body.delivery_error, null);
  assert.ok(created.body.delivery_sent_at);

  const [mail] = await waitForMessages(profile.email, 1);
  assert.equal(`${mail.From.Name} <${mail.From.Address}>`, MAIL_FROM);
  assert.deepEqual(mail.To.map((t) => t.Address), [profile.email]);
  assert.equal(mail.Subject, `${admin.email} invited you to register as Ada Lovelace`);
  const { link, token } = invitationLink(mail);
  assert.equal(link, created.body.link, 'the mailed link is the invitation\'s');
  assert.ok(mail.Text.includes(admin.email) && mail.Text.includes('Ada Lovelace'));
  const expiry = created.body.expires_at.slice(0, 10);
  assert.ok(mail.Text.includes(expiry), `the expiry ${expiry} is in the text`);
  assert.ok(mail.HTML.includes(`href="${link}"`), 'the HTML links to it too');
  assert.ok(mail.HTML.includes('Ada Lovelace') && mail.HTML.includes(expiry));

  assert.equal((await preview(token)).status, 200);
  const accepted = await accept(token);
  assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  assert.equal(accepted.body.profile_id, profile.id);

  const [notice] = await waitForMessages(admin.email, 1);
  assert.equal(notice.Subject, 'Ada Lovelace accepted your invitation');
  assert.ok(notice.Text.includes(`${profile.email} accepted your invitation`));
  assert.ok(notice.HTML.includes('Ada Lovelace'));
  assert.equal((await messagesTo(profile.email)).length, 1, 'still one message to the invitee');
});

test('replacing e-mails a new link and the old one is dead; resend e-mails the same link again as a new send', async () => {
  const admin = await userWithRole('admin', 'mail-replace');
  const profile = await createProfile(admin);

  const first = await inviteAs(admin, { profile_id: profile.id });
  assert.equal(first.status, 201);
  const [firstMail] = await waitForMessages(profile.email, 1);
  const firstLink = invitationLink(firstMail);

  const replaced = await inviteAs(admin, { profile_id: profile.id, replace: true });
  assert.equal(replaced.status, 201, JSON.stringify(replaced.body));
  assert.equal(replaced.body.email_sent, true);
  const [secondMail] = await waitForMessages(profile.email, 2);
  const secondLink = invitationLink(secondMail);
  assert.notEqual(secondLink.token, firstLink.token);
  assert.equal(secondLink.link, replaced.body.link);
  assert.equal((await preview(firstLink.token)).status, 404, 'the replaced link is dead');
  assert.equal((await preview(secondLink.token)).status, 200);

  const keyBefore = delivery(replaced.body.id)[5];
  const resent = await inviteAs(admin, { profile_id: profile.id, resend: true });
  assert.equal(resent.status, 200, JSON.stringify(resent.body));
  assert.equal(resent.body.id, replaced.body.id, 'the same invitation');
  assert.equal(resent.body.email_sent, true);
  assert.equal(resent.body.link, replaced.body.link, 'the token does not change');
  assert.equal(resent.body.delivery_status, 'sent');
  const [thirdMail] = await waitForMessages(profile.email, 3);
  assert.equal(invitationLink(thirdMail).token, secondLink.token, 'the same link again');
  assert.notEqual(delivery(replaced.body.id)[5], keyBefore, 'a resend is a new send, with a new idempotency key');
  assert.deepEqual(
    sql(`select token_hash from public.profile_invitations where id = '${replaced.body.id}'`),
    [[sha256(secondLink.token)]],
  );
  assert.equal((await accept(secondLink.token)).status, 201);
});

test('resend needs an active invitation and nothing else in the body', async () => {
  const admin = await userWithRole('admin', 'mail-resend-bad');
  const profile = await createProfile(admin);
  const none = await inviteAs(admin, { profile_id: profile.id, resend: true });
  assert.equal(none.status, 404, JSON.stringify(none.body));
  assert.equal(none.body.code, 'no_active_invitation');
  const mixed = await inviteAs(admin, { profile_id: profile.id, resend: true, replace: true });
  assert.equal(mixed.status, 400);
  assert.equal(mixed.body.code, 'invalid_resend');
  const user = await userWithRole('user', 'mail-resend-user');
  const notAdmin = await inviteAs(user, { profile_id: profile.id, resend: true });
  assert.equal(notAdmin.status, 403);
  assert.equal((await messagesTo(profile.email)).length, 0);
});

test('a failing transport leaves the invitation pending with delivery failed and the reason; the retry job sends it once the transport is back', async () => {
  const admin = await userWithRole('admin', 'mail-fail');
  const profile = await createProfile(admin);
  await setChaos({ Sender: { ErrorCode: 503, Probability: 100 } });
  let created;
  try {
    created = await inviteAs(admin, { profile_id: profile.id });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.status, 'pending');
    assert.equal(created.body.email_sent, false);
    assert.equal(created.body.delivery_status, 'failed');
    assert.match(created.body.delivery_error, /the mail API answered 503/);
    assert.ok(created.body.link, 'the admin still has the link to copy');
    assert.ok(Date.parse(created.body.delivery_next_attempt_at) > Date.now(), 'a retry is scheduled');
    assert.equal((await messagesTo(profile.email)).length, 0);

    // The history shows the same state.
    const listed = (await history(admin, profile.id)).body[0];
    assert.deepEqual([listed.id, listed.delivery_status, listed.delivery_attempts], [created.body.id, 'failed', 1]);

    // Due, but the transport is still down: another failed attempt, still pending.
    makeDue(created.body.id);
    await runRetryJob();
    await deliveryBecomes(created.body.id, ['pending', 'failed', '2']);
  } finally {
    await setChaos({});
  }
  // Not due yet (back-off): the job leaves it alone.
  await runRetryJob();
  assert.deepEqual(delivery(created.body.id).slice(0, 3), ['pending', 'failed', '2']);
  assert.equal((await messagesTo(profile.email)).length, 0);

  makeDue(created.body.id);
  await runRetryJob();
  await deliveryBecomes(created.body.id, ['pending', 'sent', '3']);
  const [mail] = await waitForMessages(profile.email, 1);
  assert.equal(invitationLink(mail).link, created.body.link, 'the retry mails the same link');
  assert.deepEqual(delivery(created.body.id).slice(0, 5), ['pending', 'sent', '3', '', 'f']);
  // Once sent, further runs send nothing more.
  makeDue(created.body.id);
  await runRetryJob();
  assert.equal((await messagesTo(profile.email)).length, 1);
});

test('an address the transport refuses fails for good: the reason is recorded and the job does not retry it', async () => {
  const admin = await userWithRole('admin', 'mail-refused');
  const profile = await createProfile(admin);
  const refused = `ada-${randomUUID()}@mailbox.invalid`;
  const created = await inviteAs(admin, { profile_id: profile.id, email: refused });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.email_sent, false);
  assert.equal(created.body.delivery_status, 'failed');
  assert.match(created.body.delivery_error, /422: validation_error: Invalid `to` field/);
  assert.equal(created.body.delivery_next_attempt_at, null, 'no retry for a refused message');
  await runRetryJob();
  assert.deepEqual(delivery(created.body.id).slice(0, 3), ['pending', 'failed', '1']);
  assert.equal((await messagesTo(refused)).length, 0);
});

// A second `wrangler dev` of the same Worker with INVITATION_LINK_DELIVERY=email_only and a short
// mail time-out, beside the stack's own (ports base+35/36).
const emailOnly = { stop: () => {} };
after(() => emailOnly.stop());

test('email_only: links never reach the admin; a transport that times out fails the attempt, and the retry delivers the message once', async () => {
  const devVars = process.env.DEVSTACK_DEV_VARS;
  const vars = `${readFileSync(devVars, 'utf8')}INVITATION_LINK_DELIVERY="email_only"\nMAIL_TIMEOUT_MS="1500"\n`;
  writeFileSync(`${devVars}.email-only`, vars);
  Object.assign(emailOnly, await startFunctions({
    port: Number(new URL(stack.url).port) + 14,
    inspectorPort: Number(new URL(stack.url).port) + 15,
    envFile: `${devVars}.email-only`,
  }));
  const admin = await userWithRole('admin', 'mail-only');
  const profile = await createProfile(admin);
  const viaEmailOnly = (init) =>
    call(`${emailOnly.url}/functions/v1/create-invitation${init.query ?? ''}`, {
      method: init.method ?? 'POST',
      headers: { 'content-type': 'application/json', apikey: stack.anonKey, Authorization: `Bearer ${admin.session.access_token}` },
      body: init.body && JSON.stringify(init.body),
    });

  const created = await viaEmailOnly({ body: { profile_id: profile.id } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.link, null);
  assert.equal(created.body.token, null);
  assert.equal(created.body.delivery_status, 'sent');
  const [mail] = await waitForMessages(profile.email, 1);
  const { token } = invitationLink(mail);
  const conflict = await viaEmailOnly({ body: { profile_id: profile.id } });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.invitation.link, null);
  const listed = await viaEmailOnly({ method: 'GET', query: `?profile_id=${profile.id}` });
  assert.deepEqual([listed.body[0].link, listed.body[0].token, listed.body[0].delivery_status], [null, null, 'sent']);
  assert.ok(!JSON.stringify(listed.body).includes(token), 'the token is nowhere in what the admin sees');

  // The catcher takes the message but answers after the Worker's 1.5 s time-out.
  await setChaos({ DelayMs: 3000 });
  let resent;
  try {
    resent = await viaEmailOnly({ body: { profile_id: profile.id, resend: true } });
  } finally {
    await setChaos({});
  }
  assert.equal(resent.status, 200, JSON.stringify(resent.body));
  assert.equal(resent.body.email_sent, false);
  assert.equal(resent.body.delivery_status, 'failed');
  assert.match(resent.body.delivery_error, /did not answer within 1500 ms/);
  assert.equal(resent.body.link, null);
  await waitForMessages(profile.email, 2);

  // The retry (the stack's own Worker runs the cron: this one has no --test-scheduled) carries
  // the same idempotency key: the catcher, which had taken the message, does not deliver it a
  // second time, and the send is recorded as sent.
  makeDue(resent.body.id);
  await runRetryJob();
  await deliveryBecomes(resent.body.id, ['pending', 'sent', '2']);
  const all = await waitForMessages(profile.email, 2);
  assert.equal(invitationLink(all[0]).token, token, 'the resend mailed the same link');
  assert.equal((await accept(token)).status, 201);
});

test('the mail catcher answers like the provider: its own key is required, a reused idempotency key with another payload is a 409', async () => {
  const send = (headers, body) =>
    fetch(new URL('emails', stack.mailUrl.replace(/\/$/, '/')), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const to = uniqueEmail('catcher');
  const body = { from: 'a@example.com', to: [to], subject: 'one', text: 'hello' };
  const noKey = await send({}, body);
  assert.equal(noKey.status, 401);
  assert.equal((await noKey.json()).name, 'missing_api_key');
  const otherKey = await send({ authorization: 'Bearer re_test' }, body);
  assert.equal(otherKey.status, 403, 'any bearer is not the configured key');
  assert.equal((await otherKey.json()).name, 'invalid_api_key');
  assert.equal((await messagesTo(to)).length, 0);
  const mailKey = `Bearer ${devVar('MAIL_API_KEY')}`;
  const key = { authorization: mailKey, 'idempotency-key': randomUUID() };
  const first = await send(key, body);
  assert.equal(first.status, 200);
  const again = await send(key, body);
  assert.deepEqual(await again.json(), await first.json(), 'the same answer for the same send');
  const other = await send(key, { ...body, subject: 'two' });
  assert.equal(other.status, 409);
  assert.equal((await other.json()).name, 'invalid_idempotent_request');
  const missing = await send({ authorization: mailKey }, { from: 'a@example.com', to });
  assert.equal(missing.status, 422);
  assert.equal((await messagesTo(to)).length, 1);
  const page = await fetch(stack.mailUrl);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Caught mail/);
  const [message] = await messagesTo(to);
  const view = await fetch(new URL(`view/${message.ID}`, stack.mailUrl));
  assert.match(await view.text(), /<pre>hello<\/pre>/);
  assert.equal((await readMessage(message.ID)).Text, 'hello');
});

test('control characters in the names reach neither the Subject nor the text of the mails', async () => {
  const admin = await userWithRole('admin', 'mail-crlf');
  const named = await admin.client.from('user_profiles').update({ display_name: 'Boss\r\nBcc: leak@evil.example' }).eq('id', admin.user.id);
  assert.equal(named.error, null);
  const profile = await createProfile(admin, { first_name: 'Ada\r\nX-Injected: 1', last_name: 'Lovelace' });
  const created = await inviteAs(admin, { profile_id: profile.id });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const [mail] = await waitForMessages(profile.email, 1);
  assert.equal(mail.Subject, 'Boss Bcc: leak@evil.example invited you to register as Ada X-Injected: 1 Lovelace');
  assert.ok(mail.Text.includes('Boss Bcc: leak@evil.example invited you'), mail.Text);
  assert.ok(!mail.Text.includes('Boss\r') && !mail.Text.includes('Boss\n'), mail.Text);
  const { token } = invitationLink(mail);
  assert.equal((await accept(token)).status, 201);
  const [notice] = await waitForMessages(admin.email, 1);
  assert.equal(notice.Subject, 'Ada X-Injected: 1 Lovelace accepted your invitation');
  assert.ok(notice.Text.startsWith('Hello Boss Bcc: leak@evil.example,\n'), notice.Text);
});

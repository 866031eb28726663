// devstack's mail catcher, read through its Mailpit-shaped API (`MAILPIT_URL` in status.json):
// what the Workers sent, and its chaos switches to make the transport fail.
import assert from 'node:assert/strict';
import { stack } from './stack.mjs';

/** The catcher of the stack at `mailUrl` (another stack's `MAILPIT_URL`). */
export function mailboxAt(mailUrl) {
  const api = (path) => new URL(`api/v1/${path}`, mailUrl);

  /** Summaries of the messages to `address`, newest first. */
  async function messagesTo(address) {
    const url = api('search');
    url.searchParams.set('query', `to:${address}`);
    url.searchParams.set('limit', '500');
    return (await json(await fetch(url))).messages.filter((m) => m.To.some((to) => to.Address === address));
  }

  /** One message in full (Text and HTML). */
  async function readMessage(id) {
    return json(await fetch(api(`message/${id}`)));
  }

  /** Waits until `address` has `count` messages and returns them in full, newest first. */
  async function waitForMessages(address, count, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    let found = await messagesTo(address);
    while (found.length < count && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      found = await messagesTo(address);
    }
    assert.equal(found.length, count, `${address} has ${found.length} message(s), expected ${count}`);
    return Promise.all(found.map((m) => readMessage(m.ID)));
  }

  return { api, messagesTo, readMessage, waitForMessages };
}

async function json(res) {
  const text = await res.text();
  assert.ok(res.ok, `${res.status} ${text}`);
  return JSON.parse(text);
}

const main = mailboxAt(stack.mailUrl);
const api = main.api;
export const { messagesTo, readMessage, waitForMessages } = main;

/** Sets the catcher's chaos triggers (Mailpit's shape; `{}` turns them all off). */
export async function setChaos(triggers) {
  return json(await fetch(api('chaos'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(triggers) }));
}

/** The invitation link in a message's text (links end in a 43-character token). */
export function invitationLink(message) {
  const match = /https?:\/\/\S+?[/=]([A-Za-z0-9_-]{43})(?=\s|$)/m.exec(message.Text);
  assert.ok(match, `no invitation link in: ${message.Text}`);
  return { link: match[0], token: match[1] };
}

/** The `/auth/v1/verify` link in an Auth mail, and its token, type and redirect_to. */
export function verifyLink(message) {
  const match = /https?:\/\/\S+\/auth\/v1\/verify\?\S+/.exec(message.Text);
  assert.ok(match, `no verify link in: ${message.Text}`);
  const url = new URL(match[0]);
  return {
    link: match[0],
    token: url.searchParams.get('token'),
    type: url.searchParams.get('type'),
    redirectTo: url.searchParams.get('redirect_to'),
  };
}

/** The code an Auth mail offers beside its link (or alone, for reauthentication). */
export function mailedCode(message) {
  const match = /(?:^|\s)(\d{6,10})(?:\s|$)/m.exec(message.Text);
  assert.ok(match, `no code in: ${message.Text}`);
  return match[1];
}

// One profile (seed 004, admins): invite to register, the active invitation with its link to
// copy (unless the server sends links by e-mail only), its e-mail's delivery state, resend,
// replace or revoke it, and the invitation history.
import * as api from '../api.js';
import { busy, clear, field, formatDate, h, messageBox, onValidSubmit, show } from '../dom.js';
import { adminsOnly } from './profiles.js';

export async function render(ctx) {
  const refused = adminsOnly(ctx, 'Profile');
  if (refused) return refused;
  const [id] = ctx.params;
  let profile;
  try {
    profile = await api.getProfile(id);
  } catch (e) {
    return page('Profile', h('div', { class: 'msg error', role: 'alert' }, e.message));
  }
  if (!profile) return page('Profile', h('div', { class: 'msg error', role: 'alert' }, 'There is no such profile. It may have been deleted.'));

  const name = [profile.first_name, profile.last_name].filter(Boolean).join(' ');
  const msg = messageBox('invite-message');
  const active = h('div', { 'data-testid': 'active-invitation' });
  const historyBody = h('tbody', { 'data-testid': 'history-body' });

  async function reload() {
    try {
      const invitations = await api.invitationHistory(id);
      const pending = invitations.find((i) => i.status === 'pending');
      active.replaceChildren(pending ? activeBox(pending) : inviteForm());
      historyBody.replaceChildren(...(invitations.length ? invitations.map(historyRow) : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No invitations yet.'))]));
    } catch (e) {
      show(msg, 'error', `Could not load the invitations: ${e.message}`);
    }
  }

  function inviteForm() {
    if (profile.user_id) return h('p', {}, h('span', { class: 'badge user' }, 'registered'), ' This person already has an account; there is nobody to invite.');
    const submit = h('button', { type: 'submit' }, 'Invite to register');
    const form = h(
      'form',
      { novalidate: true, 'aria-label': 'Invite to register' },
      h(
        'div',
        { class: 'grid2' },
        field('Send to', { name: 'email', type: 'email', value: profile.email ?? '', placeholder: 'name@example.com' }, profile.email ? 'The profile\u2019s address; change it to invite another.' : 'This profile has no e-mail address: enter one.'),
        field('Link valid for (days)', { name: 'days', type: 'number', min: 1, max: 30, value: 7 }),
      ),
      submit,
    );
    onValidSubmit(form, msg, {
      email: (v) => (!v ? 'Enter the address to invite.' : /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) ? null : 'Enter a valid e-mail address, like name@example.com.'),
      days: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 30 ? null : 'Choose between 1 and 30 days.'),
    }, async (values) => {
      try {
        const { existing, invitation } = await busy(submit, 'Inviting…', () => api.invite(id, { email: values.email, expiresInDays: Number(values.days) }));
        if (existing) show(msg, 'warn', 'This profile already had an active invitation; here it is.');
        else show(msg, invitation.email_sent === false ? 'warn' : 'ok', `Invitation created for ${values.email}. ${sentNote(invitation)}`);
        await reload();
      } catch (e) {
        show(msg, 'error', e.message);
      }
    });
    return form;
  }

  function activeBox(inv) {
    const resend = h('button', { type: 'button', class: 'secondary' }, 'Resend e-mail');
    resend.addEventListener('click', async () => {
      clear(msg);
      try {
        const resent = await busy(resend, 'Sending…', () => api.resendInvitation(id), [replace, revoke]);
        show(msg, resent.email_sent ? 'ok' : 'warn', resent.email_sent ? `The invitation was e-mailed again to ${resent.email}.` : `The e-mail failed: ${resent.delivery_error}`);
        await reload();
      } catch (e) {
        show(msg, 'error', e.message);
      }
    });
    const replace = h('button', { type: 'button', class: 'secondary' }, 'New link');
    const revoke = h('button', { type: 'button', class: 'danger' }, 'Revoke');
    const state = h('p', { 'data-testid': 'delivery-state' }, 'E-mail: ', deliveryBadge(inv), ` ${deliveryDetail(inv)}`);
    const intro = h('p', {}, h('span', { class: 'badge pending' }, 'active'), ` Sent to ${inv.email}, valid until ${formatDate(inv.expires_at)}.`);
    if (!inv.link) {
      wire(inv, replace, revoke, [resend]);
      return h(
        'div',
        {},
        intro,
        state,
        h('p', { class: 'muted' }, 'Links go to the invitee by e-mail only.'),
        h('p', { class: 'row', style: 'margin-top:.8rem' }, resend, replace, revoke),
      );
    }
    const link = h('input', { readonly: true, value: inv.link, 'aria-label': 'Invitation link', 'data-testid': 'invitation-link' });
    const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy link');
    copy.addEventListener('click', async () => {
      link.select();
      try {
        await navigator.clipboard.writeText(inv.link);
      } catch {
        document.execCommand?.('copy'); // older browsers, or no clipboard permission
      }
      copy.textContent = 'Copied';
      setTimeout(() => (copy.textContent = 'Copy link'), 2000);
    });
    wire(inv, replace, revoke, [copy, resend]);
    return h(
      'div',
      {},
      intro,
      state,
      h('div', { class: 'linkbox' }, link, copy),
      h('p', { class: 'row', style: 'margin-top:.8rem' }, resend, replace, revoke),
    );
  }

  /** Makes `replace` and `revoke` act on `inv`, disabling `others` while they run. */
  function wire(inv, replace, revoke, others) {
    replace.addEventListener('click', async () => {
      clear(msg);
      try {
        const { invitation } = await busy(replace, 'Replacing…', () => api.invite(id, { email: inv.email, replace: true }), [revoke, ...others]);
        show(msg, invitation.email_sent === false ? 'warn' : 'ok', `A new link replaces the old one, which no longer works. ${sentNote(invitation)}`);
        await reload();
      } catch (e) {
        show(msg, 'error', e.message);
      }
    });
    revoke.addEventListener('click', async () => {
      clear(msg);
      try {
        await busy(revoke, 'Revoking…', () => api.revokeInvitation(inv.id), [replace, ...others]);
        show(msg, 'ok', 'The invitation is revoked; its link no longer works.');
        await reload();
      } catch (e) {
        show(msg, 'error', e.message);
      }
    });
  }

  reload();
  return page(
    name,
    h('p', { class: 'muted' }, profile.email ?? 'No e-mail address', ' · ', profile.user_id ? 'registered' : 'not registered yet', ' · ', h('a', { href: '/profiles', 'data-link': true }, 'all profiles')),
    h('div', { class: 'card' }, h('h2', {}, 'Invitation'), msg, active),
    h('div', { class: 'card' }, h('h2', {}, 'History'), h('table', {}, h('thead', {}, h('tr', {}, ...['Status', 'Sent to', 'E-mail', 'Created', 'Expires', 'By'].map((t) => h('th', {}, t)))), historyBody)),
  );
}

function page(title, ...children) {
  return h('section', {}, h('h1', {}, title), ...children);
}

function historyRow(inv) {
  return h(
    'tr',
    {},
    h('td', {}, h('span', { class: `badge ${inv.status}` }, inv.status)),
    h('td', {}, inv.email),
    h('td', { 'data-testid': 'history-delivery', title: deliveryDetail(inv) }, deliveryBadge(inv)),
    h('td', {}, formatDate(inv.created_at)),
    h('td', {}, formatDate(inv.expires_at)),
    h('td', { class: 'mono' }, inv.invited_by ? `${inv.invited_by.slice(0, 8)}…` : '—'),
  );
}

/** What the create/replace answer says about its e-mail. */
function sentNote(inv) {
  if (inv.email_sent === true) return inv.link ? 'It was e-mailed; you can also copy the link.' : 'It was e-mailed.';
  if (inv.email_sent === false) return `The e-mail failed (${inv.delivery_error}); it will be retried.`;
  return 'Copy the link and send it.';
}

/** The invitation e-mail's state, shaped like a badge: sent, queued, failed, or not e-mailed. */
function deliveryBadge(inv) {
  return h('span', { class: `mail-state ${inv.delivery_status ?? ''}` }, inv.delivery_status ?? 'not e-mailed');
}

function deliveryDetail(inv) {
  switch (inv.delivery_status) {
    case 'sent':
      return `on ${formatDate(inv.delivery_sent_at)}`;
    case 'queued':
      return 'being sent';
    case 'failed':
      return `after ${inv.delivery_attempts} attempt(s): ${inv.delivery_error}. ${inv.delivery_next_attempt_at ? `Next try ${formatDate(inv.delivery_next_attempt_at)}.` : 'No more automatic tries: resend or replace it.'}`;
    default:
      return '';
  }
}

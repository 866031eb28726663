// Sign in, or create an account. A guest who creates an account here is upgraded (same id).
import { newAccountForm } from '../account-form.js';
import * as api from '../api.js';
import { busy, field, h, messageBox, onValidSubmit, rules, show } from '../dom.js';
import { checkYourEmail } from './forgot-password.js';

export function render(ctx) {
  return h(
    'section',
    {},
    h('h1', {}, 'Sign in'),
    h('div', { class: 'grid2' }, signInCard(ctx), signUpCard(ctx)),
    magicLinkCard(),
  );
}

/** Sign in without a password: a link (and a code) by e-mail. */
function magicLinkCard() {
  const msg = messageBox('magic-link-message');
  const submit = h('button', { type: 'submit', class: 'secondary' }, 'E-mail me a sign-in link');
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Sign in with a link' },
    field('E-mail', { name: 'email', type: 'email', autocomplete: 'username', id: 'magic-email' }),
    msg,
    submit,
  );
  const card = h('div', { class: 'card' }, h('h2', {}, 'Sign in with a link'), h('p', { class: 'muted small' }, 'No password needed: we e-mail you a link that signs you in.'), form);
  onValidSubmit(form, msg, { email: rules.email }, async ({ email }) => {
    try {
      await busy(submit, 'Sending…', () => api.sendMagicLink(email));
      card.replaceChildren(checkYourEmail(`If ${email} has an account, we sent it a sign-in link. Open it on this device.`));
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return card;
}

function signInCard(ctx) {
  const msg = messageBox('sign-in-message');
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Sign in' },
    field('E-mail', { name: 'email', type: 'email', autocomplete: 'username', id: 'signin-email' }),
    field('Password', { name: 'password', type: 'password', autocomplete: 'current-password', id: 'signin-password' }),
    msg,
    submit,
  );
  onValidSubmit(form, msg, { email: rules.email, password: rules.required('your password') }, async (values) => {
    try {
      const { linked, linkError } = await busy(submit, 'Signing in…', () => api.signInLinkingDevice(values.email, values.password));
      await ctx.refresh();
      ctx.navigate('/', { flash: `Signed in as ${values.email}.${deviceLinkNote(linked, linkError)}` });
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return h(
    'div',
    { class: 'card' },
    h('h2', {}, 'I have an account'),
    ctx.isGuest ? h('p', { class: 'muted small' }, 'Signing in ends this guest session and links this device to your account; what the guest made stays with the guest.') : null,
    form,
    h('p', { class: 'small' }, h('a', { href: '/forgot-password', 'data-link': true }, 'Forgot your password?')),
  );
}

/** What the sign-in did with this device's guest visit, for the flash message. */
function deviceLinkNote(linked, linkError) {
  if (linkError) return ` This device was not linked to your account: ${linkError.message}`;
  if (!linked) return '';
  const others = linked.linked_visitor_ids.length;
  const devices = others === 1 ? '1 other device' : `${others} other devices`;
  return linked.already_linked
    ? ' This device was already linked to your account.'
    : ` This device's guest visit is now linked to your account${others ? ` (with ${devices} you used before)` : ''}.`;
}

function signUpCard(ctx) {
  const msg = messageBox('sign-up-message');
  const submit = h('button', { type: 'submit', class: 'secondary' }, 'Create account');
  const form = newAccountForm({ idPrefix: 'signup-', msg, submit, onValues: async (values) => {
    try {
      // A guest keeps its id and everything it made; anyone else gets a new account.
      const create = ctx.isGuest ? api.upgradeGuest : api.signUpOrConfirm;
      const created = await busy(submit, 'Creating your account…', () => create(values.email, values.password));
      if (created?.confirmationPending) {
        // Confirmations on (every hosted project): the account waits for its e-mail.
        form.replaceWith(checkYourEmail(`We sent a link to ${values.email}. Open it to confirm your address; your account is ready after that.`));
        return;
      }
      await ctx.refresh();
      ctx.navigate('/', { flash: `Your account ${values.email} is ready.` });
    } catch (e) {
      show(msg, 'error', e.message);
    }
  } });
  return h(
    'div',
    { class: 'card' },
    h('h2', {}, 'I am new here'),
    ctx.isGuest ? h('p', { class: 'muted small' }, 'Your guest session becomes this account, with the same id.') : null,
    form,
  );
}

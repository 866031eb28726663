// /forgot-password: a person who forgot their password asks for a link; the page says the same
// whether or not the address has an account, as Supabase Auth answers.
import * as api from '../api.js';
import { busy, field, h, messageBox, onValidSubmit, rules, show } from '../dom.js';

export function render() {
  const msg = messageBox('forgot-message');
  const submit = h('button', { type: 'submit' }, 'E-mail me a link');
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Forgot password' },
    field('E-mail', { name: 'email', type: 'email', autocomplete: 'username', id: 'forgot-email' }),
    msg,
    submit,
  );
  const card = h('div', { class: 'card', style: 'max-width: 560px' }, h('p', {}, 'Enter the address you signed up with. We will e-mail you a link to choose a new password.'), form);
  onValidSubmit(form, msg, { email: rules.email }, async ({ email }) => {
    try {
      await busy(submit, 'Sending…', () => api.sendPasswordReset(email));
      card.replaceChildren(checkYourEmail(`If an account exists for ${email}, we sent it a link to choose a new password. The link works once and for an hour.`));
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return h('section', {}, h('h1', {}, 'Forgot your password?'), card);
}

/** The "check your e-mail" state every mailed-link flow ends in. */
export function checkYourEmail(text) {
  return h('div', { 'data-testid': 'check-email' }, h('h2', {}, 'Check your e-mail'), h('p', { class: 'msg ok', role: 'status' }, text));
}

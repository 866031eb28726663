// /reset-password: where the recovery e-mail's link lands, signed in by it; the person chooses a
// new password (Supabase Auth's PUT /user).
import * as api from '../api.js';
import { busy, field, h, messageBox, onValidSubmit, rules, show } from '../dom.js';

export function render(ctx) {
  const title = h('h1', {}, 'Choose a new password');
  // What the e-mail's link did (an expired or used link lands here with its error).
  const note = messageBox('reset-note');
  if (ctx.flash) show(note, ctx.flash.startsWith('That link did not work') ? 'error' : 'ok', ctx.flash);
  if (!ctx.session || ctx.isGuest) {
    return h('section', {}, title, note, h('div', { class: 'card' }, h('p', {}, 'Open the link from the e-mail we sent you. ', h('a', { href: '/forgot-password', 'data-link': true }, 'Ask for a new link'), ' if it expired.')));
  }
  const msg = messageBox('reset-message');
  const submit = h('button', { type: 'submit' }, 'Save the new password');
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'New password' },
    field('New password', { name: 'password', type: 'password', autocomplete: 'new-password', id: 'reset-password' }, 'At least 8 characters.'),
    field('Repeat the password', { name: 'confirm', type: 'password', autocomplete: 'new-password', id: 'reset-confirm' }),
    msg,
    submit,
  );
  onValidSubmit(form, msg, { password: rules.newPassword, confirm: rules.confirm }, async ({ password }) => {
    try {
      await busy(submit, 'Saving…', () => api.updateUser({ password }));
      ctx.navigate('/', { replace: true, flash: 'Your new password is saved. You are signed in.' });
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return h('section', {}, title, note, h('div', { class: 'card', style: 'max-width: 560px' }, h('p', {}, `For ${ctx.session.user.email}.`), form));
}

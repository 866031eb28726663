// /register/<token> (seed 004): the invitee sees whose profile the link is for, with the
// e-mail prefilled, and chooses a password; then they are signed in. No session is needed.
import * as api from '../api.js';
import { busy, field, h, messageBox, onValidSubmit, rules, show } from '../dom.js';

export async function render(ctx) {
  const [token] = ctx.params;
  let shown;
  try {
    shown = await api.previewInvitation(token);
  } catch (e) {
    const heading = {
      invitation_expired: 'This invitation has expired',
      invitation_used: 'This invitation was already used',
      invitation_not_found: 'This invitation link is not valid',
    }[e.code] ?? 'This invitation cannot be opened';
    return h(
      'section',
      {},
      h('h1', {}, heading),
      h('div', { class: 'card' }, h('p', { class: 'msg error', role: 'alert', 'data-testid': 'register-error' }, e.message), h('p', {}, h('a', { href: '/sign-in', 'data-link': true }, 'Sign in'), ' if you already have an account.')),
    );
  }
  const person = [shown.profile.first_name, shown.profile.last_name].filter(Boolean).join(' ');
  const msg = messageBox('register-message');
  const submit = h('button', { type: 'submit' }, 'Create my account');
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Register' },
    field('E-mail', { name: 'email', type: 'email', value: shown.email, readonly: true }, 'Your account will use the address you were invited at.'),
    field('Password', { name: 'password', type: 'password', autocomplete: 'new-password' }, 'At least 8 characters.'),
    field('Repeat the password', { name: 'confirm', type: 'password', autocomplete: 'new-password' }),
    msg,
    submit,
  );
  onValidSubmit(form, msg, { password: rules.newPassword, confirm: rules.confirm }, async (values) => {
    try {
      await busy(submit, 'Creating your account…', async () => {
        await api.acceptInvitation(token, values.password);
        await api.signIn(shown.email, values.password);
      });
      await ctx.refresh();
      ctx.navigate('/', { replace: true, flash: `Welcome, ${shown.profile.first_name}! Your account ${shown.email} is ready and you are signed in.` });
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return h(
    'section',
    {},
    h('h1', {}, `Hello, ${person}`),
    h(
      'div',
      { class: 'card', style: 'max-width: 560px' },
      h('p', {}, 'You were invited to register. Choose a password to create your account; it will be linked to your profile.'),
      h('p', { class: 'muted small' }, `This link is valid until ${new Date(shown.expires_at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}.`),
      form,
    ),
  );
}

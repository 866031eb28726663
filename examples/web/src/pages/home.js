// Start page: the guest session (seeds 000/001) and its upgrade to a full account that keeps
// the same id.
import { newAccountForm } from '../account-form.js';
import * as api from '../api.js';
import { busy, clear, h, messageBox, show } from '../dom.js';

export function render(ctx) {
  const { session, account } = ctx;
  const flash = messageBox('home-message');
  if (ctx.flash) show(flash, 'ok', ctx.flash);
  if (!session) return noSession(ctx, flash);
  const id = session.user.id;
  if (ctx.isGuest) {
    return h(
      'section',
      {},
      h('h1', {}, 'Welcome'),
      flash,
      h(
        'div',
        { class: 'grid2' },
        h(
          'div',
          { class: 'card' },
          h('h2', {}, 'You are using the app as a guest'),
          h('p', {}, 'Nothing to fill in: you already have a session and can use ', h('a', { href: '/results', 'data-link': true }, 'My results'), '. Your guest id:'),
          h('p', {}, h('code', { 'data-testid': 'user-id' }, id)),
          h('p', { class: 'muted small' }, 'Guest sessions are deleted after 30 days unless you create an account.'),
        ),
        upgradeCard(ctx, id, flash),
      ),
    );
  }
  return h(
    'section',
    {},
    h('h1', {}, 'Welcome back'),
    flash,
    h(
      'div',
      { class: 'card' },
      h('h2', {}, 'Your account'),
      h('p', {}, 'Signed in as ', h('strong', { 'data-testid': 'account-email' }, session.user.email), '.'),
      h('p', {}, 'Account id: ', h('code', { 'data-testid': 'user-id' }, id)),
      account ? h('p', {}, 'Role: ', h('span', { class: 'badge' }, account.role), ' · Credits: ', h('strong', {}, String(account.credits))) : null,
      h(
        'p',
        { class: 'row' },
        h('a', { class: 'button', href: '/results', 'data-link': true }, 'My results'),
        h('a', { class: 'button secondary', href: '/settings', 'data-link': true }, 'Settings'),
        account && api.isAdminRole(account.role) ? h('a', { class: 'button secondary', href: '/profiles', 'data-link': true }, 'Profiles') : null,
      ),
    ),
  );
}

function upgradeCard(ctx, guestId, flash) {
  const msg = messageBox('upgrade-message');
  const submit = h('button', { type: 'submit' }, 'Create my account');
  const form = newAccountForm({ idPrefix: 'f-', msg, submit, onValues: async (values) => {
    try {
      const { user } = await busy(submit, 'Creating your account…', () => api.upgradeGuest(values.email, values.password));
      await ctx.refresh();
      const same = user.id === guestId ? 'Everything you did as a guest is kept: your id is unchanged.' : '';
      ctx.navigate('/', { replace: true, flash: `Your account ${values.email} is ready. ${same}` });
    } catch (e) {
      show(msg, 'error', e.message);
    }
  } });
  return h(
    'div',
    { class: 'card' },
    h('h2', {}, 'Keep your work: create an account'),
    h('p', { class: 'muted small' }, 'Your guest session becomes a full account with the same id, so your results stay yours.'),
    form,
  );
}

function noSession(ctx, flash) {
  const msg = messageBox('guest-message');
  if (ctx.guestError) show(msg, 'error', `We could not start a guest session: ${ctx.guestError}`);
  const start = h('button', { type: 'button' }, 'Continue as a guest');
  start.addEventListener('click', async () => {
    clear(msg);
    try {
      await busy(start, 'Starting…', () => api.startGuest());
      await ctx.refresh();
      ctx.navigate('/', { replace: true });
    } catch (e) {
      show(msg, 'error', `We could not start a guest session: ${e.message}`);
    }
  });
  return h(
    'section',
    {},
    h('h1', {}, 'Welcome'),
    flash,
    h(
      'div',
      { class: 'card' },
      h('p', {}, 'Use the app right away as a guest, or sign in to your account.'),
      msg,
      h('p', { class: 'row' }, start, h('a', { class: 'button secondary', href: '/sign-in', 'data-link': true }, 'Sign in')),
    ),
  );
}

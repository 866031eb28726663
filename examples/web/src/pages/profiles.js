// Profiles (seed 004, admins): the people records, and a form to add one.
import * as api from '../api.js';
import { busy, field, formatDate, h, messageBox, onValidSubmit, rules, show } from '../dom.js';

/** What a non-admin sees instead of an admin page; null for admins. */
export function adminsOnly(ctx, title) {
  if (ctx.session && ctx.account && api.isAdminRole(ctx.account.role)) return null;
  const text = !ctx.session || ctx.isGuest
    ? 'Profiles are managed by administrators. Sign in with an administrator account.'
    : 'Profiles are managed by administrators. Ask one to give your account the admin role.';
  return h('section', {}, h('h1', {}, title), h('div', { class: 'card' }, h('p', { class: 'msg warn', role: 'status' }, text)));
}

export function render(ctx) {
  const refused = adminsOnly(ctx, 'Profiles');
  if (refused) return refused;
  const listMsg = messageBox('profiles-message');
  const body = h('tbody', { 'data-testid': 'profiles-body' });

  async function reload() {
    try {
      const profiles = await api.listProfiles();
      body.replaceChildren(...(profiles.length ? profiles.map(profileRow) : [h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No profiles yet.'))]));
    } catch (e) {
      show(listMsg, 'error', `Could not load the profiles: ${e.message}`);
    }
  }
  reload();
  return h(
    'section',
    {},
    h('h1', {}, 'Profiles'),
    h('div', { class: 'card' }, h('h2', {}, 'Add a person'), createForm(ctx)),
    h('div', { class: 'card' }, h('h2', {}, 'People'), listMsg, h('table', {}, h('thead', {}, h('tr', {}, ...['Name', 'E-mail', 'Account', 'Added'].map((t) => h('th', {}, t)))), body)),
  );
}

function profileRow(p) {
  return h(
    'tr',
    {},
    h('td', {}, h('a', { href: `/profiles/${p.id}`, 'data-link': true }, [p.first_name, p.last_name].filter(Boolean).join(' '))),
    h('td', {}, p.email ?? h('span', { class: 'muted' }, '—')),
    h('td', {}, p.user_id ? h('span', { class: 'badge user' }, 'registered') : h('span', { class: 'badge' }, 'not registered')),
    h('td', {}, formatDate(p.created_at)),
  );
}

function createForm(ctx) {
  const msg = messageBox('create-profile-message');
  const submit = h('button', { type: 'submit' }, 'Add person');
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Add a person' },
    h('div', { class: 'grid2' }, field('First name', { name: 'first_name', autocomplete: 'off' }), field('Last name', { name: 'last_name', autocomplete: 'off' })),
    field('E-mail', { name: 'email', type: 'email', autocomplete: 'off' }, 'Invitations go to this address unless you give another.'),
    msg,
    submit,
  );
  onValidSubmit(form, msg, {
    first_name: (v) => (!v ? 'Enter the first name.' : v.length > 100 ? 'Keep it under 100 characters.' : null),
    last_name: (v) => (v.length > 100 ? 'Keep it under 100 characters.' : null),
    email: rules.optionalEmail,
  }, async (values) => {
    try {
      const created = await busy(submit, 'Adding…', () => api.createProfile({ first_name: values.first_name, last_name: values.last_name || null, email: values.email || null }));
      ctx.navigate(`/profiles/${created.id}`);
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return form;
}

// Settings → Connections (seed 003): add a tenant's Supabase project (its keys are sealed on the
// server by save-connection and never come back: the list shows hints only), delete one, and
// read a table of its database through tenant-proxy.
import * as api from '../api.js';
import { busy, clear, field, formatDate, h, messageBox, onValidSubmit, show } from '../dom.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export function render(ctx) {
  const title = h('h1', {}, 'Settings');
  if (!ctx.session) {
    return h('section', {}, title, h('div', { class: 'card' }, h('p', {}, h('a', { href: '/sign-in', 'data-link': true }, 'Sign in'), ' to manage your connections.')));
  }
  if (ctx.isGuest) {
    return h(
      'section',
      {},
      title,
      h('div', { class: 'card' }, h('h2', {}, 'Connections'), h('p', { class: 'msg warn', role: 'status' }, 'Connections hold other projects\u2019 keys, so they need a full account. ', h('a', { href: '/', 'data-link': true }, 'Create your account'), ' (it keeps your guest id) to add one.')),
    );
  }
  const listMsg = messageBox('connections-message');
  const listBody = h('tbody', { 'data-testid': 'connections-body' });
  const data = dataView();

  async function reload() {
    try {
      const connections = await api.listConnections();
      listBody.replaceChildren(...(connections.length ? connections.map((c) => connectionRow(c, reload, listMsg, data)) : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No connections yet.'))]));
      data.setConnections(connections.map((c) => c.name));
    } catch (e) {
      show(listMsg, 'error', `Could not load your connections: ${e.message}`);
    }
  }
  reload();

  return h(
    'section',
    {},
    title,
    h('div', { class: 'card' }, h('h2', {}, 'Add a connection'), addForm(reload)),
    h(
      'div',
      { class: 'card' },
      h('h2', {}, 'Connections'),
      listMsg,
      h('table', {}, h('thead', {}, h('tr', {}, ...['Name', 'URL', 'anon key', 'service key', 'Writes', ''].map((t) => h('th', {}, t)))), listBody),
      h('p', { class: 'muted small' }, 'Keys are encrypted on the server; only their first characters are ever shown.'),
    ),
    data.element,
  );
}

function addForm(reload) {
  const msg = messageBox('add-connection-message');
  const submit = h('button', { type: 'submit' }, 'Add connection');
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Add connection' },
    h(
      'div',
      { class: 'grid2' },
      field('Name', { name: 'name', placeholder: 'shop', autocomplete: 'off' }, 'Letters, digits, "_" and "-". Saving an existing name replaces it.'),
      field('Project URL', { name: 'url', type: 'url', placeholder: 'https://abcd.supabase.co', autocomplete: 'off' }),
    ),
    field('anon key', { name: 'anon_key', autocomplete: 'off', spellcheck: 'false' }, 'The public key (legacy anon JWT or sb_publishable_…).'),
    field('service_role key', { name: 'service_role_key', type: 'password', autocomplete: 'off' }, 'The secret key (legacy service_role JWT or sb_secret_…). It is encrypted before it is stored.'),
    h('div', { class: 'field' }, h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'allow_writes', id: 'f-allow_writes' }), 'Allow writes through the proxy')),
    msg,
    submit,
  );
  onValidSubmit(form, msg, {
    name: (v) => (!v ? 'Give the connection a name.' : NAME.test(v) ? null : 'Use 1 to 63 letters, digits, "_" or "-", starting with a letter or digit.'),
    url: (v) => {
      if (!v) return 'Enter the project URL.';
      let url;
      try {
        url = new URL(v);
      } catch {
        return 'Enter a full URL, like https://abcd.supabase.co.';
      }
      if (!['https:', 'http:'].includes(url.protocol)) return 'The URL must start with https://.';
      if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) return 'Enter only the project address, without a path (no /rest/v1).';
      return null;
    },
    anon_key: (v) => (v ? null : 'Paste the anon (publishable) key.'),
    service_role_key: (v, all) => (!v ? 'Paste the service_role (secret) key.' : v === all.anon_key ? 'The two keys are the same: paste the service_role key here.' : null),
  }, async (values) => {
    try {
      const saved = await busy(submit, 'Saving…', () =>
        api.saveConnection({ name: values.name, url: new URL(values.url).origin, anon_key: values.anon_key, service_role_key: values.service_role_key, allow_writes: values.allow_writes }),
      );
      form.reset();
      show(msg, 'ok', `Saved connection “${saved.name}”.`);
      await reload();
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return form;
}

function connectionRow(c, reload, listMsg, data) {
  const remove = h('button', { type: 'button', class: 'danger' }, 'Delete');
  const open = h('button', { type: 'button', class: 'secondary' }, 'View data');
  const actions = h('div', { class: 'actions' }, open, remove);
  open.addEventListener('click', () => data.open(c.name));
  remove.addEventListener('click', () => {
    const yes = h('button', { type: 'button', class: 'danger' }, `Yes, delete ${c.name}`);
    const no = h('button', { type: 'button', class: 'link' }, 'Cancel');
    no.addEventListener('click', () => actions.replaceChildren(open, remove));
    yes.addEventListener('click', async () => {
      clear(listMsg);
      try {
        await busy(yes, 'Deleting…', () => api.deleteConnection(c.name), [no]);
        show(listMsg, 'ok', `Deleted connection “${c.name}”.`);
        await reload();
      } catch (e) {
        show(listMsg, 'error', e.message);
      }
    });
    actions.replaceChildren(yes, no);
  });
  return h(
    'tr',
    { 'data-connection': c.name },
    h('td', {}, h('strong', {}, c.name), h('div', { class: 'muted small' }, `saved ${formatDate(c.updated_at)}`)),
    h('td', { class: 'mono' }, c.url),
    h('td', { class: 'mono', 'data-testid': 'anon-hint' }, `${c.anon_key_hint}…`),
    h('td', { class: 'mono', 'data-testid': 'service-hint' }, `${c.service_role_key_hint}…`),
    h('td', {}, c.allow_writes ? 'allowed' : 'read-only'),
    h('td', {}, actions),
  );
}

/** The data view: a tenant table read through tenant-proxy with a PostgREST client. */
function dataView() {
  const msg = messageBox('data-message');
  const select = h('select', { name: 'connection', id: 'f-connection' });
  const submit = h('button', { type: 'submit' }, 'Load rows');
  const output = h('div', { 'data-testid': 'tenant-rows' });
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Tenant data' },
    h(
      'div',
      { class: 'grid2' },
      h('div', { class: 'field' }, h('label', { for: 'f-connection' }, 'Connection'), select, h('div', { class: 'field-error', id: 'f-connection-error' })),
      field('Table', { name: 'table', placeholder: 'orders', autocomplete: 'off' }),
    ),
    msg,
    submit,
  );
  onValidSubmit(form, msg, {
    connection: (v) => (v ? null : 'Add a connection first.'),
    table: (v) => (!v ? 'Enter a table name, like orders.' : /^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(v) ? null : 'A table name is letters, digits and "_".'),
  }, async (values) => {
    try {
      const { rows, count } = await busy(submit, 'Loading…', () => api.tenantRows(values.connection, values.table));
      output.replaceChildren(rowsTable(rows), h('p', { class: 'muted small' }, `${rows.length} of ${count ?? rows.length} rows from “${values.table}” in ${values.connection}, read through tenant-proxy.`));
    } catch (e) {
      output.replaceChildren();
      show(msg, 'error', e.message);
    }
  });
  return {
    element: h('div', { class: 'card' }, h('h2', {}, 'Data'), h('p', { class: 'muted small' }, 'Read a table of a connected project. The request goes through tenant-proxy, which adds the project\u2019s key on the server.'), form, output),
    setConnections(names) {
      const chosen = select.value;
      select.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
      if (names.includes(chosen)) select.value = chosen;
    },
    open(name) {
      select.value = name;
      form.elements.namedItem('table').focus();
    },
  };
}

function rowsTable(rows) {
  if (!rows.length) return h('p', { class: 'empty' }, 'The table is empty.');
  const columns = Object.keys(rows[0]);
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', {}, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...columns.map((c) => h('td', {}, format(r[c])))))),
  );
}

function format(value) {
  if (value === null || value === undefined) return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

// Tiny DOM helpers: build elements, show messages, validate forms, and run a request with the
// button showing progress (disabled, aria-busy, a busy label) until it settles.

/** `h('button', {class: 'x', onclick}, 'text', child)`; attributes false/null are skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'value') el.value = value;
    else if (name === 'text') el.textContent = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A message area (`role=alert` for errors so screen readers announce them). */
export function messageBox(id) {
  return h('div', { class: 'msg', id, 'aria-live': 'polite' });
}

export function show(box, kind, text) {
  box.className = `msg ${kind}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  box.textContent = text;
}

export function clear(box) {
  box.className = 'msg';
  box.removeAttribute('role');
  box.textContent = '';
}

/** A labelled input with a place for its error. */
export function field(label, attrs, hint) {
  const id = attrs.id ?? `f-${attrs.name}`;
  const input = h(attrs.tag ?? 'input', { ...attrs, tag: null, id, 'aria-describedby': `${id}-error` });
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint ? h('div', { class: 'hint' }, hint) : null,
    h('div', { class: 'field-error', id: `${id}-error` }),
  );
}

/**
 * Checks a form before anything is sent: `rules` maps a field name to a function of the
 * form's values returning an error message or null. Shows the messages under the fields and
 * focuses the first bad one; resolves to the values, or null when something is wrong.
 */
export function validate(form, rules) {
  const values = Object.fromEntries(
    [...form.elements].filter((el) => el.name).map((el) => [el.name, el.type === 'checkbox' ? el.checked : el.value.trim()]),
  );
  let first = null;
  for (const [name, rule] of Object.entries(rules)) {
    const input = form.elements.namedItem(name);
    const problem = rule(values[name], values);
    const slot = form.querySelector(`#${CSS.escape(input.id)}-error`);
    if (slot) slot.textContent = problem ?? '';
    input.setAttribute('aria-invalid', problem ? 'true' : 'false');
    if (problem && !first) first = input;
  }
  if (first) {
    first.focus();
    return null;
  }
  // Passwords are not trimmed.
  for (const el of form.elements) if (el.type === 'password') values[el.name] = el.value;
  return values;
}

/** Runs `work` with `button` in its busy state; any other buttons in `also` are disabled too. */
export async function busy(button, busyLabel, work, also = []) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = busyLabel;
  for (const other of also) other.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
    for (const other of also) other.disabled = false;
  }
}

export const formatDate = (iso) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';

// Shared field rules.
export const rules = {
  required: (what) => (v) => (v ? null : `Enter ${what}.`),
  email: (v) => (!v ? 'Enter your e-mail address.' : /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) ? null : 'Enter a valid e-mail address, like name@example.com.'),
  optionalEmail: (v) => (!v || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v) ? null : 'Enter a valid e-mail address, like name@example.com.'),
  newPassword: (v, all) => {
    if (!v) return 'Choose a password.';
    if (v.length < 8) return 'Use at least 8 characters.';
    if (new TextEncoder().encode(v).length > 72) return 'Use at most 72 bytes (about 72 letters).';
    if (!v.trim()) return 'The password cannot be only spaces.';
    const email = (all.email ?? '').toLowerCase();
    if (email && (v.toLowerCase() === email || v.toLowerCase() === email.split('@')[0])) return 'Do not use your e-mail address as the password.';
    return null;
  },
  confirm: (v, all) => (v === all.password ? null : 'The two passwords differ.'),
};

/**
 * On submit: clears `msg`, checks the form against `rules` (see `validate`) and calls
 * `handler(values)` only when every field passes, so nothing is sent for a bad form.
 */
export function onValidSubmit(form, msg, rules, handler) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear(msg);
    const values = validate(form, rules);
    if (values) await handler(values);
  });
}

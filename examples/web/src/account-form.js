// The "create an account" form of the start page and the sign-in page: an e-mail address and a
// new password typed twice, checked before anything is sent.
import { field, h, onValidSubmit, rules } from './dom.js';

/** The form, calling `onValues({email, password})` once it is valid; field ids start with `idPrefix`. */
export function newAccountForm({ idPrefix, msg, submit, onValues }) {
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Create an account' },
    field('E-mail', { name: 'email', type: 'email', autocomplete: 'email', id: `${idPrefix}email` }),
    field('Password', { name: 'password', type: 'password', autocomplete: 'new-password', id: `${idPrefix}password` }, 'At least 8 characters.'),
    field('Repeat the password', { name: 'confirm', type: 'password', autocomplete: 'new-password', id: `${idPrefix}confirm` }),
    msg,
    submit,
  );
  onValidSubmit(form, msg, { email: rules.email, password: rules.newPassword, confirm: rules.confirm }, onValues);
  return form;
}

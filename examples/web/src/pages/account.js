// /account: what a person does with their own account, through Supabase Auth: the display name
// and picture (Storage's `avatars` bucket), the e-mail address (confirmed by e-mail), the password (with the mailed code when the project
// asks for reauthentication), a second factor (TOTP) and a download of their data.
import * as api from '../api.js';
import { busy, field, h, messageBox, onValidSubmit, rules, show } from '../dom.js';
import { checkYourEmail } from './forgot-password.js';

export async function render(ctx) {
  const title = h('h1', {}, 'My account');
  if (!ctx.session || ctx.isGuest) {
    return h('section', {}, title, h('div', { class: 'card' }, h('p', {}, h('a', { href: '/sign-in', 'data-link': true }, 'Sign in'), ' to manage your account.')));
  }
  const flash = messageBox('account-message');
  if (ctx.flash) show(flash, 'ok', ctx.flash);
  const user = await api.currentUser();
  return h(
    'section',
    {},
    title,
    flash,
    h('div', { class: 'grid2' }, profileCard(ctx, user), emailCard(user), passwordCard(user), await factorCard(ctx)),
    dataCard(ctx, user),
    deleteCard(ctx, user),
  );
}

function deleteCard(ctx, user) {
  const msg = messageBox('delete-message');
  const submit = h('button', { type: 'submit', class: 'danger' }, 'Delete my account');
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Delete my account' },
    field('Your password', { name: 'password', type: 'password', autocomplete: 'current-password', id: 'delete-password' }, 'We ask for it again before deleting anything.'),
    msg,
    submit,
  );
  onValidSubmit(form, msg, { password: rules.required('your password') }, async ({ password }) => {
    if (!confirm('Delete your account for good? This cannot be undone.')) return;
    try {
      await busy(submit, 'Deleting…', () => api.deleteMyAccount(user.email, password));
      await ctx.refresh();
      ctx.navigate('/', { replace: true, flash: 'Your account is deleted.' });
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return h(
    'div',
    { class: 'card', 'data-testid': 'delete-card' },
    h('h2', {}, 'Delete my account'),
    h('p', {}, 'Deleted for good: your sign-in (e-mail, password, sessions, second factor), your account with its role and credits, your connections and their keys, your projects, results and usage history, and your files (your picture, the images you uploaded and the masks of your tasks, removed from Storage first).'),
    h('p', {}, 'Kept, no longer linked to you: invitations you sent or accepted (the ones still pending are revoked, so their links stop working), profiles you created or were linked to, and this device\u2019s guest visit.'),
    form,
  );
}

const MIB = 1024 * 1024;

/** Why `file` cannot be the avatar (the `avatars` bucket's limits), in words, or null. */
function avatarProblem(file, bucket) {
  const types = bucket?.allowed_mime_types ?? ['image/png', 'image/jpeg', 'image/webp'];
  if (!types.includes(file.type)) return `${file.name} is not a PNG, JPEG or WebP image.`;
  const limit = bucket?.file_size_limit;
  if (limit && file.size > limit) return `${file.name} is too large; a picture can be at most ${Math.round((limit / MIB) * 10) / 10} MB.`;
  if (file.size === 0) return `${file.name} is empty.`;
  return null;
}

/** The display name and the avatar (a picture in Storage's `avatars` bucket), kept on the account. */
function profileCard(ctx, user) {
  const msg = messageBox('profile-message');
  const submit = h('button', { type: 'submit' }, 'Save');
  const account = ctx.account ?? {};
  const picture = h('img', { class: 'avatar large', alt: 'Your picture', 'data-testid': 'account-avatar', width: 96, height: 96 });
  const remove = h('label', { class: 'small' }, h('input', { type: 'checkbox', name: 'remove_avatar', id: 'account-avatar-remove' }), ' Remove my picture');
  function showPicture(url) {
    picture.hidden = !url;
    remove.hidden = !url;
    if (url) picture.src = url;
  }
  showPicture(account.avatar_url);
  const bucket = api.avatarsBucket();
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Profile' },
    field('Display name', { name: 'display_name', value: account.display_name ?? user.user_metadata?.display_name ?? '', id: 'account-display-name', maxlength: 80 }),
    picture,
    field('Picture', { name: 'avatar', type: 'file', accept: 'image/png,image/jpeg,image/webp', id: 'account-avatar' }, 'PNG, JPEG or WebP, up to 1 MB. Anyone with its link can see it.'),
    remove,
    msg,
    submit,
  );
  onValidSubmit(form, msg, { display_name: rules.required('a display name') }, async ({ display_name, remove_avatar }) => {
    const avatar = form.elements.avatar.files[0] ?? null;
    const problem = avatar && avatarProblem(avatar, await bucket);
    if (problem) return show(msg, 'error', problem);
    try {
      const saved = await busy(submit, 'Saving…', () => api.saveProfile(user.id, { displayName: display_name, avatar, removeAvatar: remove_avatar }));
      form.elements.avatar.value = '';
      form.elements.remove_avatar.checked = false;
      showPicture(saved.avatar_url);
      await ctx.refresh();
      show(msg, 'ok', 'Saved.');
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return h('div', { class: 'card' }, h('h2', {}, 'Profile'), form);
}

function emailCard(user) {
  const msg = messageBox('email-message');
  const submit = h('button', { type: 'submit' }, 'Change e-mail');
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Change e-mail' },
    field('New e-mail address', { name: 'email', type: 'email', autocomplete: 'email', id: 'account-new-email' }),
    msg,
    submit,
  );
  const pending = user.new_email ? h('p', { class: 'msg warn', role: 'status' }, `Waiting for confirmation of ${user.new_email}.`) : null;
  const card = h('div', { class: 'card' }, h('h2', {}, 'E-mail'), h('p', {}, 'Signed in as ', h('strong', { 'data-testid': 'account-email' }, user.email), '.'), pending, form);
  onValidSubmit(form, msg, { email: rules.email }, async ({ email }) => {
    try {
      await busy(submit, 'Sending…', () => api.changeEmail(email));
      form.replaceWith(checkYourEmail(`We sent a confirmation link to ${email} and one to ${user.email}. Open both; your address changes once they are confirmed.`));
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return card;
}

function passwordCard(user) {
  const msg = messageBox('password-message');
  const submit = h('button', { type: 'submit' }, 'Change password');
  const nonceField = field('Code from the e-mail', { name: 'nonce', inputmode: 'numeric', autocomplete: 'one-time-code', id: 'account-nonce' });
  nonceField.hidden = true;
  const form = h(
    'form',
    { novalidate: true, 'aria-label': 'Change password' },
    field('New password', { name: 'password', type: 'password', autocomplete: 'new-password', id: 'account-password' }, 'At least 8 characters.'),
    field('Repeat the password', { name: 'confirm', type: 'password', autocomplete: 'new-password', id: 'account-confirm' }),
    nonceField,
    msg,
    submit,
  );
  onValidSubmit(form, msg, { password: rules.newPassword, confirm: rules.confirm }, async ({ password, nonce }) => {
    try {
      await busy(submit, 'Saving…', () => api.updateUser(nonce ? { password, nonce } : { password }));
      form.reset();
      nonceField.hidden = true;
      show(msg, 'ok', 'Your new password is saved.');
    } catch (e) {
      if (e.code === 'reauthentication_needed') {
        // The project wants proof it is you: a code by e-mail.
        await api.reauthenticate();
        nonceField.hidden = false;
        show(msg, 'warn', `We e-mailed a code to ${user.email}. Enter it and press the button again.`);
      } else {
        show(msg, 'error', e.message);
      }
    }
  });
  return h('div', { class: 'card' }, h('h2', {}, 'Password'), form);
}

async function factorCard(ctx) {
  const card = h('div', { class: 'card', 'data-testid': 'factor-card' });
  const msg = messageBox('factor-message');
  async function draw(note) {
    const { data } = await api.mfa.listFactors();
    const verified = data?.totp ?? [];
    if (verified.length) {
      const factor = verified[0];
      const code = field('Code from your authenticator app', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', id: 'factor-remove-code' });
      const remove = h('button', { type: 'submit', class: 'danger' }, 'Remove the second factor');
      const form = h('form', { novalidate: true, 'aria-label': 'Remove second factor' }, code, msg, remove);
      onValidSubmit(form, msg, { code: rules.required('the 6-digit code') }, async (values) => {
        try {
          await busy(remove, 'Removing…', async () => {
            const { data: level } = await api.mfa.getAuthenticatorAssuranceLevel();
            if (level.currentLevel !== 'aal2') {
              const { error } = await api.mfa.challengeAndVerify({ factorId: factor.id, code: values.code });
              if (error) throw error;
            }
            const { error } = await api.mfa.unenroll({ factorId: factor.id });
            if (error) throw error;
          });
          await draw('The second factor is removed.');
        } catch (e) {
          show(msg, 'error', e.message);
        }
      });
      card.replaceChildren(h('h2', {}, 'Second factor'), h('p', { 'data-testid': 'factor-status' }, 'On: signing in asks for a code from your authenticator app.'), form);
    } else {
      const start = h('button', { type: 'button' }, 'Set up a second factor');
      start.addEventListener('click', () => enroll().catch((e) => show(msg, 'error', e.message)));
      card.replaceChildren(h('h2', {}, 'Second factor'), h('p', { 'data-testid': 'factor-status' }, 'Off.'), msg, start);
    }
    if (note) show(msg, 'ok', note);
  }
  async function enroll() {
    const { data, error } = await api.mfa.enroll({ factorType: 'totp', friendlyName: `App ${new Date().toISOString()}` });
    if (error) throw error;
    const code = field('Code from your authenticator app', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', id: 'factor-code' });
    const confirm = h('button', { type: 'submit' }, 'Turn on');
    const form = h('form', { novalidate: true, 'aria-label': 'Confirm second factor' }, code, msg, confirm);
    onValidSubmit(form, msg, { code: rules.required('the 6-digit code') }, async (values) => {
      try {
        await busy(confirm, 'Checking…', async () => {
          const { error: verifyError } = await api.mfa.challengeAndVerify({ factorId: data.id, code: values.code });
          if (verifyError) throw verifyError;
        });
        await ctx.refresh();
        await draw('The second factor is on.');
      } catch (e) {
        show(msg, 'error', e.message);
      }
    });
    card.replaceChildren(
      h('h2', {}, 'Second factor'),
      h('p', {}, 'Scan this code with an authenticator app, or enter the key by hand, then type the code it shows.'),
      h('img', { src: data.totp.qr_code, alt: 'QR code for your authenticator app', width: 180, height: 180 }),
      h('p', { class: 'small' }, 'Key: ', h('code', { 'data-testid': 'factor-secret' }, data.totp.secret)),
      form,
    );
  }
  await draw();
  return card;
}

function dataCard(ctx, user) {
  const msg = messageBox('data-message');
  const download = h('button', { type: 'button', class: 'secondary' }, 'Download my data (JSON)');
  download.addEventListener('click', async () => {
    try {
      const data = await busy(download, 'Collecting…', async () => ({
        exported_at: new Date().toISOString(),
        user,
        account: await api.myAccount(user.id).catch(() => null),
        connections: await api.listConnections().catch(() => []),
        results: await api.myResults().catch(() => []),
      }));
      const link = h('a', {
        href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })),
        download: `my-data-${user.id}.json`,
      });
      document.body.append(link);
      link.click();
      link.remove();
      show(msg, 'ok', 'Your data is downloaded.');
    } catch (e) {
      show(msg, 'error', e.message);
    }
  });
  return h('div', { class: 'card' }, h('h2', {}, 'My data'), h('p', {}, 'Everything the app keeps about you: your account, your connections (their names and key hints, never the keys) and your results.'), msg, download);
}

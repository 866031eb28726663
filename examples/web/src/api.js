// The six functions and the tables, called the way a production frontend calls them:
// `functions.invoke` (which sends the anon key and the user's access token) and `from()`.
// Every helper resolves to data or throws an AppError whose message is meant for people.
import { PostgrestClient } from '@supabase/postgrest-js';
import { ANON_KEY, SUPABASE_URL, supabase, currentSession } from './supabase.js';
import { AppError, describe, fromAuthError, fromFunctionError, fromPostgrestError } from './errors.js';

/** No request waits forever: a function that has not answered in 30 s counts as unreachable. */
const FUNCTION_TIMEOUT_MS = 30_000;

async function invoke(name, options = {}) {
  const { data, error } = await supabase.functions.invoke(name, { timeout: FUNCTION_TIMEOUT_MS, ...options });
  if (error) throw await fromFunctionError(error);
  return data;
}

async function rows(query) {
  const { data, error, status } = await query;
  if (error) throw fromPostgrestError(error, status);
  return data;
}

async function auth(call) {
  const { data, error } = await call;
  if (error) throw fromAuthError(error);
  return data;
}

// --- guests and accounts (seeds 000/001) --------------------------------------------------------

/** The visitor facts guest-signup records; empty values are simply left out. */
function visitorFacts() {
  const params = new URLSearchParams(location.search);
  const facts = {
    landing_url: location.href,
    referrer: document.referrer || undefined,
    screen_width: screen.width || undefined,
    screen_height: screen.height || undefined,
    touch_support: navigator.maxTouchPoints > 0,
    display_mode: matchMedia('(display-mode: standalone)').matches ? 'standalone' : 'browser',
    timezone_guess: Intl.DateTimeFormat().resolvedOptions().timeZone || undefined,
    app_platform: matchMedia('(display-mode: standalone)').matches ? 'pwa' : 'browser',
    app_name: 'edge-reference-app',
  };
  for (const tag of ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content']) {
    if (params.get(tag)) facts[tag] = params.get(tag).slice(0, 200);
  }
  return facts;
}

/** A guest session (guest-signup), installed as the client's session. */
export async function startGuest() {
  const guest = await invoke('guest-signup', { body: visitorFacts() });
  await auth(supabase.auth.setSession({ access_token: guest.access_token, refresh_token: guest.refresh_token }));
  localStorage.setItem('visitor_id', guest.visitor_id);
  return guest;
}

/**
 * The guest becomes a full account with the same id (the database links its visitor). The
 * session is refreshed at once: the old access token still says `is_anonymous: true`, and the
 * functions refuse guests what full accounts may do.
 */
export async function upgradeGuest(email, password) {
  const data = await auth(supabase.auth.updateUser({ email, password }));
  await auth(supabase.auth.refreshSession());
  return data;
}
export const signIn = (email, password) => auth(supabase.auth.signInWithPassword({ email, password }));

/**
 * Seed 001's cross-device visitors: signs in and, when this device had a guest session, links
 * that guest's visitor to the account (guest-signup/link, with the new session and the guest's
 * access token, taken before signing in replaces it). Resolves to `{ linked, linkError }`:
 * `linked` is the link's answer, `linkError` an AppError when the sign-in worked but the link
 * did not (the person is signed in either way).
 */
export async function signInLinkingDevice(email, password) {
  const before = await currentSession();
  const guestToken = before?.user?.is_anonymous ? before.access_token : null;
  await signIn(email, password);
  if (!guestToken) return { linked: null, linkError: null };
  try {
    return { linked: await invoke('guest-signup/link', { body: { guest_access_token: guestToken } }), linkError: null };
  } catch (e) {
    return { linked: null, linkError: e };
  }
}
export const signUp = (email, password) => auth(supabase.auth.signUp({ email, password }));
export const signOut = () => auth(supabase.auth.signOut());

/** The caller's own account row (credits, role, guest flag), through RLS. */
export const myAccount = async (userId) =>
  rows(supabase.from('user_profiles').select('id, email, is_guest, role, tier, credits, credits_reserved, display_name, avatar_url').eq('id', userId).single());

export const isAdminRole = (role) => ['admin', 'workspace_owner', 'platform_super_admin'].includes(role);

// --- connections (seed 003) ---------------------------------------------------------------------

export const listConnections = () => invoke('save-connection', { method: 'GET' });
export const saveConnection = (body) => invoke('save-connection', { body });
export const deleteConnection = (name) => invoke(`save-connection?name=${encodeURIComponent(name)}`, { method: 'DELETE' });

/** A PostgREST client for one connection's database, through tenant-proxy. */
export async function tenantClient(connection) {
  const session = await currentSession();
  if (!session) throw new AppError('You are not signed in. Sign in and try again.', { status: 401 });
  return new PostgrestClient(`${SUPABASE_URL}/functions/v1/tenant-proxy/${encodeURIComponent(connection)}/rest/v1`, {
    headers: { apikey: ANON_KEY, Authorization: `Bearer ${session.access_token}` },
  });
}

/** A page of a tenant table, with the total count. */
export async function tenantRows(connection, table, { limit = 50 } = {}) {
  const client = await tenantClient(connection);
  const { data, error, status, count } = await client.from(table).select('*', { count: 'exact' }).limit(limit);
  if (error) throw fromPostgrestError(error, status);
  return { rows: data, count };
}

// --- profiles and invitations (seed 004) --------------------------------------------------------

export const listProfiles = () =>
  rows(supabase.from('profiles').select('id, first_name, last_name, email, user_id, created_at').order('created_at', { ascending: false }));
export const getProfile = (id) =>
  rows(supabase.from('profiles').select('id, first_name, last_name, email, user_id, created_at').eq('id', id).maybeSingle());
export const createProfile = (fields) =>
  rows(supabase.from('profiles').insert(fields).select('id, first_name, last_name, email, user_id, created_at').single());

/**
 * Invites; resolves to `{invitation, existing}`: on 409 invitation_exists the active invitation
 * comes back with `existing: true` instead of an error, since it is what the admin wants to see.
 */
export async function invite(profileId, { email, expiresInDays, replace = false } = {}) {
  const body = { profile_id: profileId, replace };
  if (email) body.email = email;
  if (expiresInDays) body.expires_in_days = expiresInDays;
  try {
    return { invitation: await invoke('create-invitation', { body }), existing: false };
  } catch (e) {
    if (e.code === 'invitation_exists' && e.body?.invitation) return { invitation: e.body.invitation, existing: true };
    throw e;
  }
}
export const invitationHistory = (profileId) =>
  invoke(`create-invitation?profile_id=${encodeURIComponent(profileId)}`, { method: 'GET' });
/** E-mails the profile's active invitation again (same link); answers it with `email_sent`. */
export const resendInvitation = (profileId) =>
  invoke('create-invitation', { body: { profile_id: profileId, resend: true } });
export const revokeInvitation = (id) => invoke(`create-invitation?id=${encodeURIComponent(id)}`, { method: 'DELETE' });

export const previewInvitation = (token) =>
  linkErrors(invoke(`accept-invitation?token=${encodeURIComponent(token)}`, { method: 'GET' }));
export const acceptInvitation = (token, password) => linkErrors(invoke('accept-invitation', { body: { token, password } }));

/** accept-invitation's `400 invalid_token` is a malformed link, not a session problem. */
async function linkErrors(request) {
  try {
    return await request;
  } catch (e) {
    if (e.code !== 'invalid_token') throw e;
    throw new AppError(describe({ code: 'invitation_not_found' }), { status: e.status, code: 'invitation_not_found', body: e.body });
  }
}

// --- segmentation results and credits (seed 002) ------------------------------------------------

export const myResults = () =>
  rows(
    supabase
      .from('segmentation_results')
      .select('id, source_image_url, source_image_path, mask_image_url, mask_path, text_prompt, status, labels, metadata, error, credits_charged, credits_shortfall, created_at, updated_at')
      .order('created_at', { ascending: false })
      .limit(50),
  );
export const myUsage = () =>
  rows(supabase.from('usage_logs').select('id, action, credits_used, result_id, created_at').order('created_at', { ascending: false }).limit(20));
export const fileTask = (fields) =>
  rows(supabase.from('segmentation_results').insert(fields).select('id').single());

/** Cancels a pending or processing task (its credit is released at once). */
export const cancelTask = (id) => rows(supabase.rpc('cancel_segmentation_task', { task_id: id }));

/**
 * The `images` bucket's limits (`allowed_mime_types`, `file_size_limit`), readable by signed-in
 * users (20261207610000_images_bucket_readable.sql); null when they cannot be read, and then
 * Storage alone judges the upload.
 */
export async function imagesBucket() {
  const { data, error } = await supabase.storage.getBucket('images');
  return error ? null : data;
}

/**
 * Uploads `file` to `images/<user id>/<unique name>` with the session's token, reporting
 * `onProgress(sent, total)` as the bytes go (supabase-js's upload has no progress, so this is
 * Storage's own upload route over XMLHttpRequest). Resolves to the object's path.
 */
export async function uploadImage(userId, file, onProgress) {
  const session = await currentSession();
  if (!session) throw new AppError('You are not signed in. Sign in and try again.', { status: 401 });
  const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' }[file.type] ?? 'bin';
  const path = `${userId}/${crypto.randomUUID()}.${ext}`;
  const url = `${SUPABASE_URL}/storage/v1/object/images/${path.split('/').map(encodeURIComponent).join('/')}`;
  await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('authorization', `Bearer ${session.access_token}`);
    xhr.setRequestHeader('apikey', ANON_KEY);
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.setRequestHeader('x-upsert', 'false');
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      reject(fromStorageError(body, xhr.status));
    };
    xhr.onerror = () => reject(new AppError('The upload did not reach the server. Check your connection and try again.'));
    xhr.send(file);
  });
  return path;
}

/** Storage's refusals, in words (its body is `{statusCode, error, message}`). */
function fromStorageError(body, status) {
  const code = String(body?.statusCode ?? status);
  if (code === '413' || body?.error === 'Payload too large') return new AppError('The image is larger than the bucket allows.', { status, code: 'too_large', body });
  if (code === '415' || body?.error === 'invalid_mime_type') return new AppError('Only PNG, JPEG or WebP images can be uploaded.', { status, code: 'invalid_mime_type', body });
  if (code === '409') return new AppError('An image with this name is already uploaded.', { status, code: 'duplicate', body });
  return new AppError(describe({ status: Number(code) || status, message: body?.message }), { status, code: body?.error ?? null, body });
}

// --- profile: display name and avatar (20261207800000_avatars_bucket.sql) -----------------------

/** The `avatars` bucket's limits, as `imagesBucket`; null when they cannot be read. */
export async function avatarsBucket() {
  const { data, error } = await supabase.storage.getBucket('avatars');
  return error ? null : data;
}

/**
 * Saves the display name and, when `avatar` is a file, uploads it to `avatars/<user id>/avatar`
 * (replacing the one before) and points the account's `avatar_url` at its public URL (a version
 * in the query, so browsers fetch the new picture); `removeAvatar` deletes it instead.
 */
export async function saveProfile(userId, { displayName, avatar = null, removeAvatar = false }) {
  const fields = { display_name: displayName };
  const path = `${userId}/avatar`;
  if (avatar) {
    const { error } = await supabase.storage.from('avatars').upload(path, avatar, { upsert: true, contentType: avatar.type, cacheControl: '60' });
    if (error) throw fromStorageError({ statusCode: error.statusCode, error: error.code, message: error.message }, error.status);
    fields.avatar_url = `${supabase.storage.from('avatars').getPublicUrl(path).data.publicUrl}?v=${Date.now()}`;
  } else if (removeAvatar) {
    const { error } = await supabase.storage.from('avatars').remove([path]);
    if (error) throw fromStorageError({ statusCode: error.statusCode, error: error.code, message: error.message }, error.status);
    fields.avatar_url = null;
  }
  return rows(supabase.from('user_profiles').update(fields).eq('id', userId).select('display_name, avatar_url').single());
}

/** Signed download URLs (an hour) for the caller's own images, by path (one request). */
export async function imageUrls(paths) {
  if (!paths.length) return new Map();
  const { data, error } = await supabase.storage.from('images').createSignedUrls(paths, 3600);
  if (error) throw new AppError(describe({ message: error.message }));
  return new Map(data.filter((d) => d.signedUrl).map((d) => [d.path, d.signedUrl]));
}

/** An object's bytes (the caller's image, or the mask of one of the caller's tasks). */
export async function downloadFile(bucket, path) {
  const { data, error } = await supabase.storage.from(bucket).download(path);
  if (error) throw new AppError(`The ${bucket === 'masks' ? 'mask' : 'image'} could not be loaded: ${describe({ message: error.message })}`);
  return data;
}

/**
 * Deletes a finished task and its files: the mask (while the task exists, since the masks
 * policy asks the task's owner), the uploaded image unless `keepImage`, then the row.
 */
export async function deleteTask(task, { keepImage = false } = {}) {
  if (task.mask_path) {
    const { error } = await supabase.storage.from('masks').remove([task.mask_path]);
    if (error) throw new AppError(`The mask could not be deleted: ${describe({ message: error.message })}`);
  }
  if (task.source_image_path && !keepImage) {
    const { error } = await supabase.storage.from('images').remove([task.source_image_path]);
    if (error) throw new AppError(`The image could not be deleted: ${describe({ message: error.message })}`);
  }
  await rows(supabase.from('segmentation_results').delete().eq('id', task.id));
}

// --- accounts people run themselves (Supabase Auth's mailed links) -----------------------------

/** A page of this app, as the link in an Auth e-mail leads back to it. */
const appPage = (path) => new URL(path, location.origin).toString();

/** Mails a link to choose a new password (Supabase Auth says nothing of whether the address has an account). */
export const sendPasswordReset = (email) =>
  auth(supabase.auth.resetPasswordForEmail(email, { redirectTo: appPage('/reset-password') }));

/** Mails a sign-in link (and code) to an existing account; an unknown address is answered the same. */
export async function sendMagicLink(email) {
  const { error } = await supabase.auth.signInWithOtp({ email, options: { emailRedirectTo: appPage('/'), shouldCreateUser: false } });
  if (error && error.code !== 'otp_disabled') throw fromAuthError(error);
}

/** Signs in with the code from a sign-in e-mail. */
export const verifyEmailCode = (email, token) => auth(supabase.auth.verifyOtp({ email, token, type: 'email' }));

/** Sign-up; `confirmationPending` when the project mails a confirmation first (no session yet). */
export async function signUpOrConfirm(email, password) {
  const data = await auth(supabase.auth.signUp({ email, password, options: { emailRedirectTo: appPage('/') } }));
  return { confirmationPending: !data.session };
}

export const updateUser = (attributes, options) => auth(supabase.auth.updateUser(attributes, options));
export const changeEmail = (email) => updateUser({ email }, { emailRedirectTo: appPage('/account') });
export const reauthenticate = () => auth(supabase.auth.reauthenticate());
export const currentUser = async () => (await auth(supabase.auth.getUser())).user;
export const mfa = supabase.auth.mfa;

/**
 * Deletes the signed-in account (Postgres's public.delete_my_account, see the account page for
 * what goes and what stays), after signing in again with the password: the database only
 * accepts a session authenticated in the last 5 minutes. The user's files go first, through
 * Storage (which removes rows and bytes alike): their images, their avatar and the masks of their tasks.
 */
/** Removes the user's images and avatar (`{id}/…`) and the masks of their tasks (`{task id}/…`). */
async function deleteMyFiles(userId) {
  const tasks = await rows(supabase.from('segmentation_results').select('id'));
  const masks = (await Promise.all(tasks.map((task) => filesUnder('masks', task.id)))).flat();
  const owned = [['images', await filesUnder('images', userId)], ['masks', masks], ['avatars', await filesUnder('avatars', userId)]];
  for (const [bucket, paths] of owned) {
    for (let i = 0; i < paths.length; i += 1000) {
      const { error } = await supabase.storage.from(bucket).remove(paths.slice(i, i + 1000));
      if (error) throw error;
    }
  }
}

/** Every object's path under `folder` of `bucket`, its subfolders included. */
async function filesUnder(bucket, folder) {
  const paths = [];
  for (let offset = 0; ; offset += 1000) {
    const { data, error } = await supabase.storage.from(bucket).list(folder, { limit: 1000, offset });
    if (error) throw error;
    for (const item of data) {
      const path = `${folder}/${item.name}`;
      paths.push(...(item.id === null ? await filesUnder(bucket, path) : [path]));
    }
    if (data.length < 1000) return paths;
  }
}

export async function deleteMyAccount(email, password) {
  const { user } = await auth(supabase.auth.signInWithPassword({ email, password }));
  await deleteMyFiles(user.id);
  const result = await rows(supabase.rpc('delete_my_account'));
  await supabase.auth.signOut({ scope: 'local' });
  return result;
}

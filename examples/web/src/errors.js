// Turning what the functions, Auth and PostgREST answer into sentences for people. Every
// function error is `{"error": "<message>", "code": "<code>"}`; the codes below get wording of
// our own, anything else shows the function's message, and a bare status gets a sentence too.

const BY_CODE = {
  // Sessions and permissions
  missing_token: 'You are not signed in. Sign in and try again.',
  invalid_token: 'Your session is no longer valid. Sign in again.',
  token_expired: 'Your session has expired. Sign in again.',
  guest_not_allowed: 'Guests cannot do this. Create an account (it keeps everything you did as a guest) and try again.',
  not_admin: 'Only administrators can manage invitations.',
  // guest-signup
  rate_limited: 'Too many new sessions from your network. Please wait a little and try again.',
  guest_signup_disabled: 'Guest access is switched off for this app. Sign in or create an account.',
  anonymous_provider_disabled: 'Guest access is switched off for this app. Sign in or create an account.',
  // save-connection / tenant-proxy
  invalid_name: 'The connection name must be 1 to 63 letters, digits, "_" or "-", starting with a letter or digit.',
  writes_not_allowed: 'This connection is read-only. Allow writes on it to change data.',
  connection_keys_unreadable: 'The keys of this connection can no longer be opened (the server key was rotated away). Save the connection again with its keys.',
  // invitations
  invitation_exists: 'This profile already has an active invitation.',
  profile_already_linked: 'This profile already belongs to an account; there is nobody to invite.',
  profile_not_found: 'This profile does not exist (or you cannot see it).',
  invitation_not_found: 'This invitation link is not valid. It may have been cancelled or mistyped: ask for a new one.',
  invitation_expired: 'This invitation link has expired. Ask the person who invited you for a new one.',
  invitation_used: 'This invitation link has already been used. If it was you, sign in with your e-mail and password.',
  invitation_not_pending: 'This invitation is no longer pending, so it cannot be revoked.',
  email_taken: 'An account with this e-mail address already exists. Sign in instead.',
  invalid_expiry: 'The link lifetime must be between 1 and 30 days.',
  // Supabase Auth (supabase-js AuthError codes)
  invalid_credentials: 'The e-mail or password is wrong.',
  user_already_exists: 'An account with this e-mail address already exists. Sign in instead.',
  email_exists: 'An account with this e-mail address already exists. Sign in instead.',
  same_password: 'The new password must differ from the current one.',
  signup_disabled: 'New accounts cannot be created at the moment.',
  session_not_found: 'Your session has ended. Sign in again.',
  refresh_token_not_found: 'Your session has ended. Sign in again.',
  // segmentation tasks (the database's credit check, PostgREST 402) and device links
  PT402: 'No credits left. Every credit is spent or held by a task still running; wait for those to finish, or upgrade your plan.',
  status_conflict: 'This task has already finished, so it can no longer be cancelled.',
  task_not_found: 'This task does not exist any more (or is not yours).',
  source_image_not_found: 'The uploaded image was not found. Upload it again.',
  visitor_linked_elsewhere: 'This device is already linked to another account.',
  invalid_guest_token: 'The guest session of this device could not be checked, so it was not linked to your account.',
  // PostgREST (tenant data through tenant-proxy, and our own tables)
  PGRST205: 'There is no such table in that database (or it is not exposed to the API).',
  PGRST116: 'Nothing was found.',
  42501: 'You are not allowed to see or change this.',
};

const BY_STATUS = {
  400: 'The request was not accepted. Check the form and try again.',
  401: 'You are not signed in, or your session has expired. Sign in again.',
  403: 'You are not allowed to do this.',
  404: 'It was not found. It may have been deleted.',
  405: 'This action is not supported.',
  409: 'This conflicts with something that already exists.',
  410: 'This is no longer available.',
  413: 'What you sent is too large.',
  429: 'Too many requests. Please wait a little and try again.',
  500: 'Something went wrong on our side. Please try again.',
  502: 'A service behind this app did not answer properly. Please try again in a moment.',
  503: 'The service is not available right now. Please try again in a moment.',
  504: 'A service behind this app took too long to answer. Please try again.',
};

/** An error with words for people (`message`) and what the server said (`status`, `code`). */
export class AppError extends Error {
  constructor(message, { status = 0, code = null, body = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** Words for a status + code + the server's own message. */
export function describe({ status = 0, code = null, message = null, retryAfter = null } = {}) {
  let words = (code && BY_CODE[code]) || null;
  if (!words && message && !/^\s*$/.test(message)) words = sentence(message);
  if (!words) words = BY_STATUS[status] ?? (status >= 500 ? BY_STATUS[500] : 'Something went wrong. Please try again.');
  if (status === 429 && retryAfter) {
    const secs = Number(retryAfter);
    if (Number.isFinite(secs) && secs > 0) words += ` You can try again in ${wait(secs)}.`;
  }
  return words;
}

function sentence(text) {
  const t = String(text).trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function wait(secs) {
  if (secs < 90) return `${Math.ceil(secs)} seconds`;
  const minutes = Math.ceil(secs / 60);
  return minutes < 90 ? `${minutes} minutes` : `${Math.ceil(minutes / 60)} hours`;
}

/**
 * An AppError from a supabase-js `functions.invoke` error: FunctionsHttpError carries the
 * Response in `context`; relay and fetch errors mean the function was not reached.
 */
export async function fromFunctionError(error) {
  const res = error?.context;
  if (res && typeof res.status === 'number' && typeof res.text === 'function') {
    let body = null;
    try {
      body = JSON.parse(await res.text());
    } catch {
      // not JSON
    }
    return new AppError(
      describe({ status: res.status, code: body?.code, message: body?.error ?? body?.message, retryAfter: res.headers?.get('retry-after') }),
      { status: res.status, code: body?.code ?? null, body },
    );
  }
  if (error?.name === 'FunctionsFetchError' || error?.name === 'TypeError') {
    return new AppError('The server could not be reached. Check your connection and try again.');
  }
  return new AppError(describe({ message: error?.message }));
}

/** An AppError from a supabase-js AuthError (status and code as Supabase Auth sends them). */
export function fromAuthError(error) {
  if (error?.name === 'AuthRetryableFetchError' && !error.status) {
    return new AppError('The server could not be reached. Check your connection and try again.');
  }
  return new AppError(describe({ status: error?.status ?? 0, code: error?.code, message: error?.message }), {
    status: error?.status ?? 0,
    code: error?.code ?? null,
  });
}

/**
 * An AppError from a PostgREST error (supabase-js `from()`, or postgrest-js through
 * tenant-proxy, where the proxy's own errors arrive as `{error, code}`).
 */
export function fromPostgrestError(error, status = 0) {
  const message = error?.message ?? error?.error ?? null;
  // The database's own refusals (PT4xx) name the case in their hint.
  const code = error?.hint && BY_CODE[error.hint] ? error.hint : error?.code;
  return new AppError(describe({ status, code, message }), { status, code: code ?? null, body: error });
}

// The page a mailed Auth link lands on. The app asks for its links in the PKCE flow (supabase.js),
// so Supabase Auth's /verify redirects here with `?code=`, which this browser's stored code
// verifier exchanges for the session; links asked for without it (an admin's inviteUserByEmail or
// generateLink) carry the session in the fragment. Errors and messages come in the fragment either
// way. The code or session leaves the address bar, and the page is told what happened.
import { supabase } from './supabase.js';

/** The link's kind from the session's sign-in method (`amr`), for a PKCE exchange. */
const KIND_OF_METHOD = { 'email/signup': 'signup', magiclink: 'magiclink', recovery: 'recovery', email_change: 'email_change' };

/** `{type}` after a link signed the visitor in, `{error}` when the link failed, else null. */
export async function consumeAuthRedirect() {
  const query = new URLSearchParams(location.search);
  const code = query.get('code');
  const fragmentSays = ['access_token=', 'error_description=', 'message='].some((key) => location.hash.includes(key));
  if (!code && !fragmentSays) return null;
  for (const key of ['code', 'error', 'error_code', 'error_description', 'message']) query.delete(key);
  const params = new URLSearchParams(location.hash.slice(1));
  history.replaceState({}, '', location.pathname + (query.size ? `?${query}` : ''));
  if (code && !fragmentSays) {
    const { data, error } = await supabase.auth.exchangeCodeForSession(code);
    if (error) return { error: error.message, code: error.code };
    const method = JSON.parse(atob(data.session.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).amr?.[0]?.method;
    return { type: KIND_OF_METHOD[method] ?? 'magiclink' };
  }
  if (params.get('error_description')) return { error: params.get('error_description'), code: params.get('error_code') };
  if (params.get('message')) return { message: params.get('message') };
  const { error } = await supabase.auth.setSession({
    access_token: params.get('access_token'),
    refresh_token: params.get('refresh_token'),
  });
  if (error) return { error: error.message };
  return { type: params.get('type') };
}

/** What to tell the person after a link, for the first page's flash message. */
export function describeRedirect(outcome) {
  if (!outcome) return null;
  if (outcome.error) return `That link did not work: ${outcome.error}. Ask for a new one.`;
  if (outcome.message) return outcome.message;
  return {
    signup: 'Your e-mail address is confirmed and you are signed in.',
    magiclink: 'You are signed in.',
    invite: 'Welcome! You are signed in.',
    recovery: 'Choose a new password.',
    email_change: 'Your e-mail address is changed.',
  }[outcome.type] ?? 'You are signed in.';
}

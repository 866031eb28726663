// The page a mailed Auth link lands on carries the session (or the error) in its fragment, as
// Supabase Auth's /verify redirects: install the session, drop the fragment from the address bar,
// and tell the page what happened.
import { supabase } from './supabase.js';

/** `{type}` after a link signed the visitor in, `{error}` when the link failed, else null. */
export async function consumeAuthRedirect() {
  if (!location.hash.includes('access_token=') && !location.hash.includes('error_description=') && !location.hash.includes('message=')) return null;
  const params = new URLSearchParams(location.hash.slice(1));
  history.replaceState({}, '', location.pathname + location.search);
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

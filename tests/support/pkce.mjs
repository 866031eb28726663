// supabase-js in the PKCE flow (flowType 'pkce') and following its mailed links, for the PKCE
// test files.
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';
import { stack } from './stack.mjs';
import { followLink } from './auth-mail.mjs';

/** A browser-like client of `project` in the PKCE flow, keeping its code verifier in memory. */
export function pkceClient(project = stack) {
  const items = new Map();
  const storage = {
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
  return createClient(project.url, project.anonKey, {
    auth: { flowType: 'pkce', storage, persistSession: true, autoRefreshToken: false, detectSessionInUrl: false },
  });
}

export const amrOf = (session) => JSON.parse(Buffer.from(session.access_token.split('.')[1], 'base64url')).amr.map((a) => a.method);

/** Follows a PKCE link: a 303 to redirect_to with ?code= and no session anywhere. */
export async function codeFrom(link, redirectTo) {
  const followed = await followLink(link);
  const to = new URL(followed.to);
  assert.equal(`${to.origin}${to.pathname}`, redirectTo);
  assert.equal(followed.fragment.access_token, undefined, 'no session in the address');
  const code = to.searchParams.get('code');
  assert.match(code, /^[0-9a-f-]{36}$/);
  return code;
}

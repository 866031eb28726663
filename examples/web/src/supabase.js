// The one Supabase client of the app. Settings come from /app-config.json (devstack answers it;
// in production serve your own with your project's URL and anon/publishable key). A null
// supabase_url means "this page's origin", for an app deployed behind the same gateway.
import { createClient } from '@supabase/supabase-js';

const config = await fetch('/app-config.json', { headers: { accept: 'application/json' } })
  .then((res) => (res.ok ? res.json() : Promise.reject(new Error(`app-config.json: ${res.status}`))));

export const SUPABASE_URL = config.supabase_url ?? location.origin;
export const ANON_KEY = config.anon_key ?? config.publishable_key;

// PKCE, as Supabase's current guidance has browser and server apps sign in: a mailed link only
// works in the browser that asked for it (its code verifier is in this origin's storage).
export const supabase = createClient(SUPABASE_URL, ANON_KEY, {
  auth: { flowType: 'pkce', persistSession: true, autoRefreshToken: true, detectSessionInUrl: false },
});

/** The current session, or null. */
export async function currentSession() {
  const { data } = await supabase.auth.getSession();
  return data.session;
}

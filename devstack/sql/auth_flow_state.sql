-- Supabase Auth's PKCE flow states (GoTrue's auth.flow_state, its columns for e-mail flows), run
-- on every start with IF NOT EXISTS as auth_mfa.sql. One row per sign-up, magic link or recovery
-- asked for with a code_challenge; the mailed link, once followed, hands out its auth_code, which
-- POST /token?grant_type=pkce exchanges (with the code_verifier) for a session, deleting the row.
CREATE TABLE IF NOT EXISTS auth.flow_state (
  id uuid PRIMARY KEY,
  user_id uuid REFERENCES auth.users (id) ON DELETE CASCADE,
  auth_code text NOT NULL,
  code_challenge_method text NOT NULL CHECK (code_challenge_method IN ('s256', 'plain')),
  code_challenge text NOT NULL,
  provider_type text NOT NULL,
  provider_access_token text,
  provider_refresh_token text,
  created_at timestamptz,
  updated_at timestamptz,
  authentication_method text NOT NULL,
  auth_code_issued_at timestamptz
);
CREATE INDEX IF NOT EXISTS idx_auth_code ON auth.flow_state (auth_code);
CREATE INDEX IF NOT EXISTS idx_user_id_auth_method ON auth.flow_state (user_id, authentication_method);
CREATE INDEX IF NOT EXISTS flow_state_created_at_idx ON auth.flow_state (created_at DESC);

-- Seed 001's `auth_vault`: authentication artifacts (sessions, tokens, cookies, claims, provider
-- profiles) kept "as they came" as JSON, for support and auditing. Written by the server (service
-- role) only; the owner reads their own.
--
-- No token in the clear (seed 001). A payload may not hold a credential anywhere in it: every
-- key, at any depth, named like one (case-insensitive)
--   token, access_token, refresh_token, id_token, provider_token, provider_refresh_token,
--   session_token, auth_token, bearer_token (also camelCase: accessToken …),
--   password, passwd, secret, client_secret, api_key, private_key, code_verifier
-- must hold null, an encrypted envelope of the shared crypto crate
-- ('enc:v1:<key-id>:<base64url>', see shared/README.md), or a SHA-256 digest written
-- 'sha256:<64 lowercase hex>'. Anything else is refused (check constraint
-- auth_vault_payload_no_clear_credentials, SQLSTATE 23514, HTTP 400 through /rest/v1).
-- The rule catches the well-known names only: whoever writes must seal any other secret too
-- (a cookie's `value`, say) before it gets here.

create type public.auth_vault_provider as enum ('supabase', 'google', 'apple', 'email', 'otp', 'passkey', 'custom');
create type public.auth_vault_kind as enum ('session', 'token', 'cookie', 'claims', 'profile', 'other');
create type public.auth_vault_status as enum ('active', 'expired', 'revoked');

-- True when some key of `payload`, at any depth, names a credential whose value is neither
-- null, nor an envelope, nor a digest (the rule above).
create function public.jsonb_has_clear_credential(payload jsonb)
returns boolean
language sql
immutable
strict
set search_path = ''
as $$
  select jsonb_path_exists(
    payload,
    'strict $.** ? (@.type() == "object").keyvalue()
       ? (@.key like_regex "^(((access|refresh|id|provider|provider_refresh|session|auth|bearer)_?)?token|password|passwd|secret|client_?secret|api_?key|private_?key|code_?verifier)$" flag "i"
          && @.value.type() != "null"
          && !(@.value.type() == "string"
               && (@.value like_regex "^enc:v1:[A-Za-z0-9_-]{1,32}:[A-Za-z0-9_-]{38,}$"
                   || @.value like_regex "^sha256:[0-9a-f]{64}$")))'
  )
$$;

-- The check constraint runs it as the writer, which is the service role.
revoke execute on function public.jsonb_has_clear_credential(jsonb) from public, anon, authenticated;
grant execute on function public.jsonb_has_clear_credential(jsonb) to service_role;

create table public.auth_vault (
  artifact_id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.user_profiles (id) on delete cascade,
  provider public.auth_vault_provider not null,
  kind public.auth_vault_kind not null,
  payload jsonb not null default '{}'
    constraint auth_vault_payload_size check (pg_column_size(payload) <= 65536)
    constraint auth_vault_payload_no_clear_credentials check (not public.jsonb_has_clear_credential(payload)),
  created_at timestamptz not null default now(),
  status public.auth_vault_status not null default 'active',
  expires_at timestamptz,
  last_seen_at timestamptz,
  notes text check (notes is null or char_length(notes) <= 2000)
);

-- Seed 001's indexes.
create index auth_vault_user_id_idx on public.auth_vault (user_id);
create index auth_vault_provider_idx on public.auth_vault (provider);
create index auth_vault_kind_idx on public.auth_vault (kind);

alter table public.auth_vault enable row level security;

create policy "Owners read their auth artifacts"
  on public.auth_vault for select
  to authenticated
  using ((select auth.uid()) = user_id);

revoke all on public.auth_vault from anon, authenticated;
grant select on public.auth_vault to authenticated;

-- save_connection runs with the service key for the verified caller (20261201100000), so the
-- statement trigger that refuses writes by blocked or deleted accounts (20261201110000) sees the
-- service role, not the user's session. The function checks the account it writes for itself:
-- a blocked or deleted owner gets PT403 account_blocked (save-connection answers 403), and
-- nothing is written.

create or replace function public.save_connection(
  p_user_id uuid,
  p_name text,
  p_url text,
  p_anon_key_encrypted text,
  p_service_role_key_encrypted text,
  p_anon_key_hint text,
  p_service_role_key_hint text,
  p_key_id text,
  p_key_binding smallint,
  p_allow_writes boolean default null
)
returns table (
  id uuid, name text, url text, allow_writes boolean, anon_key_hint text,
  service_role_key_hint text, key_id text, created_at timestamptz, updated_at timestamptz
)
language sql
security invoker
set search_path = ''
as $$
  select private.assert_account_active(p_user_id);
  insert into public.connections as c
    (user_id, name, url, allow_writes, anon_key_encrypted, service_role_key_encrypted,
     anon_key_hint, service_role_key_hint, key_id, key_binding)
  values
    (p_user_id, p_name, p_url, coalesce(p_allow_writes, false), p_anon_key_encrypted,
     p_service_role_key_encrypted, p_anon_key_hint, p_service_role_key_hint, p_key_id,
     p_key_binding)
  on conflict (user_id, name) do update set
    url = p_url,
    allow_writes = coalesce(p_allow_writes, c.allow_writes),
    anon_key_encrypted = p_anon_key_encrypted,
    service_role_key_encrypted = p_service_role_key_encrypted,
    anon_key_hint = p_anon_key_hint,
    service_role_key_hint = p_service_role_key_hint,
    key_id = p_key_id,
    key_binding = p_key_binding
  returning c.id, c.name, c.url, c.allow_writes, c.anon_key_hint, c.service_role_key_hint,
            c.key_id, c.created_at, c.updated_at
$$;

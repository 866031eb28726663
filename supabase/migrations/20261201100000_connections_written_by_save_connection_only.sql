-- Only save-connection writes a connection's URL, keys and allow_writes (issue 13, item 1).
--
-- Before this, owners held column UPDATE/INSERT grants on public.connections and EXECUTE on
-- save_connection, so `PATCH /rest/v1/connections?name=eq.shop {"url": "http://127.0.0.1:8080/x#"}`
-- or `rpc/save_connection` with any p_url stored a URL save-connection would refuse, and
-- tenant-proxy sent the tenant's service key there. Now the database refuses those writes for
-- every client: owners keep reading (the public columns) and deleting their connections, and
-- the only writer is save_connection, executable by the service role alone; save-connection
-- calls it with the caller's id taken from their verified token.

-- Revoking a table privilege revokes the column privileges of the same kind on every column.
revoke insert, update on public.connections from anon, authenticated;

-- What the envelopes are bound to (edge-tenant's KeyBinding): 1 = owner, name and field (rows
-- saved before this migration), 2 = owner, name and URL, and field. A row keeps its binding
-- until it is saved again, so older rows keep opening.
alter table public.connections
  add column key_binding smallint not null default 1 check (key_binding in (1, 2));

-- An origin and nothing more (no path, query, fragment, credentials or backslash): the shape
-- every save-connection has stored. NOT VALID so that hosted projects with older rows still
-- apply it; tenant-proxy re-checks every stored URL in full before it fetches and answers 409
-- for one it refuses.
alter table public.connections
  add constraint connections_url_is_an_origin
  check (url ~ '^https?://[^/?#@\\[:space:]]+$') not valid;

drop function public.save_connection(text, text, text, text, text, text, text, boolean);

-- The upsert save-connection calls with the service key, for p_user_id (the verified caller).
create function public.save_connection(
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

-- Supabase's default privileges grant EXECUTE on new functions to anon and authenticated.
revoke execute on function public.save_connection from public, anon, authenticated;
grant execute on function public.save_connection to service_role;

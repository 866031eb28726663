-- Seed 003: tenants' own Supabase projects, with their keys encrypted by the save-connection
-- function (AES-256-GCM under a server-held key ring). The database never sees a plaintext key.

create table public.connections (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null check (name ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
  url text not null check (char_length(url) <= 2048 and url ~ '^https?://'),
  allow_writes boolean not null default false,
  -- Self-describing envelopes (format version and key id inside), bound to owner, name and field.
  anon_key_encrypted text not null,
  service_role_key_encrypted text not null,
  -- At most the first 6 characters of each key, so a person can tell keys apart.
  anon_key_hint text not null check (char_length(anon_key_hint) <= 6),
  service_role_key_hint text not null check (char_length(service_role_key_hint) <= 6),
  -- The key-ring key both envelopes are sealed with, so rotation can find what to re-seal.
  key_id text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, name)
);

create index connections_key_id_idx on public.connections (key_id);

create trigger connections_updated_at
  before update on public.connections
  for each row execute function public.update_updated_at();

-- The second lock: even a buggy function writing with the caller's token touches only the
-- caller's rows.
alter table public.connections enable row level security;

create policy "Owners read their connections" on public.connections for select
  to authenticated using ((select auth.uid()) = user_id);
create policy "Owners add connections" on public.connections for insert
  to authenticated with check ((select auth.uid()) = user_id);
create policy "Owners change their connections" on public.connections for update
  to authenticated using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);
create policy "Owners delete their connections" on public.connections for delete
  to authenticated using ((select auth.uid()) = user_id);

-- Column privileges: owners may write the envelopes (through save-connection) but never read
-- them back through /rest/v1; only the service role (tenant-proxy) reads them. The name is
-- never updatable: the envelopes are bound to it.
revoke all on public.connections from anon, authenticated;
grant select (id, user_id, name, url, allow_writes, anon_key_hint, service_role_key_hint, key_id,
              created_at, updated_at)
  on public.connections to authenticated;
grant insert (user_id, name, url, allow_writes, anon_key_encrypted, service_role_key_encrypted,
              anon_key_hint, service_role_key_hint, key_id)
  on public.connections to authenticated;
grant update (url, allow_writes, anon_key_encrypted, service_role_key_encrypted, anon_key_hint,
              service_role_key_hint, key_id)
  on public.connections to authenticated;
grant delete on public.connections to authenticated;

-- The upsert save-connection calls with the caller's token. A plain PostgREST upsert cannot do
-- it: `ON CONFLICT DO UPDATE SET col = EXCLUDED.col` reads EXCLUDED, which needs SELECT on the
-- envelope columns that owners must not read. Security invoker, so RLS and the column grants
-- above still decide what the caller may write.
create function public.save_connection(
  p_name text,
  p_url text,
  p_anon_key_encrypted text,
  p_service_role_key_encrypted text,
  p_anon_key_hint text,
  p_service_role_key_hint text,
  p_key_id text,
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
    (name, url, allow_writes, anon_key_encrypted, service_role_key_encrypted,
     anon_key_hint, service_role_key_hint, key_id)
  values
    (p_name, p_url, coalesce(p_allow_writes, false), p_anon_key_encrypted,
     p_service_role_key_encrypted, p_anon_key_hint, p_service_role_key_hint, p_key_id)
  on conflict (user_id, name) do update set
    url = p_url,
    allow_writes = coalesce(p_allow_writes, c.allow_writes),
    anon_key_encrypted = p_anon_key_encrypted,
    service_role_key_encrypted = p_service_role_key_encrypted,
    anon_key_hint = p_anon_key_hint,
    service_role_key_hint = p_service_role_key_hint,
    key_id = p_key_id
  returning c.id, c.name, c.url, c.allow_writes, c.anon_key_hint, c.service_role_key_hint,
            c.key_id, c.created_at, c.updated_at
$$;

revoke execute on function public.save_connection from public, anon;
grant execute on function public.save_connection to authenticated;

-- Blocked and deleted accounts (issue 13, item 5).
--
-- An account is served while its user_profiles row says so: state 'blocked' or 'deleted', a
-- deleted_at, or no row at all (the auth.users row, and with it the profile, was deleted while
-- an access token was still valid) mean it is not. What holds then:
--
-- * Writes. Every INSERT, UPDATE or DELETE made with a user's session (request.jwt.claims role
--   `authenticated`) on a table users can write is refused with SQLSTATE PT403, hint
--   `account_blocked` (PostgREST: 403 {code: "PT403", hint: "account_blocked"}). A statement
--   trigger, not a policy: it fires once per statement, also when no row matches, and also for
--   writes inside SECURITY DEFINER functions called with the session (which bypass RLS). The
--   service role, Supabase Auth and the database owner write for the server and are not
--   checked. A new table that users can write needs the same trigger (tests/accounts-db.test.mjs
--   fails for one that lacks it).
-- * The functions. Each one that takes a user session makes one database call that checks it,
--   and the Workers answer 403 account_blocked: save-connection through its writes and
--   public.list_connections, tenant-proxy through public.connection_for_relay, create-invitation
--   through its RPCs (20261201110100). No extra request per call.
-- * Sessions. Blocking (or deleting) bans the account in Supabase Auth (auth.users.banned_until,
--   100 years, as `ban_duration: "876000h"` does) and deletes its sessions, so its refresh tokens
--   die at once and a password sign-in is refused (`user_banned`). Access tokens already issued
--   stay valid until they expire (JWT expiry, 1 hour by default): until then their holder still
--   reads their own rows through /rest/v1 (RLS), but writes nothing and gets 403 from every
--   function. Setting the state back to active lifts the ban; the user signs in again.

create schema if not exists private;
-- Not exposed through the API (Supabase serves `public` and `graphql_public`); the API roles
-- may run the helpers their policies and triggers call.
grant usage on schema private to authenticated, service_role;

-- Backfill: accounts created before user_profiles existed get their row, so that "no row" can
-- only mean "deleted".
insert into public.user_profiles (id, email, is_guest, level)
select u.id, u.email, coalesce(u.is_anonymous, false),
       case when coalesce(u.is_anonymous, false) then 1 else 2 end
  from auth.users u
 where not exists (select from public.user_profiles p where p.id = u.id);

-- ---------------------------------------------------------------------------------------------
-- private.account_is_active(uid): whether the account may use the API.
-- private.assert_account_active(uid): raises PT403 account_blocked when it may not.
-- security definer: they read user_profiles whatever the caller's policies say, and reveal only
-- this one bit.
-- ---------------------------------------------------------------------------------------------
create function private.account_is_active(p_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select
      from public.user_profiles
     where id = p_user_id
       and state not in ('blocked', 'deleted')
       and deleted_at is null
  );
$$;

create function private.assert_account_active(p_user_id uuid)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not private.account_is_active(p_user_id) then
    raise exception using errcode = 'PT403', hint = 'account_blocked',
      message = 'this account is blocked or deleted';
  end if;
end;
$$;

revoke execute on function private.account_is_active(uuid), private.assert_account_active(uuid)
  from public, anon;
grant execute on function private.account_is_active(uuid), private.assert_account_active(uuid)
  to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- The write guard, one statement trigger per table users can write.
-- ---------------------------------------------------------------------------------------------
create function private.refuse_writes_by_inactive_accounts()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- A user's session, whoever runs the statement (a SECURITY DEFINER function included).
  if auth.role() = 'authenticated' then
    perform private.assert_account_active(auth.uid());
  end if;
  return null;
end;
$$;

revoke execute on function private.refuse_writes_by_inactive_accounts() from public, anon;

do $$
declare
  writable text;
begin
  foreach writable in array array[
    'user_profiles', 'connections', 'profiles', 'profile_invitations', 'projects',
    'segmentation_results']
  loop
    execute format(
      'create trigger refuse_writes_by_inactive_accounts
         before insert or update or delete on public.%I
         for each statement execute function private.refuse_writes_by_inactive_accounts()',
      writable);
  end loop;
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- Blocking bans at Supabase Auth; unblocking lifts the ban. In the transaction that changes the
-- state, so the two never disagree.
-- ---------------------------------------------------------------------------------------------
create function private.sync_account_ban()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  was_active boolean := old.state not in ('blocked', 'deleted') and old.deleted_at is null;
  is_active boolean := new.state not in ('blocked', 'deleted') and new.deleted_at is null;
begin
  if was_active and not is_active then
    update auth.users set banned_until = now() + interval '100 years' where id = new.id;
    -- Refresh tokens go with their sessions: every device is signed out.
    delete from auth.sessions where user_id = new.id;
  elsif is_active and not was_active then
    update auth.users set banned_until = null where id = new.id;
  end if;
  return null;
end;
$$;

revoke execute on function private.sync_account_ban() from public, anon, authenticated;

create trigger user_profiles_sync_account_ban
  after update of state, deleted_at on public.user_profiles
  for each row
  when (old.state is distinct from new.state or old.deleted_at is distinct from new.deleted_at)
  execute function private.sync_account_ban();

-- ---------------------------------------------------------------------------------------------
-- list_connections() -> the caller's connections (public columns only), by name.
-- What save-connection's GET calls with the caller's token: the listing and the account check
-- in one request. security invoker: RLS and the column grants decide what is read.
-- ---------------------------------------------------------------------------------------------
create function public.list_connections()
returns table (
  id uuid, name text, url text, allow_writes boolean, anon_key_hint text,
  service_role_key_hint text, key_id text, created_at timestamptz, updated_at timestamptz
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  perform private.assert_account_active(auth.uid());
  return query
    select c.id, c.name, c.url, c.allow_writes, c.anon_key_hint, c.service_role_key_hint,
           c.key_id, c.created_at, c.updated_at
      from public.connections c
     where c.user_id = auth.uid()
     order by c.name;
end;
$$;

revoke execute on function public.list_connections() from public, anon;
grant execute on function public.list_connections() to authenticated;

-- ---------------------------------------------------------------------------------------------
-- connection_for_relay(p_user_id, p_name) -> the owner's connection named p_name (0 or 1 rows,
-- the envelopes included). What tenant-proxy reads with the service key (owners never read
-- their envelopes), after checking that the owner's account is active.
-- ---------------------------------------------------------------------------------------------
create function public.connection_for_relay(p_user_id uuid, p_name text)
returns setof public.connections
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  perform private.assert_account_active(p_user_id);
  return query
    select * from public.connections c where c.user_id = p_user_id and c.name = p_name;
end;
$$;

revoke execute on function public.connection_for_relay(uuid, text) from public, anon, authenticated;
grant execute on function public.connection_for_relay(uuid, text) to service_role;

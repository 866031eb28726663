-- Seed 004: people records (`profiles`) that may exist before any account, and one-time
-- invitations that let a new account claim one of them.
--
-- Access model. The create-invitation and accept-invitation Workers do all of this through the
-- service-role RPCs in 20261122003002_profile_invitation_functions.sql. The policies below are
-- the second lock for anyone reaching the tables through /rest/v1 with a user's token, as seed
-- 004 lists them: admins (public.is_invitation_admin) create and update, only a workspace owner
-- deletes. Nobody but the service role reads an invitation's token hash or token envelope, and
-- nobody finds an invitation by its token through /rest/v1.
-- Supabase grants anon and authenticated ALL on new public tables by default; each table below
-- revokes that and grants back exactly what the API needs (TRUNCATE would ignore RLS).

-- ---------------------------------------------------------------------------------------------
-- profiles
-- ---------------------------------------------------------------------------------------------
create table public.profiles (
  id uuid primary key default gen_random_uuid(),
  first_name text not null check (char_length(first_name) between 1 and 100),
  last_name text check (last_name is null or char_length(last_name) <= 100),
  -- The default address for invitations.
  email text check (email is null or (char_length(email) <= 320 and email ~ '^[^@\s]+@[^@\s]+$')),
  -- The account that claimed this record; set only by public.accept_profile_invitation.
  user_id uuid unique references auth.users (id) on delete set null,
  created_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index profiles_email_idx on public.profiles (lower(email));

create trigger profiles_updated_at
  before update on public.profiles
  for each row execute function public.update_updated_at();

alter table public.profiles enable row level security;

-- A person's record is theirs and the admins' to see: it holds their e-mail address, and
-- nothing in the flows needs other users to read it.
create policy "Admins and the linked account read profiles"
  on public.profiles for select to authenticated
  using ((select public.is_invitation_admin()) or (select auth.uid()) = user_id);
create policy "Admins create profiles"
  on public.profiles for insert to authenticated
  with check ((select public.is_invitation_admin()));
create policy "Admins update profiles"
  on public.profiles for update to authenticated
  using ((select public.is_invitation_admin()))
  with check ((select public.is_invitation_admin()));
-- Deleting a profile deletes its invitations, so it needs the right to delete those.
create policy "Workspace owners delete profiles"
  on public.profiles for delete to authenticated
  using (exists (select from public.user_profiles
                  where id = (select auth.uid()) and role = 'workspace_owner' and state = 'active'));

-- user_id is written only by accepting an invitation; created_by is always the inserting user.
revoke all on public.profiles from anon, authenticated;
grant select, delete on public.profiles to authenticated;
grant insert (first_name, last_name, email), update (first_name, last_name, email)
  on public.profiles to authenticated;

-- ---------------------------------------------------------------------------------------------
-- profile_invitations
-- ---------------------------------------------------------------------------------------------
-- `expired` is written when an expired invitation is met by a writing RPC; until then a
-- `pending` invitation past expires_at is expired all the same (every function checks the time).
create type public.invitation_status as enum ('pending', 'accepted', 'expired', 'revoked');

create table public.profile_invitations (
  id uuid primary key default gen_random_uuid(),
  profile_id uuid not null references public.profiles (id) on delete cascade,
  -- Lower-cased; the account created on acceptance gets this address.
  email text not null check (char_length(email) <= 320 and email ~ '^[^@\s]+@[^@\s]+$' and email = lower(email)),
  -- The link's token is never stored: only its SHA-256 (lower-case hex, edge_crypto::hash_token)
  -- to find the invitation by, and optionally the token sealed by the Worker's key ring
  -- (edge-crypto envelope `enc:v1:<key-id>:…`) so an admin can be shown the link again. A copy of
  -- the database therefore yields no working link.
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  token_encrypted text check (token_encrypted is null or token_encrypted ~ '^enc:v[0-9]+:'),
  status public.invitation_status not null default 'pending',
  invited_by uuid default auth.uid() references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '7 days',
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null,
  revoked_at timestamptz,
  revoked_by uuid references auth.users (id) on delete set null,
  constraint profile_invitations_expires_after_creation check (expires_at > created_at),
  -- The *_by columns may be cleared when an account is deleted; the times stay.
  constraint profile_invitations_accepted_has_time check ((status = 'accepted') = (accepted_at is not null)),
  constraint profile_invitations_revoked_has_time check ((status = 'revoked') = (revoked_at is not null))
);

-- Seed 004: at most one active invitation per profile, whoever writes.
create unique index profile_invitations_one_pending_per_profile
  on public.profile_invitations (profile_id) where status = 'pending';
-- History per profile, newest first.
create index profile_invitations_profile_id_created_at_idx
  on public.profile_invitations (profile_id, created_at desc);

-- Status moves only from pending, once; a revoke or an acceptance is stamped with its time (and
-- the acting user, when a user's token made the change through /rest/v1).
create function public.profile_invitations_status_transition()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is distinct from old.status then
    if old.status <> 'pending' then
      raise exception using errcode = 'PT409', hint = 'invitation_not_pending',
        message = format('invitation %s is %s and can no longer change', old.id, old.status),
        detail = old.status::text;
    end if;
    if new.status = 'revoked' then
      new.revoked_at := coalesce(new.revoked_at, now());
      new.revoked_by := coalesce(new.revoked_by, auth.uid());
    elsif new.status = 'accepted' then
      new.accepted_at := coalesce(new.accepted_at, now());
    end if;
  end if;
  return new;
end;
$$;

create trigger profile_invitations_status_transition
  before update on public.profile_invitations
  for each row execute function public.profile_invitations_status_transition();

alter table public.profile_invitations enable row level security;

-- No policy lets anyone but an admin see a row, and the column grants below keep the token hash
-- and envelope away from admins too: finding an invitation by its token is the accept-invitation
-- Worker's job (service role).
create policy "Admins read invitations"
  on public.profile_invitations for select to authenticated
  using ((select public.is_invitation_admin()));
create policy "Admins invite to unlinked profiles"
  on public.profile_invitations for insert to authenticated
  with check (
    (select public.is_invitation_admin())
    and exists (select from public.profiles p where p.id = profile_id and p.user_id is null)
  );
-- An admin may revoke, expire or extend a pending invitation; only accepting one (service role,
-- in the same transaction as the linking) marks it accepted.
create policy "Admins update invitations"
  on public.profile_invitations for update to authenticated
  using ((select public.is_invitation_admin()))
  with check ((select public.is_invitation_admin()) and status <> 'accepted');
create policy "Workspace owners delete invitations"
  on public.profile_invitations for delete to authenticated
  using (exists (select from public.user_profiles
                  where id = (select auth.uid()) and role = 'workspace_owner' and state = 'active'));

revoke all on public.profile_invitations from anon, authenticated;
grant select (id, profile_id, email, status, invited_by, created_at, expires_at,
              accepted_at, accepted_by, revoked_at, revoked_by)
  on public.profile_invitations to authenticated;
grant insert (profile_id, email, token_hash, token_encrypted, expires_at),
      update (status, expires_at)
  on public.profile_invitations to authenticated;
grant delete on public.profile_invitations to authenticated;

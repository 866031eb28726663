-- Seed 004's account roles, on the per-account table (seed 004's `user_profiles`, see
-- 20261122000100_user_profiles.sql), and the one place that decides who is an invitation admin.
--
-- The role is for the server only. 20261122000100 revoked table-wide UPDATE from the API roles and
-- granted UPDATE on a list of presentation columns; `role` is not on that list, so a user reads
-- their role through /rest/v1 but cannot change it. Roles are set by an operator (SQL, service
-- role); accepting an invitation sets `user`.

create type public.account_role as enum ('user', 'admin', 'workspace_owner', 'platform_super_admin');

alter table public.user_profiles
  add column role public.account_role not null default 'user';

-- Who may invite people to claim profiles: workspace owners, platform super admins and admins
-- whose account is active. Read from the database, never from the token's user_metadata (which
-- its user can edit).
--
-- security definer so that RLS policies can call it without the caller needing the privileges
-- or policies on user_profiles that it reads; stable so a policy evaluates it once per
-- statement when wrapped in `(select …)`. It reveals only whether one account id has an admin
-- role.
create function public.is_invitation_admin(uid uuid default auth.uid())
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select
      from public.user_profiles
     where id = uid
       and state = 'active'
       and role in ('admin', 'workspace_owner', 'platform_super_admin')
  );
$$;

-- Policies for signed-in users call it, and the service-role RPCs do; anon has no use for it.
revoke execute on function public.is_invitation_admin(uuid) from public, anon;
grant execute on function public.is_invitation_admin(uuid) to authenticated, service_role;

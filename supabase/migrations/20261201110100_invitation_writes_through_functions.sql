-- Invitations are written by the Postgres functions only (issue 13, item 8), and the admin check
-- answers about the signed-in account only.
--
-- Before: admins could INSERT profile_invitations rows through /rest/v1 with a token hash and an
-- expiry of their own choosing (skipping the 1–30 day rule and the "address already has an
-- account" check of create_profile_invitation), and UPDATE status/expires_at (extending an
-- invitation past 30 days). Now the API roles keep SELECT (admins, the columns granted in
-- 20261122003001) and DELETE (workspace owners; a deletion makes no link and changes no rule,
-- and deleting a profile removes its invitations anyway); creating, revoking and expiring go
-- through create-invitation and its service-role functions.
--
-- public.is_invitation_admin(uid) answered for any uid to any signed-in user. The check itself
-- moves to private.is_invitation_admin(uid) (not reachable through the API); the public function
-- keeps its signature for the policies and clients that call it, and answers for one's own id
-- only (another id: 42501, HTTP 403).
--
-- The three admin functions also refuse a blocked or deleted admin with account_blocked
-- (20261201110000) before the admin check.

drop policy "Admins invite to unlinked profiles" on public.profile_invitations;
drop policy "Admins update invitations" on public.profile_invitations;
revoke insert, update on public.profile_invitations from anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- private.is_invitation_admin(uid): workspace owners, platform super admins and admins whose
-- account is active (the body of the former public function).
-- ---------------------------------------------------------------------------------------------
create function private.is_invitation_admin(p_user_id uuid)
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
       and state = 'active'
       and role in ('admin', 'workspace_owner', 'platform_super_admin')
  );
$$;

-- private.require_invitation_admin(uid): PT403 account_blocked for a blocked or deleted account,
-- then PT403 not_admin for an account that is not an invitation admin.
create function private.require_invitation_admin(p_user_id uuid)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.assert_account_active(p_user_id);
  if not private.is_invitation_admin(p_user_id) then
    raise exception using errcode = 'PT403', hint = 'not_admin',
      message = 'only admins, workspace owners and platform super admins manage invitations';
  end if;
end;
$$;

-- The service-role functions below call them; users reach the check through the public function
-- (security definer) only.
revoke execute on function private.is_invitation_admin(uuid), private.require_invitation_admin(uuid)
  from public, anon, authenticated;
grant execute on function private.is_invitation_admin(uuid), private.require_invitation_admin(uuid)
  to service_role;

-- The public function: the caller's own answer only. plpgsql so it can refuse; the policies call
-- it with the default, auth.uid().
create or replace function public.is_invitation_admin(uid uuid default auth.uid())
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if uid is distinct from auth.uid() then
    raise exception using errcode = '42501',
      message = 'is_invitation_admin answers only about the signed-in account';
  end if;
  return private.is_invitation_admin(uid);
end;
$$;

revoke execute on function public.is_invitation_admin(uuid) from public, anon;
grant execute on function public.is_invitation_admin(uuid) to authenticated;

-- ---------------------------------------------------------------------------------------------
-- The admin functions of 20261122003002, unchanged but for their first check.
-- ---------------------------------------------------------------------------------------------
-- create_profile_invitation gets the same first check in 20261201160000, which re-creates it
-- with its e-mail parameters.
create or replace function public.list_profile_invitations(p_admin uuid, p_profile_id uuid)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
begin
  perform private.require_invitation_admin(p_admin);
  if not exists (select from public.profiles where id = p_profile_id) then
    raise exception using errcode = 'PT404', hint = 'profile_not_found',
      message = format('no profile %s', p_profile_id);
  end if;

  return coalesce(
    (select jsonb_agg(public.profile_invitation_to_json(i) order by i.created_at desc, i.id desc)
       from public.profile_invitations i
      where i.profile_id = p_profile_id),
    '[]'::jsonb);
end;
$$;

create or replace function public.revoke_profile_invitation(p_admin uuid, p_invitation_id uuid)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  invitation public.profile_invitations;
  current_status text;
begin
  perform private.require_invitation_admin(p_admin);

  select * into invitation from public.profile_invitations where id = p_invitation_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'invitation_not_found',
      message = format('no invitation %s', p_invitation_id);
  end if;
  current_status := public.profile_invitation_to_json(invitation) ->> 'status';
  if current_status <> 'pending' then
    raise exception using errcode = 'PT409', hint = 'invitation_not_pending',
      message = format('the invitation is %s and cannot be revoked', current_status),
      detail = current_status;
  end if;

  update public.profile_invitations
     set status = 'revoked', revoked_by = p_admin
   where id = p_invitation_id
  returning * into invitation;

  return public.profile_invitation_to_json(invitation);
end;
$$;

-- Issue 30: accepting an invitation in three round trips (preview, Auth's admin create, this).
-- accept_profile_invitation_with_notice links the account exactly as accept_profile_invitation
-- does (it calls it: same checks, locks, errors and answer) and adds, in the same transaction,
-- `notice`: what profile_invitation_acceptance_notice returns for the invitation just accepted
-- (null when nobody is left to tell). accept-invitation e-mails the inviter with it after its
-- answer, so the notice costs the invitee no round trip of its own.
create function public.accept_profile_invitation_with_notice(p_token_hash text, p_user_id uuid)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  accepted jsonb;
begin
  accepted := public.accept_profile_invitation(p_token_hash, p_user_id);
  return accepted || jsonb_build_object('notice', public.profile_invitation_acceptance_notice(p_token_hash));
end;
$$;

revoke execute on function public.accept_profile_invitation_with_notice(text, uuid)
  from public, anon, authenticated;
grant execute on function public.accept_profile_invitation_with_notice(text, uuid)
  to service_role;

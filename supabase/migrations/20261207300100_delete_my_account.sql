-- Deleting one's own account, for every client (the web app's account page calls it through
-- /rest/v1/rpc): only a session that authenticated in the last 5 minutes (the access token's
-- `amr` timestamps, set by Supabase Auth at sign-in, a link, a code or a second factor) may do it.
--
-- What goes with the account (foreign keys on auth.users / user_profiles, `on delete cascade`):
-- the Auth user with its identities, sessions, refresh tokens and second factors; the account row
-- (role, level, credits); the user's connections (tenant keys); projects, results, the usage
-- ledger and auth-vault artifacts.
-- What stays, no longer linked (`on delete set null`): invitations the user sent or accepted (an
-- admin's still-pending invitations are revoked first, so no link of theirs opens an account
-- afterwards), profiles the user created or was linked to, the device's guest visit (visitor).
create function public.delete_my_account()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := auth.uid();
  authenticated_at bigint;
  revoked integer;
begin
  if me is null then
    raise exception using errcode = '42501', message = 'sign in to delete your account',
      hint = 'not_signed_in';
  end if;
  select max((claim ->> 'timestamp')::bigint) into authenticated_at
    from jsonb_array_elements(coalesce(auth.jwt() -> 'amr', '[]'::jsonb)) as claim;
  if authenticated_at is null or authenticated_at < extract(epoch from now())::bigint - 300 then
    raise exception using errcode = '42501', hint = 'reauthentication_required',
      message = 'sign in again (within 5 minutes) to delete your account';
  end if;
  update public.profile_invitations set status = 'revoked'
    where invited_by = me and status = 'pending';
  get diagnostics revoked = row_count;
  -- The cascade below deletes rows of an account that, mid-statement, is no longer active, which
  -- the blocked-accounts write guard (private.refuse_writes_by_inactive_accounts) refuses for a
  -- user's session; from here on this transaction acts for the service, having checked the user.
  perform set_config('request.jwt.claims', (auth.jwt() || '{"role": "service_role"}')::text, true);
  perform set_config('request.jwt.claim.role', 'service_role', true);
  delete from auth.users where id = me;
  return jsonb_build_object('deleted_user_id', me, 'invitations_revoked', revoked);
end;
$$;

revoke all on function public.delete_my_account() from public, anon;
grant execute on function public.delete_my_account() to authenticated;

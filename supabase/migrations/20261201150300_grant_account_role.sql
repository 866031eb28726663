-- The first admin. Roles (20261122003000_account_roles.sql) are set by an operator, never
-- through the API; this is the operator's one statement for it, on a hosted project too:
--
--   select public.grant_account_role('ops@example.com', 'admin');
--
-- in the SQL editor (which runs as postgres), or with the service key:
--   POST /rest/v1/rpc/grant_account_role {"p_email": "...", "p_role": "workspace_owner"}.
-- Locally: `devstack admin grant --email ops@example.com --role admin`.
-- The account must exist (signed up) and be a full account (guests have no e-mail). Granting
-- 'user' takes a role back.

-- ---------------------------------------------------------------------------------------------
-- grant_account_role(p_email, p_role) -> {user_id, email, role, previous_role}
-- Errors: 22023 (-> 400) for a missing e-mail or role, 22P02 for an unknown role, PT404
-- account_not_found when no full account has that e-mail (case-insensitive).
-- Service role (and the database owner) only: the API roles cannot execute it.
-- ---------------------------------------------------------------------------------------------
create function public.grant_account_role(p_email text, p_role public.account_role)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  account public.user_profiles;
  previous public.account_role;
begin
  if p_email is null or btrim(p_email) = '' or p_role is null then
    raise exception using errcode = '22023', message = 'email and role are required';
  end if;
  select * into account
    from public.user_profiles
   where lower(email) = lower(btrim(p_email)) and not is_guest
     for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'account_not_found',
      message = format('no account with e-mail %s: sign up first', btrim(p_email));
  end if;
  previous := account.role;
  update public.user_profiles set role = p_role where id = account.id;
  return jsonb_build_object('user_id', account.id, 'email', account.email, 'role', p_role,
                            'previous_role', previous);
end;
$$;

revoke execute on function public.grant_account_role(text, public.account_role) from public, anon, authenticated;
grant execute on function public.grant_account_role(text, public.account_role) to service_role;

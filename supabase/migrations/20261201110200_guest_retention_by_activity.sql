-- Guest retention counts from the last activity, and covers anonymous accounts made without
-- guest-signup (issue 13, item 7).
--
-- Before: public.purge_expired_guests deleted a guest when its visitor's expire_at (first visit
-- + 30 days) had passed, so a guest using the app every day lost everything on day 30; and an
-- anonymous account made straight through POST /auth/v1/signup {} (anyone with the anon key can)
-- has no visitor row, so it was never deleted.
--
-- Activity, as the database sees it without any write on the request path: the latest of the
-- account's creation, its last sign-in (auth.users.last_sign_in_at) and the last refresh of any
-- of its sessions (the newest auth.refresh_tokens row: Supabase Auth issues one per refresh, and
-- supabase-js refreshes when the app starts with an expired token and hourly while it is open).
-- An access token lives an hour, so a guest who uses the app on a day refreshes on that day.
--
-- Now an anonymous account is deleted, with everything it owns:
-- * with a visitor: once both its visitor's expire_at and last activity + retention_ttl_days have
--   passed (expire_at stays first visit + ttl: the earliest the guest can go);
-- * without a visitor: one day after its last activity. guest-signup records the visitor in the
--   same request that creates the account (and deletes the account when that fails), so only
--   accounts made around the Worker have none.
-- Upgraded accounts are not anonymous and never candidates; linked visitors stay with their
-- account, as before.

-- The last activity of an account (see above). security definer: only the owner reads auth.*.
create function private.account_last_active_at(p_user_id uuid)
returns timestamptz
language sql
stable
security definer
set search_path = ''
as $$
  select greatest(
    u.created_at,
    u.last_sign_in_at,
    (select max(rt.created_at)
       from auth.sessions s
       join auth.refresh_tokens rt on rt.session_id = s.id
      where s.user_id = u.id))
    from auth.users u
   where u.id = p_user_id;
$$;

revoke execute on function private.account_last_active_at(uuid) from public, anon, authenticated;
grant execute on function private.account_last_active_at(uuid) to service_role;

-- ---------------------------------------------------------------------------------------------
-- purge_expired_guests(p_now, p_limit) -> {deleted_user_ids, deleted_visitors, more}
-- As in 20261122004003_guest_functions.sql (same signature, answer, locking and batching), with
-- the expiry rule above.
-- ---------------------------------------------------------------------------------------------
create or replace function public.purge_expired_guests(p_now timestamptz default now(), p_limit integer default 500)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  guest_ids uuid[];
  deleted_ids uuid[];
  visitors_of_guests integer;
  orphan_visitors integer;
begin
  if p_now is null or p_limit is null or p_limit not between 1 and 10000 then
    raise exception using errcode = '22023', message = 'now is required and limit must be 1..10000';
  end if;

  select coalesce(array_agg(id), '{}') into guest_ids
    from (select account.id
            from auth.users as account
            left join public.visitor as v on v.auth_user_id = account.id
            cross join lateral (select private.account_last_active_at(account.id) as at) as last_active
           where account.is_anonymous
             and case when v.visitor_id is null
                      then last_active.at + interval '1 day' <= p_now
                      else v.expire_at <= p_now
                           and last_active.at + make_interval(days => v.retention_ttl_days) <= p_now
                 end
           order by last_active.at
           limit p_limit
             for update of account skip locked) as expired;

  delete from public.visitor
   where auth_user_id = any (guest_ids) and not linked_to_user;
  get diagnostics visitors_of_guests = row_count;

  with deleted as (
    delete from auth.users where id = any (guest_ids) and is_anonymous returning id
  )
  select coalesce(array_agg(id), '{}') into deleted_ids from deleted;

  delete from public.visitor
   where visitor_id in (select visitor_id from public.visitor
                         where auth_user_id is null and not linked_to_user and expire_at <= p_now
                         limit p_limit);
  get diagnostics orphan_visitors = row_count;

  return jsonb_build_object(
    'deleted_user_ids', to_jsonb(deleted_ids),
    'deleted_visitors', visitors_of_guests + orphan_visitors,
    'more', cardinality(guest_ids) = p_limit or orphan_visitors = p_limit
  );
end;
$$;

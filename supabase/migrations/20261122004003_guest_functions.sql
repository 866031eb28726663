-- What guest-signup and its retention job need from the database, as functions the Worker calls
-- through /rest/v1/rpc/ with the service key (execute is granted to service_role only).
--
-- Errors are raised, so nothing is written; PostgREST turns SQLSTATE PTxyz into HTTP status xyz
-- and puts the hint in the error body's `hint`:
--   PT404 hint account_not_found       no such account
--   PT404 hint visitor_not_found       no such visitor, or not the given guest's
--   PT409 hint account_not_guest       record_guest_visitor for an account that is not anonymous
--   PT409 hint visitor_exists          the guest already has its visitor
--   PT409 hint account_is_guest        link_visitor_to_user to an account that is anonymous
--   PT409 hint visitor_linked_elsewhere  the visitor belongs to another full account
--   22023 invalid argument (missing id, not an object, unknown attribute, out of range) -> 400
--   22P02 an attribute of the wrong type (e.g. ip_address 'x', screen_width 'wide')     -> 400
--   23514 an attribute out of its column's check (length, URL shape, allowed values)    -> 400

-- The service role's rights on the tables these functions use, stated rather than assumed
-- from the project's default privileges.
grant select, insert, update, delete on public.visitor to service_role;
grant select, insert, update, delete on public.auth_vault to service_role;
grant select, update on public.user_profiles to service_role;
grant select on public.levels to service_role;

-- ---------------------------------------------------------------------------------------------
-- record_guest_visitor(p_user_id, p_visitor) -> {visitor_id, auth_user_id, level, first_seen_at,
--                                               expire_at}
--
-- Records the visitor of a new anonymous account (guest-signup calls it right after creating
-- the account; if it fails, the Worker deletes the account). p_visitor is an object of visitor
-- attributes; keys it may hold:
--   landing_url, referrer_host, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
--   device_type, device_class, device_brand, device_model, os_name, os_version, browser_name,
--   browser_version, user_agent_hash, screen_width, screen_height, touch_support, app_platform,
--   app_name, app_version, runtime_engine, display_mode, install_source, geo_country, geo_city,
--   timezone_guess, ip_address, retention_ttl_days (default 30)
-- Any other key is refused (22023, naming it): level, links and notes are the server's.
-- expire_at = first_seen_at + retention_ttl_days.
-- ---------------------------------------------------------------------------------------------
create function public.record_guest_visitor(p_user_id uuid, p_visitor jsonb default '{}')
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  accepted_keys constant text[] := array[
    'landing_url', 'referrer_host', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term',
    'utm_content', 'device_type', 'device_class', 'device_brand', 'device_model', 'os_name',
    'os_version', 'browser_name', 'browser_version', 'user_agent_hash', 'screen_width',
    'screen_height', 'touch_support', 'app_platform', 'app_name', 'app_version', 'runtime_engine',
    'display_mode', 'install_source', 'geo_country', 'geo_city', 'timezone_guess', 'ip_address',
    'retention_ttl_days'];
  unknown_keys text;
  account public.user_profiles;
  attrs public.visitor;
  recorded public.visitor;
begin
  if p_user_id is null then
    raise exception using errcode = '22023', message = 'user_id is required';
  end if;
  if p_visitor is null or jsonb_typeof(p_visitor) <> 'object' then
    raise exception using errcode = '22023', message = 'visitor must be a JSON object';
  end if;
  select string_agg(key, ', ' order by key) into unknown_keys
    from jsonb_object_keys(p_visitor) as key
   where key <> all (accepted_keys);
  if unknown_keys is not null then
    raise exception using errcode = '22023',
      message = format('unknown visitor attributes: %s', unknown_keys);
  end if;

  -- Locked so that an upgrade of this account waits for the visitor and then links it.
  select * into account from public.user_profiles where id = p_user_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'account_not_found',
      message = format('no account %s', p_user_id);
  end if;
  if not account.is_guest then
    raise exception using errcode = 'PT409', hint = 'account_not_guest',
      message = format('account %s is not a guest (anonymous) account', p_user_id);
  end if;
  if exists (select from public.visitor where auth_user_id = p_user_id) then
    raise exception using errcode = 'PT409', hint = 'visitor_exists',
      message = format('guest %s already has a visitor', p_user_id);
  end if;

  -- Types are checked here (22P02), lengths and shapes by the table's checks (23514).
  attrs := jsonb_populate_record(null::public.visitor, p_visitor);

  insert into public.visitor (
    auth_user_id, landing_url, referrer_host, utm_source, utm_medium, utm_campaign, utm_term,
    utm_content, device_type, device_class, device_brand, device_model, os_name, os_version,
    browser_name, browser_version, user_agent_hash, screen_width, screen_height, touch_support,
    app_platform, app_name, app_version, runtime_engine, display_mode, install_source,
    geo_country, geo_city, timezone_guess, ip_address, retention_ttl_days, expire_at
  )
  values (
    p_user_id, attrs.landing_url, attrs.referrer_host, attrs.utm_source, attrs.utm_medium,
    attrs.utm_campaign, attrs.utm_term, attrs.utm_content, attrs.device_type, attrs.device_class,
    attrs.device_brand, attrs.device_model, attrs.os_name, attrs.os_version, attrs.browser_name,
    attrs.browser_version, attrs.user_agent_hash, attrs.screen_width, attrs.screen_height,
    attrs.touch_support, attrs.app_platform, attrs.app_name, attrs.app_version,
    attrs.runtime_engine, attrs.display_mode, attrs.install_source, attrs.geo_country,
    attrs.geo_city, attrs.timezone_guess, attrs.ip_address,
    coalesce(attrs.retention_ttl_days, 30),
    now() + make_interval(days => coalesce(attrs.retention_ttl_days, 30))
  )
  returning * into recorded;

  return jsonb_build_object(
    'visitor_id', recorded.visitor_id,
    'auth_user_id', recorded.auth_user_id,
    'level', 'guest',
    'first_seen_at', recorded.first_seen_at,
    'expire_at', recorded.expire_at
  );
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- link_visitor_to_user(p_user_id, p_visitor_id, p_guest_user_id)
--   -> {visitor_id, user_id, linked_by, linked_at, already_linked}
--
-- Seed 001's linked_visitor_ids, decided: a visitor is a device (a browser profile, an app
-- install); an account collects the devices it is used on.
-- * On the guest's own device the upgrade links the visitor (handle_user_updated, linked_by
--   'upgrade'); nothing to call.
-- * When a full account signs in on another device, that device already has a visitor, owned
--   by the anonymous account guest-signup made there. The Worker calls this function with the
--   signed-in account (p_user_id), the device's visitor (p_visitor_id) and that guest account
--   (p_guest_user_id, the `sub` of the guest access token the device presents: the proof that
--   the caller holds the visitor; visitor ids alone are not secrets). The visitor gets
--   user_id = p_user_id, linked_by 'sign_in', the account's level, and joins the account's
--   linked_visitor_ids.
-- * The guest account that device had is left alone: its other rows are not merged, and it is
--   deleted with the unlinked part of its data by the retention job when its visitor's
--   expire_at passes (the linked visitor itself stays, it is the account's now).
-- * A visitor already linked to this account: no change, already_linked true. Linked to another
--   full account: PT409 visitor_linked_elsewhere (a shared device stays with its first account;
--   the Worker should carry on without the link).
-- ---------------------------------------------------------------------------------------------
create function public.link_visitor_to_user(p_user_id uuid, p_visitor_id uuid, p_guest_user_id uuid)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  account public.user_profiles;
  device public.visitor;
begin
  if p_user_id is null or p_visitor_id is null or p_guest_user_id is null then
    raise exception using errcode = '22023',
      message = 'user_id, visitor_id and guest_user_id are required';
  end if;

  select * into account from public.user_profiles where id = p_user_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'account_not_found',
      message = format('no account %s', p_user_id);
  end if;
  if account.is_guest then
    raise exception using errcode = 'PT409', hint = 'account_is_guest',
      message = format('account %s is a guest; visitors link to full accounts', p_user_id);
  end if;

  select * into device from public.visitor
   where visitor_id = p_visitor_id and auth_user_id = p_guest_user_id
     for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'visitor_not_found',
      message = format('no visitor %s for guest %s', p_visitor_id, p_guest_user_id);
  end if;

  if device.user_id = p_user_id then
    return jsonb_build_object('visitor_id', device.visitor_id, 'user_id', device.user_id,
      'linked_by', device.linked_by, 'linked_at', device.linked_at, 'already_linked', true);
  end if;
  if device.linked_to_user then
    raise exception using errcode = 'PT409', hint = 'visitor_linked_elsewhere',
      message = format('visitor %s is linked to another account', p_visitor_id);
  end if;

  update public.visitor
     set user_id = p_user_id,
         linked_to_user = true,
         linked_at = now(),
         linked_by = 'sign_in',
         level = account.level
   where visitor_id = p_visitor_id
  returning * into device;

  update public.user_profiles
     set linked_visitor_ids = public.jsonb_array_union(linked_visitor_ids, jsonb_build_array(p_visitor_id))
   where id = p_user_id;

  return jsonb_build_object('visitor_id', device.visitor_id, 'user_id', device.user_id,
    'linked_by', device.linked_by, 'linked_at', device.linked_at, 'already_linked', false);
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- purge_expired_guests(p_now, p_limit) -> {deleted_user_ids, deleted_visitors, more}
--
-- The retention job (guest-signup's cron handler calls it until `more` is false). Deletes, for
-- at most p_limit guests whose visitor's expire_at is at or before p_now and whose account is
-- still anonymous: the unlinked visitor and the anonymous account itself (from auth.users; its
-- profile and every row hanging off it go by cascade). Also deletes expired unlinked visitors
-- whose account is already gone. deleted_user_ids are the deleted accounts.
--
-- Why here and not through Auth's admin API: the check "still anonymous" and the deletion must
-- be one step. Were the ids returned for the Worker to delete one by one, a guest upgrading in
-- between would lose a real account. Here each account row is locked (FOR UPDATE, SKIP LOCKED
-- so an upgrade in progress is simply skipped) and re-checked before it is deleted, and an
-- upgrade that comes later finds no account. Deleting the auth.users row directly is what
-- Auth's admin delete does too (identities, sessions, refresh tokens and factors cascade); Auth's
-- audit log does not see it, so the Worker logs the returned ids. An upgraded account is never
-- a candidate: it is not anonymous.
--
-- security definer, because the service role has no rights on auth.users; only service_role
-- may execute it.
-- ---------------------------------------------------------------------------------------------
create function public.purge_expired_guests(p_now timestamptz default now(), p_limit integer default 500)
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
            join public.visitor as v on v.auth_user_id = account.id
           where account.is_anonymous and v.expire_at <= p_now
           order by v.expire_at
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

revoke execute on function public.record_guest_visitor(uuid, jsonb) from public, anon, authenticated;
grant execute on function public.record_guest_visitor(uuid, jsonb) to service_role;
revoke execute on function public.link_visitor_to_user(uuid, uuid, uuid) from public, anon, authenticated;
grant execute on function public.link_visitor_to_user(uuid, uuid, uuid) to service_role;
revoke execute on function public.purge_expired_guests(timestamptz, integer) from public, anon, authenticated;
grant execute on function public.purge_expired_guests(timestamptz, integer) to service_role;

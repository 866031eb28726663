-- Trial credits only for guests that guest-signup recorded, and the first month granted once
-- (issue 25, items 3 and 4).
--
-- Before: every new account got its level's starting_credits on insert, so an anonymous account
-- made straight through POST /auth/v1/signup {} with the anon key (supabase-js
-- signInAnonymously()) had the guest's 3 trial credits without guest-signup's per-IP rate limit
-- or a visitor row. And credits_granted_for stayed null on insert, so the monthly grant gave a
-- new account its level's monthly_credits again in the month it was created.
--
-- Now:
-- * a new anonymous (guest) account starts with 0 credits; record_guest_visitor, the function
--   guest-signup calls once it has taken the IP's rate-limit token and made the account (service
--   role only), grants the guest level's starting_credits in the same transaction that records
--   the visitor. It runs once per guest (a second visitor is refused), so the trial is given
--   once;
-- * every other new account starts with its level's starting_credits, as before;
-- * the starting credits are the month's grant: credits_granted_for is the first day of the
--   creation month (UTC), so grant_monthly_credits tops the account up from the next month on;
-- * moving up a level still adds the difference of the two levels' starting credits, counting
--   what the account was actually given: a guest that never had the trial is given the new
--   level's starting credits in full (10 for a user, as for anyone who signed up directly).
--
-- starting_credits_received records whether the account was given its level's starting
-- credits (false only for a guest made around guest-signup). Not writable by API roles
-- (user_profiles' column grants name the user-editable columns only).

alter table public.user_profiles
  add column starting_credits_received boolean not null default true;

-- ---------------------------------------------------------------------------------------------
-- apply_level_plan, as in 20261201150400_level_plans.sql, with the two rules above.
-- ---------------------------------------------------------------------------------------------
create or replace function public.apply_level_plan()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  plan public.levels;
  previous public.levels;
  previously_given integer;
begin
  select * into plan from public.levels where level_id = new.level;
  if not found then
    return new; -- the level's own foreign key refuses the row
  end if;
  if tg_op = 'INSERT' then
    new.tier := plan.tier;
    new.starting_credits_received := not new.is_guest;
    new.credits := case when new.is_guest then 0 else plan.starting_credits end;
    new.credits_granted_for := date_trunc('month', now() at time zone 'utc')::date;
    return new;
  end if;
  if new.level = old.level then
    -- Only the tier was set: allowed when it is the level's (the cascade from levels does that).
    if new.tier is distinct from plan.tier then
      raise exception using errcode = '22023', hint = 'tier_follows_level',
        message = format('the tier of level %s is %s; change the level, not the tier', plan.code, plan.tier);
    end if;
    return new;
  end if;
  new.tier := plan.tier;
  select * into previous from public.levels where level_id = old.level;
  previously_given := case when old.starting_credits_received
                           then coalesce(previous.starting_credits, 0) else 0 end;
  new.credits := new.credits + greatest(0, plan.starting_credits - previously_given);
  new.starting_credits_received := true;
  return new;
end;
$$;

revoke execute on function public.apply_level_plan() from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- grant_trial_credits(p_user_id): the guest level's starting credits, once, to a guest that has
-- not had them. Called by record_guest_visitor (service role only; the private schema is not
-- served by the API).
-- ---------------------------------------------------------------------------------------------
create function private.grant_trial_credits(p_user_id uuid)
returns void
language sql
security definer
set search_path = ''
as $$
  update public.user_profiles as p
     set credits = p.credits + l.starting_credits,
         starting_credits_received = true
    from public.levels as l
   where p.id = p_user_id and l.level_id = p.level
     and p.is_guest and not p.starting_credits_received;
$$;

revoke execute on function private.grant_trial_credits(uuid) from public, anon, authenticated;
grant execute on function private.grant_trial_credits(uuid) to service_role;

-- ---------------------------------------------------------------------------------------------
-- record_guest_visitor, as in 20261122004003_guest_functions.sql, plus the trial credits once the
-- visitor is recorded (same arguments, same answers, same errors).
-- ---------------------------------------------------------------------------------------------
create or replace function public.record_guest_visitor(p_user_id uuid, p_visitor jsonb default '{}')
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

  perform private.grant_trial_credits(p_user_id);

  return jsonb_build_object(
    'visitor_id', recorded.visitor_id,
    'auth_user_id', recorded.auth_user_id,
    'level', 'guest',
    'first_seen_at', recorded.first_seen_at,
    'expire_at', recorded.expire_at
  );
end;
$$;

revoke execute on function public.record_guest_visitor(uuid, jsonb) from public, anon, authenticated;
grant execute on function public.record_guest_visitor(uuid, jsonb) to service_role;

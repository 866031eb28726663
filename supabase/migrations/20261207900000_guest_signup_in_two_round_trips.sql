-- guest-signup in two round trips (issue 30): the rate-limit token and the visitor in one call
-- before the account exists, and the account claiming that visitor as Auth creates it.
--
-- Before: take_rate_limit_token -> POST /auth/v1/signup -> record_guest_visitor, three waits on
-- the origin, and a visitor the database refused left an account behind for the Worker to
-- delete (a fourth call).
--
-- Now:
-- 1. prepare_guest_signup(key, limit, window, visitor) (service role only) takes the IP's token
--    and, when allowed, records the visitor unattached (auth_user_id null, expiring in an hour)
--    with a one-time claim: a random token whose SHA-256 only is kept. A visitor the database
--    refuses (22023/22P02/23514) rolls the whole call back: no token spent, no account made.
-- 2. The Worker signs the guest up with `data: {guest_signup_claim: <token>}`. The trigger below
--    runs in Auth's own insert: it removes the claim from the user's metadata, attaches the
--    visitor to the new anonymous account and grants the trial credits, in that transaction. An
--    unknown or expired claim fails the insert, so Auth creates no account.
-- Nobody but the Worker can mint a claim (prepare_guest_signup is not granted to API roles), so a
-- sign-up straight through /auth/v1/signup still gets no visitor and no trial credits (issue 25).
-- A visitor whose sign-up never came (Auth refused or was unreachable) is an unattached visitor
-- past its expiry: purge_expired_guests deletes it with the other orphans.
-- record_guest_visitor stays, for accounts made another way (same arguments, answers, errors).

create table private.guest_signup_claims (
  claim_hash bytea primary key check (octet_length(claim_hash) = 32),
  visitor_id uuid not null unique references public.visitor (visitor_id) on delete cascade,
  expires_at timestamptz not null
);

alter table private.guest_signup_claims enable row level security;
revoke all on private.guest_signup_claims from public, anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- private.insert_visitor(p_user_id, p_visitor): the visitor row from an attributes object, with
-- record_guest_visitor's checks (unknown key 22023, wrong type 22P02, column checks 23514).
-- p_user_id may be null (a visitor waiting for its account).
-- ---------------------------------------------------------------------------------------------
create function private.insert_visitor(p_user_id uuid, p_visitor jsonb)
returns public.visitor
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
  attrs public.visitor;
  recorded public.visitor;
begin
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
  return recorded;
end;
$$;

revoke execute on function private.insert_visitor(uuid, jsonb) from public, anon, authenticated;
grant execute on function private.insert_visitor(uuid, jsonb) to service_role;

-- ---------------------------------------------------------------------------------------------
-- record_guest_visitor, as in 20261207100000_trial_credits_for_recorded_guests.sql, with the row
-- made by private.insert_visitor (same arguments, same answers, same errors).
-- ---------------------------------------------------------------------------------------------
create or replace function public.record_guest_visitor(p_user_id uuid, p_visitor jsonb default '{}')
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  account public.user_profiles;
  recorded public.visitor;
begin
  if p_user_id is null then
    raise exception using errcode = '22023', message = 'user_id is required';
  end if;
  if p_visitor is null or jsonb_typeof(p_visitor) <> 'object' then
    raise exception using errcode = '22023', message = 'visitor must be a JSON object';
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

  recorded := private.insert_visitor(p_user_id, p_visitor);
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

-- ---------------------------------------------------------------------------------------------
-- prepare_guest_signup(p_key, p_limit, p_window_secs, p_visitor)
--   -> {allowed: false, retry_after}                 the IP's bucket is empty; nothing written
--   -> {allowed: true, visitor_id, claim}            the token taken and the visitor recorded
-- Errors: take_rate_limit_token's and insert_visitor's (22023, 22P02, 23514 -> 400), each
-- rolling back the token too.
-- ---------------------------------------------------------------------------------------------
create function public.prepare_guest_signup(
  p_key text, p_limit integer, p_window_secs integer, p_visitor jsonb default '{}')
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  taken jsonb;
  recorded public.visitor;
  claim text;
begin
  taken := public.take_rate_limit_token(p_key, p_limit, p_window_secs);
  if not (taken ->> 'allowed')::boolean then
    return jsonb_build_object('allowed', false, 'retry_after', (taken ->> 'retry_after')::integer);
  end if;

  recorded := private.insert_visitor(null, p_visitor);
  -- Unattached until its account claims it: an orphan to purge if that never happens.
  update public.visitor set expire_at = now() + interval '1 hour'
   where visitor_id = recorded.visitor_id;
  claim := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  insert into private.guest_signup_claims (claim_hash, visitor_id, expires_at)
  values (sha256(convert_to(claim, 'UTF8')), recorded.visitor_id, now() + interval '10 minutes');

  return jsonb_build_object('allowed', true, 'visitor_id', recorded.visitor_id, 'claim', claim);
end;
$$;

revoke execute on function public.prepare_guest_signup(text, integer, integer, jsonb) from public, anon, authenticated;
grant execute on function public.prepare_guest_signup(text, integer, integer, jsonb) to service_role;

-- ---------------------------------------------------------------------------------------------
-- The claim, in Auth's insert of the user. Named to run after on_auth_user_created (triggers of
-- one event run in name order), which has made the profile the trial credits go to.
-- ---------------------------------------------------------------------------------------------
create function private.claim_guest_visitor()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  claim text := new.raw_user_meta_data ->> 'guest_signup_claim';
  claimed uuid;
begin
  -- The claim is spent here: it never stays in the account's metadata.
  update auth.users set raw_user_meta_data = raw_user_meta_data - 'guest_signup_claim'
   where id = new.id;
  if claim is null or not coalesce(new.is_anonymous, false) then
    return null;
  end if;

  delete from private.guest_signup_claims
   where claim_hash = sha256(convert_to(claim, 'UTF8')) and expires_at > now()
  returning visitor_id into claimed;
  if claimed is null then
    raise exception using errcode = '22023', hint = 'guest_signup_claim_invalid',
      message = 'unknown or expired guest sign-up claim';
  end if;

  update public.visitor
     set auth_user_id = new.id,
         first_seen_at = now(),
         expire_at = now() + make_interval(days => retention_ttl_days)
   where visitor_id = claimed;
  perform private.grant_trial_credits(new.id);
  return null;
end;
$$;

revoke execute on function private.claim_guest_visitor() from public, anon, authenticated;

create trigger on_auth_user_guest_claim
  after insert on auth.users
  for each row
  when (new.raw_user_meta_data ? 'guest_signup_claim')
  execute function private.claim_guest_visitor();

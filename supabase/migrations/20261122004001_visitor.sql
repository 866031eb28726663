-- Seed 001's `visitor`: every visitor, even before sign-in, gets a visitor_id that links their
-- visits. guest-signup gives each visitor a Supabase Auth anonymous account (a real session) and
-- records the visitor for it through public.record_guest_visitor
-- (20261122004003_guest_functions.sql).
--
-- Two account columns, because a visitor can end up with another account than the one it was
-- created for:
--   auth_user_id  the anonymous account guest-signup created with the visitor; never changes.
--                 The guest reads its visitor through it.
--   user_id       seed 001's link: the full account the visitor belongs to, null until linked.
-- When the guest upgrades (auth.updateUser({email, password}) keeps the id), user_id becomes
-- auth_user_id, in the same transaction as the upgrade (handle_user_updated below). When a full
-- account signs in on a device whose visitor belongs to another, still anonymous, guest,
-- public.link_visitor_to_user moves the link to that account and auth_user_id keeps saying
-- which guest the visitor came from.

create table public.visitor (
  visitor_id uuid primary key default gen_random_uuid(),
  -- Null only once its guest account is gone but the visitor, linked, is kept.
  auth_user_id uuid references auth.users (id) on delete set null,
  level smallint not null default 1 references public.levels (level_id),
  first_seen_at timestamptz not null default now(),

  -- Where the visitor came from.
  landing_url text check (landing_url is null
    or (char_length(landing_url) <= 2048 and landing_url ~ '^https?://[^\s]+$')),
  referrer_host text check (referrer_host is null
    or (char_length(referrer_host) <= 253 and referrer_host ~ '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$')),
  utm_source text check (utm_source is null or char_length(utm_source) <= 200),
  utm_medium text check (utm_medium is null or char_length(utm_medium) <= 200),
  utm_campaign text check (utm_campaign is null or char_length(utm_campaign) <= 200),
  utm_term text check (utm_term is null or char_length(utm_term) <= 200),
  utm_content text check (utm_content is null or char_length(utm_content) <= 200),

  -- The device, from the User-Agent (null when the parser does not know).
  device_type text check (device_type in ('desktop', 'mobile', 'tablet')),
  device_class text check (device_class in ('phone', 'tablet', 'desktop', 'tv', 'bot')),
  device_brand text check (device_brand is null or char_length(device_brand) <= 100),
  device_model text check (device_model is null or char_length(device_model) <= 100),
  os_name text check (os_name is null or char_length(os_name) <= 100),
  os_version text check (os_version is null or char_length(os_version) <= 50),
  browser_name text check (browser_name is null or char_length(browser_name) <= 100),
  browser_version text check (browser_version is null or char_length(browser_version) <= 50),
  -- SHA-256 of the User-Agent, lowercase hex; the User-Agent itself is not stored.
  user_agent_hash char(64) check (user_agent_hash ~ '^[0-9a-f]{64}$'),
  screen_width integer check (screen_width between 1 and 100000),
  screen_height integer check (screen_height between 1 and 100000),
  touch_support boolean,

  -- The app, as the client reports it.
  app_platform text check (app_platform in ('browser', 'pwa', 'native_app', 'webview')),
  app_name text check (app_name is null or char_length(app_name) <= 100),
  app_version text check (app_version is null or char_length(app_version) <= 50),
  runtime_engine text check (runtime_engine in ('chromium', 'webkit', 'gecko', 'webview')),
  display_mode text check (display_mode in ('browser', 'standalone', 'minimal-ui', 'fullscreen')),
  install_source text check (install_source in ('store', 'add_to_home', 'direct')),

  -- Where, from Cloudflare's headers. Country is ISO 3166-1 alpha-2 as CF-IPCountry sends it,
  -- which also uses XX (unknown) and T1 (Tor).
  geo_country text check (geo_country ~ '^[A-Z][A-Z0-9]$'),
  geo_city text check (geo_city is null or char_length(geo_city) <= 100),
  timezone_guess text check (timezone_guess is null or char_length(timezone_guess) <= 64),
  ip_address inet,

  -- The link to a full account (see the header).
  linked_to_user boolean not null default false,
  user_id uuid references public.user_profiles (id) on delete cascade,
  linked_at timestamptz,
  -- 'upgrade': the visitor's own guest became a full account;
  -- 'sign_in': a full account signed in on the visitor's device (link_visitor_to_user).
  linked_by text check (linked_by in ('upgrade', 'sign_in')),
  -- Other visitors merged into this one; nothing fills it yet (merging is not built).
  linked_visitor_ids jsonb not null default '[]' check (jsonb_typeof(linked_visitor_ids) = 'array'),
  merge_notes text check (merge_notes is null or char_length(merge_notes) <= 2000),
  tags text[] not null default '{}' check (cardinality(tags) <= 50),
  notes text check (notes is null or char_length(notes) <= 2000),

  -- Retention: an unlinked visitor and its anonymous account are deleted after expire_at by
  -- public.purge_expired_guests. A linked visitor is kept with its account whatever expire_at
  -- says.
  retention_ttl_days integer not null default 30 check (retention_ttl_days between 1 and 3650),
  expire_at timestamptz,

  constraint visitor_link_complete check (
    (not linked_to_user and user_id is null and linked_at is null and linked_by is null)
    or (linked_to_user and user_id is not null and linked_at is not null and linked_by is not null)
  )
);

-- One visitor per guest account: guest-signup creates both together.
create unique index visitor_auth_user_id_key on public.visitor (auth_user_id);
create index visitor_user_id_idx on public.visitor (user_id);
create index visitor_first_seen_at_idx on public.visitor (first_seen_at);
create index visitor_tags_idx on public.visitor using gin (tags);
-- What the retention job scans: unlinked visitors by expiry.
create index visitor_expire_at_unlinked_idx on public.visitor (expire_at) where not linked_to_user;

-- A visitor (its guest session) and the account it is linked to read it; nobody writes through
-- the API: guest-signup records visitors with the service key, links happen in the functions.
alter table public.visitor enable row level security;

create policy "Guests and linked accounts read their visitors"
  on public.visitor for select
  to authenticated
  using ((select auth.uid()) = auth_user_id or (select auth.uid()) = user_id);

revoke all on public.visitor from anon, authenticated;
grant select on public.visitor to authenticated;

-- The union of two JSON arrays, without duplicates, in first-seen order.
create function public.jsonb_array_union(a jsonb, b jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select coalesce(jsonb_agg(element order by first_position), '[]')
    from (select element, min(position) as first_position
            from jsonb_array_elements(a || b) with ordinality as t (element, position)
           group by element) as distinct_elements
$$;

revoke execute on function public.jsonb_array_union(jsonb, jsonb) from public, anon, authenticated;
grant execute on function public.jsonb_array_union(jsonb, jsonb) to service_role;

-- ---------------------------------------------------------------------------------------------
-- handle_user_updated, as in 20261122000100_user_profiles.sql (e-mail copy, guest flag), plus:
-- * the copies of Supabase Auth's contact and sign-in state (email_verified, phone,
--   phone_verified, last_login_at);
-- * the upgrade: when an anonymous account stops being anonymous (an e-mail and password, a
--   phone or an OAuth identity, same id), its level moves from guest to user and its visitors
--   become linked to it. In the transaction that changes auth.users, so an upgrade is never
--   half done.
-- ---------------------------------------------------------------------------------------------
create or replace function public.handle_user_updated()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  upgraded boolean := coalesce(old.is_anonymous, false) and not coalesce(new.is_anonymous, false);
  account_level smallint;
  linked_ids jsonb;
begin
  update public.user_profiles
     set email = new.email,
         is_guest = coalesce(new.is_anonymous, false),
         email_verified = new.email_confirmed_at is not null,
         phone = nullif(new.phone, ''),
         phone_verified = new.phone_confirmed_at is not null,
         last_login_at = new.last_sign_in_at,
         -- A guest becomes a user; a level granted otherwise is never lowered here.
         level = case when upgraded and level = 1 then 2 else level end
   where id = new.id
  returning level into account_level;

  -- No profile (an account older than the profiles): nothing to link to, and the upgrade
  -- itself must not fail because of it.
  if upgraded and found then
    with linked as (
      update public.visitor
         set user_id = new.id,
             linked_to_user = true,
             linked_at = now(),
             linked_by = 'upgrade',
             level = account_level
       where auth_user_id = new.id and not linked_to_user
      returning visitor_id
    )
    select coalesce(jsonb_agg(visitor_id), '[]') into linked_ids from linked;

    update public.user_profiles
       set linked_visitor_ids = public.jsonb_array_union(linked_visitor_ids, linked_ids)
     where id = new.id;
  end if;
  return new;
end;
$$;

-- The trigger now also fires for the columns copied above. (Dropping and re-creating a trigger
-- on auth.users is allowed to the postgres role on hosted Supabase.)
drop trigger on_auth_user_updated on auth.users;
create trigger on_auth_user_updated
  after update of email, email_confirmed_at, phone, phone_confirmed_at, last_sign_in_at, is_anonymous
  on auth.users
  for each row
  when (old.email is distinct from new.email
        or old.email_confirmed_at is distinct from new.email_confirmed_at
        or old.phone is distinct from new.phone
        or old.phone_confirmed_at is distinct from new.phone_confirmed_at
        or old.last_sign_in_at is distinct from new.last_sign_in_at
        or old.is_anonymous is distinct from new.is_anonymous)
  execute function public.handle_user_updated();

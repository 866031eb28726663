-- Seed 001's access levels, and the rest of seed 001's per-account attributes on user_profiles
-- (seed 001's `users` is `user_profiles`, see 20261122000100_user_profiles.sql).
--
-- Not copied from seed 001's `users`, because Supabase Auth already holds them and a second copy
-- would only drift: supabase_user_id (it is user_profiles.id), google_sub and apple_sub
-- (auth.identities.provider_id), passkeys (Supabase Auth's MFA/WebAuthn factors).

-- ---------------------------------------------------------------------------------------------
-- levels: reference data. Everyone reads it (the app shows level names); it changes only
-- through migrations, never through the API.
-- ---------------------------------------------------------------------------------------------
create table public.levels (
  level_id smallint primary key check (level_id > 0),
  code text not null unique check (code ~ '^[a-z][a-z0-9_]{0,31}$'),
  name text not null check (char_length(name) between 1 and 100),
  description text check (description is null or char_length(description) <= 1000),
  is_active boolean not null default true,
  sort_order smallint not null default 0
);

insert into public.levels (level_id, code, name, description, sort_order) values
  (1, 'guest', 'Guest', 'Anonymous visitor with a guest session', 10),
  (2, 'user', 'User', 'Registered account', 20),
  (3, 'paid1', 'Paid Tier 1', 'Paid plan, tier 1', 30),
  (4, 'paid2', 'Paid Tier 2', 'Paid plan, tier 2', 40),
  (5, 'super', 'Super User', 'Administrator with system access', 50);

alter table public.levels enable row level security;

create policy "Anyone reads levels"
  on public.levels for select
  to anon, authenticated
  using (true);

revoke all on public.levels from anon, authenticated;
grant select on public.levels to anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- user_profiles: level and seed 001's user attributes.
--
-- None of these columns is on the UPDATE grant of 20261122000100_user_profiles.sql, so the owner
-- reads them through /rest/v1 but only the server changes them (the triggers below, the
-- service role, security-definer functions). The owner reads the whole row, `notes` and `tags`
-- included: they are not for anything the user must not see.
-- ---------------------------------------------------------------------------------------------
alter table public.user_profiles
  -- 1 guest for anonymous accounts, 2 user otherwise (seed 001's default); set by the triggers.
  add column level smallint not null default 2 references public.levels (level_id),
  -- Copies of Supabase Auth's view of the account, kept by the triggers.
  add column email_verified boolean not null default false,
  add column phone text check (phone is null or char_length(phone) <= 32),
  add column phone_verified boolean not null default false,
  -- The billing plan behind a paid level (e.g. 'paid1-monthly'), and until when it is paid.
  add column plan_code text check (plan_code is null or plan_code ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
  add column paid_until timestamptz,
  add column feature_flags text[] not null default '{}'
    check (cardinality(feature_flags) <= 100),
  add column limits jsonb not null default '{}' check (jsonb_typeof(limits) = 'object'),
  add column last_ip inet,
  add column trusted_devices jsonb not null default '[]' check (jsonb_typeof(trusted_devices) = 'array'),
  -- The visitor ids linked to this account (upgrade, sign-in on another device), kept by
  -- handle_user_updated and public.link_visitor_to_user; visitor.user_id is the source of truth.
  add column linked_visitor_ids jsonb not null default '[]'
    check (jsonb_typeof(linked_visitor_ids) = 'array'),
  add column consents jsonb not null default '{}' check (jsonb_typeof(consents) = 'object'),
  add column tags text[] not null default '{}' check (cardinality(tags) <= 100),
  add column notes text check (notes is null or char_length(notes) <= 4000),
  add column deleted_at timestamptz;

-- Accounts that existed before this migration.
update public.user_profiles set level = 1 where is_guest;

-- Seed 001's indexes; email (lower(email)) and state exist already.
create index user_profiles_level_idx on public.user_profiles (level);
create index user_profiles_last_login_at_idx on public.user_profiles (last_login_at);
create index user_profiles_feature_flags_idx on public.user_profiles using gin (feature_flags);

-- ---------------------------------------------------------------------------------------------
-- handle_new_user, as in 20261122000100_user_profiles.sql, plus the level and the copies of
-- Supabase Auth's contact and sign-in state.
-- ---------------------------------------------------------------------------------------------
create or replace function public.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.user_profiles (
    id, email, is_guest, level, full_name, display_name, avatar_url,
    email_verified, phone, phone_verified, last_login_at
  )
  values (
    new.id,
    new.email,
    coalesce(new.is_anonymous, false),
    case when coalesce(new.is_anonymous, false) then 1 else 2 end,
    nullif(new.raw_user_meta_data ->> 'full_name', ''),
    nullif(coalesce(new.raw_user_meta_data ->> 'display_name', new.raw_user_meta_data ->> 'name'), ''),
    case when new.raw_user_meta_data ->> 'avatar_url' ~ '^https?://'
         then new.raw_user_meta_data ->> 'avatar_url' end,
    new.email_confirmed_at is not null,
    nullif(new.phone, ''),
    new.phone_confirmed_at is not null,
    new.last_sign_in_at
  );
  return new;
end;
$$;

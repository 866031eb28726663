-- One row per account (seed 000's `profiles`, 001's `users`, 002's `users_profile` and 004's
-- `user_profiles` are one idea), keyed by the Supabase Auth user id and created by a trigger.
-- Later migrations add what each feature needs (role, level, tier, credits).

create type public.account_state as enum ('active', 'blocked', 'pending_verification', 'deleted');

create table public.user_profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text,
  username text unique check (username is null or username ~ '^[A-Za-z0-9_.-]{3,32}$'),
  full_name text check (full_name is null or char_length(full_name) <= 200),
  display_name text check (display_name is null or char_length(display_name) <= 100),
  avatar_url text check (avatar_url is null or avatar_url ~ '^https?://'),
  bio text check (bio is null or char_length(bio) <= 2000),
  locale text check (locale is null or char_length(locale) <= 35),
  timezone text check (timezone is null or char_length(timezone) <= 64),
  is_guest boolean not null default false,
  state public.account_state not null default 'active',
  last_login_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index user_profiles_email_idx on public.user_profiles (lower(email));
create index user_profiles_state_idx on public.user_profiles (state);

-- Shared by every table with an updated_at column (seed 002).
create or replace function public.update_updated_at()
returns trigger
language plpgsql
as $$
begin
  new.updated_at = now();
  return new;
end;
$$;

create trigger user_profiles_updated_at
  before update on public.user_profiles
  for each row execute function public.update_updated_at();

-- Seed 000's handle_new_user: every new auth user gets a profile row, guests flagged.
create or replace function public.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.user_profiles (id, email, is_guest, full_name, display_name, avatar_url)
  values (
    new.id,
    new.email,
    coalesce(new.is_anonymous, false),
    nullif(new.raw_user_meta_data ->> 'full_name', ''),
    nullif(coalesce(new.raw_user_meta_data ->> 'display_name', new.raw_user_meta_data ->> 'name'), ''),
    case when new.raw_user_meta_data ->> 'avatar_url' ~ '^https?://'
         then new.raw_user_meta_data ->> 'avatar_url' end
  );
  return new;
end;
$$;

create trigger on_auth_user_created
  after insert on auth.users
  for each row execute function public.handle_new_user();

-- Keeps the copy of the e-mail and the guest flag true when an account changes, e.g. when an
-- anonymous user sets an e-mail and password (the upgrade keeps the same id).
create or replace function public.handle_user_updated()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.user_profiles
     set email = new.email,
         is_guest = coalesce(new.is_anonymous, false)
   where id = new.id;
  return new;
end;
$$;

create trigger on_auth_user_updated
  after update of email, is_anonymous on auth.users
  for each row
  when (old.email is distinct from new.email or old.is_anonymous is distinct from new.is_anonymous)
  execute function public.handle_user_updated();

-- Row-level security: a user reads and edits only their own row. The row is created by the
-- trigger and removed with the account, so nobody inserts or deletes through the API.
alter table public.user_profiles enable row level security;

create policy "Users read their own profile"
  on public.user_profiles for select
  to authenticated
  using ((select auth.uid()) = id);

create policy "Users update their own profile"
  on public.user_profiles for update
  to authenticated
  using ((select auth.uid()) = id)
  with check ((select auth.uid()) = id);

-- Column privileges: what the owner may change. Role, credits, state and the guest flag are
-- for the server (service role, security-definer functions) only.
revoke insert, update, delete, truncate on public.user_profiles from anon, authenticated;
revoke select on public.user_profiles from anon;
grant update (username, full_name, display_name, avatar_url, bio, locale, timezone)
  on public.user_profiles to authenticated;

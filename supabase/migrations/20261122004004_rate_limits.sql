-- Rate limits that hold across requests and Worker isolates, locally and on Cloudflare alike:
-- the Worker asks Postgres through /rest/v1/rpc/take_rate_limit_token (service key). guest-signup
-- uses it per client IP.
--
-- Algorithm: a token bucket of p_limit tokens refilled at p_limit per p_window_secs, kept as one
-- timestamp per key (GCRA): `refilled_at`, the moment the bucket is full again. A burst of
-- p_limit requests passes, then one more every p_window_secs / p_limit seconds. Unlike a fixed
-- window it never lets 2 x p_limit through around a window boundary, and a bucket whose
-- refilled_at has passed is the same as no row, so idle rows can simply be deleted
-- (purge_idle_rate_limit_buckets, called by the retention job).
--
-- Keys never hold an IP address: '<scope>:<64 lowercase hex>', the hex being
-- HMAC-SHA256(<Worker secret>, <ip>) — a keyed hash, since a plain SHA-256 of the IPv4 space is
-- reversed by brute force in minutes. E.g. 'guest-signup:3f1c…'.

create table public.rate_limit_buckets (
  bucket_key text primary key check (bucket_key ~ '^[a-z][a-z0-9_-]{0,39}:[0-9a-f]{64}$'),
  refilled_at timestamptz not null
);

create index rate_limit_buckets_refilled_at_idx on public.rate_limit_buckets (refilled_at);

-- Server-only: RLS with no policy, and no privileges for the API roles.
alter table public.rate_limit_buckets enable row level security;
revoke all on public.rate_limit_buckets from anon, authenticated;
grant select, insert, update, delete on public.rate_limit_buckets to service_role;

-- ---------------------------------------------------------------------------------------------
-- take_rate_limit_token(p_key, p_limit, p_window_secs) -> {allowed, remaining, retry_after}
--
-- Takes one token from the bucket `p_key`. allowed: the request may go ahead. remaining: tokens
-- left after this one (0 when refused). retry_after: whole seconds until a token is back (0 when
-- allowed), for the 429's Retry-After header. A refused request takes nothing.
-- Errors: 22023 (-> 400) for a key not shaped as above, p_limit outside 1..100000 or
-- p_window_secs outside 1..604800 (a week).
-- Concurrent calls for one key queue on its row, so no two of them spend the same token.
-- ---------------------------------------------------------------------------------------------
create function public.take_rate_limit_token(p_key text, p_limit integer, p_window_secs integer)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  window_length interval;
  token_interval interval;
  checked_at timestamptz;
  refilled timestamptz;
  after_this_one timestamptz;
begin
  if p_key is null or p_key !~ '^[a-z][a-z0-9_-]{0,39}:[0-9a-f]{64}$' then
    raise exception using errcode = '22023',
      message = 'key must be ''<scope>:<64 lowercase hex>'' (a keyed hash, never an IP address)';
  end if;
  if p_limit is null or p_limit not between 1 and 100000
     or p_window_secs is null or p_window_secs not between 1 and 604800 then
    raise exception using errcode = '22023',
      message = 'limit must be 1..100000 and window_secs 1..604800';
  end if;
  window_length := make_interval(secs => p_window_secs);
  token_interval := window_length / p_limit;

  insert into public.rate_limit_buckets (bucket_key, refilled_at)
  values (p_key, clock_timestamp())
  on conflict (bucket_key) do nothing;
  select refilled_at into refilled from public.rate_limit_buckets where bucket_key = p_key for update;
  -- Read after the lock: time spent waiting for it counts as refill.
  checked_at := clock_timestamp();

  after_this_one := greatest(refilled, checked_at) + token_interval;
  if after_this_one > checked_at + window_length then
    return jsonb_build_object(
      'allowed', false,
      'remaining', 0,
      'retry_after', greatest(1, ceil(extract(epoch from after_this_one - window_length - checked_at)))::integer
    );
  end if;

  update public.rate_limit_buckets set refilled_at = after_this_one where bucket_key = p_key;
  return jsonb_build_object(
    'allowed', true,
    'remaining', floor(extract(epoch from checked_at + window_length - after_this_one)
                       / extract(epoch from token_interval))::integer,
    'retry_after', 0
  );
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- purge_idle_rate_limit_buckets(p_now) -> number of rows deleted
-- Deletes buckets that are full again (the same as having no row).
-- ---------------------------------------------------------------------------------------------
create function public.purge_idle_rate_limit_buckets(p_now timestamptz default now())
returns integer
language sql
security invoker
set search_path = ''
as $$
  with deleted as (
    delete from public.rate_limit_buckets where refilled_at <= p_now returning 1
  )
  select count(*)::integer from deleted
$$;

revoke execute on function public.take_rate_limit_token(text, integer, integer) from public, anon, authenticated;
grant execute on function public.take_rate_limit_token(text, integer, integer) to service_role;
revoke execute on function public.purge_idle_rate_limit_buckets(timestamptz) from public, anon, authenticated;
grant execute on function public.purge_idle_rate_limit_buckets(timestamptz) to service_role;

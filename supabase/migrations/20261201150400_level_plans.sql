-- Seed 001's levels and seed 002's plan tier, tied together. Until now user_profiles.level
-- (guest, user, paid1, paid2, super) and user_profiles.tier (free, pro, enterprise) were
-- unrelated columns. The mapping:
--
--   level        tier         starting credits   monthly credits
--   1 guest      free                3                  0     a trial; the guest upgrades for more
--   2 user       free               10                 10
--   3 paid1      pro               100                100
--   4 paid2      enterprise       1000               1000
--   5 super      enterprise       1000               1000
--
-- One source of truth: `levels`. The level is what an operator (or billing) sets; the tier
-- follows from it and cannot disagree:
--   * levels carries the tier of each level and its limits (starting_credits, monthly_credits);
--   * user_profiles (level, tier) is a foreign key to levels (level_id, tier), ON UPDATE
--     CASCADE: no row can hold a tier its level does not have, and changing a level's tier in
--     `levels` moves every account at that level with it;
--   * a trigger fills the tier from the level on insert and when the level changes, and refuses
--     an update that sets a tier by itself (change the level instead).
-- Credits:
--   * a new account starts with its level's starting_credits (a guest 3, a full account 10);
--   * moving up a level (a guest upgrading to user, an operator or billing raising a level)
--     adds the difference between the two levels' starting credits: a guest who spent their 3
--     trial credits gets 7 on sign-up, 10 in all, like anyone who signed up directly;
--   * grant_monthly_credits() raises each account's balance to its level's monthly_credits
--     once per calendar month (never lowers it, never stacks), recorded in
--     credits_granted_for; process-webhook's cron calls it hourly, so it runs early each month.
-- The credit check (20261201150000_credit_reservations.sql) is the same for every level; the
-- levels differ only in how many credits they grant.

alter table public.levels
  add column tier public.account_tier,
  add column starting_credits integer not null default 0 check (starting_credits between 0 and 1000000),
  add column monthly_credits integer not null default 0 check (monthly_credits between 0 and 1000000);

update public.levels set tier = 'free', starting_credits = 3, monthly_credits = 0 where code = 'guest';
update public.levels set tier = 'free', starting_credits = 10, monthly_credits = 10 where code = 'user';
update public.levels set tier = 'pro', starting_credits = 100, monthly_credits = 100 where code = 'paid1';
update public.levels set tier = 'enterprise', starting_credits = 1000, monthly_credits = 1000 where code = 'paid2';
update public.levels set tier = 'enterprise', starting_credits = 1000, monthly_credits = 1000 where code = 'super';
-- Levels another migration may have added get the lowest tier until an operator says otherwise.
update public.levels set tier = 'free' where tier is null;

alter table public.levels
  alter column tier set not null,
  add constraint levels_level_id_tier_key unique (level_id, tier);

-- The month of the last monthly grant (its first day), null before the first.
alter table public.user_profiles add column credits_granted_for date;

-- Accounts that existed before this migration take their level's tier.
update public.user_profiles as p set tier = l.tier from public.levels as l where l.level_id = p.level and p.tier <> l.tier;

-- ---------------------------------------------------------------------------------------------
-- apply_level_plan: BEFORE INSERT OR UPDATE OF level, tier on user_profiles.
-- ---------------------------------------------------------------------------------------------
create function public.apply_level_plan()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  plan public.levels;
  previous public.levels;
begin
  select * into plan from public.levels where level_id = new.level;
  if not found then
    return new; -- the level's own foreign key refuses the row
  end if;
  if tg_op = 'INSERT' then
    new.tier := plan.tier;
    new.credits := plan.starting_credits;
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
  new.credits := new.credits + greatest(0, plan.starting_credits - coalesce(previous.starting_credits, 0));
  return new;
end;
$$;

revoke execute on function public.apply_level_plan() from public, anon, authenticated;

create trigger user_profiles_level_plan
  before insert or update of level, tier on public.user_profiles
  for each row execute function public.apply_level_plan();

alter table public.user_profiles
  add constraint user_profiles_level_tier_fkey foreign key (level, tier)
    references public.levels (level_id, tier) on update cascade;

-- ---------------------------------------------------------------------------------------------
-- grant_monthly_credits(p_month, p_limit) -> {granted_accounts, more}
-- Raises credits to the level's monthly_credits for up to p_limit active accounts not yet
-- granted for p_month (default: this month, UTC); repeat until `more` is false. Idempotent: an
-- account is granted at most once per month however often it runs. Service role only.
-- ---------------------------------------------------------------------------------------------
create function public.grant_monthly_credits(p_month date default null, p_limit integer default 1000)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  month date := date_trunc('month', coalesce(p_month, (now() at time zone 'utc')::date))::date;
  granted integer;
begin
  if p_limit is null or p_limit not between 1 and 100000 then
    raise exception 'p_limit must be between 1 and 100000, not %', p_limit using errcode = '22023';
  end if;
  with due as (
    select p.id, l.monthly_credits
      from public.user_profiles as p
      join public.levels as l on l.level_id = p.level
     where p.state = 'active'
       and (p.credits_granted_for is null or p.credits_granted_for < month)
     order by p.id
     limit p_limit
       for update of p skip locked
  ), done as (
    update public.user_profiles as p
       set credits = greatest(p.credits, due.monthly_credits),
           credits_granted_for = month
      from due
     where p.id = due.id
    returning 1
  )
  select count(*)::integer into granted from done;
  return jsonb_build_object('granted_accounts', granted, 'month', month, 'more', granted = p_limit);
end;
$$;

revoke execute on function public.grant_monthly_credits(date, integer) from public, anon, authenticated;
grant execute on function public.grant_monthly_credits(date, integer) to service_role;
grant update on public.user_profiles to service_role;

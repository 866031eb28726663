-- Seed 002's plan tier and credit balance, on the per-account table (seed 002's `users_profile`
-- is `user_profiles`, see 20261122000100_user_profiles.sql).
--
-- Both are for the server only. That migration revoked table-wide UPDATE from the API roles and
-- granted UPDATE on a list of presentation columns; columns added here are not on that list, so
-- a user reads their tier and balance through /rest/v1 but cannot change them. Credits are
-- spent by public.apply_segmentation_webhook (20261122002002_process_webhook.sql).

create type public.account_tier as enum ('free', 'pro', 'enterprise');

-- A new account starts on the free tier with 10 credits: ten segmentations at the default price
-- of one credit each, enough to try the product before paying.
alter table public.user_profiles
  add column tier public.account_tier not null default 'free',
  add column credits integer not null default 10
    constraint user_profiles_credits_not_negative check (credits >= 0);

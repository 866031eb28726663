-- Retention for process-webhook's delivery log.
--
-- webhook_deliveries remembers every delivery id, so a retried delivery gets its first answer
-- again and charges nothing. Senders retry for hours, not weeks (a Standard Webhooks signature
-- is refused after 5 minutes anyway), so ids older than 30 days only take space. Dropping them
-- keeps exactly-once charging: a task is charged when it first reaches `done`, and a late
-- repeat of that delivery answers `unchanged`.

create index webhook_deliveries_received_at_idx on public.webhook_deliveries (received_at);

-- ---------------------------------------------------------------------------------------------
-- purge_old_webhook_deliveries(p_keep_days, p_limit) -> number of rows deleted
-- Deletes up to p_limit deliveries received more than p_keep_days days ago, oldest first; rows
-- another transaction holds are left for the next run. Errors: 22023 (-> 400) for p_keep_days
-- outside 1..3650 or p_limit outside 1..100000.
-- ---------------------------------------------------------------------------------------------
create function public.purge_old_webhook_deliveries(p_keep_days integer default 30, p_limit integer default 5000)
returns integer
language plpgsql
security invoker
set search_path = ''
as $$
declare
  deleted integer;
begin
  if p_keep_days is null or p_keep_days not between 1 and 3650 then
    raise exception 'p_keep_days must be between 1 and 3650, not %', p_keep_days using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 100000 then
    raise exception 'p_limit must be between 1 and 100000, not %', p_limit using errcode = '22023';
  end if;
  with doomed as (
    select delivery_id
    from public.webhook_deliveries
    where received_at < now() - make_interval(days => p_keep_days)
    order by received_at
    limit p_limit
    for update skip locked
  ), gone as (
    delete from public.webhook_deliveries d
    using doomed
    where d.delivery_id = doomed.delivery_id
    returning 1
  )
  select count(*)::integer into deleted from gone;
  return deleted;
end;
$$;

revoke execute on function public.purge_old_webhook_deliveries(integer, integer) from public, anon, authenticated;
grant execute on function public.purge_old_webhook_deliveries(integer, integer) to service_role;

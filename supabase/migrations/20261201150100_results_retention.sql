-- Seed 002's "cleanup-old-results": finished segmentation results are deleted after a
-- configurable age (process-webhook's cron job and its on-demand route call
-- purge_old_segmentation_results; RESULTS_RETENTION_DAYS, default 90).
--
-- * Only finished tasks (done, error) are deleted; a task still pending or processing is never
--   touched, however old (it may still be charged, and it holds a credit reservation).
-- * Age counts from when the task was filed (created_at, the date the app shows); a task
--   finishes within minutes of it.
-- * The usage ledger stays for billing: usage_logs.result_id is set null by its foreign key
--   (20261122002001_segmentation.sql), and the row keeps user, action, credits and created_at.
--   Before that, the deleted result's id and when it was filed are copied into the usage row's
--   metadata (result_deleted_id, result_created_at), so a bill can still name the task.
-- * The deliveries of a deleted task go with it (webhook_deliveries cascades); a late repeat
--   of one is a 404 task_not_found, which charges nothing.
-- * Batches: at most p_limit results per call, oldest first, each call one short transaction;
--   rows another transaction holds (a webhook in flight, a user deleting) are skipped and left
--   for the next run.

create index segmentation_results_finished_created_at_idx
  on public.segmentation_results (created_at)
  where status in ('done', 'error');

-- ---------------------------------------------------------------------------------------------
-- purge_old_segmentation_results(p_keep_days, p_limit)
--   -> {deleted_results, usage_rows_kept, more}
-- Errors: 22023 (-> 400) for p_keep_days outside 1..3650 or p_limit outside 1..100000.
-- Service role only.
-- ---------------------------------------------------------------------------------------------
create function public.purge_old_segmentation_results(p_keep_days integer default 90, p_limit integer default 1000)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  doomed uuid[];
  deleted integer;
  kept integer;
begin
  if p_keep_days is null or p_keep_days not between 1 and 3650 then
    raise exception 'p_keep_days must be between 1 and 3650, not %', p_keep_days using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 100000 then
    raise exception 'p_limit must be between 1 and 100000, not %', p_limit using errcode = '22023';
  end if;

  select coalesce(array_agg(id), '{}') into doomed
    from (select id
            from public.segmentation_results
           where status in ('done', 'error')
             and created_at < now() - make_interval(days => p_keep_days)
           order by created_at
           limit p_limit
             for update skip locked) as old_results;

  update public.usage_logs as u
     set metadata = u.metadata || jsonb_build_object('result_deleted_id', r.id,
                                                     'result_created_at', r.created_at)
    from public.segmentation_results as r
   where r.id = any (doomed) and u.result_id = r.id;
  get diagnostics kept = row_count;

  -- The status is checked again: only locked rows are in `doomed`, and they cannot have moved.
  delete from public.segmentation_results
   where id = any (doomed) and status in ('done', 'error');
  get diagnostics deleted = row_count;

  return jsonb_build_object('deleted_results', deleted, 'usage_rows_kept', kept,
                            'more', cardinality(doomed) = p_limit);
end;
$$;

revoke execute on function public.purge_old_segmentation_results(integer, integer) from public, anon, authenticated;
grant execute on function public.purge_old_segmentation_results(integer, integer) to service_role;
-- What it touches, stated rather than assumed from the project's default privileges.
grant select, update, delete on public.segmentation_results to service_role;
grant select, update on public.usage_logs to service_role;

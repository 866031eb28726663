-- Tasks never get stuck: the inference backend claims tasks with a lease, extends it on long
-- work, and a lease that runs out puts the task back in the queue; the owner can cancel.
--
--   * claim_segmentation_tasks (process-webhook's POST /claim, service role): first applies the
--     expiry below, then takes up to p_max pending tasks, oldest in the queue first, with
--     FOR UPDATE SKIP LOCKED: two concurrent claims never get the same task, and neither waits
--     for the other. A claimed task turns `processing` with lease_expires_at = now + lease.
--   * extend_segmentation_lease (POST /extend): moves lease_expires_at on while the lease is
--     still the task's current one (processing, not expired, the same attempt); otherwise
--     PT409 lease_lost, so a backend that lost its task stops working on it.
--   * expire_segmentation_leases (the cron, every minute, and every claim): a processing task
--     whose lease ran out goes back to `pending` with attempt + 1, up to p_max_attempts
--     (TASK_MAX_ATTEMPTS, default 3); the last expired attempt ends the task in `error` with the
--     reason in metadata.failure and its credit released. A task still pending
--     p_pending_timeout_seconds after it was queued (TASK_PENDING_TIMEOUT, default 24 h) ends the
--     same way, as does a task reported `processing` through the webhook (no lease) and never
--     finished within that time.
--   * cancel_segmentation_task (the app, /rest/v1/rpc, the owner's JWT): a pending or processing
--     task becomes `cancelled`, its credit released at once; no claim returns it and a late
--     report for it is PT409 task_cancelled, which charges nothing.
--
-- Every transition locks the task's row first, then its owner's profile (the order
-- apply_segmentation_webhook uses), so a report, an expiry and a cancel of one task run one
-- after another and release or charge exactly once. Each is an UPDATE of segmentation_results,
-- which Realtime publishes to the owner.

alter table public.segmentation_results
  -- The attempt the task is on: 1 when filed, + 1 each time a lease runs out.
  add column attempt integer not null default 1 check (attempt >= 1),
  -- When the task last entered the queue (filed or put back); the pending timeout counts from it.
  add column queued_at timestamptz not null default now(),
  -- When the current attempt was claimed (or reported processing without a claim).
  add column claimed_at timestamptz,
  -- The current lease's end; only a processing task holds one.
  add column lease_expires_at timestamptz,
  -- The mask's object name in the `masks` bucket (reported by the backend beside or instead of
  -- mask_image_url): in the task's folder, `<task id>/...`, which the bucket's read policy
  -- (20261207200000_storage_buckets.sql) opens to the task's owner.
  add column mask_path text check (
    mask_path is null or (char_length(mask_path) between 3 and 1024
                          and mask_path !~ '(^|/)\.\.?(/|$)' and mask_path !~ '[[:cntrl:]\\]')),
  add constraint segmentation_results_lease_processing
    check (lease_expires_at is null or status = 'processing');

-- The queue, in claim order, and the leases the expiry looks at.
create index segmentation_results_queue_idx
  on public.segmentation_results (queued_at, id) where status = 'pending';
create index segmentation_results_leases_idx
  on public.segmentation_results (lease_expires_at) where status = 'processing';

-- ---------------------------------------------------------------------------------------------
-- private.close_open_task: ends a locked pending/processing task without a charge (`error` or
-- `cancelled`) and gives its reservation back. The caller holds the task's row lock.
-- ---------------------------------------------------------------------------------------------
create function private.close_open_task(
  p_task public.segmentation_results,
  p_status public.segmentation_status,
  p_error text,
  p_metadata jsonb
)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
begin
  if p_task.credits_reserved > 0 then
    update public.user_profiles
       set credits_reserved = credits_reserved - p_task.credits_reserved
     where id = p_task.user_id;
  end if;
  update public.segmentation_results
     set status = p_status,
         credits_reserved = 0,
         lease_expires_at = null,
         error = coalesce(p_error, error),
         metadata = metadata || p_metadata
   where id = p_task.id;
end;
$$;

revoke execute on function private.close_open_task(public.segmentation_results, public.segmentation_status, text, jsonb)
  from public, anon, authenticated;
grant execute on function private.close_open_task(public.segmentation_results, public.segmentation_status, text, jsonb)
  to service_role;

-- ---------------------------------------------------------------------------------------------
-- expire_segmentation_leases(p_max_attempts, p_pending_timeout_seconds)
--   -> {requeued, failed, timed_out}
-- Rows another transaction holds (a report in flight, a claim) are skipped for the next run.
-- Errors: 22023 (-> 400) for p_max_attempts outside 1..100 or a timeout outside 60 s..365 days.
-- ---------------------------------------------------------------------------------------------
create function public.expire_segmentation_leases(
  p_max_attempts integer default 3,
  p_pending_timeout_seconds integer default 86400
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  task public.segmentation_results;
  requeued integer := 0;
  failed integer := 0;
  timed_out integer := 0;
begin
  if p_max_attempts is null or p_max_attempts not between 1 and 100 then
    raise exception using errcode = '22023',
      message = format('p_max_attempts must be between 1 and 100, not %s', p_max_attempts);
  end if;
  if p_pending_timeout_seconds is null or p_pending_timeout_seconds not between 60 and 31536000 then
    raise exception using errcode = '22023',
      message = format('p_pending_timeout_seconds must be between 60 and 31536000, not %s', p_pending_timeout_seconds);
  end if;

  -- Leases that ran out with attempts left: back to the queue.
  with expired as (
    select id from public.segmentation_results
     where status = 'processing' and lease_expires_at < now() and attempt < p_max_attempts
       for update skip locked
  )
  update public.segmentation_results as r
     set status = 'pending', attempt = r.attempt + 1, queued_at = now(), lease_expires_at = null,
         metadata = r.metadata || jsonb_build_object('last_lease_expired_at', now())
    from expired
   where r.id = expired.id;
  get diagnostics requeued = row_count;

  -- The last attempt's lease ran out.
  for task in
    select * from public.segmentation_results
     where status = 'processing' and lease_expires_at < now() and attempt >= p_max_attempts
       for update skip locked
  loop
    perform private.close_open_task(task, 'error',
      format('No result after %s attempts: every lease expired', task.attempt),
      jsonb_build_object('failure', jsonb_build_object(
        'reason', 'attempts_exhausted', 'attempts', task.attempt, 'at', now())));
    failed := failed + 1;
  end loop;

  -- Nobody claimed it in time, or it was reported processing (no lease) and never finished.
  for task in
    select * from public.segmentation_results
     where (status = 'pending' and queued_at < now() - make_interval(secs => p_pending_timeout_seconds))
        or (status = 'processing' and lease_expires_at is null
            and claimed_at < now() - make_interval(secs => p_pending_timeout_seconds))
       for update skip locked
  loop
    perform private.close_open_task(task, 'error',
      case when task.status = 'pending'
        then format('No inference backend picked the task up within %s seconds', p_pending_timeout_seconds)
        else format('The task was reported processing and not finished within %s seconds', p_pending_timeout_seconds)
      end,
      jsonb_build_object('failure', jsonb_build_object(
        'reason', case when task.status = 'pending' then 'pending_timeout' else 'processing_timeout' end,
        'attempts', task.attempt, 'at', now())));
    timed_out := timed_out + 1;
  end loop;

  return jsonb_build_object('requeued', requeued, 'failed', failed, 'timed_out', timed_out);
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- claim_segmentation_tasks(p_max, p_lease_seconds, p_max_attempts, p_pending_timeout_seconds)
--   -> [{task_id, user_id, text_prompt, source_image_url, lease_expires_at, attempt}] (oldest
--      queued first; [] when nothing is pending)
-- Errors: 22023 (-> 400) for p_max outside 1..10 or p_lease_seconds outside 30..3600.
-- ---------------------------------------------------------------------------------------------
create function public.claim_segmentation_tasks(
  p_max integer default 1,
  p_lease_seconds integer default 300,
  p_max_attempts integer default 3,
  p_pending_timeout_seconds integer default 86400
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  claimed jsonb;
begin
  if p_max is null or p_max not between 1 and 10 then
    raise exception using errcode = '22023', message = format('p_max must be between 1 and 10, not %s', p_max);
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 30 and 3600 then
    raise exception using errcode = '22023',
      message = format('p_lease_seconds must be between 30 and 3600, not %s', p_lease_seconds);
  end if;
  perform public.expire_segmentation_leases(p_max_attempts, p_pending_timeout_seconds);

  with picked as (
    select id from public.segmentation_results
     where status = 'pending'
     order by queued_at, id
     limit p_max
       for update skip locked
  ), taken as (
    update public.segmentation_results as r
       set status = 'processing', claimed_at = now(),
           lease_expires_at = now() + make_interval(secs => p_lease_seconds)
      from picked
     where r.id = picked.id
    returning r.id, r.user_id, r.text_prompt, r.source_image_url, r.lease_expires_at, r.attempt, r.queued_at
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'task_id', id, 'user_id', user_id, 'text_prompt', text_prompt,
           'source_image_url', source_image_url, 'lease_expires_at', lease_expires_at,
           'attempt', attempt) order by queued_at, id), '[]')
    into claimed
    from taken;
  return claimed;
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- extend_segmentation_lease(p_task_id, p_lease_seconds, p_attempt)
--   -> {task_id, lease_expires_at, attempt}
-- The new end is now + p_lease_seconds (never earlier than the current end).
-- Errors: PT404 task_not_found; PT409 lease_lost (not processing, lease expired or not held
-- through a claim, or p_attempt is not the current attempt); 22023 for p_lease_seconds outside
-- 30..3600.
-- ---------------------------------------------------------------------------------------------
create function public.extend_segmentation_lease(
  p_task_id uuid,
  p_lease_seconds integer default 300,
  p_attempt integer default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  task public.segmentation_results;
begin
  if p_lease_seconds is null or p_lease_seconds not between 30 and 3600 then
    raise exception using errcode = '22023',
      message = format('p_lease_seconds must be between 30 and 3600, not %s', p_lease_seconds);
  end if;
  select * into task from public.segmentation_results where id = p_task_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'task_not_found',
      message = format('no segmentation task %s', p_task_id);
  end if;
  if task.status <> 'processing' or task.lease_expires_at is null or task.lease_expires_at < now()
     or (p_attempt is not null and p_attempt <> task.attempt) then
    raise exception using errcode = 'PT409', hint = 'lease_lost',
      message = format('task %s is no longer leased to this attempt', p_task_id),
      detail = format('status: %s, attempt: %s, lease expired: %s', task.status, task.attempt,
                      coalesce(task.lease_expires_at < now(), true));
  end if;
  update public.segmentation_results
     set lease_expires_at = greatest(lease_expires_at, now() + make_interval(secs => p_lease_seconds))
   where id = p_task_id
  returning * into task;
  return jsonb_build_object('task_id', task.id, 'lease_expires_at', task.lease_expires_at,
                            'attempt', task.attempt);
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- cancel_segmentation_task(task_id) -> {task_id, status, credits_released, outcome}
-- The owner's call (the app: supabase.rpc('cancel_segmentation_task', {task_id})). Runs with
-- the definer's rights (users cannot write status or credits) for the caller's own tasks only:
-- another user's task is "not found", as it is through /rest/v1. Cancelling a cancelled task
-- again is 'unchanged'; a finished one is PT409 status_conflict. A blocked account is refused
-- by the table's trigger (PT403 account_blocked), as for its other writes.
-- ---------------------------------------------------------------------------------------------
create function public.cancel_segmentation_task(task_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  task public.segmentation_results;
begin
  select * into task from public.segmentation_results as r
   where r.id = cancel_segmentation_task.task_id and r.user_id = auth.uid()
     for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'task_not_found',
      message = format('no segmentation task %s', cancel_segmentation_task.task_id);
  end if;
  if task.status = 'cancelled' then
    return jsonb_build_object('task_id', task.id, 'status', task.status, 'credits_released', 0,
                              'outcome', 'unchanged');
  end if;
  if task.status not in ('pending', 'processing') then
    raise exception using errcode = 'PT409', hint = 'status_conflict',
      message = format('task %s is %s and can no longer be cancelled', task.id, task.status);
  end if;
  perform private.close_open_task(task, 'cancelled', null,
    jsonb_build_object('cancelled_at', now(), 'cancelled_while', task.status));
  return jsonb_build_object('task_id', task.id, 'status', 'cancelled',
                            'credits_released', task.credits_reserved, 'outcome', 'applied');
end;
$$;

revoke execute on function public.expire_segmentation_leases(integer, integer) from public, anon, authenticated;
revoke execute on function public.claim_segmentation_tasks(integer, integer, integer, integer) from public, anon, authenticated;
revoke execute on function public.extend_segmentation_lease(uuid, integer, integer) from public, anon, authenticated;
revoke execute on function public.cancel_segmentation_task(uuid) from public, anon;
grant execute on function public.expire_segmentation_leases(integer, integer) to service_role;
grant execute on function public.claim_segmentation_tasks(integer, integer, integer, integer) to service_role;
grant execute on function public.extend_segmentation_lease(uuid, integer, integer) to service_role;
grant execute on function public.cancel_segmentation_task(uuid) to authenticated;

-- ---------------------------------------------------------------------------------------------
-- apply_segmentation_webhook, as in 20261201150000_credit_reservations.sql (same answer, errors
-- and exactly-once rules), and:
--   * p_mask_path: the mask's object in `masks`, in the task's folder (PT400 invalid_mask_path
--     otherwise), stored in mask_path;
--   * a report for a cancelled task is PT409 task_cancelled (nothing written, nothing charged);
--   * reaching processing/done/error ends the lease; `processing` reported without a claim
--     starts claimed_at (the expiry's processing timeout counts from it).
-- The old signature is dropped: PostgREST could not choose between two overloads.
-- ---------------------------------------------------------------------------------------------
drop function public.apply_segmentation_webhook(uuid, text, text, text, jsonb, jsonb, integer, text);

create function public.apply_segmentation_webhook(
  p_task_id uuid,
  p_status text,
  p_delivery_id text default null,
  p_mask_url text default null,
  p_labels jsonb default null,
  p_metadata jsonb default null,
  p_credits_used integer default null,
  p_error text default null,
  p_mask_path text default null
)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
declare
  new_status public.segmentation_status;
  price integer := coalesce(p_credits_used, 1);
  task public.segmentation_results;
  earlier public.webhook_deliveries;
  moves_forward boolean;
  account public.user_profiles;
  charge integer := 0;
  shortfall integer := 0;
  answer jsonb;
begin
  if p_task_id is null then
    raise exception using errcode = '22023', message = 'task_id is required';
  end if;
  if p_status is null or p_status not in ('processing', 'done', 'error') then
    raise exception using errcode = '22023',
      message = format('status must be processing, done or error, not %s', coalesce(p_status, 'null'));
  end if;
  if price < 0 then
    raise exception using errcode = '22023', message = 'credits_used must not be negative';
  end if;
  new_status := p_status::public.segmentation_status;

  -- Serialises every delivery for this task (see 20261122002002_process_webhook.sql).
  select * into task from public.segmentation_results where id = p_task_id for update;
  if not found then
    raise exception using errcode = 'PT404', hint = 'task_not_found',
      message = format('no segmentation task %s', p_task_id);
  end if;

  if p_delivery_id is not null then
    select * into earlier from public.webhook_deliveries where delivery_id = p_delivery_id;
    if found then
      if earlier.task_id <> p_task_id or earlier.status <> new_status then
        raise exception using errcode = 'PT409', hint = 'delivery_id_reused',
          message = format('delivery %s was already used for another task or status', p_delivery_id);
      end if;
      return earlier.outcome || jsonb_build_object('replayed', true);
    end if;
  end if;

  if task.status = 'cancelled' then
    raise exception using errcode = 'PT409', hint = 'task_cancelled',
      message = format('task %s was cancelled by its owner; the report is not applied', p_task_id),
      detail = 'current status: cancelled';
  end if;

  if p_mask_path is not null and split_part(p_mask_path, '/', 1) <> p_task_id::text then
    raise exception using errcode = 'PT400', hint = 'invalid_mask_path',
      message = 'mask_path must be an object in the task''s folder of masks: <task id>/...';
  end if;

  moves_forward := case task.status
    when 'pending' then new_status in ('processing', 'done', 'error')
    when 'processing' then new_status in ('done', 'error')
    else false
  end;
  if not moves_forward and task.status <> new_status then
    raise exception using errcode = 'PT409', hint = 'status_conflict',
      message = format('task %s is %s and cannot become %s', p_task_id, task.status, new_status),
      detail = format('current status: %s', task.status);
  end if;

  if moves_forward and new_status in ('done', 'error') then
    select * into account from public.user_profiles where id = task.user_id for update;
    if new_status = 'done' then
      -- The task's own reservation, then credits no open task holds.
      charge := least(price, task.credits_reserved + (account.credits - account.credits_reserved));
      shortfall := price - charge;
    end if;
    update public.user_profiles
       set credits = credits - charge,
           credits_reserved = credits_reserved - task.credits_reserved
     where id = task.user_id;
  end if;

  if moves_forward then
    update public.segmentation_results
       set status = new_status,
           mask_image_url = coalesce(p_mask_url, mask_image_url),
           mask_path = coalesce(p_mask_path, mask_path),
           labels = coalesce(p_labels, labels),
           metadata = metadata || coalesce(p_metadata, '{}'),
           error = case when new_status = 'error' then p_error else error end,
           credits_reserved = case when new_status = 'processing' then credits_reserved else 0 end,
           claimed_at = case when new_status = 'processing' then now() else claimed_at end,
           lease_expires_at = null
     where id = p_task_id;

    if new_status = 'done' then
      insert into public.usage_logs (user_id, action, credits_used, result_id, metadata)
      values (task.user_id, 'segmentation', charge, p_task_id,
              jsonb_build_object('credits_requested', price, 'credits_shortfall', shortfall,
                                 'credits_reserved', task.credits_reserved,
                                 'delivery_id', p_delivery_id));
      update public.segmentation_results
         set charged_at = now(), credits_charged = charge, credits_shortfall = shortfall
       where id = p_task_id;
    end if;
  end if;

  answer := jsonb_build_object(
    'task_id', p_task_id,
    'status', new_status,
    'outcome', case when moves_forward then 'applied' else 'unchanged' end,
    'charged', moves_forward and new_status = 'done',
    'credits_charged', charge,
    'credits_shortfall', shortfall,
    'credits_remaining', (select credits from public.user_profiles where id = task.user_id)
  );

  if p_delivery_id is not null then
    insert into public.webhook_deliveries (delivery_id, task_id, status, outcome)
    values (p_delivery_id, p_task_id, new_status, answer)
    on conflict (delivery_id) do nothing;
    -- Only a concurrent delivery with this id for another task can have got there first.
    if not found then
      raise exception using errcode = 'PT409', hint = 'delivery_id_reused',
        message = format('delivery %s was already used for another task or status', p_delivery_id);
    end if;
  end if;

  return answer || jsonb_build_object('replayed', false);
end;
$$;

revoke execute on function public.apply_segmentation_webhook(uuid, text, text, text, jsonb, jsonb, integer, text, text)
  from public, anon, authenticated;
grant execute on function public.apply_segmentation_webhook(uuid, text, text, text, jsonb, jsonb, integer, text, text)
  to service_role;

-- ---------------------------------------------------------------------------------------------
-- purge_old_segmentation_results, as in 20261201150100_results_retention.sql, with cancelled
-- tasks counted as finished (they hold no reservation and will never be charged).
-- ---------------------------------------------------------------------------------------------
create index segmentation_results_cancelled_created_at_idx
  on public.segmentation_results (created_at)
  where status = 'cancelled';

create or replace function public.purge_old_segmentation_results(p_keep_days integer default 90, p_limit integer default 1000)
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
           where status in ('done', 'error', 'cancelled')
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

  delete from public.segmentation_results
   where id = any (doomed) and status in ('done', 'error', 'cancelled');
  get diagnostics deleted = row_count;

  return jsonb_build_object('deleted_results', deleted, 'usage_rows_kept', kept,
                            'more', cardinality(doomed) = p_limit);
end;
$$;

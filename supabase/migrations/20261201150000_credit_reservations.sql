-- Seed 002's "credit-check": a task is filed only when its owner can pay for it.
--
-- Until now a task was filed whatever the balance, and process-webhook charged what was there
-- when the task finished, recording the rest as a shortfall. Now:
--
--   * Filing a task (the INSERT into segmentation_results the app makes through /rest/v1, or
--     any other client) reserves one credit, the default price, in the same statement: the
--     owner's user_profiles row is locked and credits_reserved raised only if
--     credits - credits_reserved >= 1. Otherwise the INSERT fails with SQLSTATE PT402 "No credits
--     left" (PostgREST answers HTTP 402 with hint no_credits_left), and nothing is written.
--     Concurrent filings queue on that row lock, so N filings against k free credits give
--     exactly min(N, k) tasks, whichever client sends them.
--   * `done` charges the price (process-webhook's credits_used, default 1): the task's own
--     reservation first, then credits nobody has reserved; never another open task's
--     reservation and never below zero. What is still missing (a price above the reservation
--     and the free balance) is the shortfall, recorded as before. The reservation is released.
--   * `error` releases the reservation: a failed task costs nothing.
--   * Deleting a task still open (pending/processing) releases its reservation.
--   Each of these happens in the transaction that moves the task's status (or deletes it),
--   after the task's row is locked, so retries and races release or charge exactly once
--   (apply_segmentation_webhook's guarantees, 20261122002002_process_webhook.sql, are kept).
--
-- `credits` stays the balance (what the account has; charged at `done`, as before) and
-- credits_reserved is the part of it held by open tasks; the free balance is the difference.
-- Tasks filed before this migration hold no reservation and are charged from the free balance.
--
-- Guests: the same rule, with the credits their level grants (see
-- 20261201150400_level_plans.sql: a guest starts with 3, a full account with 10).

alter table public.user_profiles
  add column credits_reserved integer not null default 0,
  add constraint user_profiles_credits_reserved_covered
    check (credits_reserved >= 0 and credits_reserved <= credits);

alter table public.segmentation_results
  add column credits_reserved integer not null default 0,
  -- Only an open task holds a reservation.
  add constraint segmentation_results_reservation_open
    check (credits_reserved >= 0 and (credits_reserved = 0 or status in ('pending', 'processing')));

-- ---------------------------------------------------------------------------------------------
-- reserve_task_credit: BEFORE INSERT on segmentation_results.
--
-- security definer: a user cannot write their own credits columns (column grants), so the
-- reservation is made with the function owner's rights, for the row's user only. A signed-in
-- caller filing for another user id gets no reservation here: the insert policy refuses that
-- row anyway, and another account's balance is not probed.
-- ---------------------------------------------------------------------------------------------
create function public.reserve_task_credit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  new.credits_reserved := 0;
  if auth.uid() is not null and new.user_id is distinct from auth.uid() then
    return new;
  end if;
  update public.user_profiles
     set credits_reserved = credits_reserved + 1
   where id = new.user_id
     and credits - credits_reserved >= 1;
  if not found then
    if exists (select from public.user_profiles where id = new.user_id) then
      raise exception using errcode = 'PT402', hint = 'no_credits_left',
        message = 'No credits left',
        detail = 'Every credit of this account is spent or held by a task still running.';
    end if;
    -- No profile: the foreign key refuses the row.
    return new;
  end if;
  new.credits_reserved := 1;
  return new;
end;
$$;

revoke execute on function public.reserve_task_credit() from public, anon, authenticated;

create trigger segmentation_results_reserve_credit
  before insert on public.segmentation_results
  for each row execute function public.reserve_task_credit();

-- ---------------------------------------------------------------------------------------------
-- release_task_credit: AFTER DELETE on segmentation_results. A task deleted while still open
-- gives its reservation back (finished tasks hold none, so the retention job releases nothing).
-- ---------------------------------------------------------------------------------------------
create function public.release_task_credit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if old.credits_reserved > 0 then
    update public.user_profiles
       set credits_reserved = credits_reserved - old.credits_reserved
     where id = old.user_id;
  end if;
  return old;
end;
$$;

revoke execute on function public.release_task_credit() from public, anon, authenticated;

create trigger segmentation_results_release_credit
  after delete on public.segmentation_results
  for each row execute function public.release_task_credit();

-- ---------------------------------------------------------------------------------------------
-- apply_segmentation_webhook, as in 20261122002002_process_webhook.sql (same arguments, answer,
-- errors and exactly-once rules), with the reservation: `done` charges the task's reservation
-- first and then only free credits, `error` releases it. See this file's header.
-- ---------------------------------------------------------------------------------------------
create or replace function public.apply_segmentation_webhook(
  p_task_id uuid,
  p_status text,
  p_delivery_id text default null,
  p_mask_url text default null,
  p_labels jsonb default null,
  p_metadata jsonb default null,
  p_credits_used integer default null,
  p_error text default null
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
           labels = coalesce(p_labels, labels),
           metadata = metadata || coalesce(p_metadata, '{}'),
           error = case when new_status = 'error' then p_error else error end,
           credits_reserved = case when new_status = 'processing' then credits_reserved else 0 end
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

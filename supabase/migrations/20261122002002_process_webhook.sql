-- What process-webhook needs from the database: a memory of the deliveries already applied, and
-- one function that applies a delivery atomically (the Worker calls it through /rest/v1/rpc/
-- with the service key; several HTTP calls could not be all-or-nothing).

-- ---------------------------------------------------------------------------------------------
-- webhook_deliveries: one row per applied delivery, keyed by the Standard Webhooks `webhook-id`,
-- which a sender keeps when it retries. A replay answers what the first delivery answered.
-- Server-only: RLS with no policy, and no privileges for the API roles.
-- ---------------------------------------------------------------------------------------------
create table public.webhook_deliveries (
  delivery_id text primary key check (char_length(delivery_id) between 1 and 255),
  task_id uuid not null references public.segmentation_results (id) on delete cascade,
  -- What the delivery asked for; the same id with another task or status is refused.
  status public.segmentation_status not null,
  -- The answer given the first time.
  outcome jsonb not null,
  received_at timestamptz not null default now()
);

create index webhook_deliveries_task_id_idx on public.webhook_deliveries (task_id);

alter table public.webhook_deliveries enable row level security;
revoke all on public.webhook_deliveries from anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- apply_segmentation_webhook
--
-- Applies one webhook delivery for a task (a segmentation_results id) and returns
--   {task_id, status, outcome, charged, credits_charged, credits_shortfall, credits_remaining,
--    replayed}
-- where outcome is 'applied' (the status moved forward) or 'unchanged' (the task already had
-- that status; nothing written), charged/credits_* describe the charge this delivery made, and
-- replayed is true when the delivery id was seen before and the stored answer is returned.
--
-- Errors (raised, so the transaction rolls back and nothing is written; PostgREST turns a
-- SQLSTATE PTxyz into HTTP status xyz and puts the hint in the error body):
--   PT404 hint task_not_found      no such task
--   PT409 hint status_conflict     the status would move backwards or leave done/error
--   PT409 hint delivery_id_reused  the delivery id was used for another task or status
--   22023                          invalid argument (status, credits_used, task id) -> 400
--
-- Rules:
-- * Status moves only forward: pending -> processing -> done | error (steps may be skipped);
--   done and error are final. The same status again is a no-op ('unchanged', 200).
-- * The first arrival at done writes the result and charges, in this transaction: it takes
--   p_credits_used (default 1) from the owner's balance, never below zero. If the balance is
--   short, the result is still stored (the work is done and the user paid what they had): what
--   was available is taken, and the missing part is recorded as credits_shortfall on the result
--   and in the usage log's metadata, for billing to settle. An error result is not charged.
-- * Exactly once: every delivery for a task first locks the task's row, so deliveries of one
--   task run one after another; each then sees the previous one's delivery record and status.
--   Two different delivery ids reaching done therefore charge once (the second is 'unchanged'),
--   and the unique index on usage_logs (result_id) for segmentations backs that up.
--
-- security invoker: only service_role may execute it, and service_role already has every right
-- it needs (and bypasses RLS). Were EXECUTE ever granted more widely by mistake, a user's call
-- would still meet RLS and the column privileges instead of the owner's rights.
-- ---------------------------------------------------------------------------------------------
create function public.apply_segmentation_webhook(
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
  charge integer := 0;
  shortfall integer := 0;
  balance integer;
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

  -- Serialises every delivery for this task (see the header).
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

  if moves_forward then
    update public.segmentation_results
       set status = new_status,
           mask_image_url = coalesce(p_mask_url, mask_image_url),
           labels = coalesce(p_labels, labels),
           metadata = metadata || coalesce(p_metadata, '{}'),
           error = case when new_status = 'error' then p_error else error end
     where id = p_task_id;

    if new_status = 'done' then
      select credits into balance from public.user_profiles where id = task.user_id for update;
      charge := least(price, balance);
      shortfall := price - charge;
      update public.user_profiles set credits = credits - charge where id = task.user_id;
      insert into public.usage_logs (user_id, action, credits_used, result_id, metadata)
      values (task.user_id, 'segmentation', charge, p_task_id,
              jsonb_build_object('credits_requested', price, 'credits_shortfall', shortfall,
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

revoke execute on function public.apply_segmentation_webhook(uuid, text, text, text, jsonb, jsonb, integer, text)
  from public, anon, authenticated;
grant execute on function public.apply_segmentation_webhook(uuid, text, text, text, jsonb, jsonb, integer, text)
  to service_role;

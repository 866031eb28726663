-- A task refers to its files by Storage paths: source_image_path is the object's name in the
-- `images` bucket (20261207200000_storage_buckets.sql), which must be the owner's own
-- (`<user id>/…`) and exist when the task is filed; source_image_url stays for tasks filed with
-- a URL. Exactly one of the two is set. The claim hands the backend a signed download URL for
-- the image and a signed upload URL for the mask (`<task id>/mask.png` in `masks`).

alter table public.segmentation_results
  alter column source_image_url drop not null,
  add column source_image_path text check (
    source_image_path is null or (char_length(source_image_path) between 3 and 1024
                                  and source_image_path !~ '(^|/)\.\.?(/|$)')),
  add constraint segmentation_results_one_source
    check ((source_image_url is null) <> (source_image_path is null));

grant insert (source_image_path) on public.segmentation_results to authenticated;

-- ---------------------------------------------------------------------------------------------
-- check_task_source_image: BEFORE INSERT (or a change of the path). Runs before the credit is
-- reserved (trigger names run in order), so a refused filing holds nothing. security definer:
-- it reads storage.objects whatever the caller's Storage policies; it only answers whether the
-- caller's own object exists.
-- ---------------------------------------------------------------------------------------------
create function private.check_task_source_image()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.source_image_path is null then
    return new;
  end if;
  if split_part(new.source_image_path, '/', 1) <> new.user_id::text
     or not exists (select from storage.objects as o
                     where o.bucket_id = 'images' and o.name = new.source_image_path) then
    raise exception using errcode = 'PT400', hint = 'source_image_not_found',
      message = 'source_image_path must name an image of yours in the images bucket (<your id>/...)',
      detail = format('no object %s of this user in images', new.source_image_path);
  end if;
  return new;
end;
$$;

revoke execute on function private.check_task_source_image() from public, anon, authenticated;

create trigger segmentation_results_check_source_image
  before insert or update of source_image_path on public.segmentation_results
  for each row execute function private.check_task_source_image();

-- The owner removes a finished task's files with it (the app deletes the mask, the image, then
-- the row): the policy "Task owners delete their masks" (20261207310000_account_files_deletion.sql)
-- already lets a task's owner delete the objects in its folder.

-- ---------------------------------------------------------------------------------------------
-- claim_segmentation_tasks, as in 20261207600100_task_leases.sql, with source_image_path in
-- each task handed out.
-- ---------------------------------------------------------------------------------------------
create or replace function public.claim_segmentation_tasks(
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
    returning r.id, r.user_id, r.text_prompt, r.source_image_url, r.source_image_path,
              r.lease_expires_at, r.attempt, r.queued_at
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'task_id', id, 'user_id', user_id, 'text_prompt', text_prompt,
           'source_image_url', source_image_url, 'source_image_path', source_image_path,
           'lease_expires_at', lease_expires_at, 'attempt', attempt) order by queued_at, id), '[]')
    into claimed
    from taken;
  return claimed;
end;
$$;

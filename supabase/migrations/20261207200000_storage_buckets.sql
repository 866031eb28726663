-- The project's Storage buckets and who may touch their objects. Plain Supabase SQL: it applies
-- unchanged to a hosted project (where the `storage` schema is Storage's own) and to devstack
-- (whose bootstrap creates the same schema).
--
--   images  private, PNG/JPEG/WebP, at most 10 MiB. A user (guests included: an anonymous
--           session is `authenticated` too) reads and writes only `{their id}/…`.
--   masks   private, no client writes: the inference side writes with the service role (which
--           bypasses RLS) or through a signed upload URL the service role made. Objects are
--           named `{task id}/…` (segmentation_results.id); the task's owner reads them.
--
-- Each upload by a user (an object with an owner, new bytes) is written to the usage ledger as
-- an `upload` of 0 credits, by a trigger: the database records it whatever the client does.

insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values
  ('images', 'images', false, 10485760, array['image/png', 'image/jpeg', 'image/webp']),
  ('masks', 'masks', false, null, null)
on conflict (id) do update
  set public = excluded.public,
      file_size_limit = excluded.file_size_limit,
      allowed_mime_types = excluded.allowed_mime_types;

create policy "Users read their own images"
  on storage.objects for select to authenticated
  using (bucket_id = 'images' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "Users upload their own images"
  on storage.objects for insert to authenticated
  with check (bucket_id = 'images' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "Users replace their own images"
  on storage.objects for update to authenticated
  using (bucket_id = 'images' and (storage.foldername(name))[1] = (select auth.uid())::text)
  with check (bucket_id = 'images' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "Users delete their own images"
  on storage.objects for delete to authenticated
  using (bucket_id = 'images' and (storage.foldername(name))[1] = (select auth.uid())::text);

-- segmentation_results' own RLS lets a user see only their tasks, so the subquery finds a row
-- only for the caller's own task.
create policy "Task owners read their masks"
  on storage.objects for select to authenticated
  using (
    bucket_id = 'masks'
    and exists (
      select 1 from public.segmentation_results as r
      where r.id::text = (storage.foldername(name))[1]
        and r.user_id = (select auth.uid())
    )
  );

create or replace function public.log_storage_upload()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.usage_logs (user_id, action, credits_used, metadata)
  select p.id, 'upload', 0,
         jsonb_build_object('bucket_id', new.bucket_id, 'name', new.name, 'object_id', new.id,
                            'size', new.metadata -> 'size')
  from public.user_profiles as p
  where p.id::text = new.owner_id;
  return null;
end
$$;

revoke all on function public.log_storage_upload() from public, anon, authenticated, service_role;

create trigger log_upload_on_insert
  after insert on storage.objects
  for each row when (new.owner_id is not null)
  execute function public.log_storage_upload();
-- An upsert or update that replaces the bytes is an upload too (a new version).
create trigger log_upload_on_new_version
  after update on storage.objects
  for each row when (new.owner_id is not null and new.version is distinct from old.version)
  execute function public.log_storage_upload();

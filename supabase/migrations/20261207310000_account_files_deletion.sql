-- A user takes their files with them when they delete their account: the account page removes
-- them through the Storage API first (Storage deletes the rows and the bytes; a row deleted in SQL
-- would leave its bytes behind, so public.delete_my_account does not touch storage.objects).
-- Their images (`{their id}/…`) they may already delete; this lets them delete the masks of their
-- own tasks too, which only the inference side writes. Reading and deleting masks share one rule.

-- Whether an object named `{task id}/…` belongs to one of the caller's tasks (invoker's rights:
-- the caller sees only their own tasks anyway).
create function public.is_my_task_folder(object_name text)
returns boolean
language sql
stable
set search_path = ''
as $$
  select exists (
    select 1 from public.segmentation_results as r
    where r.id::text = (storage.foldername(object_name))[1]
      and r.user_id = (select auth.uid())
  )
$$;

revoke execute on function public.is_my_task_folder(text) from public, anon;
grant execute on function public.is_my_task_folder(text) to authenticated;

alter policy "Task owners read their masks" on storage.objects
  using (bucket_id = 'masks' and public.is_my_task_folder(name));

create policy "Task owners delete their masks"
  on storage.objects for delete to authenticated
  using (bucket_id = 'masks' and public.is_my_task_folder(name));

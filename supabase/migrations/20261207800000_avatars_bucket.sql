-- Avatars: the picture a person sets on their account page, shown in the app's header and on the
-- account page. Plain Supabase SQL, as 20261207200000's buckets.
--
--   avatars  public (read by URL, as <img src>, by anyone with the link), PNG/JPEG/WebP, at most
--            1 MiB. A person with an account writes, replaces and deletes only `{their id}/…`;
--            guests (anonymous sessions) have no avatar. Account deletion removes the objects
--            through the Storage API (the account page lists `{id}/` and removes it), so no bytes
--            are left behind.
--
-- Storage's upload checks the insert policy, an upsert (replacing one's avatar) also select and
-- update; list and remove need select and delete.

insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('avatars', 'avatars', true, 1048576, array['image/png', 'image/jpeg', 'image/webp'])
on conflict (id) do update
  set public = excluded.public,
      file_size_limit = excluded.file_size_limit,
      allowed_mime_types = excluded.allowed_mime_types;

-- Whether an object name lies in the caller's own avatar folder, for an account (not a guest).
create function public.is_my_avatar_path(object_name text)
returns boolean
language sql
stable
set search_path = ''
as $$
  select (storage.foldername(object_name))[1] = (select auth.uid())::text
     and coalesce(((select auth.jwt()) ->> 'is_anonymous')::boolean, false) = false
$$;

revoke execute on function public.is_my_avatar_path(text) from public, anon;
grant execute on function public.is_my_avatar_path(text) to authenticated;

create policy "Accounts read their own avatar objects"
  on storage.objects for select to authenticated
  using (bucket_id = 'avatars' and public.is_my_avatar_path(name));
create policy "Accounts upload their own avatar"
  on storage.objects for insert to authenticated
  with check (bucket_id = 'avatars' and public.is_my_avatar_path(name));
create policy "Accounts replace their own avatar"
  on storage.objects for update to authenticated
  using (bucket_id = 'avatars' and public.is_my_avatar_path(name))
  with check (bucket_id = 'avatars' and public.is_my_avatar_path(name));
create policy "Accounts delete their own avatar"
  on storage.objects for delete to authenticated
  using (bucket_id = 'avatars' and public.is_my_avatar_path(name));

-- The app checks a picture against the bucket's limits before sending it (getBucket('avatars')).
create policy "Signed-in users read the avatars bucket's settings"
  on storage.buckets for select to authenticated
  using (id = 'avatars');

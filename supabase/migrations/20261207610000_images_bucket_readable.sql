-- The web app checks a file against the `images` bucket's own limits (allowed_mime_types,
-- file_size_limit) before sending it: signed-in users (guests included) may read that one
-- bucket's row, as storage-js's getBucket('images') does. Storage still enforces the limits on
-- every upload; nothing else about buckets becomes visible.
create policy "Signed-in users read the images bucket's settings"
  on storage.buckets for select to authenticated
  using (id = 'images');

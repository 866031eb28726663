-- As recent Supabase Storage does: a DELETE on storage.objects or storage.buckets outside the
-- Storage API fails (42501), since it would leave the objects' bytes behind with no row to
-- find them by. The API's own transactions set `storage.allow_delete_query` to 'true' for
-- themselves; SQL that knows what it does may do the same. Applied once per database.

CREATE OR REPLACE FUNCTION storage.protect_delete()
  RETURNS trigger
  LANGUAGE plpgsql
AS $$
BEGIN
  IF current_setting('storage.allow_delete_query', true) IS DISTINCT FROM 'true' THEN
    RAISE EXCEPTION 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      USING ERRCODE = '42501', HINT = 'This prevents accidental data loss from orphaned objects.';
  END IF;
  RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS protect_objects_delete ON storage.objects;
CREATE TRIGGER protect_objects_delete
  BEFORE DELETE ON storage.objects
  FOR EACH STATEMENT EXECUTE FUNCTION storage.protect_delete();

DROP TRIGGER IF EXISTS protect_buckets_delete ON storage.buckets;
CREATE TRIGGER protect_buckets_delete
  BEFORE DELETE ON storage.buckets
  FOR EACH STATEMENT EXECUTE FUNCTION storage.protect_delete();

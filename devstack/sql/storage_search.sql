-- `storage.search`, the function behind Storage's list endpoint, with the signature and result
-- of Supabase Storage's current schema (its `levels` argument is gone: the level shown follows
-- from `prefix || search`), for migrations, policies and SQL that call it. One level of a
-- bucket under `prefix`: names relative to the prefix, folders (names that go on past this
-- level) as rows with a null id and metadata, `search` narrowing the names by their start in
-- any case and literally (no wildcards). By name, folders and objects interleave (`lower(name)`,
-- bytewise); by a date, folders come first. At most 1500 rows. SECURITY INVOKER, as Supabase's:
-- the caller's RLS policies on storage.objects decide what it sees. Applied once per database
-- (a database made before devstack had it gets it at its next start).

CREATE OR REPLACE FUNCTION storage.search(
  prefix text,
  bucketname text,
  limits integer DEFAULT 100,
  offsets integer DEFAULT 0,
  search text DEFAULT '',
  sortcolumn text DEFAULT 'name',
  sortorder text DEFAULT 'asc'
)
  RETURNS TABLE (
    name text,
    id uuid,
    updated_at timestamptz,
    created_at timestamptz,
    last_accessed_at timestamptz,
    metadata jsonb
  )
  LANGUAGE plpgsql STABLE SECURITY INVOKER
AS $$
DECLARE
  whole text := coalesce(prefix, '') || coalesce(search, '');
  -- The 1-based path levels: the first after the prefix, and the one shown.
  first_level integer := coalesce(array_length(string_to_array(coalesce(prefix, ''), '/'), 1), 1);
  shown_level integer := coalesce(array_length(string_to_array(whole, '/'), 1), 1);
  -- Only known columns and directions reach the query text; anything else sorts by name, ascending.
  direction text := CASE lower(coalesce(sortorder, 'asc')) WHEN 'desc' THEN 'DESC' ELSE 'ASC' END;
  sort_by text := CASE lower(coalesce(sortcolumn, 'name'))
    WHEN 'updated_at' THEN 'updated_at'
    WHEN 'created_at' THEN 'created_at'
    WHEN 'last_accessed_at' THEN 'last_accessed_at'
    ELSE 'name' END;
  ordering text := CASE sort_by
    WHEN 'name' THEN format('lower(e.name) COLLATE "C" %1$s, e.name COLLATE "C" %1$s', direction)
    ELSE format('(e.id IS NOT NULL), e.%1$I %2$s, e.name COLLATE "C" %2$s', sort_by, direction) END;
BEGIN
  RETURN QUERY EXECUTE format(
    'WITH matched AS (
       SELECT array_to_string(o.path_tokens[$1:$2], ''/'') AS entry,
              array_length(o.path_tokens, 1) > $2 AS is_folder,
              o.id, o.updated_at, o.created_at, o.last_accessed_at, o.metadata
       FROM storage.objects o
       WHERE o.bucket_id = $3 AND starts_with(lower(o.name), lower($4))),
     entries AS (
       SELECT DISTINCT entry AS name, NULL::uuid AS id, NULL::timestamptz AS updated_at,
              NULL::timestamptz AS created_at, NULL::timestamptz AS last_accessed_at,
              NULL::jsonb AS metadata
       FROM matched WHERE is_folder
       UNION ALL
       SELECT entry, matched.id, matched.updated_at, matched.created_at,
              matched.last_accessed_at, matched.metadata
       FROM matched WHERE NOT is_folder)
     SELECT e.name, e.id, e.updated_at, e.created_at, e.last_accessed_at, e.metadata
     FROM entries e ORDER BY %s LIMIT $5 OFFSET $6',
    ordering)
  USING first_level, shown_level, bucketname, whole,
        least(greatest(coalesce(limits, 100), 0), 1500), greatest(coalesce(offsets, 0), 0);
END
$$;

GRANT EXECUTE ON FUNCTION storage.search(text, text, integer, integer, text, text, text)
  TO anon, authenticated, service_role;

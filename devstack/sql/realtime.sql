-- The part of Supabase Realtime's `realtime` schema that private channels are authorized with:
-- `realtime.messages`, on whose row-level security a project's policies decide who may join
-- a private channel (SELECT) and send broadcast or presence on it (INSERT), and
-- `realtime.topic()`, the channel's topic those policies read. Columns, grants and helper as
-- Realtime's own migrations leave them, except that devstack's table is not partitioned by
-- day (devstack never keeps a row: authorization checks roll back). Applied once per database,
-- like storage.sql, and also to databases bootstrapped before devstack had private channels.

CREATE SCHEMA IF NOT EXISTS realtime;
GRANT USAGE ON SCHEMA realtime TO postgres, anon, authenticated, service_role;

CREATE TABLE IF NOT EXISTS realtime.messages (
  topic text NOT NULL,
  extension text NOT NULL,
  payload jsonb,
  event text,
  private boolean DEFAULT false,
  updated_at timestamp without time zone NOT NULL DEFAULT now(),
  inserted_at timestamp without time zone NOT NULL DEFAULT now(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  PRIMARY KEY (id, inserted_at)
);
ALTER TABLE realtime.messages ENABLE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE ON realtime.messages TO postgres, anon, authenticated, service_role;

-- The topic of the channel being authorized (Realtime sets `realtime.topic` for the check).
CREATE OR REPLACE FUNCTION realtime.topic()
  RETURNS text
  LANGUAGE sql
  STABLE
AS $$
  SELECT nullif(current_setting('realtime.topic', true), '')::text;
$$;
GRANT EXECUTE ON FUNCTION realtime.topic() TO postgres, anon, authenticated, service_role;

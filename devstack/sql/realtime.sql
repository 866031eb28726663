-- The part of Supabase Realtime's `realtime` schema that private channels are authorized with:
-- `realtime.messages`, on whose row-level security a project's policies decide who may join
-- a private channel (SELECT) and send broadcast or presence on it (INSERT), and
-- `realtime.topic()`, the channel's topic those policies read. Columns, grants and helper as
-- Realtime's own migrations leave them, except that devstack's table is not partitioned by
-- day. Authorization checks roll their rows back; realtime.send's stay. Applied once per database,
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

-- Broadcast from the database: a row in realtime.messages with extension 'broadcast' reaches
-- the topic's members (devstack reads it from the same logical decoding as postgres_changes).
-- The insert runs as the caller, under the table's policies; a refused one is a warning, as
-- in Realtime, so the caller's own transaction goes on.
CREATE OR REPLACE FUNCTION realtime.send(payload jsonb, event text, topic text, private boolean DEFAULT true)
  RETURNS void
  LANGUAGE plpgsql
AS $$
DECLARE
  generated_id uuid := gen_random_uuid();
BEGIN
  BEGIN
    PERFORM set_config('realtime.topic', topic, true);
    INSERT INTO realtime.messages (id, payload, event, topic, private, extension)
    VALUES (
      generated_id,
      CASE WHEN payload ? 'id' THEN payload ELSE jsonb_set(payload, '{id}', to_jsonb(generated_id)) END,
      event, topic, private, 'broadcast'
    );
  EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'ErrorSendingBroadcastMessage: %', SQLERRM;
  END;
END
$$;

-- For row triggers: the change as {old_record, record, operation, table, schema}, sent to a
-- private topic with realtime.send.
CREATE OR REPLACE FUNCTION realtime.broadcast_changes(
  topic_name text, event_name text, operation text, table_name text, table_schema text,
  new record, old record, level text DEFAULT 'ROW'
)
  RETURNS void
  LANGUAGE plpgsql
AS $$
DECLARE
  row_data jsonb;
BEGIN
  IF level = 'STATEMENT' THEN
    RAISE EXCEPTION 'function can only be triggered for each row, not for each statement';
  END IF;
  IF operation IN ('INSERT', 'UPDATE', 'DELETE') THEN
    row_data := jsonb_build_object('old_record', old, 'record', new, 'operation', operation,
                                   'table', table_name, 'schema', table_schema);
    PERFORM realtime.send(row_data, event_name, topic_name);
  ELSE
    RAISE EXCEPTION 'Unexpected operation type: %', operation;
  END IF;
EXCEPTION WHEN OTHERS THEN
  RAISE EXCEPTION 'Failed to process the row: %', SQLERRM;
END
$$;

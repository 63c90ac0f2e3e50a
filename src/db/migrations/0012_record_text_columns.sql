-- Up Migration
-- A record's headers, payload and stages are stored as text, their JSON as the service wrote it, instead of
-- json (the same text, parsed once more by Postgres on every COPY to check that it is JSON). The service's record
-- writer is the only writer of these columns, and every value it writes is JSON.stringify's output (a string for
-- a body that did not parse), so the check could never fail; tests/recordTextColumns.test.ts parses what it writes.
-- Reads cast them back (the processing_stages view, the API's detail): a few rows at a time, where every webhook's
-- write paid the parse. Measured by COPYing 660 of the service's records 30 times into copies of this table,
-- six alternating rounds, backend CPU from /proc: 9.8 µs a row as json, 7.8 as text.
--
-- What still guards them: stages must start as an array (a one-character check, kept under 0011's constraint
-- name), and retention counts the stages it deletes without failing on a row that is not JSON (pruneRecords.ts).
--
-- Changing a column's type rewrites the table once, as 0011 did (500,000 records in about 8 s on the 2-core
-- machine); migrations run before the service answers. An instance of the previous release still running against
-- the migrated database would read these columns as text (its retention fails, its API shows them as strings):
-- restart every instance together, as the README's upgrade notes say.
DROP VIEW processing_stages;
ALTER TABLE webhook_requests DROP CONSTRAINT webhook_requests_stages_check;
ALTER TABLE webhook_requests
  ALTER COLUMN headers DROP DEFAULT,
  ALTER COLUMN stages DROP DEFAULT,
  ALTER COLUMN headers TYPE text USING headers::text,
  ALTER COLUMN payload TYPE text USING payload::text,
  ALTER COLUMN stages TYPE text USING stages::text,
  ALTER COLUMN headers SET DEFAULT '{}',
  ALTER COLUMN stages SET DEFAULT '[]',
  ADD CONSTRAINT webhook_requests_stages_check CHECK (left(stages, 1) = '[');

CREATE VIEW processing_stages AS
SELECT coalesce(s.id, (left(replace(r.id::text, '-', ''), 16) || s.span_id)::uuid) AS id,
       r.created_at,
       r.id AS webhook_id,
       s.stage,
       coalesce(s.started_at, r.created_at + s.offset_ms * interval '1 millisecond') AS started_at,
       coalesce(s.completed_at, r.created_at + (s.offset_ms + s.duration_ms) * interval '1 millisecond') AS completed_at,
       s.duration_ms,
       coalesce(s.status, 'completed') AS status,
       s.error_message,
       coalesce(s.metadata, '{}'::jsonb) AS metadata,
       coalesce(s.trace_id, r.trace_id) AS trace_id,
       s.span_id
  FROM webhook_requests r
 CROSS JOIN LATERAL json_to_recordset(r.stages::json) AS s(
       id uuid, stage text, started_at timestamptz, completed_at timestamptz, offset_ms double precision,
       duration_ms double precision, status text, error_message text, metadata jsonb, trace_id text, span_id text);

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') THEN
    GRANT SELECT ON processing_stages TO grafana_reader;
  END IF;
END
$$;

-- Down Migration
DROP VIEW processing_stages;
ALTER TABLE webhook_requests DROP CONSTRAINT webhook_requests_stages_check;
ALTER TABLE webhook_requests
  ALTER COLUMN headers DROP DEFAULT,
  ALTER COLUMN stages DROP DEFAULT,
  ALTER COLUMN headers TYPE json USING headers::json,
  ALTER COLUMN payload TYPE json USING payload::json,
  ALTER COLUMN stages TYPE json USING stages::json,
  ALTER COLUMN headers SET DEFAULT '{}'::json,
  ALTER COLUMN stages SET DEFAULT '[]'::json,
  ADD CONSTRAINT webhook_requests_stages_check CHECK (json_typeof(stages) = 'array');
CREATE VIEW processing_stages AS
SELECT coalesce(s.id, (left(replace(r.id::text, '-', ''), 16) || s.span_id)::uuid) AS id,
       r.created_at,
       r.id AS webhook_id,
       s.stage,
       coalesce(s.started_at, r.created_at + s.offset_ms * interval '1 millisecond') AS started_at,
       coalesce(s.completed_at, r.created_at + (s.offset_ms + s.duration_ms) * interval '1 millisecond') AS completed_at,
       s.duration_ms,
       coalesce(s.status, 'completed') AS status,
       s.error_message,
       coalesce(s.metadata, '{}'::jsonb) AS metadata,
       coalesce(s.trace_id, r.trace_id) AS trace_id,
       s.span_id
  FROM webhook_requests r
 CROSS JOIN LATERAL json_to_recordset(r.stages) AS s(
       id uuid, stage text, started_at timestamptz, completed_at timestamptz, offset_ms double precision,
       duration_ms double precision, status text, error_message text, metadata jsonb, trace_id text, span_id text);
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') THEN
    GRANT SELECT ON processing_stages TO grafana_reader;
  END IF;
END
$$;

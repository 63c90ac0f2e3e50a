-- Up Migration
-- A record's stages are stored as arrays, [stage, offset_us, duration_us] (whole microseconds, JSON integers) with
-- two optional elements, its metadata (an object, or null) and, for a failed stage, its error message (a string, or
-- null): no keys, and no span id.
-- A stage's span id is derived from its webhook's id (src/telemetry/deriveSpanIds.ts): the id's bytes 8-14 as
-- 14 hex digits, then the stage's ordinal in its webhook (1 for the first stage) as two. The service makes its
-- spans' ids the same way, so the view and the trace in Jaeger agree.
--
-- Why: the stages were half of a record (630 of 1,206 bytes for the bench's mix), most of it keys and span ids.
-- Arrays make a record about 340 bytes smaller (1,122 to about 780 bytes of COPY data), and so its WAL, its pages
-- and Postgres's work: COPYing 660 of the service's records 30 times, six alternating rounds, backend CPU from
-- /proc, 8.3 µs a row as objects, 7.6 as arrays; the table 146 MB against 104. Integers rather than fractional
-- milliseconds (the same precision) are cheaper for the service to write as JSON.
--
-- Stages stored before keep their form: the view reads the three forms (0003's full objects, 0009's compact
-- objects, these arrays) element by element. No row is rewritten. Nothing but the view, retention (which counts
-- array elements) and this migration's Down reads the column.
DROP VIEW processing_stages;

CREATE VIEW processing_stages AS
SELECT coalesce(s.id, (left(h.hex, 16) || s.span_id)::uuid) AS id,
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
 CROSS JOIN LATERAL (SELECT replace(r.id::text, '-', '') AS hex) h
 CROSS JOIN LATERAL jsonb_array_elements(r.stages::jsonb) WITH ORDINALITY AS e(v, n)
 CROSS JOIN LATERAL (SELECT jsonb_typeof(e.v) = 'array' AS compact) k
 CROSS JOIN LATERAL (
   SELECT CASE WHEN k.compact THEN NULL ELSE (e.v ->> 'id')::uuid END AS id,
          CASE WHEN k.compact THEN e.v ->> 0 ELSE e.v ->> 'stage' END AS stage,
          CASE WHEN k.compact THEN NULL ELSE (e.v ->> 'started_at')::timestamptz END AS started_at,
          CASE WHEN k.compact THEN NULL ELSE (e.v ->> 'completed_at')::timestamptz END AS completed_at,
          CASE WHEN k.compact THEN (e.v ->> 1)::double precision / 1000 ELSE (e.v ->> 'offset_ms')::double precision END AS offset_ms,
          CASE WHEN k.compact THEN (e.v ->> 2)::double precision / 1000 ELSE (e.v ->> 'duration_ms')::double precision END AS duration_ms,
          CASE WHEN k.compact THEN (CASE WHEN jsonb_array_length(e.v) > 4 THEN 'failed' END) ELSE e.v ->> 'status' END AS status,
          CASE WHEN k.compact THEN e.v ->> 4 ELSE e.v ->> 'error_message' END AS error_message,
          nullif(CASE WHEN k.compact THEN e.v -> 3 ELSE e.v -> 'metadata' END, 'null'::jsonb) AS metadata,
          CASE WHEN k.compact THEN NULL ELSE e.v ->> 'trace_id' END AS trace_id,
          CASE WHEN k.compact THEN substr(h.hex, 17, 14) || lpad(to_hex(e.n), 2, '0') ELSE e.v ->> 'span_id' END AS span_id
 ) s;

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') THEN
    GRANT SELECT ON processing_stages TO grafana_reader;
  END IF;
END
$$;

-- Down Migration
-- Stages stored as arrays go back to 0009's compact objects (with their derived span ids), which 0012's view reads.
UPDATE webhook_requests r
   SET stages = (SELECT jsonb_agg(jsonb_build_object('stage', e.v -> 0, 'offset_ms', (e.v ->> 1)::double precision / 1000,
                                                     'duration_ms', (e.v ->> 2)::double precision / 1000,
                                                     'span_id', substr(replace(r.id::text, '-', ''), 17, 14) || lpad(to_hex(e.n), 2, '0'))
                                  || CASE WHEN jsonb_typeof(e.v -> 3) = 'object' THEN jsonb_build_object('metadata', e.v -> 3) ELSE '{}'::jsonb END
                                  || CASE WHEN jsonb_array_length(e.v) > 4 THEN jsonb_build_object('status', 'failed', 'error_message', e.v -> 4) ELSE '{}'::jsonb END
                                  ORDER BY e.n)::text
                   FROM jsonb_array_elements(r.stages::jsonb) WITH ORDINALITY AS e(v, n))
 WHERE left(r.stages, 2) = '[[';

DROP VIEW processing_stages;
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

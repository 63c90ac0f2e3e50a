-- Up Migration
-- An operator can run a failed signal again (POST /api/signals/:id/retry). Each run of a signal is numbered:
-- 0 for the run the webhook started, 1 for the first retry, and so on. A signal keeps one settlement row per run
-- (its failures stay as history), and still at most ONE execution with an effect (filled or forwarded): that is
-- what "exactly once" means across retries, enforced here rather than by the worker's checks.
ALTER TABLE signals ADD COLUMN retries integer NOT NULL DEFAULT 0;
ALTER TABLE executions ADD COLUMN retry integer NOT NULL DEFAULT 0;
ALTER TABLE executions DROP CONSTRAINT executions_signal_id_key;
CREATE UNIQUE INDEX executions_signal_id_retry ON executions (signal_id, retry);
CREATE UNIQUE INDEX executions_one_effect ON executions (signal_id) WHERE outcome <> 'failed';

-- One row per retry asked for: who asked (the client address), when, what the policy said then, and the trace
-- of the retry (linked to the webhook's trace). `result` is queued (a new job) or declined (the policy refused).
CREATE TABLE signal_retries (
  id              uuid PRIMARY KEY,
  signal_id       uuid NOT NULL REFERENCES signals (id),
  retry           integer NOT NULL,
  requested_at    timestamptz NOT NULL,
  result          text NOT NULL CHECK (result IN ('queued', 'declined')),
  decline_reason  text,
  previous_error  text,
  client_address  text,
  trace_id        text,
  UNIQUE (signal_id, retry)
);
CREATE INDEX signal_retries_requested_at ON signal_retries (requested_at);

-- "Failed signals since a time" (bulk retry, the health check, dashboards) reads failed signals by failure time.
CREATE INDEX signals_failed_at ON signals (failed_at) WHERE status = 'failed';
-- Executions settled in a window (the performance answer, dashboards).
CREATE INDEX executions_completed_at ON executions (completed_at);

-- Down Migration
DROP INDEX executions_completed_at;
DROP INDEX signals_failed_at;
DROP TABLE signal_retries;
DROP INDEX executions_one_effect;
DROP INDEX executions_signal_id_retry;
DELETE FROM executions WHERE retry > 0;
ALTER TABLE executions ADD CONSTRAINT executions_signal_id_key UNIQUE (signal_id);
ALTER TABLE executions DROP COLUMN retry;
ALTER TABLE signals DROP COLUMN retries;

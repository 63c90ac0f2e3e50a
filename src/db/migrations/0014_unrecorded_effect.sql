-- Up Migration
-- An order that went out but whose execution could not be recorded (Postgres away for longer than the worker's
-- in-attempt retries, or a row it refused): what the target answered, the attempt that sent it and when, kept
-- with the signal so that the signal's next attempt, on any worker process, records it instead of sending the
-- order again. `run` is the signal's `retries` when it was sent: an operator's later run never records it.
-- Null for every other signal; cleared when the execution is recorded.
ALTER TABLE signals ADD COLUMN unrecorded_effect jsonb;

-- Down Migration
ALTER TABLE signals DROP COLUMN unrecorded_effect;

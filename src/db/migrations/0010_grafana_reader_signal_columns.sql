-- Up Migration
-- Grafana's read-only role reads signals, not what senders put in them beyond the fields we interpret:
-- `extra` (every other field of the alert, secrets already removed) stays hidden, as the payload of
-- webhook_requests does (migration 0006). A column added later stays hidden until granted. The same list is in
-- postgres/initdb/10-grafana-reader.sql; tests/grafanaDashboards.test.ts checks that both agree.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') THEN
    REVOKE SELECT ON signals FROM grafana_reader;
    GRANT SELECT (id, webhook_id, dedupe_key, dedupe_until, ticker, exchange, action, quantity, price, strategy, interval, alert_time, alert_id, order_id, market_position, position_size, status, decline_reason, attempts, last_error, trace_id, received_at, updated_at, executing_at, executed_at, failed_at, retries, prev_market_position, prev_position_size)
      ON signals TO grafana_reader;
  END IF;
END
$$;

-- Down Migration
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') THEN
    REVOKE SELECT (id, webhook_id, dedupe_key, dedupe_until, ticker, exchange, action, quantity, price, strategy, interval, alert_time, alert_id, order_id, market_position, position_size, status, decline_reason, attempts, last_error, trace_id, received_at, updated_at, executing_at, executed_at, failed_at, retries, prev_market_position, prev_position_size)
      ON signals FROM grafana_reader;
    GRANT SELECT ON signals TO grafana_reader;
  END IF;
END
$$;

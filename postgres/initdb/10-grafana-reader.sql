-- A read-only role for Grafana's Postgres datasource (the Requests dashboard). It can read the tables in
-- schema public, including ones the service's migrations create later, and nothing else: no writes, no
-- graphile_worker schema. Of webhook_requests it reads the record, not what the sender sent: no payload,
-- headers or user agent (migration 0006 narrows the grant for a table created after this script; the block
-- at the end does it for one that exists already). To let Grafana read them, as the service's database user:
--   GRANT SELECT (payload, headers, user_agent) ON webhook_requests TO grafana_reader;
-- Runs once when the compose stack's Postgres initialises its data folder, as the service's database user;
-- tests/grafanaDashboards.test.ts runs it too and queries the dashboard as this role.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') THEN
    CREATE ROLE grafana_reader NOLOGIN;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO grafana_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
ALTER ROLE grafana_reader SET default_transaction_read_only = on;
ALTER ROLE grafana_reader SET statement_timeout = '10s';
-- The same columns as migration 0006.
DO $$
BEGIN
  IF to_regclass('public.webhook_requests') IS NOT NULL THEN
    REVOKE SELECT ON webhook_requests FROM grafana_reader;
    GRANT SELECT (id, created_at, source_ip, payload_size, signature, signature_valid, processing_time_ms, status,
                  http_status, error_code, error_message, error_stack, signal_id, outcome, decline_reason, ticker,
                  action, strategy, trace_id, replay_of)
      ON webhook_requests TO grafana_reader;
  END IF;
END
$$;
-- The same columns of signals as migration 0010: not `extra` (the sender's other alert fields).
DO $$
BEGIN
  IF to_regclass('public.signals') IS NOT NULL THEN
    REVOKE SELECT ON signals FROM grafana_reader;
    GRANT SELECT (id, webhook_id, dedupe_key, dedupe_until, ticker, exchange, action, quantity, price, strategy, interval, alert_time, alert_id, order_id, market_position, position_size, status, decline_reason, attempts, last_error, trace_id, received_at, updated_at, executing_at, executed_at, failed_at, retries, prev_market_position, prev_position_size)
      ON signals TO grafana_reader;
  END IF;
END
$$;

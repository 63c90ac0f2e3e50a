-- Up Migration
-- Grafana's read-only role (postgres/initdb/10-grafana-reader.sql) sees webhook records, not what senders
-- sent: no payload, headers or user agent. Its default privileges gave it SELECT on the whole table when an
-- earlier migration created it; here that becomes SELECT on the listed columns. A column added later stays
-- hidden until granted. The same list is in the init script (for a database migrated before the role
-- existed); tests/grafanaDashboards.test.ts checks that both give the role the same columns.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') THEN
    REVOKE SELECT ON webhook_requests FROM grafana_reader;
    GRANT SELECT (id, created_at, source_ip, payload_size, signature, signature_valid, processing_time_ms, status,
                  http_status, error_code, error_message, error_stack, signal_id, outcome, decline_reason, ticker,
                  action, strategy, trace_id, replay_of)
      ON webhook_requests TO grafana_reader;
  END IF;
END
$$;

-- Down Migration
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader') THEN
    REVOKE SELECT (id, created_at, source_ip, payload_size, signature, signature_valid, processing_time_ms, status,
                   http_status, error_code, error_message, error_stack, signal_id, outcome, decline_reason, ticker,
                   action, strategy, trace_id, replay_of)
      ON webhook_requests FROM grafana_reader;
    GRANT SELECT ON webhook_requests TO grafana_reader;
  END IF;
END
$$;

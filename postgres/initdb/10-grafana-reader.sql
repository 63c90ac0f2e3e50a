-- A read-only role for Grafana's Postgres datasource (the Requests dashboard). It can read the tables in
-- schema public, including ones the service's migrations create later, and nothing else: no writes, no
-- graphile_worker schema. Runs once when the compose stack's Postgres initialises its data folder, as the
-- service's database user; tests/grafanaDashboards.test.ts runs it too and queries the dashboard as this role.
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

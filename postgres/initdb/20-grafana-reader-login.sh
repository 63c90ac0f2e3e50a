#!/bin/sh
# Lets grafana_reader log in with the password from GRAFANA_DB_PASSWORD (set in docker-compose.yml).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$GRAFANA_DB_PASSWORD" <<'SQL'
ALTER ROLE grafana_reader LOGIN PASSWORD :'password';
SQL

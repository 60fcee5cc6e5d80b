#!/bin/sh
# One shot in temporalio/admin-tools (docker-compose.yml, service temporal-schema): creates
# Temporal's two databases on the PostgreSQL service and brings their schemas to the version this
# admin-tools image ships, which must be the server's version (keep the two image tags equal).
# Safe to rerun on every `docker compose up`: `create` ignores a database that exists,
# `setup-schema -v 0.0` leaves a schema already past 0.0 alone, and `update-schema` applies only the
# versions not yet applied. The password comes from SQL_PASSWORD, not the command line.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
DB_PORT=${DB_PORT:-5432}
schema_root=/etc/temporal/schema/postgresql/v12

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  dir=${pair#*:}
  echo "schema: $db"
  sql --db "$db" create
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "$schema_root/$dir/versioned"
done
echo 'schema: done'

#!/bin/sh
# Concord's roles in the postgres container (docker-compose.yml), made by the superuser
# POSTGRES_USER, which nothing else uses. The image's entrypoint runs this on the first
# start (mounted in docker-entrypoint-initdb.d). Idempotent; on an installation made
# before the roles, run it once by hand (README, "Database roles"):
#   docker compose exec postgres sh /docker-entrypoint-initdb.d/concord-roles.sh
set -eu
: "${POSTGRES_OWNER_USER:?set POSTGRES_OWNER_USER in .env}"
: "${POSTGRES_OWNER_PASSWORD:?set POSTGRES_OWNER_PASSWORD in .env}"
: "${POSTGRES_APP_USER:?set POSTGRES_APP_USER in .env}"
: "${POSTGRES_APP_PASSWORD:?set POSTGRES_APP_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-concord}" \
    -v owner_role="$POSTGRES_OWNER_USER" -v owner_password="$POSTGRES_OWNER_PASSWORD" \
    -v app_role="$POSTGRES_APP_USER" -v app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
SET concord.owner_role = :'owner_role';
SET concord.owner_password = :'owner_password';
SET concord.app_role = :'app_role';
SET concord.app_password = :'app_password';
SET concord.owner_createdb = 'off';
\i /etc/concord/concord-roles.sql
SQL
echo "concord: roles $POSTGRES_OWNER_USER (owner) and $POSTGRES_APP_USER (app) ready"

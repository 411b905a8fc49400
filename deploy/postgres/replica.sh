#!/bin/sh
# The replica's start: a base backup of the primary the first time (-R: it then follows the
# primary's WAL as a hot standby), PostgreSQL itself afterwards.
set -e
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    until pg_isready -h db -p 5432; do sleep 1; done
    PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h db -p 5432 -U replicator -D "$PGDATA" -R -X stream
    chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c max_connections=200

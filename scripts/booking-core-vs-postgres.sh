#!/usr/bin/env bash
# The owner's booking core beside what a central platform would do, on this machine in one
# run: the same load (CLIENTS concurrent clients asking for random 1–3 h slots on the half
# hour of 20 instruments over 60 days, for SECS seconds) against
#   1. the node's ledger (per-instrument serialised check-and-insert, fsynced before each
#      answer), without signatures as the database, then again signing every answer,
#   2. PostgreSQL: a table with EXCLUDE USING gist (instrument WITH =, slot WITH &&),
#      synchronous_commit on, driven by pgbench.
# Needs Debian's postgresql and postgresql-contrib (btree_gist). Run as root or as a user
# that may run `runuser -u postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-8}
SECS=${SECS:-10}

echo "== booking core (this node's ledger)"
cargo build --release -q -p alliance-node --example booking_core_bench
target/release/examples/booking_core_bench --clients "$CLIENTS" --seconds "$SECS"
# The same with every answer signed, as a node sends it (the database signs nothing).
target/release/examples/booking_core_bench --clients "$CLIENTS" --seconds "$SECS" --sign

echo "== PostgreSQL"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK=$(mktemp -d /var/tmp/pgbench-XXXXXX)
chown postgres "$WORK"
as_pg() { runuser -u postgres -- "$@"; }
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
as_pg "$PGBIN/initdb" -D "$WORK/data" -A trust -U postgres >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w \
  -o "-k $WORK -p 55432 -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=50" start >/dev/null
psql() { as_pg "$PGBIN/psql" -h "$WORK" -p 55432 -U postgres -q -v ON_ERROR_STOP=1 "$@"; }
psql -c "SHOW synchronous_commit" -t -A | sed 's/^/synchronous_commit: /'
psql <<'SQL'
CREATE EXTENSION btree_gist;
CREATE TABLE booking (
  id bigserial PRIMARY KEY,
  instrument int NOT NULL,
  slot tstzrange NOT NULL,
  EXCLUDE USING gist (instrument WITH =, slot WITH &&)
);
SQL
cat > "$WORK/load.sql" <<'SQL'
\set instrument random(0, 19)
\set half random(0, 2879)
\set hours random(1, 3)
INSERT INTO booking (instrument, slot) VALUES (:instrument,
  tstzrange(current_date + 1 + :half * interval '30 minutes',
            current_date + 1 + :half * interval '30 minutes' + :hours * interval '1 hour'))
  ON CONFLICT DO NOTHING;
SQL
chown postgres "$WORK/load.sql"
as_pg "$PGBIN/pgbench" -h "$WORK" -p 55432 -U postgres -n -c "$CLIENTS" -j 2 -T "$SECS" \
  -f "$WORK/load.sql" postgres | grep -E "number of transactions actually processed|tps ="
psql -t -A -c "SELECT 'slots taken: ' || count(*) FROM booking"
psql -t -A -c "SELECT 'overlaps: ' || count(*) FROM booking a JOIN booking b
  ON a.instrument = b.instrument AND a.id < b.id AND a.slot && b.slot"

#!/usr/bin/env bash
# Scale shapes that were once quadratic or worse, and cancellation on a big
# graph.  Histories are written straight into the catalog (as the superuser),
# which is how a restore writes them too.
#  - 100,000 revisions, each depending on the one two below: every graph
#    load used to ask for a 1.25 GB bitset and fail with XX000;
#  - a label on every revision of a 20,000-revision chain: history() has to
#    spread 200 million labels, and a statement timeout must stop it at once
#    (the loops check for interrupts), leaving the session usable.
set -euo pipefail
db=migr_scale
psql -Xq -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
q() { psql -X -d $db -v ON_ERROR_STOP=1 -At "$@"; }
q -q -c "CREATE EXTENSION migr"
q -q <<'SQL'
SET client_min_messages = warning;
INSERT INTO migr.migration (id, revises, depends_on, create_date, upgrade_sql, checksum)
SELECT 'd' || i,
       CASE WHEN i > 1 THEN ARRAY['d' || (i - 1)] ELSE '{}' END,
       CASE WHEN i > 2 THEN ARRAY['d' || (i - 2)] ELSE '{}' END,
       '2024-01-01'::timestamptz + i * interval '1 second', '', '\x00'
  FROM generate_series(1, 100000) i;
INSERT INTO migr.migration_edge (revision, kind, ord, target)
SELECT 'd' || i, 'p', 1, 'd' || (i - 1) FROM generate_series(2, 100000) i
UNION ALL
SELECT 'd' || i, 'd', 1, 'd' || (i - 2) FROM generate_series(3, 100000) i;
SQL
heads=$(q -c "SELECT string_agg(h, ',') FROM migr.heads() h")
plan=$(q -c "SELECT count(*) FROM migr.plan('heads')")
echo "100,000 revisions with depends_on: heads $heads, upgrade plan $plan steps"
if [ "$heads" != "d100000" ] || [ "$plan" != 100000 ]; then
    echo "FAIL: expected head d100000 and 100000 steps"; exit 1
fi

q -q -c "DROP EXTENSION migr" -c "CREATE EXTENSION migr"
q -q <<'SQL'
SET client_min_messages = warning;
INSERT INTO migr.migration (id, revises, branch_labels, create_date, upgrade_sql, checksum)
SELECT 'l' || i, CASE WHEN i > 1 THEN ARRAY['l' || (i - 1)] ELSE '{}' END, ARRAY['label' || i],
       '2024-01-01'::timestamptz + i * interval '1 second', '', '\x00'
  FROM generate_series(1, 20000) i;
INSERT INTO migr.migration_edge (revision, kind, ord, target)
SELECT 'l' || i, 'p', 1, 'l' || (i - 1) FROM generate_series(2, 20000) i;
INSERT INTO migr.branch_label (label, revision)
SELECT 'label' || i, 'l' || i FROM generate_series(1, 20000) i;
SQL
# planning never needs the inherited labels: these are quick
q -c "SELECT count(*) FROM migr.plan('label1@+19990')" >/dev/null
q -c "SELECT string_agg(h, ',') FROM migr.heads() h" >/dev/null
out=$(psql -X -d $db -At 2>&1 <<'SQL' || true
\set VERBOSITY sqlstate
SET statement_timeout = '300ms';
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM migr.history();
SELECT extract(epoch FROM clock_timestamp() - :'t0') < 5 AS cancelled_in_time;
RESET statement_timeout;
SELECT count(*) FROM migr.current();
SQL
)
echo "history() under a 300 ms statement timeout: $(echo $out | tr '\n' ' ')"
# cancelled (57014), in time, and the session still works afterwards
if ! grep -q "57014" <<<"$out" || ! grep -qx "t" <<<"$out" ||
   [ "$(echo "$out" | tail -1)" != 0 ]; then
    echo "FAIL: history() was not cancelled in time, or the session did not recover"; exit 1
fi
psql -Xq -c "DROP DATABASE $db"
echo "scale shapes ok"

#!/usr/bin/env bash
# Eight sessions upgrade a 60-revision chain at once.  Every revision must
# run exactly once and no session may fail: the migration lock serialises
# them and the later sessions find nothing to do.
set -euo pipefail
db=migr_concurrent
psql -Xq -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -Xq -o /dev/null -d $db -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION migr;
CREATE TABLE ran (revision text, pid int);
SET client_min_messages = warning;
BEGIN;
SELECT migr.revision(format('c%s', lpad(i::text, 3, '0')),
                     CASE WHEN i > 1 THEN format('c%s', lpad((i - 1)::text, 3, '0')) END,
                     'step ' || i,
                     format('INSERT INTO ran VALUES (%L, pg_backend_pid()); CREATE TABLE t%s (id int); SELECT pg_sleep(0.002);',
                            format('c%s', lpad(i::text, 3, '0')), i),
                     format('DROP TABLE t%s;', i),
                     create_date => '2024-01-01'::timestamptz + i * interval '1 minute')
  FROM generate_series(1, 60) i;
COMMIT;
SQL

pids=()
for s in 1 2 3 4 5 6 7 8; do
    psql -Xq -d $db -v ON_ERROR_STOP=1 -At \
        -c "SET client_min_messages = warning" \
        -c "SELECT count(*) FROM migr.upgrade()" > "/tmp/migr_conc_$s.out" 2>&1 &
    pids+=($!)
done
fail=0
for p in "${pids[@]}"; do
    wait "$p" || fail=1
done
total=0
for s in 1 2 3 4 5 6 7 8; do
    n=$(tail -n 1 "/tmp/migr_conc_$s.out")
    if ! [[ "$n" =~ ^[0-9]+$ ]]; then
        echo "session $s failed:"; cat "/tmp/migr_conc_$s.out"; fail=1; n=0
    fi
    total=$((total + n))
    rm -f "/tmp/migr_conc_$s.out"
done
ran=$(psql -XAt -d $db -c "SELECT count(*) FROM ran")
distinct=$(psql -XAt -d $db -c "SELECT count(DISTINCT revision) FROM ran")
applied=$(psql -XAt -d $db -c "SELECT count(*) FROM migr.applied")
current=$(psql -XAt -d $db -c "SELECT string_agg(c, ',') FROM migr.current() c")
echo "steps returned: $total, bodies run: $ran ($distinct distinct), applied: $applied, current: $current"
psql -Xq -c "DROP DATABASE $db"
[ "$fail" = 0 ] && [ "$total" = 60 ] && [ "$ran" = 60 ] && [ "$distinct" = 60 ] \
    && [ "$applied" = 60 ] && [ "$current" = c060 ]

#!/usr/bin/env bash
# CREATE INDEX CONCURRENTLY run by CALL migr.apply() while another session
# holds an old snapshot for longer than migr.lock_timeout.  The build waits
# for that transaction (a lock wait on its virtual transaction id, which
# holds up nobody), so it must not run under migr.lock_timeout: it finishes
# once the old transaction ends, and the index is valid.  The same build
# under a plain lock_timeout in the worker would fail with 55P03 (retries
# are off, so a retry cannot hide that).
# Then a worker statement that does wait under migr.lock_timeout (REINDEX
# SCHEMA, behind a session holding its table): it fails after the timeout,
# and the run ends promptly with the failure recorded, although describing
# the schema for migr.check() would wait for the same lock.
set -euo pipefail
db=migr_call_oldsnap
trap 'psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 "$@"; }
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE TABLE t (k int);
CREATE TABLE other (k int);
INSERT INTO t SELECT generate_series(1, 1000);
SELECT migr.revision('o1', NULL, 'index', 'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_k ON t (k);',
                     'DROP INDEX CONCURRENTLY IF EXISTS t_k;');
SQL
# a transaction with a snapshot older than the build, open for 3 s
psql -XAtq -d $db -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT count(*) FROM other" \
     -c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null &
holder=$!
for _ in $(seq 50); do
    if [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query = 'SELECT pg_sleep(3)'")" = 1 ]; then break; fi
    sleep 0.1
done
start=$(date +%s%N)
if ! out=$(psql -X -d $db -v ON_ERROR_STOP=1 -c "SET migr.lock_timeout = '200ms'" -c "SET migr.lock_retries = 0" -c "CALL migr.apply()" 2>&1); then
    wait $holder || true
    echo "CALL migr.apply() failed while an old snapshot was held:"; echo "$out"; exit 1
fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait $holder
if [ "$(q -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_k'::regclass")" != t ]; then
    echo "t_k is not valid after the build"; exit 1
fi
if [ $ms -lt 1000 ]; then
    echo "the build took $ms ms: it did not wait for the old snapshot, so this test proves nothing"; exit 1
fi
echo "CREATE INDEX CONCURRENTLY waited $ms ms for an old snapshot under migr.lock_timeout = 200ms, and finished"

q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA s;
CREATE TABLE s.t (k int PRIMARY KEY);
SELECT migr.revision('o2', 'o1', 'reindex', 'REINDEX SCHEMA s;', 'SELECT 1;');
SQL
psql -XAtq -d $db -c "BEGIN" -c "LOCK TABLE s.t IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(5)" -c "COMMIT" >/dev/null &
holder=$!
for _ in $(seq 50); do
    if [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query = 'SELECT pg_sleep(5)'")" = 1 ]; then break; fi
    sleep 0.1
done
start=$(date +%s%N)
if out=$(psql -X -d $db -c "SET migr.lock_timeout = '200ms'" -c "SET migr.lock_retries = 0" -c "CALL migr.apply()" 2>&1); then
    wait $holder || true
    echo "REINDEX SCHEMA behind a held lock did not fail:"; echo "$out"; exit 1
fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait $holder
if ! grep -q '^ERROR:  canceling statement due to lock timeout' <<<"$out"; then
    echo "REINDEX SCHEMA behind a held lock failed otherwise:"; echo "$out"; exit 1
fi
if [ $ms -gt 2500 ]; then
    echo "the run took $ms ms to end after a 200 ms lock timeout (the holder held the lock for 5 s):"; echo "$out"; exit 1
fi
rec=$(q -c "SELECT revision || ' ' || outcome || ' ' || sqlstate FROM migr.event ORDER BY id DESC LIMIT 1")
if [ "$rec" != "o2 failed 55P03" ]; then echo "the failure record: $rec"; exit 1; fi
echo "REINDEX SCHEMA behind a held lock: 55P03 after $ms ms, recorded"

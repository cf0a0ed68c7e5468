#!/usr/bin/env bash
# migr.check() skips describing the schema while the catalog signature
# recorded with the description is unchanged (src/catsig.c).  First the case
# that once escaped a signature of row versions: CREATE INDEX CONCURRENTLY
# marks its index valid at the end, in place on older PostgreSQL 15 minor
# releases.  migr records the description while a concurrent build waits,
# index not yet valid, for an old snapshot; once the build finishes,
# migr.check() must report the new index as drift.  Then: a change and its
# undoing give back the same signature (no drift), and drift with the
# recorded signature cleared is still found by the full comparison.
set -euo pipefail
db=migr_drift_signature
trap 'psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 "$@"; }
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE TABLE other (k int);
SELECT migr.revision('a', NULL, 'a', 'CREATE TABLE t (k int);', 'DROP TABLE t;');
SELECT migr.revision('b', 'a', 'b', 'CREATE TABLE u (k int);', 'DROP TABLE u;');
SELECT count(*) FROM migr.upgrade('a');
SQL
findings() { q -c "SELECT string_agg(code || ': ' || coalesce(detail, ''), E'\n' ORDER BY code) FROM migr.check() WHERE code <> 'pending'"; }
if [ -n "$(findings)" ]; then echo "findings after the first upgrade:"; findings; exit 1; fi

# an old snapshot holds the build of t_k in its last wait, index not valid
psql -XAtq -d $db -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT count(*) FROM other" \
     -c "SELECT pg_sleep(4)" -c "COMMIT" >/dev/null &
holder=$!
for _ in $(seq 50); do
    if [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query = 'SELECT pg_sleep(4)'")" = 1 ]; then break; fi
    sleep 0.1
done
psql -XAtq -d $db -v ON_ERROR_STOP=1 -c "CREATE INDEX CONCURRENTLY t_k ON t (k)" >/dev/null &
builder=$!
for _ in $(seq 50); do
    if [ "$(q -c "SELECT count(*) FROM pg_index WHERE indexrelid = 'public.t_k'::regclass AND indisready AND NOT indisvalid" 2>/dev/null)" = 1 ]; then break; fi
    sleep 0.1
done
if [ "$(q -c "SELECT count(*) FROM pg_index WHERE indexrelid = 'public.t_k'::regclass AND NOT indisvalid")" != 1 ]; then
    echo "the build did not wait with its index invalid: this test proves nothing"; exit 1
fi
# migr records the description now: the invalid index is not in it
q -o /dev/null -c "SELECT count(*) FROM migr.upgrade('b')"
wait $holder
wait $builder
if [ "$(q -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.t_k'::regclass")" != t ]; then
    echo "t_k is not valid after the build"; exit 1
fi
out=$(findings)
if [ "$out" != "schema_drift: Objects that differ (+ added, - removed, ~ changed):
+ index public.t_k" ]; then
    echo "migr.check() after the build finished:"; echo "$out"; exit 1
fi
echo "an index made valid in place after the description was recorded: drift found"

# record again; a change and its undoing leave the same visible catalog rows
q -o /dev/null -c "SELECT count(*) FROM migr.downgrade('a')" -c "DROP INDEX t_k" -c "SELECT count(*) FROM migr.upgrade('b')"
if [ -n "$(findings)" ]; then echo "findings after recording again:"; findings; exit 1; fi
sig=$(q -c "SELECT encode(catalog_signature, 'hex') FROM migr.snapshot")
if [ ${#sig} != 64 ]; then echo "no catalog signature was recorded: '$sig'"; exit 1; fi
q -o /dev/null -c "CREATE TABLE gone (k int)" -c "DROP TABLE gone"
if [ -n "$(findings)" ]; then echo "findings after a table came and went:"; findings; exit 1; fi

# drift with the signature cleared: found by the full comparison
q -o /dev/null -c "ALTER TABLE u ADD COLUMN v int" -c "UPDATE migr.snapshot SET catalog_signature = NULL"
out=$(findings)
if [ "$out" != "schema_drift: Objects that differ (+ added, - removed, ~ changed):
+ column public.u.v" ]; then
    echo "migr.check() without a signature:"; echo "$out"; exit 1
fi
echo "drift without a recorded signature: found"

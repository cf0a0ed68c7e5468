#!/usr/bin/env bash
# migr.check() skips describing the schema while the catalog signature
# recorded with the description is unchanged (src/catsig.c).  First the case
# that once escaped a signature of row versions: CREATE INDEX CONCURRENTLY
# marks its index valid at the end, in place on older PostgreSQL 15 minor
# releases.  migr records the description while a concurrent build waits,
# index not yet valid, for an old snapshot; once the build finishes,
# migr.check() must report the new index as drift.  Then: a change and its
# undoing give back the same signature (no drift), and drift with the
# recorded signature cleared is still found by the full comparison.  Then
# the page shortcut (a page whose LSN is the recorded one is not read
# again): it is taken on a quiet database; DDL that another session had not
# committed when the signature was recorded is found once it commits; a
# direct write to a system catalog is found; a VACUUM FULL that moves rows
# is no drift; the facts recorded with the signature (an invalid index, an
# unindexed foreign key) are reported while it matches; and after CALL
# migr.apply() of revisions that leave dead catalog row versions, no page
# is hashed again (the recording pruned them).
set -euo pipefail
db=migr_drift_signature
trap 'psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
export PGOPTIONS="-c client_min_messages=warning"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 "$@"; }
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE TABLE other (k int);
SELECT migr.revision('a', NULL, 'a', 'CREATE TABLE t (k int);', 'DROP TABLE t;');
SELECT migr.revision('b', 'a', 'b', 'CREATE TABLE u (k int);', 'DROP TABLE u;');
SELECT migr.revision('c', 'b', 'c', 'CREATE TABLE w (k int);', 'DROP TABLE w;');
SELECT migr.revision('d', 'c', 'd', 'CREATE TABLE x (k int);', 'DROP TABLE x;');
SELECT migr.revision('e', 'd', 'e', 'CREATE TABLE y (k int);', 'DROP TABLE y;');
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
sig=$(q -c "SELECT substr(encode(catalog_signature, 'hex'), 1, 8) FROM migr.snapshot")
if [ "$sig" != 6d637332 ]; then echo "no catalog signature was recorded: '$sig'"; exit 1; fi
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

# the page shortcut.  Vacuumed first, so that autovacuum finds nothing to do
# afterwards: then no page of the catalogs changes after the recording.
sigline() { q -c "SET client_min_messages = debug1" -c "SELECT count(*) FROM migr.check()" 2>&1 |
            sed -n 's/^DEBUG:  migr.check(): catalog signature //p'; }
# no_rehash WHAT: a check matched the signature without hashing a page
# again (its line in $line), else fail saying WHAT
no_rehash() {
    line=$(sigline)
    case "$line" in
        "matches, 0 of "*" pages hashed again") ;;
        *) echo "$1: '$line'"; exit 1 ;;
    esac
}
q -o /dev/null -c "SELECT count(*) FROM migr.downgrade('a')" \
   -c "VACUUM pg_class, pg_attribute, pg_type, pg_depend, pg_constraint, pg_index, pg_proc" \
   -c "SELECT count(*) FROM migr.upgrade('b')"
if [ -n "$(findings)" ]; then echo "findings after recording again:"; findings; exit 1; fi
no_rehash "the signature of a quiet database was not matched page by page"
echo "quiet database: $line"

# DDL another session has not committed while the signature is recorded:
# its rows are on pages whose LSN will not move when it commits
psql -XAtq -d $db -v ON_ERROR_STOP=1 -c "BEGIN" -c "CREATE TABLE late (k int)" \
     -c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null &
late=$!
for _ in $(seq 50); do
    if [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query = 'SELECT pg_sleep(3)'")" = 1 ]; then break; fi
    sleep 0.1
done
if [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db' AND query = 'SELECT pg_sleep(3)'")" != 1 ]; then
    echo "the other session did not hold its DDL open: this test proves nothing"; exit 1
fi
q -o /dev/null -c "SELECT count(*) FROM migr.upgrade('c')"
wait $late
out=$(findings)
if [ "$out" != "schema_drift: Objects that differ (+ added, - removed, ~ changed):
+ column public.late.k
+ table public.late" ]; then
    echo "migr.check() after DDL committed that was running when the signature was recorded:"; echo "$out"; exit 1
fi
echo "DDL of another session, uncommitted at the recording: drift found"

# a direct write to a system catalog, and its undoing
q -o /dev/null -c "DROP TABLE late" -c "SELECT count(*) FROM migr.downgrade('b')" -c "SELECT count(*) FROM migr.upgrade('c')"
if [ -n "$(findings)" ]; then echo "findings after recording again:"; findings; exit 1; fi
q -o /dev/null -c "UPDATE pg_catalog.pg_attribute SET attnotnull = true WHERE attrelid = 'public.w'::regclass AND attname = 'k'"
out=$(findings)
if [ "$out" != "schema_drift: Objects that differ (+ added, - removed, ~ changed):
~ column public.w.k" ]; then
    echo "migr.check() after a direct write to pg_attribute:"; echo "$out"; exit 1
fi
q -o /dev/null -c "UPDATE pg_catalog.pg_attribute SET attnotnull = false WHERE attrelid = 'public.w'::regclass AND attname = 'k'"
if [ -n "$(findings)" ]; then echo "findings after undoing the write:"; findings; exit 1; fi
echo "a direct write to a system catalog: drift found"

# VACUUM FULL moves the rows: the signature differs, the schema does not
q -o /dev/null -c "VACUUM FULL pg_attribute"
line=$(sigline)
case "$line" in
    "differs, "*) ;;
    *) echo "the signature matched after VACUUM FULL pg_attribute: '$line'"; exit 1 ;;
esac
if [ -n "$(findings)" ]; then echo "findings after VACUUM FULL:"; findings; exit 1; fi
echo "VACUUM FULL of a catalog: no drift"

# facts recorded with the signature: an index left invalid and a foreign key
# without an index, both there when it is recorded
q -o /dev/null -c "CREATE TABLE dup (k int PRIMARY KEY)" -c "INSERT INTO dup VALUES (1)" \
   -c "CREATE TABLE ref (k int REFERENCES dup, j int)" -c "INSERT INTO ref VALUES (1, 1), (1, 1)"
q -o /dev/null -c "CREATE UNIQUE INDEX CONCURRENTLY ref_j ON ref (j)" 2>/dev/null || true
q -o /dev/null -c "SELECT count(*) FROM migr.upgrade('d')"
line=$(sigline)
case "$line" in
    "matches, "*) ;;
    *) echo "the signature did not match right after recording: '$line'"; exit 1 ;;
esac
out=$(q -c "SELECT string_agg(code || ': ' || message, E'\n' ORDER BY code) FROM migr.check() WHERE code <> 'pending'")
if [ "$out" != 'invalid_index: index "public.ref_j" on "public.ref" is invalid
unindexed_foreign_key: foreign key "ref_k_fkey" on "public.ref" has no index on its referencing columns' ]; then
    echo "migr.check() with an invalid index and an unindexed foreign key recorded:"; echo "$out"; exit 1
fi
# and without them, the queries are skipped and find nothing either
q -o /dev/null -c "DROP TABLE ref, dup" -c "SELECT count(*) FROM migr.upgrade('e')"
if [ -n "$(findings)" ]; then echo "findings after dropping them:"; findings; exit 1; fi
echo "an invalid index and an unindexed foreign key at the recording: found"

# Dead catalog row versions that the revisions before the recording left
# (each CREATE TABLE with a toasted column updates its pg_class row) are
# removed by the first reader of a page that is nearly full, which sets a
# new page LSN.  In CALL mode each revision commits on its own, so the
# earlier revisions' dead versions can be removed in the recording
# transaction itself: by the description read right after the signature.
# The signature prunes each page before it reads it, so that no later
# reader finds anything to remove and the recorded LSNs stay.  The last
# revision leaves no dead version (no toasted column): those of the
# recording transaction cannot be pruned until it commits.
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
SELECT count(*) FROM generate_series(1, 40) AS i,
       LATERAL migr.revision('g' || i, CASE WHEN i = 1 THEN 'e' ELSE 'g' || (i - 1) END, 'g' || i,
                             format('CREATE TABLE g%s (id bigint PRIMARY KEY, v text); CREATE INDEX g%s_v ON g%s (v);', i, i, i),
                             format('DROP TABLE g%s;', i));
SELECT migr.revision('h', 'g40', 'h', 'CREATE TABLE h (k int);', 'DROP TABLE h;');
VACUUM pg_class, pg_attribute, pg_type, pg_depend, pg_constraint, pg_index, pg_proc;
CALL migr.apply();
SQL
no_rehash "pages pruned after the recording are hashed again at every check"
if [ -n "$(findings)" ]; then echo "findings after the CALL:"; findings; exit 1; fi
no_rehash "pages hashed again at the second check"
echo "dead catalog versions of the revisions before the recording: no page hashed again ($line)"

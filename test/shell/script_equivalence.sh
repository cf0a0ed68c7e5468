#!/usr/bin/env bash
# migr.script(): the offline script leaves what CALL leaves.  Two databases
# get the same history (a branch, a merge, skip_if that skips, requires,
# verify and verify_down, a CREATE INDEX CONCURRENTLY revision, statement
# text psql could misread); one runs CALL migr.apply(), the other the
# script of migr.script() with psql -v ON_ERROR_STOP=1 -f, both as a deploy
# role granted as docs/privileges.md says.  Applied set, events (the
# columns that do not depend on time, ids or pids), the schema snapshot,
# the live fingerprint, migr.summary and migr.check() must be equal; then
# the same for the downgrade to base.  Then the refusals: a re-run of a
# script that ran, a script whose revision changed since it was generated,
# a script where a requires check fails (the steps before it stay, as with
# CALL, and a new script continues); a non-transactional revision that
# fails part way under a script and is resumed by a new one; and one whose
# verify fails after all its statements ran, which a new script finishes.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
dbc=migr_script_call
dbf=migr_script_file
role=migr_script_deployer
cleanup() {
    rm -rf "$work"
    psql -Xq -d postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS $dbc WITH (FORCE)" -c "DROP DATABASE IF EXISTS $dbf WITH (FORCE)" \
        -c "DROP ROLE IF EXISTS $role"
}
trap cleanup EXIT
fail() { echo "$@"; exit 1; }
cleanup
mkdir -p "$work"
# a password: pg_virtualenv's clusters ask for one over TCP
psql -Xq -d postgres -v ON_ERROR_STOP=1 -c "CREATE ROLE $role LOGIN PASSWORD 'migr'"

# The grant block of docs/privileges.md, as written, gives the deploy role
# what it needs: it must include the script's calls
grants=$(awk '/^<!-- test\/shell\/privileges_grants.sh runs the next block/ { s = 1; next }
              s && /^```sql$/ { b = 1; next }
              b && /^```$/ { exit }
              b { print }' docs/privileges.md | grep -v '^CREATE ROLE' | sed "s/\bdeployer\b/$role/g")
grep -q 'migr.script_begin' <<<"$grants" || fail "the grant block of docs/privileges.md does not grant the script's calls"

setup() {
    local db=$1
    psql -Xq -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE $db"
    psql -Xq -o /dev/null -d "$db" -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migr;
GRANT CREATE ON SCHEMA public TO $role;
$grants
CREATE TABLE legacy_items (id int);
GRANT SELECT ON legacy_items TO $role;
GRANT EXECUTE ON PROCEDURE migr.batch_update(regclass, text, text, int4, text, interval, interval, text, boolean) TO $role;
SQL
    PGPASSWORD=migr psql -Xq -o /dev/null -d "$db" -U $role -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
SELECT migr.revision('s1', NULL, 'items',
    $$CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric NOT NULL);
      INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 200) g;$$,
    'DROP TABLE items;', create_date => '2025-01-01 00:00:00+00');
SELECT migr.revision('s2', 's1', 'currency',
    $$ALTER TABLE items ADD COLUMN currency text NOT NULL DEFAULT 'EUR';$$,
    'ALTER TABLE items DROP COLUMN currency;', branch_labels => 'pricing',
    verify => $$migr.has_column('items', 'currency')$$,
    verify_down => $$NOT migr.has_column('items', 'currency')$$,
    create_date => '2025-01-02 00:00:00+00');
SELECT migr.revision('s3', 's1', 'legacy table, which an older tool made already',
    'CREATE TABLE legacy_items (id int);', 'SELECT 1;',
    skip_if => $$migr.has_table('legacy_items')$$, create_date => '2025-01-03 00:00:00+00');
SELECT migr.revision('s4', 's3', 'upper-case names, and a log',
    $$UPDATE items SET name = upper(name);
      CREATE TABLE item_log (id int, note text);
      INSERT INTO item_log VALUES (1, 'semicolon; inside a string'), (2, $q$dollar; quoted$q$);$$,
    $$DROP TABLE item_log; UPDATE items SET name = lower(name);$$,
    requires => $$NOT migr.has_table('upgrade_blocker')$$,
    verify => $$(SELECT count(*) FROM item_log) = 2$$,
    create_date => '2025-01-04 00:00:00+00');
SELECT migr.revision('s5', 's2', 'index names, concurrently',
    'CREATE INDEX CONCURRENTLY IF NOT EXISTS items_name ON items (name);',
    'DROP INDEX CONCURRENTLY IF EXISTS items_name;',
    verify => $$migr.has_index('items', 'items_name')$$,
    create_date => '2025-01-05 00:00:00+00');
-- the merge; its SQL has what psql could misread: an array slice ":2",
-- a line starting with a backslash inside a dollar quote, a trailing
-- "--" comment on the last statement
SELECT migr.revision('s6', 's4, s5', 'merge: price check, codes view, a function',
    $body$ALTER TABLE items ADD CONSTRAINT items_price_nonneg CHECK (price >= 0);
CREATE VIEW item_codes AS SELECT id, (ARRAY[id, id + 1, id + 2])[1:2] AS codes FROM items;
CREATE FUNCTION item_banner() RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    s text;
BEGIN
    s := 'a;b';
    RETURN s || $t$
\echo not a psql command
:not_a_variable$t$;
END
$f$;
COMMENT ON VIEW item_codes IS 'two codes: see item_banner()' -- the last statement$body$,
    $$DROP FUNCTION item_banner(); DROP VIEW item_codes; ALTER TABLE items DROP CONSTRAINT items_price_nonneg;$$,
    verify => $$migr.has_constraint('items', 'items_price_nonneg')$$,
    create_date => '2025-01-06 00:00:00+00');
-- a batch job, which commits as it goes, in a non-transactional revision
SELECT migr.revision('sb', 's6', 'prices up, in batches',
    $$CALL migr.batch_update('items', 'price = price + 1', batch_size => 50, target_time => '0');$$,
    $$CALL migr.batch_update('items', 'price = price - 1', batch_size => 50, target_time => '0');$$,
    transactional => false, create_date => '2025-01-06 12:00:00+00');
SQL
}

# What must be equal: no times, ids or pids
state() {
    psql -XAtq -d "$1" -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'applied', revision, applied_by, encode(checksum, 'hex'), head_seq FROM migr.applied ORDER BY revision;
SELECT 'event', row_number() OVER (ORDER BY id), revision, operation, outcome, role, heads_before, heads_after,
       fingerprint, sqlstate, error, statement_no, statement, blocking_pids
  FROM migr.event ORDER BY id;
SELECT 'snapshot', s.event_id = (SELECT max(id) FROM migr.event), s.fingerprint, md5(s.kinds::text),
       md5(s.objects::text), md5(s.definitions::text)
  FROM migr.snapshot s;
SELECT 'fingerprint', migr.fingerprint();
SELECT 'summary', fresh, pending, graph_heads, current_heads FROM migr.summary;
SELECT 'progress', count(*) FROM migr.revision_progress;
SELECT 'run', count(*) FROM migr.run;
SELECT 'batch', revision, name, state, rows_done, batches_done, rows_total FROM migr.batch_job ORDER BY revision, name;
SELECT 'check', severity, code, revision FROM migr.check() ORDER BY 2, 3, 4;
SELECT 'current', string_agg(c, ',') FROM migr.current() c;
SELECT 'index', c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = to_regclass('items') ORDER BY 2;
CREATE FUNCTION pg_temp.value_of(q text) RETURNS text LANGUAGE plpgsql AS
  'DECLARE r text; BEGIN EXECUTE q INTO r; RETURN r; END';
SELECT 'names', CASE WHEN to_regclass('items') IS NOT NULL
                     THEN pg_temp.value_of('SELECT count(*)::text FROM items WHERE name = upper(name)') END;
SELECT 'prices', CASE WHEN to_regclass('items') IS NOT NULL
                      THEN pg_temp.value_of('SELECT sum(price)::text FROM items') END;
SQL
}
same_state() {
    state $dbc >"$work/call.state"
    state $dbf >"$work/file.state"
    if ! diff -u "$work/call.state" "$work/file.state" >"$work/state.diff"; then
        echo "$1: CALL (-) and the script (+) left different states:"; cat "$work/state.diff"; exit 1
    fi
}
# script DB TARGET FILE: generate the script for TARGET
script() {
    PGPASSWORD=migr psql -XAtq -d "$1" -U $role -v ON_ERROR_STOP=1 -c "SELECT migr.script('$2')" >"$3"
}
# run DB FILE: run a script as the DBA would; output in out, status in rc
run() {
    if out=$(PGPASSWORD=migr psql -X -d "$1" -U $role -v ON_ERROR_STOP=1 -f "$2" 2>&1); then rc=0; else rc=$?; fi
}
call() {
    PGPASSWORD=migr psql -Xq -d "$1" -U $role -v ON_ERROR_STOP=1 -c "CALL $2" >"$work/call.out" 2>&1 ||
        { echo "CALL $2 in $1 failed:"; cat "$work/call.out"; exit 1; }
}

setup $dbc
setup $dbf

# The script does not depend on the database it comes from
script $dbc head "$work/up_c.sql"
script $dbf head "$work/up.sql"
cmp -s "$work/up_c.sql" "$work/up.sql" || fail "the two databases gave different scripts: $(diff "$work/up_c.sql" "$work/up.sql")"
grep -A1 -- '-- statement 1 of 1, at top level: it commits as it goes' "$work/up.sql" | grep -q '^CALL migr.batch_update(' ||
    fail "the upgrade script does not run sb's batch job at top level:"$'\n'"$(cat "$work/up.sql")"
for want in 'CREATE INDEX CONCURRENTLY IF NOT EXISTS items_name' '(ARRAY[id, id + 1, id + 2])[1: 2]' \
            "-- the last statement"$'\n'';' 'SET lock_timeout = 0;' "SELECT migr.script_step(1, 's1', 'upgrade', '"; do
    grep -qF -- "$want" "$work/up.sql" || fail "the upgrade script has no \"$want\":"$'\n'"$(cat "$work/up.sql")"
done
plan=$(psql -XAtq -d $dbf -c "SELECT string_agg(revision || ':' || transactional, ' ' ORDER BY step) FROM migr.plan()")
echo "plan: $plan"

# Upgrade: CALL against the script
call $dbc "migr.apply()"
run $dbf "$work/up.sql"
[ "$rc" = 0 ] || fail "the upgrade script failed (status $rc):"$'\n'"$out"
grep -q 'NOTICE:  skipping s3 (revises s1): its change is already in effect' <<<"$out" || fail "the script did not skip s3:"$'\n'"$out"
grep -q 'NOTICE:  applied 7 revisions; current heads: sb' <<<"$out" || fail "the script did not end as CALL does:"$'\n'"$out"
same_state "upgrade to head"
banner=$(psql -XAtq -d $dbf -c "SELECT item_banner()")
[ "$banner" = $'a;b\n\\echo not a psql command\n:not_a_variable' ] || fail "item_banner() returns \"$banner\""
grep -q '^event|7|sb|upgrade|ok|'"$role"'|{s6}|{sb}|[0-9a-f]\{64\}|' "$work/file.state" ||
    fail "the last event is not sb's with the fingerprint:"$'\n'"$(cat "$work/file.state")"
# the job ran once, and its row went with sb's record, as in CALL mode
grep -q '^prices|20300$' "$work/file.state" || fail "sb's batch job did not raise each price once:"$'\n'"$(cat "$work/file.state")"
grep -q '^batch' "$work/file.state" && fail "sb's batch job is still in migr.batch_job:"$'\n'"$(cat "$work/file.state")"
grep -q '^event|4|s3|skip|skipped|' "$work/file.state" || fail "s3's skip is not the fourth event:"$'\n'"$(cat "$work/file.state")"
echo "upgrade: CALL and the script left the same state ($(grep -c '^event' "$work/file.state") events)"

# A script that ran refuses to run again, and changes nothing
before=$(state $dbf)
run $dbf "$work/up.sql"
[ "$rc" != 0 ] || fail "the upgrade script ran a second time:"$'\n'"$out"
grep -q 'ERROR:  the upgrade to "head" here is not the plan this migr script runs' <<<"$out" ||
    fail "the second run did not fail on the plan:"$'\n'"$out"
[ "$(grep -c 'ERROR' <<<"$out")" = 1 ] || fail "the second run ran past its first call:"$'\n'"$out"
[ "$(state $dbf)" = "$before" ] || fail "the refused second run changed the state"
locks=$(psql -XAtq -d $dbf -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 1835624306")
[ "$locks" = 0 ] || fail "the migration lock is still held after the refused run"

# Downgrade to base: CALL against the script
script $dbf base "$work/down.sql"
grep -q "^CALL migr.script_begin('downgrade', 'base', 7, '" "$work/down.sql" || fail "the downgrade script does not begin as one:"$'\n'"$(cat "$work/down.sql")"
call $dbc "migr.revert('base')"
run $dbf "$work/down.sql"
[ "$rc" = 0 ] || fail "the downgrade script failed (status $rc):"$'\n'"$out"
same_state "downgrade to base"
echo "downgrade: CALL and the script left the same state"

# A script whose revision changed after it was generated refuses to start
script $dbf head "$work/up2.sql"
PGPASSWORD=migr psql -Xq -o /dev/null -d $dbf -U $role -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "SELECT migr.revision('s3', 's1',
    'legacy table, which an older tool made already', 'CREATE TABLE IF NOT EXISTS legacy_items (id int);', 'SELECT 1;',
    skip_if => \$\$migr.has_table('legacy_items')\$\$, create_date => '2025-01-03 00:00:00+00')"
before=$(state $dbf)
run $dbf "$work/up2.sql"
[ "$rc" != 0 ] || fail "the script ran after s3 changed:"$'\n'"$out"
grep -q 'DETAIL:  The plan here has the script.s number of steps, but other revisions, or revisions whose content changed' <<<"$out" ||
    fail "the script did not refuse for the changed revision:"$'\n'"$out"
after=$(state $dbf)
[ "$after" = "$before" ] || fail "the refused script changed the state:"$'\n'"$(diff <(echo "$before") <(echo "$after"))"
# the same change in the other database, so that they stay alike
PGPASSWORD=migr psql -Xq -o /dev/null -d $dbc -U $role -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "SELECT migr.revision('s3', 's1',
    'legacy table, which an older tool made already', 'CREATE TABLE IF NOT EXISTS legacy_items (id int);', 'SELECT 1;',
    skip_if => \$\$migr.has_table('legacy_items')\$\$, create_date => '2025-01-03 00:00:00+00')"
echo "a changed revision: the script refused to start, nothing changed"

# Where requires fails, the script stops there: the steps before it stay,
# s4 runs nothing; CALL stops at the same place
for db in $dbc $dbf; do PGPASSWORD=migr psql -Xq -d $db -U $role -c "CREATE TABLE upgrade_blocker ()"; done
script $dbf head "$work/up3.sql"
run $dbf "$work/up3.sql"
[ "$rc" != 0 ] || fail "the script ran where s4's requires fails:"$'\n'"$out"
grep -q 'ERROR:  precondition of revision "s4" is not met' <<<"$out" || fail "the script did not stop at s4's requires:"$'\n'"$out"
if PGPASSWORD=migr psql -X -d $dbc -U $role -v ON_ERROR_STOP=1 -c "CALL migr.apply()" >"$work/call.out" 2>&1; then
    fail "CALL migr.apply() ran where s4's requires fails"
fi
applied_c=$(psql -XAtq -d $dbc -c "SELECT string_agg(revision, ',' ORDER BY revision) FROM migr.applied")
applied_f=$(psql -XAtq -d $dbf -c "SELECT string_agg(revision, ',' ORDER BY revision) FROM migr.applied")
[ "$applied_f" = "$applied_c" ] || fail "after the failed requires: CALL applied $applied_c, the script $applied_f"
grep -qw s4 <<<"$applied_f" && fail "s4 is applied after its requires failed"
log=$(psql -XAtq -d $dbf -c "SELECT to_regclass('item_log') IS NULL AND (SELECT count(*) FROM items WHERE name = upper(name)) = 0")
[ "$log" = t ] || fail "s4's SQL ran although its requires failed"
[ "$(psql -XAtq -d $dbf -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 1835624306")" = 0 ] ||
    fail "the migration lock is still held after the failed script"
# ... and a new script continues from there
for db in $dbc $dbf; do PGPASSWORD=migr psql -Xq -d $db -U $role -c "DROP TABLE upgrade_blocker"; done
script $dbf head "$work/up4.sql"
run $dbf "$work/up4.sql"
[ "$rc" = 0 ] || fail "the script after the fix failed (status $rc):"$'\n'"$out"
call $dbc "migr.apply()"
[ "$(state $dbc | grep -v '^event')" = "$(state $dbf | grep -v '^event')" ] ||
    fail "after the failed requires and the rest: CALL and the script differ:"$'\n'"$(diff <(state $dbc) <(state $dbf))"
echo "a failing requires: the script stopped at it as CALL does; a new script finished the upgrade"

# A non-transactional revision that fails part way under a script: a new
# script resumes it at the failed statement (statement 1 is not idempotent)
PGPASSWORD=migr psql -Xq -o /dev/null -d $dbf -U $role -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
INSERT INTO items VALUES (1000, 'a name far too long for the check that s7 adds to the table', 1);
SELECT migr.revision('s7', 'sb', 'short names, in steps',
    $$CREATE TABLE item_names (id int);
      ALTER TABLE items ADD CONSTRAINT items_name_short CHECK (length(name) < 40);
      CREATE INDEX CONCURRENTLY IF NOT EXISTS items_price ON items (price);$$,
    'DROP INDEX CONCURRENTLY IF EXISTS items_price; ALTER TABLE items DROP CONSTRAINT items_name_short; DROP TABLE item_names;',
    transactional => false, create_date => '2025-01-07 00:00:00+00');
SQL
script $dbf head "$work/up5.sql"
run $dbf "$work/up5.sql"
[ "$rc" != 0 ] || fail "s7 ran over the long name:"$'\n'"$out"
grep -q 'ERROR:  check constraint "items_name_short" of relation "items" is violated by some row' <<<"$out" ||
    fail "s7 did not fail in its statement 2:"$'\n'"$out"
progress=$(psql -XAtq -d $dbf -c "SELECT revision || ' ' || statements_done || '/' || statements_total FROM migr.revision_progress")
[ "$progress" = "s7 1/3" ] || fail "progress after s7 failed: $progress"
psql -Xq -d $dbf -c "UPDATE items SET name = 'short' WHERE id = 1000"
script $dbf head "$work/up6.sql"
grep -q '^--   resumed: 1 of its 3 statements ran and were committed before$' "$work/up6.sql" ||
    fail "the new script does not say it resumes s7:"$'\n'"$(cat "$work/up6.sql")"
grep -q 'CREATE TABLE item_names' "$work/up6.sql" && fail "the new script runs s7's statement 1 again"
run $dbf "$work/up6.sql"
[ "$rc" = 0 ] || fail "the resuming script failed (status $rc):"$'\n'"$out"
grep -q 'NOTICE:  resuming the upgrade of s7 at statement 2 of 3' <<<"$out" || fail "the script did not resume s7:"$'\n'"$out"
done=$(psql -XAtq -d $dbf -c "SELECT (SELECT string_agg(c, ',') FROM migr.current() c) || ' ' || (SELECT count(*) FROM migr.revision_progress)
                                || ' ' || migr.has_index('items', 'items_price') || ' ' || migr.has_constraint('items', 'items_name_short')
                                || ' ' || (SELECT statement_no FROM migr.event WHERE revision = 's7' AND outcome = 'ok')")
[ "$done" = "s7 0 true true 3" ] || fail "after the resumed s7: current, progress rows, index, constraint, statements = $done"
echo "a non-transactional revision failed part way under a script; a new script resumed it at the failed statement"

# A non-transactional revision whose statements all ran but whose verify
# failed: a new script runs none of them again and finishes it (the
# verify, then the record)
PGPASSWORD=migr psql -Xq -o /dev/null -d $dbf -U $role -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
SELECT migr.revision('s8', 's7', 'a price index, verified',
    $$CREATE TABLE price_notes (id int);
      CREATE INDEX CONCURRENTLY IF NOT EXISTS items_price_id ON items (price, id);$$,
    'DROP INDEX CONCURRENTLY IF EXISTS items_price_id; DROP TABLE price_notes;',
    verify => $$migr.has_table('price_checked')$$,
    transactional => false, create_date => '2025-01-08 00:00:00+00');
SQL
script $dbf head "$work/up7.sql"
run $dbf "$work/up7.sql"
[ "$rc" != 0 ] || fail "s8 passed a verify that does not hold:"$'\n'"$out"
progress=$(psql -XAtq -d $dbf -c "SELECT revision || ' ' || statements_done || '/' || statements_total FROM migr.revision_progress")
[ "$progress" = "s8 2/2" ] || fail "progress after s8's verify failed: $progress"$'\n'"$out"
PGPASSWORD=migr psql -Xq -d $dbf -U $role -c "CREATE TABLE price_checked ()"
script $dbf head "$work/up8.sql"
grep -q 'CREATE TABLE price_notes' "$work/up8.sql" && fail "the new script runs s8's statement 1 again"
run $dbf "$work/up8.sql"
[ "$rc" = 0 ] || fail "the finishing script failed (status $rc):"$'\n'"$out"
grep -q 'NOTICE:  finishing the upgrade of s8: its statements ran' <<<"$out" ||
    fail "the script did not say it finishes s8:"$'\n'"$out"
done=$(psql -XAtq -d $dbf -c "SELECT (SELECT string_agg(c, ',') FROM migr.current() c) || ' ' || (SELECT count(*) FROM migr.revision_progress)
                                || ' ' || migr.has_index('items', 'items_price_id')")
[ "$done" = "s8 0 true" ] || fail "after the finished s8: current, progress rows, index = $done"
echo "a non-transactional revision whose verify failed after its statements: a new script finished it without running them again"

#!/usr/bin/env bash
# The runbook of docs/maintenance.md ("## A maintenance-window runbook") runs
# as written: its ```sql blocks, extracted from the document, run in order
# against a small history with ON_ERROR_STOP.  The window's run fails half
# way (bad data in a non-transactional revision), the recovery queries show
# the failure, and after the fix the apply block, run again, resumes and
# finishes.  The watch block runs from another session while the apply
# block's background worker builds an index, and shows the worker.  Then
# the commands of "## Offline script" generate and run the script of a
# further revision as written, and a second run of it is refused.
set -euo pipefail
cd "$(dirname "$0")/../.."
doc=${MIGR_MAINTENANCE_DOC:-docs/maintenance.md}
work=$(mktemp -d)
db=migr_maintenance
bg_pid=
cleanup() {
    if [ -n "$bg_pid" ]; then kill "$bg_pid" 2>/dev/null || true; wait "$bg_pid" 2>/dev/null || true; fi
    rm -rf "$work"
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}
trap cleanup EXIT
# block N goes to $work/N.sql
awk -v dir="$work" '/^## A maintenance-window runbook/ { s = 1; next }
                    s && /^## / { exit }
                    s && /^```sql$/ { n++; b = 1; next }
                    b && /^```$/ { b = 0; next }
                    b { print > (dir "/" n ".sql") }' "$doc"
nblocks=$(find "$work" -name '*.sql' | wc -l)
if [ "$nblocks" != 5 ]; then
    echo "expected 5 \`\`\`sql blocks under \"## A maintenance-window runbook\" in $doc, found $nblocks"; exit 1
fi
if ! grep -q 'CALL migr.apply();' "$work/3.sql"; then echo "block 3 of the runbook does not CALL migr.apply()"; exit 1; fi
# block N: run block N as written; output in out, status in rc
block() {
    if out=$(psql -X -d $db -v ON_ERROR_STOP=1 -f "$work/$1.sql" 2>&1); then rc=0; else rc=$?; fi
}

psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
# An application's table, then a history: a column (transactional), an index
# built concurrently (slow: 5 ms a row), and a backfill in steps whose
# constraint fails over one bad row
psql -Xq -o /dev/null -d $db -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE FUNCTION slow_key(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN PERFORM pg_sleep(0.005); RETURN i; END $$;
CREATE TABLE orders (id int PRIMARY KEY, customer int NOT NULL);
INSERT INTO orders SELECT g, 1 + g % 50 FROM generate_series(1, 400) g;
UPDATE orders SET customer = 0 WHERE id = 7;
CREATE EXTENSION migr;
SELECT migr.revision('w1', NULL, 'order status', 'ALTER TABLE orders ADD COLUMN status text;',
                     'ALTER TABLE orders DROP COLUMN status;', create_date => '2025-01-01 00:00:00+00');
SELECT migr.revision('w2', 'w1', 'index orders',
                     'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_slow ON orders (slow_key(id));',
                     'DROP INDEX CONCURRENTLY IF EXISTS orders_slow;', create_date => '2025-01-02 00:00:00+00');
SELECT migr.revision('w3', 'w2', 'backfill the status, then constrain the customer',
                     $$UPDATE orders SET status = 'new' WHERE status IS NULL;
                       ALTER TABLE orders ADD CONSTRAINT orders_customer_positive CHECK (customer > 0);
                       CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status ON orders (status);$$,
                     $$DROP INDEX CONCURRENTLY IF EXISTS orders_status;
                       ALTER TABLE orders DROP CONSTRAINT orders_customer_positive;$$,
                     transactional => false, create_date => '2025-01-03 00:00:00+00');
SQL

# 1. Plan: no error finding; the plan shows the non-transactional steps
block 1
if [ "$rc" != 0 ]; then echo "runbook block 1 failed:"; echo "$out"; exit 1; fi
if ! grep -q '^(0 rows)$' <<<"$out"; then echo "block 1: migr.check() has errors:"; echo "$out"; exit 1; fi
for row in '1 | w1       | upgrade   | t ' '2 | w2       | upgrade   | f ' '3 | w3       | upgrade   | f '; do
    if ! grep -qF "$row" <<<"$out"; then echo "block 1: no plan row \"$row\":"; echo "$out"; exit 1; fi
done

# 2. Review: the non-transactional revisions, the settings
block 2
if [ "$rc" != 0 ]; then echo "runbook block 2 failed:"; echo "$out"; exit 1; fi
nontxn=$(printf '%s\n' "$out" | grep -cE '^ w[23] +\| f$' || true)
if [ "$nontxn" != 2 ]; then echo "block 2 does not list w2 and w3 as non-transactional:"; echo "$out"; exit 1; fi
if ! grep -qx ' 5s' <<<"$out"; then echo "block 2: SHOW migr.lock_timeout is not the default 5s:"; echo "$out"; exit 1; fi

# 3. Apply, in the background; 4. watch it from another session while the
# worker builds w2's index
psql -X -d $db -v ON_ERROR_STOP=1 -f "$work/3.sql" >"$work/apply.out" 2>&1 &
bg_pid=$!
building=
for _ in $(seq 100); do
    building=$(psql -XAtq -d $db -c "SELECT count(*) FROM pg_stat_progress_create_index p
                                      JOIN pg_stat_activity a USING (pid) WHERE a.backend_type = 'migr worker'")
    if [ "$building" = 1 ]; then break; fi
    sleep 0.05
done
if [ "$building" != 1 ]; then echo "the worker did not build w2's index within 5 s:"; cat "$work/apply.out"; exit 1; fi
block 4
if [ "$rc" != 0 ]; then echo "runbook block 4 failed:"; echo "$out"; exit 1; fi
if ! grep -qE '\| migr worker +\| active +\|.*\| CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_slow' <<<"$out"; then
    echo "block 4 does not show the worker building the index:"; echo "$out"; exit 1
fi
if ! grep -qE '\| client backend +\| active +\|.*\| /\* migr: upgrade of w2, statement 1 \*/ CREATE INDEX CONCURRENTLY' <<<"$out"; then
    echo "block 4 does not show the CALL on w2's statement:"; echo "$out"; exit 1
fi
if ! grep -qE '^ revision +\| running +\| w2 +\| upgrade ' <<<"$out"; then
    echo "block 4: migr.progress does not show the CALL running w2:"; echo "$out"; exit 1
fi
if ! grep -qE '\| building index' <<<"$out"; then
    echo "block 4 does not show the index build's phase:"; echo "$out"; exit 1
fi
if wait "$bg_pid"; then rc=0; else rc=$?; fi
bg_pid=
out=$(cat "$work/apply.out")
# the window's run fails half way: w3's statement 2, over the bad row
if [ "$rc" = 0 ] || ! grep -q 'ERROR:  check constraint "orders_customer_positive" of relation "orders" is violated by some row' <<<"$out"; then
    echo "runbook block 3 did not fail in w3's constraint (status $rc):"; echo "$out"; exit 1
fi

# 5. Recover: the failure record and the current revision
block 5
if [ "$rc" != 0 ]; then echo "runbook block 5 failed:"; echo "$out"; exit 1; fi
if ! grep -qE '^ w3 +\| upgrade +\| failed +\| 23514 +\|.*\| +2 \| ALTER TABLE orders ADD CONSTRAINT orders_customer_positive' <<<"$out"; then
    echo "block 5 does not show w3's failure in statement 2:"; echo "$out"; exit 1
fi
if ! grep -qx ' w2' <<<"$out"; then echo "block 5: migr.current() is not w2:"; echo "$out"; exit 1; fi
progress=$(psql -XAtq -d $db -c "SELECT revision || ' ' || statements_done || '/' || statements_total FROM migr.progress")
if [ "$progress" != "w3 1/3" ]; then echo "progress after the failure: $progress"; exit 1; fi

# Fix the cause and run the apply block again: it resumes at statement 2
psql -Xq -d $db -v ON_ERROR_STOP=1 -c "UPDATE orders SET customer = 1 WHERE customer <= 0"
block 3
if [ "$rc" != 0 ]; then echo "runbook block 3, run again after the fix, failed:"; echo "$out"; exit 1; fi
if ! grep -q 'resuming the upgrade of w3 at statement 2 of 3' <<<"$out"; then
    echo "block 3 run again did not resume w3 at statement 2:"; echo "$out"; exit 1
fi
state=$(psql -XAtq -d $db -c "SELECT (SELECT string_agg(c, ',') FROM migr.current() c)
                                || ' ' || (SELECT count(*) FROM migr.progress)
                                || ' ' || (SELECT count(*) FROM pg_index WHERE indrelid = 'orders'::regclass AND indisvalid)
                                || ' ' || (SELECT count(*) FROM orders WHERE status = 'new')")
if [ "$state" != "w3 0 3 400" ]; then
    echo "after the window: current, progress rows, valid indexes, backfilled rows = $state (expected w3 0 3 400)"; exit 1
fi
block 1
if [ "$rc" != 0 ] || ! grep -q '^(0 rows)$' <<<"$out"; then
    echo "block 1 after the window:"; echo "$out"; exit 1
fi
echo "the runbook's $nblocks sql blocks ran as written: a failure half way, recovered and resumed"

# "## Offline script": its ```sh block, run as written against the database
# (PGDATABASE), generates the script of a new revision and runs it
mkdir "$work/offline"
awk '/^## Offline script/ { s = 1; next }
     s && /^## / { exit }
     s && /^```sh$/ { n++; b = 1; next }
     b && /^```$/ { b = 0; next }
     b { print > (dir "/offline" n ".sh") }' dir="$work/offline" "$doc"
if [ "$(find "$work/offline" -name 'offline*.sh' | wc -l)" != 1 ]; then
    echo "expected 1 \`\`\`sh block under \"## Offline script\" in $doc"; exit 1
fi
grep -q 'SELECT migr.script()' "$work/offline/offline1.sh" || { echo "the offline block does not call migr.script()"; exit 1; }
psql -Xq -o /dev/null -d $db -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
SELECT migr.revision('w4', 'w3', 'index the customers, once checked',
                     'CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer ON orders (customer);',
                     'DROP INDEX CONCURRENTLY IF EXISTS orders_customer;',
                     requires => $$migr.has_constraint('orders', 'orders_customer_positive')$$,
                     verify => $$migr.has_index('orders', 'orders_customer')$$,
                     create_date => '2025-01-04 00:00:00+00');
SQL
if ! out=$(cd "$work/offline" && PGDATABASE=$db bash -e offline1.sh 2>&1); then
    echo "the offline script's commands failed:"; echo "$out"; exit 1
fi
if ! grep -q "^SELECT migr.script_step(1, 'w4', 'upgrade', '" "$work/offline/upgrade.sql"; then
    echo "upgrade.sql does not run w4:"; cat "$work/offline/upgrade.sql"; exit 1
fi
state=$(psql -XAtq -d $db -c "SELECT (SELECT string_agg(c, ',') FROM migr.current() c)
                                || ' ' || (SELECT outcome FROM migr.event ORDER BY id DESC LIMIT 1)
                                || ' ' || migr.has_index('orders', 'orders_customer')")
if [ "$state" != "w4 ok true" ]; then echo "after the offline script: current, last outcome, index = $state"; exit 1; fi
if out=$(cd "$work/offline" && PGDATABASE=$db psql -X -v ON_ERROR_STOP=1 -f upgrade.sql 2>&1) ||
    ! grep -q 'is not the plan this migr script runs' <<<"$out"; then
    echo "a second run of upgrade.sql was not refused:"; echo "$out"; exit 1
fi
echo "the offline script's commands ran as written; a second run was refused"

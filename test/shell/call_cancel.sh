#!/usr/bin/env bash
# Stopping CALL migr.apply() while its background worker builds an index
# (slowly and predictably: an expression index over an IMMUTABLE function
# that sleeps 5 ms a row, 2000 rows, about 10 s):
#  - pg_cancel_backend(caller): the caller gets 57014 at once, the worker is
#    gone, the invalid index the cancelled build left is dropped before the
#    error returns, and the failure is recorded;
#  - PostgreSQL's statement_timeout on the CALL does the same;
#  - migr.statement_timeout cancels the worker's statement (57014), with
#    the same cleanup; and an ordinary statement of a transactional
#    revision, whose rollback leaves nothing behind;
#  - pg_terminate_backend(caller): the worker is stopped too, but the
#    caller cannot clean up: the invalid index stays, migr.check() reports
#    it as invalid_index, and the next CALL drops it before it builds again.
# A later CALL then completes.  Then a REINDEX CONCURRENTLY that
# migr.statement_timeout cancels: the invalid copy it leaves is dropped.
# Last, a worker whose statement traps the cancel: the caller terminates it
# after 5 s, with a WARNING, and the CALL still ends with 57014.
set -euo pipefail
db=migr_call_cancel
caller_pid=
cleanup() {
    if [ -n "$caller_pid" ]; then kill "$caller_pid" 2>/dev/null || true; wait "$caller_pid" 2>/dev/null || true; fi
    rm -f "${out_file:-}"
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}
trap cleanup EXIT
out_file=$(mktemp)
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 "$@"; }

q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE FUNCTION slow_key(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN PERFORM pg_sleep(0.005); RETURN i; END $$;
CREATE TABLE s (id int);
INSERT INTO s SELECT generate_series(1, 2000);
SELECT migr.revision('s1', NULL, 'slow index',
                     'CREATE INDEX CONCURRENTLY IF NOT EXISTS s_slow ON s (slow_key(id));',
                     'DROP INDEX CONCURRENTLY IF EXISTS s_slow;',
                     create_date => '2025-01-01 00:00:00+00');
SQL

# start_call SETTINGS...: CALL migr.apply('s1') in the background after the
# given SET commands; waits until its worker builds the index
start_call() {
    local set=() s
    for s in "$@"; do set+=(-c "$s"); done
    psql -X -d $db -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "SET application_name = 'migr_caller'" \
        "${set[@]}" -c "CALL migr.apply('s1')" >"$out_file" 2>&1 &
    caller_pid=$!
    for _ in $(seq 100); do
        if [ "$(q -c "SELECT count(*) FROM pg_stat_progress_create_index p
                        JOIN pg_stat_activity a USING (pid)
                       WHERE a.backend_type = 'migr worker' AND p.phase LIKE 'building index%'")" = 1 ]; then
            return 0
        fi
        sleep 0.1
    done
    echo "the worker did not start building the index within 10 s:"; cat "$out_file"; exit 1
}
# finish_call: wait for the background CALL; its status in rc, output in out, ms since $t0 in took
finish_call() {
    if wait "$caller_pid"; then rc=0; else rc=$?; fi
    took=$((($(date +%s%N) - t0) / 1000000))
    caller_pid=
    out=$(cat "$out_file")
}
workers() { q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'migr worker'"; }
invalid_indexes() {
    q -c "SELECT coalesce(string_agg(c.relname, ',' ORDER BY c.relname), '-')
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid"
}
check_codes() {
    q -c "SELECT coalesce(string_agg(code, ',' ORDER BY code), '-') FROM migr.check()
           WHERE severity = 'error' AND code <> 'pending'"
}
last_event() {
    q -c "SELECT revision, outcome, sqlstate, error, statement_no FROM migr.event ORDER BY id DESC LIMIT 1"
}
# cancelled WHAT EVENT_ERROR: the checks after a cancel the caller survived
cancelled() {
    local ev w inv codes
    w=$(workers)
    if [ "$rc" = 0 ]; then echo "$1: the CALL succeeded:"; echo "$out"; exit 1; fi
    if ! grep -q "^ERROR:  57014: $2" <<<"$out"; then
        echo "$1: not the error 57014 $2:"; echo "$out"; exit 1
    fi
    if [ "$took" -gt 5000 ]; then echo "$1: the caller took $took ms to return"; exit 1; fi
    if [ "$w" != 0 ]; then echo "$1: $w migr worker backends remain after the CALL returned"; exit 1; fi
    inv=$(invalid_indexes)
    if [ "$inv" != - ]; then echo "$1: invalid indexes left: $inv"; echo "$out"; exit 1; fi
    if ! grep -q 'NOTICE:  00000: dropping invalid index public.s_slow left by the failed statement' <<<"$out"; then
        echo "$1: no notice that the invalid index was dropped:"; echo "$out"; exit 1
    fi
    codes=$(check_codes)
    if [ "$codes" != - ]; then echo "$1: migr.check() errors: $codes"; exit 1; fi
    ev=$(last_event)
    if [ "$ev" != "s1|failed|57014|$2|1" ]; then echo "$1: the failure row: $ev"; exit 1; fi
    if [ "$(q -c "SELECT count(*) FROM migr.applied")" != 0 ]; then echo "$1: s1 counts as applied"; exit 1; fi
    echo "$1: 57014 after $took ms, worker gone, no invalid index, failure recorded"
}

# 1. pg_cancel_backend(caller)
start_call
t0=$(date +%s%N)
q -o /dev/null -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'migr_caller'"
finish_call
cancelled "pg_cancel_backend" "canceling statement due to user request"

# 2. PostgreSQL's statement_timeout on the CALL itself
t0=$(date +%s%N)
start_call "SET statement_timeout = '1500ms'"
finish_call
cancelled "statement_timeout" "canceling statement due to statement timeout"

# 3. migr.statement_timeout, which the worker's statement runs under
t0=$(date +%s%N)
start_call "SET migr.statement_timeout = '1500ms'"
finish_call
cancelled "migr.statement_timeout, worker" "canceling statement due to statement timeout"
if ! grep -q 'statement run at top level by a migr background worker' <<<"$out"; then
    echo "the statement timeout is not the worker's error:"; echo "$out"; exit 1
fi

# 4. migr.statement_timeout on an ordinary statement of a transactional revision
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE o (id int);
SELECT migr.revision('o1', NULL, 'slow ordinary statement',
                     'INSERT INTO o VALUES (1); SELECT pg_sleep(5);', 'DELETE FROM o;',
                     create_date => '2024-12-31 00:00:00+00');
SQL
t0=$(date +%s%N)
if out=$(psql -X -d $db -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "SET migr.statement_timeout = '500ms'" \
             -c "CALL migr.apply('o1')" 2>&1); then rc=0; else rc=$?; fi
took=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" = 0 ] || ! grep -q '^ERROR:  57014: canceling statement due to migr\.statement_timeout$' <<<"$out"; then
    echo "migr.statement_timeout did not cancel the ordinary statement (after $took ms):"; echo "$out"; exit 1
fi
if [ "$took" -gt 5000 ]; then echo "migr.statement_timeout = 500ms: the CALL took $took ms"; exit 1; fi
ev=$(q -c "SELECT revision, outcome, sqlstate, statement_no FROM migr.event ORDER BY id DESC LIMIT 1")
if [ "$ev" != "o1|failed|57014|2" ]; then echo "the failure row of o1: $ev"; exit 1; fi
if [ "$(q -c "SELECT count(*) FROM o")" != 0 ]; then echo "o1's first statement was not rolled back"; exit 1; fi
echo "migr.statement_timeout, ordinary statement: 57014 after $took ms, rolled back, failure recorded"
q -o /dev/null -c "DELETE FROM migr.migration WHERE id = 'o1'"

# 5. pg_terminate_backend(caller): the worker goes too; the invalid index
# stays until the next CALL
start_call
t0=$(date +%s%N)
q -o /dev/null -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'migr_caller'"
finish_call
if [ "$rc" = 0 ]; then echo "terminate: the CALL succeeded:"; echo "$out"; exit 1; fi
for _ in $(seq 50); do
    if [ "$(workers)" = 0 ]; then break; fi
    sleep 0.1
done
w=$(workers)
if [ "$w" != 0 ]; then echo "terminate: $w migr worker backends remain 5 s after the caller died"; exit 1; fi
inv=$(invalid_indexes)
if [ "$inv" != s_slow ]; then echo "terminate: invalid indexes: $inv (expected s_slow, which nobody could clean up)"; exit 1; fi
codes=$(check_codes)
if [ "$codes" != invalid_index ]; then echo "terminate: migr.check() errors: $codes (expected invalid_index)"; exit 1; fi
echo "terminate: the worker stopped with the caller; s_slow left invalid and reported by migr.check()"

# A later CALL, with the function fast again, drops the invalid index and
# builds it; with migr.lock_wait off, as the dead caller's migration lock is gone
q -o /dev/null -c "CREATE OR REPLACE FUNCTION slow_key(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS \$\$ BEGIN RETURN i; END \$\$"
if ! out=$(psql -X -d $db -v ON_ERROR_STOP=1 -c "SET migr.lock_wait = off" -c "CALL migr.apply('s1')" 2>&1); then
    echo "the CALL after the cancels failed:"; echo "$out"; exit 1
fi
if ! grep -q 'dropping invalid index public.s_slow so that CREATE INDEX CONCURRENTLY builds it again' <<<"$out"; then
    echo "the next CALL did not drop the invalid index first:"; echo "$out"; exit 1
fi
valid=$(q -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 's_slow'::regclass")
if [ "$valid" != t ]; then echo "s_slow after the last CALL: valid = $valid"; exit 1; fi
codes=$(check_codes)
if [ "$codes" != - ]; then echo "migr.check() errors at the end: $codes"; exit 1; fi
failed=$(q -c "SELECT string_agg(sqlstate, ',' ORDER BY id) FROM migr.event WHERE outcome = 'failed'")
if [ "$failed" != "57014,57014,57014,57014" ]; then echo "failure rows: $failed"; exit 1; fi
echo "the next CALL cleaned up and built s_slow"

# 6. A REINDEX CONCURRENTLY that migr.statement_timeout cancels leaves an
# invalid copy (s_slow_ccnew): it is dropped, the index itself stays valid
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE OR REPLACE FUNCTION slow_key(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN PERFORM pg_sleep(0.005); RETURN i; END $$;
SELECT migr.revision('s2', 's1', 'rebuild the slow index', 'REINDEX INDEX CONCURRENTLY s_slow;', 'SELECT 1;',
                     create_date => '2025-01-02 00:00:00+00');
SQL
t0=$(date +%s%N)
if out=$(psql -X -d $db -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "SET migr.statement_timeout = '1s'" \
             -c "CALL migr.apply('s2')" 2>&1); then rc=0; else rc=$?; fi
took=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" = 0 ] || ! grep -q '^ERROR:  57014: canceling statement due to statement timeout' <<<"$out"; then
    echo "the REINDEX CONCURRENTLY was not cancelled by migr.statement_timeout:"; echo "$out"; exit 1
fi
if [ "$took" -gt 5000 ]; then echo "the cancelled REINDEX CONCURRENTLY took $took ms"; exit 1; fi
inv=$(invalid_indexes)
if [ "$inv" != - ]; then echo "invalid indexes after the cancelled REINDEX CONCURRENTLY: $inv"; echo "$out"; exit 1; fi
if ! grep -q 'dropping invalid index public.s_slow_ccnew left by the failed statement' <<<"$out"; then
    echo "no notice that s_slow_ccnew was dropped:"; echo "$out"; exit 1
fi
valid=$(q -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 's_slow'::regclass")
if [ "$valid" != t ]; then echo "s_slow after the cancelled REINDEX CONCURRENTLY: valid = $valid"; exit 1; fi
echo "REINDEX CONCURRENTLY cancelled by migr.statement_timeout after $took ms: its invalid copy dropped"

# 7. A worker whose statement will not stop when cancelled (an index
# expression that traps query_canceled): after 5 s the caller terminates
# it, says so in a WARNING, and its own cancel still ends the CALL.  The
# expression spends all but microseconds of each row inside pg_sleep(),
# where the cancel is trapped: with a sleep of 5 ms per row, a cancel landing
# between rows (about one time in a hundred under load) stopped the build
# at once, and the test failed without a WARNING.
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE FUNCTION stubborn_key(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    FOR k IN 1 .. 300 LOOP
        BEGIN
            PERFORM pg_sleep(0.1);
        EXCEPTION WHEN query_canceled THEN
            NULL;
        END;
    END LOOP;
    RETURN i;
END $$;
SELECT count(*) FROM migr.stamp('s2');   -- not rebuilt again here
SELECT migr.revision('s3', 's2', 'an index build that ignores a cancel',
                     'CREATE INDEX CONCURRENTLY IF NOT EXISTS s_stubborn ON s (stubborn_key(id));',
                     'DROP INDEX CONCURRENTLY IF EXISTS s_stubborn;',
                     create_date => '2025-01-03 00:00:00+00');
SQL
psql -X -d $db -v VERBOSITY=verbose -c "SET max_parallel_maintenance_workers = 0" \
     -c "CALL migr.apply('s3')" >"$out_file" 2>&1 &
caller_pid=$!
for _ in $(seq 100); do
    if [ "$(q -c "SELECT count(*) FROM pg_stat_progress_create_index p
                    JOIN pg_stat_activity a USING (pid)
                   WHERE a.backend_type = 'migr worker' AND p.phase LIKE 'building index%'")" = 1 ]; then
        break
    fi
    sleep 0.1
done
# (while it runs, the CALL's pg_stat_activity.query is the statement it is on)
caller=$(q -c "SELECT pid FROM migr.progress WHERE kind = 'revision' AND state = 'running'")
t0=$(date +%s%N)
q -o /dev/null -c "SELECT pg_cancel_backend($caller)"
if wait "$caller_pid"; then caller_pid=; echo "the CALL was not cancelled:"; cat "$out_file"; exit 1; fi
caller_pid=
took=$((($(date +%s%N) - t0) / 1000000))
out=$(cat "$out_file")
if ! grep -q '^WARNING:  01000: background worker did not stop after a cancel request, terminating it' <<<"$out" ||
   ! grep -q '^ERROR:  57014: canceling statement due to user request' <<<"$out"; then
    echo "the stubborn worker was not terminated with a WARNING, or the CALL did not end with 57014:"; echo "$out"; exit 1
fi
if [ "$took" -lt 4500 ] || [ "$took" -gt 15000 ]; then
    echo "the cancel of a stubborn worker took $took ms (about 5 s expected)"; echo "$out"; exit 1
fi
if [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'migr worker'")" != 0 ]; then
    echo "a migr worker is left after the terminate"; exit 1
fi
echo "a worker that ignores the cancel: terminated after $took ms with a WARNING, the CALL ended with 57014"

#!/usr/bin/env bash
# CALL mode's lock retries, against a session that holds ACCESS EXCLUSIVE on
# the table a revision alters (migr.lock_timeout = 200ms, migr.lock_retries
# = 5, migr.lock_retry_delay = 100ms):
#  1. the holder commits after about a second: the CALL succeeds, and
#     migr.event has 'retry' rows (55P03, blocking_pids naming the holder)
#     before the 'ok' row;
#  2. the holder does not let go: the CALL gives up after the fifth retry
#     with 55P03 whose detail says so, leaving 5 'retry' rows and 1 'failed'
#     row, the revision not applied; a cancel while the CALL waits to retry
#     is recorded as a 'failed' row too; with the holder gone, a CALL
#     applies it;
#  3. migr.lock_wait = off: a second CALL while a first one runs fails at
#     once with 55P03, naming the first runner's process.
set -euo pipefail
db=migr_call_lockretry
bg_pid=
caller_pid=
work=$(mktemp -d)
cleanup() {
    for p in $bg_pid $caller_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}
trap cleanup EXIT
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 "$@"; }

q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE TABLE t (id int);
SELECT migr.revision('l1', NULL, 'add a column to t', 'ALTER TABLE t ADD COLUMN c1 int;',
                     'ALTER TABLE t DROP COLUMN c1;', create_date => '2025-01-01 00:00:00+00');
SQL
settings=(-c "SET migr.lock_timeout = '200ms'" -c "SET migr.lock_retries = 5"
          -c "SET migr.lock_retry_delay = '100ms'")
# call TARGET: CALL migr.apply(TARGET) under the settings; output in out, status in rc
call() {
    if out=$(psql -X -d $db -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "${settings[@]}" \
                 -c "CALL migr.apply('$1')" 2>&1); then rc=0; else rc=$?; fi
}
# hold SECONDS: a session takes ACCESS EXCLUSIVE on t for SECONDS; sets holder (its pid)
hold() {
    psql -Xq -d $db -v ON_ERROR_STOP=1 -c "SET application_name = 'migr_holder'" -c "BEGIN" \
        -c "LOCK TABLE t IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep($1)" -c "COMMIT" >/dev/null 2>&1 &
    bg_pid=$!
    for _ in $(seq 100); do
        holder=$(q -c "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                        WHERE a.application_name = 'migr_holder' AND l.relation = 't'::regclass
                          AND l.mode = 'AccessExclusiveLock' AND l.granted")
        if [ -n "$holder" ]; then return 0; fi
        sleep 0.05
    done
    echo "the holder did not get its lock within 5 s"; exit 1
}
# events REV AFTER_ID: outcome:sqlstate of REV's events after AFTER_ID, in order
events() {
    q -c "SELECT string_agg(outcome || coalesce(':' || sqlstate, ''), ',' ORDER BY id)
            FROM migr.event WHERE revision = '$1' AND id > $2"
}
# without_holder REV AFTER_ID: the retry and failed rows after AFTER_ID whose
# blocking_pids do not hold the holder's pid
without_holder() {
    q -c "SELECT count(*) FROM migr.event
           WHERE revision = '$1' AND id > $2 AND outcome IN ('retry', 'failed')
             AND NOT coalesce($holder = ANY (blocking_pids), false)"
}
last_id() { q -c "SELECT coalesce(max(id), 0) FROM migr.event"; }

# 1. the holder commits after about a second: retries, then ok
hold 1
before=$(last_id)
call l1
wait "$bg_pid" || true
bg_pid=
if [ "$rc" != 0 ]; then echo "CALL migr.apply('l1') failed though the holder committed:"; echo "$out"; exit 1; fi
ev=$(events l1 "$before")
if ! [[ "$ev" =~ ^(retry:55P03,)+ok$ ]]; then
    echo "l1's events: $ev (expected retry:55P03 rows, then ok)"; echo "$out"; exit 1
fi
if ! grep -q 'NOTICE:  00000: retrying the upgrade of l1 in 100 ms' <<<"$out"; then
    echo "no notice of the first retry:"; echo "$out"; exit 1
fi
if [ "$(q -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'c1'")" != 1 ]; then
    echo "l1 did not add its column"; exit 1
fi
missing=$(without_holder l1 "$before")
echo "holder that commits: events $ev; retry rows without the holder ($holder) in blocking_pids: $missing"
if [ "$missing" != 0 ]; then
    echo "blocking_pids of the retry rows does not name the holder $holder:"
    q -c "SELECT id, outcome, blocking_pids FROM migr.event WHERE revision = 'l1' AND id > $before ORDER BY id"
    exit 1
fi

# 2. a holder that does not let go (within the test): the CALL gives up
q -o /dev/null -c "SET client_min_messages = warning" \
  -c "SELECT migr.revision('l2', 'l1', 'add another column', 'ALTER TABLE t ADD COLUMN c2 int;',
                           'ALTER TABLE t DROP COLUMN c2;', create_date => '2025-01-02 00:00:00+00')"
hold 60
before=$(last_id)
call l2
if [ "$rc" = 0 ]; then echo "CALL migr.apply('l2') succeeded while the lock was held:"; echo "$out"; exit 1; fi
if ! grep -q '^ERROR:  55P03: ' <<<"$out"; then
    echo "CALL migr.apply('l2') did not fail with 55P03:"; echo "$out"; exit 1
fi
if ! grep -q '^DETAIL:  .*migr gave up after 5 retries (migr.lock_retries)\.$' <<<"$out"; then
    echo "the error's detail does not say it gave up after 5 retries:"; echo "$out"; exit 1
fi
ev=$(events l2 "$before")
if [ "$ev" != "retry:55P03,retry:55P03,retry:55P03,retry:55P03,retry:55P03,failed:55P03" ]; then
    echo "l2's events: $ev (expected 5 retry rows and 1 failed row)"; exit 1
fi
if [ "$(q -c "SELECT count(*) FROM migr.applied WHERE revision = 'l2'")" != 0 ]; then
    echo "l2 counts as applied after giving up"; exit 1
fi
if [ "$(q -c "SELECT string_agg(c, ',') FROM migr.current() c")" != l1 ]; then
    echo "current after giving up: not l1"; exit 1
fi
missing=$(without_holder l2 "$before")
echo "holder that stays: events $ev; rows without the holder ($holder) in blocking_pids: $missing"
if [ "$missing" != 0 ]; then
    echo "blocking_pids of the retry and failed rows does not name the holder $holder:"
    q -c "SELECT id, outcome, blocking_pids FROM migr.event WHERE revision = 'l2' AND id > $before ORDER BY id"
    exit 1
fi
# a cancel while the CALL waits to retry ends the run like a failure: a
# 'failed' row after the 'retry' row, and the error names the revision
before=$(last_id)
psql -X -d $db -v VERBOSITY=verbose -c "SET application_name = 'migr_caller'" "${settings[@]}" \
    -c "SET migr.lock_retry_delay = '10s'" -c "CALL migr.apply('l2')" >"$work/cancel.out" 2>&1 &
caller_pid=$!
for _ in $(seq 100); do
    if [ "$(q -c "SELECT count(*) FROM migr.event WHERE id > $before AND outcome = 'retry'")" = 1 ]; then break; fi
    sleep 0.05
done
t0=$(date +%s%N)
q -o /dev/null -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'migr_caller'"
if wait "$caller_pid"; then caller_pid=; echo "the cancelled CALL succeeded:"; cat "$work/cancel.out"; exit 1; fi
caller_pid=
took=$((($(date +%s%N) - t0) / 1000000))
out=$(cat "$work/cancel.out")
if ! grep -q '^ERROR:  57014: canceling statement due to user request' <<<"$out"; then
    echo "the CALL cancelled while waiting to retry did not fail with 57014:"; echo "$out"; exit 1
fi
if [ "$took" -gt 2000 ]; then echo "the CALL cancelled while waiting to retry took $took ms to return"; exit 1; fi
ev=$(events l2 "$before")
if [ "$ev" != "retry:55P03,failed:57014" ]; then
    echo "l2's events after a cancel while waiting to retry: $ev (expected retry:55P03,failed:57014)"; echo "$out"; exit 1
fi
if ! grep -q 'migr revision "l2" (upgrade), waiting to retry' <<<"$out"; then
    echo "the cancel's error does not name the revision:"; echo "$out"; exit 1
fi
echo "cancelled while waiting to retry: 57014 after $took ms, recorded as failed"
q -o /dev/null -c "SELECT pg_terminate_backend($holder)"
wait "$bg_pid" || true
bg_pid=
call l2
if [ "$rc" != 0 ]; then echo "CALL migr.apply('l2') failed with the holder gone:"; echo "$out"; exit 1; fi
if [ "$(q -c "SELECT string_agg(c, ',') FROM migr.current() c")" != l2 ]; then
    echo "current after the holder went: not l2"; exit 1
fi
echo "gave up after 5 retries, applied once the holder was gone"

# 3. migr.lock_wait = off: a second runner fails at once, naming the first
q -o /dev/null -c "SET client_min_messages = warning" \
  -c "SELECT migr.revision('l3', 'l2', 'a slow one', 'SELECT pg_sleep(3);', 'SELECT 1;',
                           create_date => '2025-01-03 00:00:00+00')"
psql -Xq -d $db -c "SET application_name = 'migr_first'" -c "CALL migr.apply('l3')" >/dev/null 2>&1 &
bg_pid=$!
first=
for _ in $(seq 100); do
    first=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'migr_first' AND wait_event = 'PgSleep'")
    if [ -n "$first" ]; then break; fi
    sleep 0.05
done
if [ -z "$first" ]; then echo "the first runner did not start"; exit 1; fi
t0=$(date +%s%N)
if out=$(psql -X -d $db -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "SET migr.lock_wait = off" \
             -c "CALL migr.apply()" 2>&1); then rc=0; else rc=$?; fi
took=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" = 0 ]; then echo "the second runner succeeded while the first ran:"; echo "$out"; exit 1; fi
if ! grep -qx "ERROR:  55P03: another migr runner holds the migration lock: process $first" <<<"$out"; then
    echo "the second runner's error does not name the first runner, process $first:"; echo "$out"; exit 1
fi
if [ "$took" -gt 1000 ]; then echo "the second runner took $took ms to fail"; exit 1; fi
if ! wait "$bg_pid"; then bg_pid=; echo "the first runner failed"; exit 1; fi
bg_pid=
if [ "$(q -c "SELECT string_agg(c, ',') FROM migr.current() c")" != l3 ]; then
    echo "current after the first runner: not l3"; exit 1
fi
echo "migr.lock_wait = off: the second runner failed in $took ms, naming process $first"

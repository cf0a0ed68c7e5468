#!/usr/bin/env bash
# Batch jobs seen from another session, and stopped from outside:
#  1. while CALL migr.batch_update() runs, migr.progress (read by another
#     session) shows it running with rows done, the total estimate, a rate
#     and the last key, and pg_stat_activity.query shows the batch; NOTICEs
#     report progress every migr.progress_interval;
#  2. the backend is terminated mid-run: the view shows the job
#     interrupted, exactly the committed batches are done, and the same call
#     resumes after them: in the end every row was updated once (the SET is
#     not idempotent: v = v + 1);
#  3. the server crashes (immediate shutdown) mid-run: the same;
#  4. a second session calling the same job is refused (55P03, naming the
#     process running it);
#  5. a batch that cannot get a row lock within migr.lock_timeout is
#     retried after a wait and succeeds once the lock is gone; with no
#     retries left the job fails with 55P03 and is recorded as failed;
#     in a transaction block the batch is not retried;
#  6. migr.progress shows the revision a CALL migr.apply() is running;
#  7. DROP EXTENSION waits while a job runs (between its commits too).
set -euo pipefail
. "$(dirname "$0")/lib/restart.bash"
db=migr_batch_progress
bg_pid=
cleanup() {
    if [ -n "$bg_pid" ]; then kill "$bg_pid" 2>/dev/null || true; wait "$bg_pid" 2>/dev/null || true; fi
    rm -f "${out_file:-}"
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}
trap cleanup EXIT
out_file=$(mktemp)
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL DEFAULT 0, pad text);
INSERT INTO items (id, pad) SELECT g, repeat('x', 50) FROM generate_series(1, 20000) g;
ANALYZE items;
SQL

# the job under test: 1000 rows a batch, a pause after each
job="CALL migr.batch_update('items', 'v = v + 1', batch_size => 1000, target_time => '0', pause => '400ms', name => 'items_v')"

# wait_for SQL: until SQL returns t (at most 30 s)
wait_for() {
    for _ in $(seq 300); do
        if [ "$(q -c "$1")" = t ]; then return 0; fi
        sleep 0.1
    done
    fail "timed out waiting for: $1"
}

# counts: rows updated once, not at all, more than once
counts() { q -c "SELECT count(*) FILTER (WHERE v = 1) || ' ' || count(*) FILTER (WHERE v = 0) || ' ' || count(*) FILTER (WHERE v > 1) FROM items"; }

# --- 1. progress from another session ---------------------------------------
psql -X -d $db -c "SET migr.progress_interval = '100ms'" -c "$job" >"$out_file" 2>&1 &
bg_pid=$!
wait_for "SELECT EXISTS (SELECT FROM migr.progress WHERE job = 'items_v' AND state = 'running' AND rows_done >= 2000)"
row=$(q -F' ' -c "SELECT kind, state, relation, rows_total, rows_done % 1000 = 0, percent > 0, rows_per_second > 0,
                          eta > interval '0', batch_size, last_key[1]::bigint = rows_done,
                          query LIKE '/* migr batch job items_v: batch % UPDATE'
                     FROM migr.progress WHERE job = 'items_v'")
if [ "$row" != "batch running public.items 20000 t t t t 1000 t t" ]; then fail "migr.progress while running: $row"; fi
pid=$(q -c "SELECT pid FROM migr.progress WHERE job = 'items_v'")
activity=$(q -c "SELECT query FROM pg_stat_activity WHERE pid = $pid")
if [[ "$activity" != "/* migr batch job items_v: batch "* ]]; then fail "pg_stat_activity.query: $activity"; fi

# --- 2. terminate the backend mid-run ---------------------------------------
q -c "SELECT pg_terminate_backend($pid)" >/dev/null
wait "$bg_pid" || true
bg_pid=
if ! grep -q 'NOTICE:  batch job "items_v": [0-9]* of about 20000 rows ([0-9]*%), [0-9]* rows/s, about .* left' "$out_file"; then
    cat "$out_file"; fail "no progress NOTICE before the termination"
fi
wait_for "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $pid)"
row=$(q -F' ' -c "SELECT state, rows_done FROM migr.progress WHERE job = 'items_v'")
done_rows=${row#* }
if [ "${row% *}" != interrupted ] || [ "$done_rows" -lt 2000 ] || [ "$done_rows" -ge 20000 ]; then
    fail "migr.progress after the termination: $row"
fi
# exactly the committed batches are done: the job's row and the table agree
if [ "$(counts)" != "$done_rows $((20000 - done_rows)) 0" ]; then fail "after the termination: $(counts), job says $done_rows"; fi
out=$(psql -X -d $db -v ON_ERROR_STOP=1 -c "SET migr.progress_interval = 0" -c "${job/400ms/0}" 2>&1)
if ! grep -q "resuming batch job \"items_v\" after key ($done_rows): $done_rows rows done in $((done_rows / 1000)) batches" <<<"$out"; then
    fail "no resume after the termination: $out"
fi
if [ "$(counts)" != "20000 0 0" ]; then fail "after the resumed run: $(counts)"; fi
if [ "$(q -c "SELECT state || ' ' || rows_done || ' ' || batches_done FROM migr.batch_job WHERE name = 'items_v'")" != "done 20000 20" ]; then
    fail "job after the resumed run: $(q -c "SELECT * FROM migr.batch_job WHERE name = 'items_v'")"
fi
if [ "$(q -c "SELECT count(*) FROM migr.progress")" != 0 ]; then fail "migr.progress lists a finished job"; fi

# --- 3. a crash mid-run -----------------------------------------------------
restart_prepare $db
q -c "UPDATE items SET v = 0" >/dev/null
psql -X -d $db -c "${job%)}, restart => true)" >"$out_file" 2>&1 &
bg_pid=$!
wait_for "SELECT EXISTS (SELECT FROM migr.progress WHERE job = 'items_v' AND state = 'running' AND rows_done >= 3000)"
restart_server immediate
wait "$bg_pid" || true
bg_pid=
row=$(q -F' ' -c "SELECT state, rows_done FROM migr.progress WHERE job = 'items_v'")
done_rows=${row#* }
if [ "${row% *}" != interrupted ] || [ "$done_rows" -lt 3000 ]; then fail "migr.progress after the crash: $row"; fi
if [ "$(counts)" != "$done_rows $((20000 - done_rows)) 0" ]; then fail "after the crash: $(counts), job says $done_rows"; fi
out=$(psql -X -d $db -v ON_ERROR_STOP=1 -c "${job/400ms/0}" 2>&1)
if ! grep -q "resuming batch job \"items_v\" after key ($done_rows)" <<<"$out"; then fail "no resume after the crash: $out"; fi
if [ "$(counts)" != "20000 0 0" ]; then fail "after the run resumed after the crash: $(counts)"; fi

# --- 4. the same job in two sessions ----------------------------------------
q -c "UPDATE items SET v = 0" >/dev/null
psql -X -d $db -c "${job%)}, restart => true)" >"$out_file" 2>&1 &
bg_pid=$!
wait_for "SELECT EXISTS (SELECT FROM migr.progress WHERE job = 'items_v' AND state = 'running' AND rows_done >= 1000)"
pid=$(q -c "SELECT pid FROM migr.progress WHERE job = 'items_v'")
if out=$(psql -X -d $db -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "$job" 2>&1); then fail "a second runner of the same job was not refused: $out"; fi
if ! grep -q "ERROR:  55P03: batch job \"items_v\" is running in another session" <<<"$out" ||
   ! grep -q "DETAIL:  Process $pid is running it." <<<"$out"; then
    fail "second runner: $out"
fi
wait "$bg_pid"
bg_pid=
if [ "$(counts)" != "20000 0 0" ]; then fail "after two sessions: $(counts)"; fi

# --- 5. a row lock held by another session: retried, then given up ---------
q -c "UPDATE items SET v = 0" >/dev/null
# hold row 5500 for 2 s
psql -X -d $db -c "BEGIN" -c "SELECT FROM items WHERE id = 5500 FOR UPDATE" -c "SELECT pg_sleep(2)" -c "COMMIT" >/dev/null 2>&1 &
bg_pid=$!
wait_for "SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'items' AND l.mode = 'RowShareLock' AND l.pid <> pg_backend_pid())"
out=$(psql -X -d $db -v ON_ERROR_STOP=1 -c "SET migr.lock_timeout = '200ms'" -c "SET migr.lock_retry_delay = '500ms'" \
      -c "CALL migr.batch_update('items', 'v = v + 1', batch_size => 1000, target_time => '0', name => 'items_locked')" 2>&1) ||
    fail "the job did not get through the lock: $out"
wait "$bg_pid"
bg_pid=
if ! grep -q 'NOTICE:  retrying batch 6 of batch job "items_locked" in 500 ms: canceling statement due to lock timeout' <<<"$out"; then
    fail "no retry NOTICE: $out"
fi
if [ "$(counts)" != "20000 0 0" ]; then fail "after the retried batch: $(counts)"; fi
# no retries: the job fails with 55P03, recorded, and the view says so
q -c "UPDATE items SET v = 0" >/dev/null
psql -X -d $db -c "BEGIN" -c "SELECT FROM items WHERE id = 5500 FOR UPDATE" -c "SELECT pg_sleep(2)" -c "COMMIT" >/dev/null 2>&1 &
bg_pid=$!
wait_for "SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'items' AND l.mode = 'RowShareLock' AND l.pid <> pg_backend_pid())"
if out=$(psql -X -d $db -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "SET migr.lock_timeout = '200ms'" -c "SET migr.lock_retries = 0" \
      -c "CALL migr.batch_update('items', 'v = v + 1', batch_size => 1000, target_time => '0', name => 'items_locked', restart => true)" 2>&1); then
    fail "the job ran through a held lock with no retries: $out"
fi
wait "$bg_pid"
bg_pid=
if ! grep -q "ERROR:  55P03: canceling statement due to lock timeout" <<<"$out"; then fail "no lock timeout: $out"; fi
row=$(q -F' ' -c "SELECT p.state, j.sqlstate, p.rows_done FROM migr.progress p JOIN migr.batch_job j ON j.name = p.job WHERE p.job = 'items_locked'")
if [ "$row" != "failed 55P03 5000" ]; then fail "the failed job: $row"; fi
if [ "$(counts)" != "5000 15000 0" ]; then fail "after the failed job: $(counts)"; fi

# in a transaction block a batch is not retried: the lock timeout ends the
# job and the transaction, as any statement of migr.upgrade() does
psql -X -d $db -c "BEGIN" -c "SELECT FROM items WHERE id = 5500 FOR UPDATE" -c "SELECT pg_sleep(2)" -c "COMMIT" >/dev/null 2>&1 &
bg_pid=$!
wait_for "SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'items' AND l.mode = 'RowShareLock' AND l.pid <> pg_backend_pid())"
if out=$(psql -X -d $db -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "SET migr.lock_timeout = '200ms'" \
      -c "BEGIN" -c "CALL migr.batch_update('items', 'v = v + 1', batch_size => 1000, target_time => '0', name => 'items_in_block')" 2>&1); then
    fail "the job in a transaction block ran through a held lock: $out"
fi
wait "$bg_pid"
bg_pid=
if grep -q "retrying" <<<"$out" || ! grep -q "ERROR:  55P03: canceling statement due to lock timeout" <<<"$out"; then
    fail "the job in a transaction block: $out"
fi
if [ "$(q -c "SELECT count(*) FROM migr.batch_job WHERE name = 'items_in_block'")" != 0 ]; then fail "the rolled-back job left a row"; fi

# --- 6. the revision a CALL migr.apply() runs -------------------------------
q -o /dev/null <<'SQL'
SELECT migr.revision('p1', NULL, 'quick', 'CREATE TABLE p1 ();', 'DROP TABLE p1;');
SELECT migr.revision('p2', 'p1', 'slow', 'CREATE TABLE p2 (); SELECT pg_sleep(3);', 'DROP TABLE p2;');
SELECT migr.revision('p3', 'p2', 'quick', 'CREATE TABLE p3 ();', 'DROP TABLE p3;');
SQL
psql -X -d $db -c "CALL migr.apply()" >"$out_file" 2>&1 &
bg_pid=$!
wait_for "SELECT EXISTS (SELECT FROM migr.progress WHERE kind = 'revision' AND revision = 'p2')"
row=$(q -F' ' -c "SELECT kind, state, revision, direction, query LIKE '/* migr: upgrade of p2, statement 2 */ SELECT pg_sleep(3)%'
                    FROM migr.progress WHERE kind = 'revision'")
if [ "$row" != "revision running p2 upgrade t" ]; then fail "migr.progress during CALL migr.apply(): $row"; fi
wait "$bg_pid"
bg_pid=
if [ "$(q -c "SELECT count(*) FROM migr.progress WHERE kind = 'revision'")" != 0 ]; then
    fail "migr.progress after the CALL: $(q -c "SELECT * FROM migr.progress")"
fi
if [ "$(q -c "SELECT count(*) FROM migr.run")" != 0 ]; then fail "migr.run after the CALL: $(q -c "SELECT * FROM migr.run")"; fi
# --- 7. DROP EXTENSION waits for a running job ------------------------------
psql -X -d $db -c "CALL migr.batch_update('items', 'v = v + 1', batch_size => 5000, target_time => '0', pause => '700ms', name => 'items_drop')" >"$out_file" 2>&1 &
bg_pid=$!
wait_for "SELECT EXISTS (SELECT FROM migr.progress WHERE job = 'items_drop' AND state = 'running')"
if out=$(psql -X -d $db -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "SET lock_timeout = '1s'" -c "DROP EXTENSION migr" 2>&1); then
    fail "DROP EXTENSION did not wait for the running job: $out"
fi
if ! grep -q "ERROR:  55P03: canceling statement due to lock timeout" <<<"$out"; then fail "DROP EXTENSION: $out"; fi
if ! wait "$bg_pid"; then bg_pid=; cat "$out_file"; fail "the job failed beside DROP EXTENSION"; fi
bg_pid=
if ! grep -q 'batch job "items_drop" finished: 20000 rows in 4 batches' "$out_file"; then cat "$out_file"; fail "items_drop did not finish"; fi
echo "batch_progress: ok"

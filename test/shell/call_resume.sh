#!/usr/bin/env bash
# A non-transactional revision (transactional => false) whose statements are
# not idempotent: each logs one row.  Three ways a run stops part way, and
# each time the next CALL resumes at the statement that did not finish, so
# that every statement runs exactly once in the end:
#  1. statement 3 fails; after the fix the re-run resumes at 3;
#  2. the caller is terminated (pg_terminate_backend) while statement 2
#     sleeps: the migration lock goes with the session (a CALL with
#     migr.lock_wait off starts at once), migr.progress says 1 done, and
#     the next CALL resumes at 2;
#  3. the server restarts (immediate shutdown: a crash) while statement 2
#     sleeps: the progress row survives, and the next CALL resumes at 2.
# The restart is test/shell/lib/restart.bash's.
set -euo pipefail
. "$(dirname "$0")/lib/restart.bash"
db=migr_call_resume
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

# step(rev, k) logs that statement k of rev ran, then sleeps if nap says so,
# then fails if fail says so (the failure rolls its log row back)
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE TABLE log (id serial, rev text, stmt int, pid int);
CREATE TABLE nap (rev text, stmt int, secs float8);
CREATE TABLE fail (rev text, stmt int);
CREATE FUNCTION step(r text, k int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO log (rev, stmt, pid) VALUES (r, k, pg_backend_pid());
    PERFORM pg_sleep(secs) FROM nap WHERE rev = r AND stmt = k;
    IF EXISTS (SELECT FROM fail WHERE rev = r AND stmt = k) THEN
        RAISE EXCEPTION 'statement % of % fails', k, r;
    END IF;
END $$;
SELECT migr.revision(r, lag(r) OVER (ORDER BY r), 'four logged statements',
                     format('SELECT step(%1$L, 1); SELECT step(%1$L, 2); SELECT step(%1$L, 3); SELECT step(%1$L, 4);', r),
                     format('DELETE FROM log WHERE rev = %L;', r),
                     transactional => false, create_date => '2025-01-01'::timestamptz + i * interval '1 day')
  FROM (VALUES (1, 'r1'), (2, 'r2'), (3, 'r3')) v(i, r);
INSERT INTO fail VALUES ('r1', 3);
INSERT INTO nap VALUES ('r2', 2, 60), ('r3', 2, 60);
SQL

# call TARGET [SETTING]: CALL migr.apply(TARGET); output in out, status in rc
call() {
    local set=()
    if [ $# -gt 1 ]; then set=(-c "$2"); fi
    if out=$(psql -X -d $db -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "${set[@]}" -c "CALL migr.apply('$1')" 2>&1); then
        rc=0
    else
        rc=$?
    fi
}
# ran REV: the statements of REV that the log holds, in order (e.g. 1,2,3,4)
ran() { q -c "SELECT coalesce(string_agg(stmt::text, ',' ORDER BY id), '-') FROM log WHERE rev = '$1'"; }
progress() { q -c "SELECT coalesce(string_agg(revision || ' ' || statements_done || '/' || statements_total, ','), '-') FROM migr.progress"; }
current() { q -c "SELECT coalesce(string_agg(c, ','), '-') FROM migr.current() c"; }
# start_call REV: CALL migr.apply(REV) in the background; waits until its
# statement 2 sleeps
start_call() {
    psql -X -d $db -v VERBOSITY=verbose -c "SET application_name = 'migr_caller'" \
        -c "CALL migr.apply('$1')" >"$out_file" 2>&1 &
    caller_pid=$!
    for _ in $(seq 100); do
        if [ "$(q -c "SELECT count(*) FROM pg_stat_activity
                       WHERE application_name = 'migr_caller' AND wait_event = 'PgSleep'")" = 1 ]; then
            return 0
        fi
        sleep 0.1
    done
    echo "the CALL of $1 did not reach its sleeping statement 2 within 10 s:"; cat "$out_file"; exit 1
}

# 1. statement 3 fails; fixed, the re-run resumes at 3
call r1
if [ "$rc" = 0 ] || ! grep -q '^ERROR:  P0001: statement 3 of r1 fails' <<<"$out"; then
    echo "CALL migr.apply('r1') did not fail in statement 3:"; echo "$out"; exit 1
fi
ev=$(q -c "SELECT revision, outcome, sqlstate, statement_no, statement FROM migr.event ORDER BY id DESC LIMIT 1")
if [ "$ev" != "r1|failed|P0001|3|SELECT step('r1', 3)" ]; then echo "r1's failure row: $ev"; exit 1; fi
p=$(progress)
if [ "$p" != "r1 2/4" ]; then echo "progress after r1 failed: $p"; exit 1; fi
if [ "$(ran r1)" != "1,2" ]; then echo "r1 statements that ran before the fix: $(ran r1)"; exit 1; fi
q -c "DELETE FROM fail"
call r1
if [ "$rc" != 0 ]; then echo "the re-run of r1 failed:"; echo "$out"; exit 1; fi
if ! grep -q 'resuming the upgrade of r1 at statement 3 of 4' <<<"$out"; then
    echo "the re-run did not resume r1 at statement 3:"; echo "$out"; exit 1
fi
if [ "$(ran r1)" != "1,2,3,4" ]; then echo "r1 statements run: $(ran r1) (each exactly once expected)"; exit 1; fi
if [ "$(progress)" != - ] || [ "$(current)" != r1 ]; then
    echo "after r1: progress $(progress), current $(current)"; exit 1
fi
echo "failure at statement 3: resumed at 3, each statement ran once"

# 2. the caller is terminated while statement 2 sleeps
start_call r2
caller=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'migr_caller'")
q -o /dev/null -c "SELECT pg_terminate_backend($caller)"
if wait "$caller_pid"; then caller_pid=; echo "the terminated CALL succeeded:"; cat "$out_file"; exit 1; fi
caller_pid=
for _ in $(seq 50); do
    if [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE pid = $caller")" = 0 ]; then break; fi
    sleep 0.1
done
locks=$(q -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = (1835624306::bigint & 4294967295)::oid")
if [ "$locks" != 0 ]; then echo "the migration lock is still held after the caller died"; exit 1; fi
p=$(progress)
if [ "$p" != "r2 1/4" ]; then echo "progress after the caller died: $p (expected r2 1/4)"; exit 1; fi
if [ "$(ran r2)" != 1 ]; then echo "r2 statements committed when the caller died: $(ran r2)"; exit 1; fi
q -c "DELETE FROM nap WHERE rev = 'r2'"
call r2 "SET migr.lock_wait = off"
if [ "$rc" != 0 ]; then echo "the CALL after the caller died failed:"; echo "$out"; exit 1; fi
if ! grep -q 'resuming the upgrade of r2 at statement 2 of 4' <<<"$out"; then
    echo "the next CALL did not resume r2 at statement 2:"; echo "$out"; exit 1
fi
if [ "$(ran r2)" != "1,2,3,4" ]; then echo "r2 statements run: $(ran r2) (each exactly once expected)"; exit 1; fi
if [ "$(progress)" != - ] || [ "$(current)" != r2 ]; then
    echo "after r2: progress $(progress), current $(current)"; exit 1
fi
echo "caller terminated in statement 2: lock released, resumed at 2, each statement ran once"

# 3. the server restarts while statement 2 sleeps
restart_prepare $db
start_call r3
restart_server immediate
if wait "$caller_pid"; then caller_pid=; echo "the CALL survived the restart:"; cat "$out_file"; exit 1; fi
caller_pid=
p=$(progress)
if [ "$p" != "r3 1/4" ]; then echo "progress after the restart: $p (expected r3 1/4)"; exit 1; fi
if [ "$(ran r3)" != 1 ]; then echo "r3 statements committed before the restart: $(ran r3)"; exit 1; fi
q -c "DELETE FROM nap"
call r3
if [ "$rc" != 0 ]; then echo "the CALL after the restart failed:"; echo "$out"; exit 1; fi
if ! grep -q 'resuming the upgrade of r3 at statement 2 of 4' <<<"$out"; then
    echo "the CALL after the restart did not resume r3 at statement 2:"; echo "$out"; exit 1
fi
if [ "$(ran r3)" != "1,2,3,4" ]; then echo "r3 statements run: $(ran r3) (each exactly once expected)"; exit 1; fi
if [ "$(progress)" != - ] || [ "$(current)" != r3 ]; then
    echo "after r3: progress $(progress), current $(current)"; exit 1
fi
echo "server restarted in statement 2 (postmaster $postmaster_before -> $postmaster, $bindir/pg_ctl as $owner): resumed at 2, each statement ran once"

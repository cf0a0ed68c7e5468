#!/usr/bin/env bash
# A statement that must run at top level needs a background worker slot.
# With max_worker_processes = 1, taken by the logical replication launcher,
# there is none: CALL migr.apply() fails with 53400 and a hint about
# max_worker_processes, the failure is recorded and nothing is half-done;
# with the setting back, the next CALL applies the revision.  The restarts
# are test/shell/lib/restart.bash's.
set -euo pipefail
. "$(dirname "$0")/lib/restart.bash"
db=migr_call_slots
cleanup() {
    psql -Xq -d postgres -c "ALTER SYSTEM RESET max_worker_processes" >/dev/null 2>&1 || true
    if [ -n "${datadir:-}" ] && [ "$(psql -XAtq -d postgres -c "SHOW max_worker_processes" 2>/dev/null)" = 1 ]; then
        restart_server fast || true
    fi
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}
trap cleanup EXIT
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 "$@"; }
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE TABLE t (k int);
SELECT migr.revision('w1', NULL, 'index', 'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_k ON t (k);',
                     'DROP INDEX CONCURRENTLY IF EXISTS t_k;');
SQL
restart_prepare $db
q -c "ALTER SYSTEM SET max_worker_processes = 1"
restart_server fast
if [ "$(q -c "SHOW max_worker_processes")" != 1 ]; then echo "max_worker_processes is not 1 after the restart"; exit 1; fi
# the launcher may take a moment to claim its slot
for _ in $(seq 50); do
    if [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'logical replication launcher'")" = 1 ]; then break; fi
    sleep 0.1
done
if out=$(psql -X -d $db -v VERBOSITY=verbose -c "CALL migr.apply()" 2>&1); then
    echo "CALL migr.apply() ran a top-level statement without a free worker slot:"; echo "$out"; exit 1
fi
if ! grep -q '^ERROR:  53400: out of background worker slots' <<<"$out" ||
   ! grep -q '^HINT:  .*max_worker_processes' <<<"$out"; then
    echo "no free slot did not give 53400 with a hint about max_worker_processes:"; echo "$out"; exit 1
fi
rec=$(q -c "SELECT revision || ' ' || outcome || ' ' || sqlstate || ' ' || statement_no FROM migr.event ORDER BY id DESC LIMIT 1")
if [ "$rec" != "w1 failed 53400 1" ]; then echo "the failure record: $rec"; exit 1; fi
if [ "$(q -c "SELECT count(*) FROM migr.progress") $(q -c "SELECT count(*) FROM migr.applied")" != "0 0" ]; then
    echo "a failed first statement left progress or an applied row"; exit 1
fi
q -c "ALTER SYSTEM RESET max_worker_processes"
restart_server fast
if ! out=$(psql -X -d $db -c "CALL migr.apply()" 2>&1); then
    echo "CALL migr.apply() failed with the worker slots back:"; echo "$out"; exit 1
fi
if [ "$(q -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_k'::regclass")" != t ]; then
    echo "t_k is not valid"; exit 1
fi
echo "no free worker slot: 53400 with the hint, recorded; applied once the slots were back"

#!/usr/bin/env bash
# Batch jobs seen from other sessions, beside test/shell/batch_progress.sh
# (sql/batch_attack.sql has the rest):
#  1. a role with no rights at all sees a running job in migr.progress;
#  2. with track_activity_query_size above 1 kB, a per-batch statement
#     longer than 1 kB with non-ASCII characters is cut at a character
#     boundary in pg_stat_activity.query, so that migr.progress stays
#     readable to a client whose encoding is not the server's (half a
#     character made every read of it fail).  Needs a restart with the
#     setting, and one without it at the end (test/shell/lib/restart.bash).
set -euo pipefail
. "$(dirname "$0")/lib/restart.bash"
db=migr_batch_attack
job_pid=
set_size=
cleanup() {
    if [ -n "$job_pid" ]; then kill "$job_pid" 2>/dev/null || true; wait "$job_pid" 2>/dev/null || true; fi
    if [ -n "$set_size" ]; then
        psql -Xq -d postgres -c "ALTER SYSTEM RESET track_activity_query_size" || true
        restart_server fast || true
    fi
    rm -f "${out_file:-}"
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
         -c "DROP ROLE IF EXISTS regress_batch_watcher"
}
trap cleanup EXIT
out_file=$(mktemp)
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 "$@"; }

# nap(id): 5 ms per row, so that a batch of 20 rows takes 100 ms
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO t (id) SELECT generate_series(1, 1000);
CREATE FUNCTION nap(int) RETURNS int LANGUAGE sql AS 'SELECT 0 FROM pg_sleep(0.005)';
CREATE ROLE regress_batch_watcher;
SQL

# start_job SQL: run it in the background; waits until its job shows as
# running in migr.progress, with a batch committed
start_job() {
    psql -X -d $db -v ON_ERROR_STOP=1 -c "SET migr.progress_interval = 0" -c "$1" >"$out_file" 2>&1 &
    job_pid=$!
    for _ in $(seq 100); do
        if [ "$(q -c "SELECT count(*) FROM migr.progress WHERE state = 'running' AND rows_done > 0")" = 1 ]; then
            return 0
        fi
        sleep 0.1
    done
    echo "the job did not show as running with a batch done within 10 s:"; cat "$out_file"; exit 1
}
job="CALL migr.batch_update('t', 'v = v + 1 + nap(id)', batch_size => 20, target_time => '0', name => 'slow')"

# 1. an unprivileged role watches the job in migr.progress
start_job "$job"
seen=$(q -c "SET ROLE regress_batch_watcher" \
         -c "SELECT kind || ' ' || state || ' ' || job || ' ' || (rows_done > 0) || ' ' || (batch_size = 20)
               FROM migr.progress")
if [ "$seen" != "batch running slow true true" ]; then
    echo "migr.progress as an unprivileged role: $seen"; exit 1
fi
pid=$(q -c "SELECT pid FROM migr.progress WHERE job = 'slow'")
q -o /dev/null -c "SELECT pg_cancel_backend($pid)"
wait "$job_pid" || true
job_pid=
echo "migr.progress shows a running job to an unprivileged role"

# 2. a long per-batch statement with non-ASCII characters in pg_stat_activity
restart_prepare $db
set_size=1
q -o /dev/null -c "ALTER SYSTEM SET track_activity_query_size = 4096"
restart_server fast
# the statement shown is cut after 1023 bytes: one of two paddings a byte
# apart cuts a two-byte character in half
for pad in 0 1; do
    sql=$(python3 -c "print('UPDATE t SET v = v + nap(id) WHERE id BETWEEN \$1 AND \$2 /* ' + 'x' * $pad + 'é' * 600 + ' */')")
    start_job "CALL migr.batch('t', \$q\$$sql\$q\$, batch_size => 20, target_time => '0', name => 'mb$pad')"
    if ! out=$(PGCLIENTENCODING=LATIN1 psql -XAtq -d $db -v ON_ERROR_STOP=1 \
                  -c "SELECT octet_length(convert_to(query, 'UTF8')) FROM migr.progress WHERE job = 'mb$pad'" 2>&1); then
        echo "migr.progress is unreadable in LATIN1 while the job runs (padding $pad):"; echo "$out"; exit 1
    fi
    if [ "$out" -lt 1000 ] || [ "$out" -gt 1023 ]; then
        echo "the statement shown is $out bytes long (padding $pad)"; exit 1
    fi
    pid=$(q -c "SELECT pid FROM migr.progress WHERE job = 'mb$pad'")
    q -o /dev/null -c "SELECT pg_cancel_backend($pid)"
    wait "$job_pid" || true
    job_pid=
done
echo "a statement of 1.2 kB in pg_stat_activity is cut at a character boundary"

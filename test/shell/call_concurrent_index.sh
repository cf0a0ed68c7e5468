#!/usr/bin/env bash
# CALL migr.apply() builds an index with CREATE INDEX CONCURRENTLY, and
# CALL migr.revert() drops it with DROP INDEX CONCURRENTLY, while another
# session writes to the table the whole time.  Neither run deadlocks (the
# caller holds no snapshot while its background worker builds), the index is
# valid after the apply and gone after the revert, and no write waits for
# the build: the writer's slowest statement stays far below the build time,
# and it kept writing while the index was being built.  Then the worker's
# NOTICE reaches the client, with the context line that names the worker.
set -euo pipefail
db=migr_call_cic
work=$(mktemp -d)
writer_pid=
cleanup() {
    rm -f "$work/writing"
    if [ -n "$writer_pid" ]; then kill "$writer_pid" 2>/dev/null || true; wait "$writer_pid" 2>/dev/null || true; fi
    rm -rf "$work"
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
}
trap cleanup EXIT
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 "$@"; }

# An expression index over an IMMUTABLE function that sleeps 5 ms a row:
# over 300 rows, and the rows written meanwhile, its build takes a few
# seconds on any machine
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE FUNCTION slow_v(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN PERFORM pg_sleep(0.005); RETURN v; END $$;
CREATE TABLE t (id bigserial PRIMARY KEY, v int NOT NULL,
                written_at timestamptz NOT NULL DEFAULT clock_timestamp());
INSERT INTO t (v) SELECT g FROM generate_series(1, 300) g;
VACUUM ANALYZE t;
SELECT migr.revision('i1', NULL, 'index t by slow_v(v)',
                     'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_v_slow ON t (slow_v(v));',
                     'DROP INDEX CONCURRENTLY IF EXISTS t_v_slow;',
                     create_date => '2025-01-01 00:00:00+00');
SQL

# The writer: one session, an INSERT and an UPDATE by primary key every few
# milliseconds, each timed by psql, until the flag file goes away.
touch "$work/writing"
(
    while [ -e "$work/writing" ]; do
        echo "INSERT INTO t (v) VALUES ($RANDOM);"
        echo "UPDATE t SET v = v + 1 WHERE id = $((RANDOM % 300 + 1));"
        sleep 0.01
    done
) | psql -Xq -d $db -v ON_ERROR_STOP=1 -c '\timing on' -f - >"$work/writer.out" 2>&1 &
writer_pid=$!
sleep 0.5

# Apply and revert under the writer.  timeout: a deadlock would hang here.
started=$(date +%s.%N)
if ! timeout 120 psql -Xq -d $db -v ON_ERROR_STOP=1 -c "CALL migr.apply()" >"$work/apply.out" 2>&1; then
    echo "CALL migr.apply() failed under the writer:"; cat "$work/apply.out"; exit 1
fi
valid=$(q -c "SELECT i.indisvalid AND i.indisready FROM pg_index i WHERE i.indexrelid = 't_v_slow'::regclass")
if [ "$valid" != t ]; then
    echo "after CALL migr.apply() the index t_v_slow is not valid (indisvalid and indisready: $valid)"; exit 1
fi
sleep 0.3
if ! timeout 120 psql -Xq -d $db -v ON_ERROR_STOP=1 -c "CALL migr.revert()" >"$work/revert.out" 2>&1; then
    echo "CALL migr.revert() failed under the writer:"; cat "$work/revert.out"; exit 1
fi
sleep 0.3
rm -f "$work/writing"
if ! wait "$writer_pid"; then
    writer_pid=
    echo "the writer failed:"; tail -20 "$work/writer.out"; exit 1
fi
writer_pid=

gone=$(q -c "SELECT count(*) FROM pg_class WHERE relname = 't_v_slow'")
if [ "$gone" != 0 ]; then
    echo "after CALL migr.revert() the index t_v_slow still exists"; exit 1
fi
current=$(q -c "SELECT count(*) FROM migr.current()")
if [ "$current" != 0 ]; then
    echo "after CALL migr.revert() migr.current() is not empty"; exit 1
fi

# The build time, as migr recorded it, and the writer's statements
build_ms=$(q -c "SELECT (extract(epoch FROM duration) * 1000)::int FROM migr.event
                  WHERE revision = 'i1' AND operation = 'upgrade' AND outcome = 'ok'")
if [ -z "$build_ms" ]; then
    echo "no 'ok' upgrade event for i1"; q -c "TABLE migr.event"; exit 1
fi
timings=$(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$work/writer.out")
n=$(printf '%s\n' "$timings" | grep -c . || true)
max=$(printf '%s\n' "$timings" | sort -g | tail -1)
max_ms=${max%.*}
during=$(q -c "SELECT count(*) FROM t, migr.event e
                WHERE e.revision = 'i1' AND e.operation = 'upgrade' AND e.outcome = 'ok'
                  AND t.written_at BETWEEN e.started_at AND e.started_at + e.duration")
echo "index build ${build_ms} ms; writer: $n statements, slowest ${max} ms, $during rows inserted during the build"
if [ "$build_ms" -lt 1000 ]; then
    echo "the build took only ${build_ms} ms: too fast to show that the writer was not blocked"; exit 1
fi
if [ "$n" -lt 100 ]; then
    echo "the writer ran only $n statements"; tail -20 "$work/writer.out"; exit 1
fi
if [ $((max_ms * 4)) -ge "$build_ms" ]; then
    echo "a writer statement took ${max} ms, not well below the build time of ${build_ms} ms: it waited for the build"
    exit 1
fi
if [ "$during" -lt 20 ]; then
    echo "only $during rows were inserted while the index was built: the writer was held up"; exit 1
fi

# The worker's NOTICE reaches the client: a CREATE INDEX CONCURRENTLY IF NOT
# EXISTS of an index that exists says it skips, from the worker.
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE INDEX t_v ON t (v);
SELECT migr.revision('i2', 'i1', 'index t by v once more',
                     'CREATE INDEX CONCURRENTLY IF NOT EXISTS t_v ON t (v);',
                     'SELECT 1;', transactional => false,
                     create_date => '2025-01-02 00:00:00+00');
SQL
out=$(psql -X -d $db -v ON_ERROR_STOP=1 -c '\set SHOW_CONTEXT always' -c "CALL migr.apply()" 2>&1) ||
    { echo "CALL migr.apply() of i2 failed:"; echo "$out"; exit 1; }
skip=$(printf '%s\n' "$out" | grep -A1 -F 'NOTICE:  relation "t_v" already exists, skipping' || true)
if [ -z "$skip" ]; then
    echo "the worker's notice did not reach the client:"; echo "$out"; exit 1
fi
if ! grep -q 'CONTEXT:  statement run at top level by a migr background worker' <<<"$skip"; then
    echo "the notice does not say it came from the worker:"; echo "$out"; exit 1
fi
current=$(q -c "SELECT string_agg(c, ',') FROM migr.current() c")
if [ "$current" != i2 ]; then
    echo "after applying i2, current is $current"; exit 1
fi
echo "CREATE/DROP INDEX CONCURRENTLY by CALL under a writer: no deadlock, no blocked write; the worker's notice reached the client"

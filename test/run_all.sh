#!/usr/bin/env bash
# Runs inside pg_virtualenv (PGHOST, PGPORT, PGUSER, PGPASSWORD are set),
# or inside scripts/memcheck.sh with PG_CONFIG set to its own build.
set -uo pipefail
cd "$(dirname "$0")/.."
export PGDATABASE=postgres
# the stat cache of every "migr upgrade" the tests run (docs/cli.md): here,
# not in the home directory
MIGR_CACHE_DIR=$(mktemp -d)
export MIGR_CACHE_DIR
trap 'rm -rf "$MIGR_CACHE_DIR"' EXIT
passed=0
failed=0
failures=""
suite() {
    local name=$1; shift
    echo "=== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures="$failures $name"
    fi
}
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
# MIGR_MALLOC_PERTURB: the value of MALLOC_PERTURB_ the server must have
server_env() {
    local dir pid
    dir=$(psql -XAtc "SHOW data_directory") && pid=$(head -1 "$dir/postmaster.pid") &&
        tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "MALLOC_PERTURB_=$MIGR_MALLOC_PERTURB" || {
        echo "MALLOC_PERTURB_=$MIGR_MALLOC_PERTURB did not reach the postmaster (pid ${pid:-?})"
        return 1
    }
    echo "postmaster $pid runs with MALLOC_PERTURB_=$MIGR_MALLOC_PERTURB"
}
regress() {
    make -s installcheck PG_CONFIG="$pg_config" || {
        cat regression.diffs 2>/dev/null | head -200
        return 1
    }
}
pgtap() {
    psql -Xq -c "DROP DATABASE IF EXISTS migr_tap" -c "CREATE DATABASE migr_tap" &&
    psql -Xq -d migr_tap -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION migr" &&
    pg_prove -d migr_tap test/pgtap/*.sql
}
[ -n "${MIGR_MALLOC_PERTURB:-}" ] && suite "server-environment" server_env
suite "pg_regress" regress
suite "pgTAP" pgtap
for t in test/shell/*.sh; do
    suite "$(basename "$t" .sh)" bash "$t"
done
suite "alembic-differential" env PYTHONHASHSEED=0 /usr/bin/python3 \
    test/differential/alembic_diff.py --seeds "${MIGR_DIFF_SEEDS:-300}" --regression
if [ "${MIGR_SOAK:-0}" = 1 ]; then
    suite "alembic-differential-soak" env PYTHONHASHSEED=0 /usr/bin/python3 \
        test/differential/alembic_diff.py --first 1000 --seeds 3000
fi
echo
[ -n "$failures" ] && echo "failed suites:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Run the benchmarks on a throwaway cluster and print a Markdown report.
#   bench/run.sh              P1-P5 (bench/bench.py), the scale benchmark, then
#                             P6-P7 (bench/call.py)
#   bench/run.sh p            P1-P5 only
#   bench/run.sh scale [ARG]  the scale benchmark only (bench/scale.py ARG...)
#   bench/run.sh call [ARG]   P6-P7 only: CALL migr.apply() (bench/call.py ARG...)
#   bench/run.sh batch [ARG]  the large-data-migration benchmark (bench/batch.py
#                             ARG...) on a throwaway cluster of its own (below)
#   bench/run.sh files [ARG]  the migration-files benchmark (bench/files.py
#                             ARG...) on a throwaway cluster of its own (below)
# Environment: MIGR_BENCH_ROUNDS (3), MIGR_BENCH_P1 (1000), MIGR_BENCH_P2
# (10000), MIGR_BENCH_SCALE_SIZES (10000,100000), MIGR_BENCH_CALL_N (1000),
# MIGR_BENCH_CALL_ROUNDS (7), MIGR_BENCH_CALL_BIG (10000).
# batch: MIGR_BENCH_BATCH_ROWS (5000000), MIGR_BENCH_BATCH_ROUNDS (3),
# MIGR_BENCH_BATCH_CAP (90), MIGR_BENCH_BATCH_IDLE (30), MIGR_BENCH_BATCH_RATE
# (200), MIGR_BENCH_BATCH_CLIENTS (8), MIGR_BENCH_BATCH_REC, MIGR_BENCH_BATCH_KNOBS,
# MIGR_BENCH_BATCH_METHODS (see bench/batch.py); PG_CONFIG (the PostgreSQL 15 to
# build against, install into and run: /usr/lib/postgresql/15/bin/pg_config),
# MIGR_BENCH_PORT (54329), MIGR_BENCH_DIR (where the cluster goes: /tmp).
# files: MIGR_BENCH_FILES_SIZES (1000,100), MIGR_BENCH_FILES_ROUNDS (7),
# MIGR_BENCH_FILES_NOOP_ROUNDS (31), MIGR_BENCH_DBMATE_VERSION (2.36.0),
# MIGR_BENCH_CACHE (where npm installs dbmate: /var/cache/migr-bench), and
# PG_CONFIG, MIGR_BENCH_PORT, MIGR_BENCH_DIR as for batch.
# Never run it while a test run uses pg_virtualenv: both use 15/regress (batch
# excepted: it starts a cluster of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}

# Build and install migr into PG_CONFIG's PostgreSQL, then start a
# throwaway cluster of its own on MIGR_BENCH_PORT with the server settings
# given as arguments (fsync on), removed on exit.  Sets bin, d (the
# cluster's directory) and pgenv (the environment a benchmark runs with).
own_cluster() {
    # not local: the EXIT trap needs them
    pgc=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
    port=${MIGR_BENCH_PORT:-54329}
    run=()
    bin=$($pgc --bindir)
    make -s COPT=-Werror PG_CONFIG="$pgc" && make -s install PG_CONFIG="$pgc" >/dev/null
    d=$(mktemp -d "${MIGR_BENCH_DIR:-/tmp}/migr_bench.XXXXXX")
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$d"
        chmod 755 "$d"
        run=(runuser -u postgres --)
    fi
    trap '"${run[@]}" "$bin/pg_ctl" -D "$d/data" -m fast stop >/dev/null 2>&1; rm -rf "$d"' EXIT
    "${run[@]}" "$bin/initdb" -D "$d/data" -A trust -U postgres >/dev/null
    "${run[@]}" "$bin/pg_ctl" -D "$d/data" -w -l "$d/log" \
        -o "-p $port -k $d -c listen_addresses= -c fsync=on -c synchronous_commit=on $* \
            -c log_min_messages=warning" start >/dev/null
    pgenv=(PATH="$bin:$PATH" PGHOST="$d" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
           PGDATA="$d/data")
}

# The batch benchmark runs with settings for a large table on this 2-core,
# 23 GB machine, and pg_stat_statements loaded.
batch() {
    own_cluster -c shared_buffers=2GB -c work_mem=16MB -c maintenance_work_mem=512MB \
        -c effective_cache_size=8GB -c min_wal_size=2GB -c max_wal_size=4GB \
        -c checkpoint_timeout=15min -c shared_preload_libraries=pg_stat_statements \
        -c pg_stat_statements.track=all
    env "${pgenv[@]}" /usr/bin/python3 bench/batch.py "$@"
}
# The migration-files benchmark runs with the default settings, and
# pg_stat_statements loaded but tracking nothing: bench/files.py turns it on
# for one database for its breakdown.  dbmate comes from npm, installed on
# demand into a cache outside the repository (the package holds a node
# wrapper and the Go binary).
files() {
    cache=${MIGR_BENCH_CACHE:-/var/cache/migr-bench}/dbmate
    ver=${MIGR_BENCH_DBMATE_VERSION:-2.36.0}
    dbmate=$cache/node_modules/@dbmate/linux-x64/bin/dbmate
    if [ ! -x "$dbmate" ] || [ "$("$dbmate" --version)" != "dbmate version $ver" ]; then
        mkdir -p "$cache"
        npm install --prefix "$cache" --no-save --no-audit --no-fund "dbmate@$ver" >&2
    fi
    own_cluster -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=none
    env "${pgenv[@]}" MIGR_BENCH_DBMATE="$dbmate" MIGR_BENCH_DBMATE_NPM="$cache/node_modules/.bin/dbmate" \
        /usr/bin/python3 bench/files.py "$@"
}
[ $# -gt 0 ] && shift
case $what in
    p)     cmd='/usr/bin/python3 bench/bench.py' ;;
    scale) cmd='/usr/bin/python3 bench/scale.py "$@"' ;;
    call)  cmd='/usr/bin/python3 bench/call.py "$@"' ;;
    batch) batch "$@"; exit ;;
    files) files "$@"; exit ;;
    all)   cmd='/usr/bin/python3 bench/bench.py && echo && /usr/bin/python3 bench/scale.py "$@" && echo && /usr/bin/python3 bench/call.py' ;;
    *)     echo "usage: bench/run.sh [all|p|scale [scale.py options]|call [call.py options]|batch [batch.py options]|files [files.py options]]" >&2; exit 2 ;;
esac
scripts/setup.sh >/dev/null
exec pg_virtualenv -v 15 -o log_min_messages=fatal -o fsync=on \
    env PGDATABASE=postgres bash -c "$cmd" bench "$@"

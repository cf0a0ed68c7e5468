#!/usr/bin/env bash
# Run the benchmarks on a throwaway cluster and print a Markdown report.
#   MIGR_BENCH_ROUNDS (3), MIGR_BENCH_P1 (1000), MIGR_BENCH_P2 (10000)
# Never run it while a test run uses pg_virtualenv: both use 15/regress.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
exec pg_virtualenv -v 15 -o log_min_messages=fatal -o fsync=on \
    env PGDATABASE=postgres /usr/bin/python3 bench/bench.py

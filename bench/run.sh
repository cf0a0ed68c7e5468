#!/usr/bin/env bash
# Run the benchmarks on a throwaway cluster and print a Markdown report.
#   bench/run.sh              P1-P5 (bench/bench.py), the scale benchmark, then
#                             P6-P7 (bench/call.py)
#   bench/run.sh p            P1-P5 only
#   bench/run.sh scale [ARG]  the scale benchmark only (bench/scale.py ARG...)
#   bench/run.sh call [ARG]   P6-P7 only: CALL migr.apply() (bench/call.py ARG...)
# Environment: MIGR_BENCH_ROUNDS (3), MIGR_BENCH_P1 (1000), MIGR_BENCH_P2
# (10000), MIGR_BENCH_SCALE_SIZES (10000,100000), MIGR_BENCH_CALL_N (1000),
# MIGR_BENCH_CALL_ROUNDS (7), MIGR_BENCH_CALL_BIG (10000).
# Never run it while a test run uses pg_virtualenv: both use 15/regress.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
[ $# -gt 0 ] && shift
case $what in
    p)     cmd='/usr/bin/python3 bench/bench.py' ;;
    scale) cmd='/usr/bin/python3 bench/scale.py "$@"' ;;
    call)  cmd='/usr/bin/python3 bench/call.py "$@"' ;;
    all)   cmd='/usr/bin/python3 bench/bench.py && echo && /usr/bin/python3 bench/scale.py "$@" && echo && /usr/bin/python3 bench/call.py' ;;
    *)     echo "usage: bench/run.sh [all|p|scale [scale.py options]|call [call.py options]]" >&2; exit 2 ;;
esac
scripts/setup.sh >/dev/null
exec pg_virtualenv -v 15 -o log_min_messages=fatal -o fsync=on \
    env PGDATABASE=postgres bash -c "$cmd" bench "$@"

#!/usr/bin/env bash
# One command: set up, then run every test suite against a throwaway
# PostgreSQL 15 cluster (pg_virtualenv).  Prints "N passed, N failed".
#   MIGR_DIFF_SEEDS   graphs in the Alembic differential test (default 300)
#   MIGR_SOAK=1       also run the long differential soak (3000 graphs)
#   MIGR_MEMCHECK=1   then also scripts/memcheck.sh (assertions, valgrind)
# The server runs with MALLOC_PERTURB_ (glibc fills freed memory), so that
# memory read after it was freed shows up as garbage in the results.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
# pg_ctlcluster starts the server with nothing of our environment but the
# cluster's environment file; pg_createcluster (-c) takes that file's content.
envfile=$(mktemp /tmp/migr-server-env.XXXXXX)
trap 'rm -f "$envfile"' EXIT
export MIGR_MALLOC_PERTURB=165
echo "MALLOC_PERTURB_ = $MIGR_MALLOC_PERTURB" >"$envfile"
chmod 644 "$envfile"
pg_virtualenv -v 15 -c "--environment=$envfile" -o log_min_messages=fatal test/run_all.sh
rc=$?
if [ "${MIGR_MEMCHECK:-0}" = 1 ]; then
    scripts/memcheck.sh || rc=1
fi
exit $rc

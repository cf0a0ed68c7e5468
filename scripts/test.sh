#!/usr/bin/env bash
# One command: set up, then run every test suite against a throwaway
# PostgreSQL 15 cluster (pg_virtualenv).  Prints "N passed, N failed".
#   MIGR_DIFF_SEEDS   graphs in the Alembic differential test (default 300)
#   MIGR_SOAK=1       also run the long differential soak (3000 graphs)
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
exec pg_virtualenv -v 15 -o log_min_messages=fatal test/run_all.sh

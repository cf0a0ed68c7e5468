#!/usr/bin/env bash
# One command: set up, start a throwaway PostgreSQL 15 cluster, and run the
# example project examples/shop on it with the migr command, as a team would:
# its scripts/db_upgrade.sh (the standard's five steps), history, one step
# down, check, and back up.
#
#   scripts/demo.sh          as root on Debian 12: scripts/setup.sh, then the
#                            demo in a throwaway cluster (pg_virtualenv)
#   scripts/demo.sh --here   the demo alone, against the server that the libpq
#                            variables (PGHOST, PGPORT, ...) name, with migr
#                            installed there, in a database migr_demo that it
#                            drops and creates (test/shell/demo.sh runs this)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != --here ]; then
    scripts/setup.sh
    exec pg_virtualenv -v 15 -o log_min_messages=fatal "$PWD/scripts/demo.sh" --here
fi

export PATH="$PWD/bin:$PATH"   # this repository's migr command
export PGDATABASE=migr_demo
unset DATABASE_URL MIGR_DIR
psql -Xq -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS migr_demo" -c "CREATE DATABASE migr_demo"
# in the project's directory, as its developers work: migr finds migrations/
cd examples/shop

say() { printf '\n### %s\n' "$*"; }
run() { printf '\n$ %s\n' "$1"; eval "$1"; }

say "The example project, examples/shop: one file per revision (see its README.md)"
run 'ls migrations'

say "Bring the empty database migr_demo to the head, as a deployment does"
run 'scripts/db_upgrade.sh'

say "What the migrations made (and the backfill filled: total_cents)"
run "psql -X -c '\\d orders' -c 'SELECT status, count(*), sum(total_cents) FROM orders GROUP BY status ORDER BY status'"

say "Where the database stands"
run 'migr history'

say "One step down: require_orders_total_cents is reverted"
run 'migr downgrade'

say "migr check finds the revision now pending, and exits with status 1"
rc=0
run 'migr check' || rc=$?
echo "(exit status $rc)"
[ "$rc" = 1 ]

say "Back to the head; now check finds nothing (exit status 0)"
run 'migr upgrade'
run 'migr check'

say "Done. To write migrations of your own, follow docs/tutorial.md."

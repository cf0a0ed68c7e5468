#!/usr/bin/env bash
# Brings the database to the head of this project's migrations/ directory,
# in the five steps of the migration standard: check the connection,
# install migr if needed, report the status, apply, verify the result.
#   scripts/db_upgrade.sh [-d DATABASE_URL] [target]
# A thin wrapper over `migr upgrade` (docs/cli.md), as a project keeps it in
# its own scripts/.
set -euo pipefail
dir=$(cd "$(dirname "$0")/../migrations" && pwd)
# in the migr repository itself, its bin/migr; in a project, migr on PATH
migr=$(dirname "$0")/../../../bin/migr
[ -x "$migr" ] || migr=migr
exec "$migr" --dir "$dir" upgrade "$@"

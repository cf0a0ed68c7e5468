#!/usr/bin/env bash
# Brings the database to the head of this project's migrations/ directory,
# in the five steps of the migration standard: check the connection,
# install migr if needed, report the status, apply, verify the result.
#   scripts/db_upgrade.sh [-d DATABASE_URL] [target]
# A thin wrapper over `migr upgrade` (docs/cli.md), as a project keeps it in
# its own scripts/.
set -euo pipefail
dir=$(cd "$(dirname "$0")/../migrations" && pwd)
# migr from PATH; in the migr repository itself, its bin/migr
migr=$(command -v migr || echo "$(dirname "$0")/../../../bin/migr")
exec "$migr" --dir "$dir" upgrade "$@"

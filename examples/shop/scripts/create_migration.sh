#!/usr/bin/env bash
# Creates a new migration file in this project's migrations/ directory:
#   scripts/create_migration.sh "add orders note"
# A thin wrapper over `migr new` (docs/cli.md), as a project keeps it in its
# own scripts/. Connection options and other arguments pass through.
set -euo pipefail
dir=$(cd "$(dirname "$0")/../migrations" && pwd)
# migr from PATH; in the migr repository itself, its bin/migr
migr=$(command -v migr || echo "$(dirname "$0")/../../../bin/migr")
exec "$migr" --dir "$dir" new "$@"

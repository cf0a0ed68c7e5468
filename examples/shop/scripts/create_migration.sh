#!/usr/bin/env bash
# Creates a new migration file in this project's migrations/ directory:
#   scripts/create_migration.sh "add orders note"
# A thin wrapper over `migr new` (docs/cli.md), as a project keeps it in its
# own scripts/. Connection options and other arguments pass through.
set -euo pipefail
dir=$(cd "$(dirname "$0")/../migrations" && pwd)
# in the migr repository itself, its bin/migr; in a project, migr on PATH
migr=$(dirname "$0")/../../../bin/migr
[ -x "$migr" ] || migr=migr
exec "$migr" --dir "$dir" new "$@"

#!/bin/sh
# The migration standard's scripts/db_upgrade.sh: "migr upgrade" (docs/cli.md).
# Runs the bin/migr of this checkout, else migr on PATH.
case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
if [ -x "$here/../bin/migr" ]; then
    exec "$here/../bin/migr" upgrade "$@"
fi
exec migr upgrade "$@"

#!/bin/sh
# The migration standard's scripts/create_migration.sh: "migr new" (docs/cli.md).
# Runs the bin/migr of this checkout, else migr on PATH.
case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
if [ -x "$here/../bin/migr" ]; then
    exec "$here/../bin/migr" new "$@"
fi
exec migr new "$@"

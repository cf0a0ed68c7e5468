#!/bin/sh
# The migration standard's scripts/db_upgrade.sh: "migr upgrade" (docs/cli.md).
# Runs the bin/migr of this checkout, else migr on PATH.  The checkout's is
# run by bash directly, not through its "#!/usr/bin/env bash" line: that
# costs a process, 2 ms of a 40 ms no-op deploy.
case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
if [ -x "$here/../bin/migr" ]; then
    exec bash "$here/../bin/migr" upgrade "$@"
fi
exec migr upgrade "$@"

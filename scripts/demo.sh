#!/usr/bin/env bash
# One command: set up, start a throwaway PostgreSQL 15 cluster, and run a
# demo of migr's main job (register, upgrade, inspect, downgrade).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec pg_virtualenv -v 15 -o log_min_messages=fatal psql -X -v ON_ERROR_STOP=1 -f scripts/demo.sql

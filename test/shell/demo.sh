#!/usr/bin/env bash
# The README's demo script runs without error on a fresh database and ends
# at the head with a no-op second upgrade.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=migr_demo
psql -Xq -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
out=$(psql -X -d $db -v ON_ERROR_STOP=1 -f scripts/demo.sql 2>&1)
psql -Xq -c "DROP DATABASE $db"
grep -q "steps_second_time" <<<"$out" || { echo "$out"; exit 1; }
grep -A2 "steps_second_time" <<<"$out" | grep -qx " *0" || { echo "$out"; exit 1; }
echo "demo ran to the end"

#!/usr/bin/env bash
# The README's short psql session runs as written (ON_ERROR_STOP) on a fresh
# database and ends where its comments say: 0001_users applied, 0002_user_name
# reverted (by downgrade, then again by CALL migr.revert()).  Then the README's uninstall advice: the history saved with
# pg_dump --data-only --schema=migr survives DROP EXTENSION, CREATE EXTENSION
# and psql -1.
set -euo pipefail
cd "$(dirname "$0")/../.."
readme=${MIGR_README:-README.md}
sql=$(awk '/^## A short session/ { s = 1; next }
           s && /^## / { exit }
           s && /^```sql$/ { b = 1; next }
           b && /^```$/ { exit }
           b { print }' "$readme")
[ -n "$sql" ] || { echo "no \`\`\`sql block under \"## A short session\" in $readme"; exit 1; }
db=migr_readme
dump=$(mktemp)
trap 'rm -f "$dump"; psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db"' EXIT
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
out=$(printf '%s\n' "$sql" | psql -X -d $db -v ON_ERROR_STOP=1 -f - 2>&1) || { echo "$out"; exit 1; }
state() {
    psql -XAt -d $db -c "SELECT coalesce(string_agg(revision || ':' || applied, ',' ORDER BY ordinal), '-')
                           || ' events ' || (SELECT count(*) FROM migr.event) FROM migr.history()"
}
findings() {
    psql -XAt -d $db -c "SELECT string_agg(severity || ' ' || code || ' ' || revision, '; ' ORDER BY code, revision)
                           FROM migr.check()"
}
before=$(state)
before_check=$(findings)
[ "$before" = "0001_users:true,0002_user_name:false events 5" ] ||
    { echo "after the session: $before"; echo "$out"; exit 1; }
pg_dump --data-only --schema=migr $db > "$dump"
psql -Xq -d $db -v ON_ERROR_STOP=1 -c "DROP EXTENSION migr"
[ "$(psql -XAt -d $db -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'migr'::regnamespace")" = 0 ] ||
    { echo "DROP EXTENSION left tables in schema migr"; exit 1; }
psql -Xq -d $db -v ON_ERROR_STOP=1 -c "CREATE EXTENSION migr"
psql -Xq -o /dev/null -d $db -v ON_ERROR_STOP=1 -1 -f "$dump"
after=$(state)
[ "$after" = "$before" ] || { echo "history after the restore: $after, before: $before"; exit 1; }
after_check=$(findings)
[ "$after_check" = "$before_check" ] ||
    { echo "migr.check() after the restore: [$after_check], before: [$before_check]"; exit 1; }
echo "README session ran as written; its history survived the uninstall advice"

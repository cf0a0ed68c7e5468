#!/usr/bin/env bash
# The deploy-role grants of docs/privileges.md, run exactly as written there,
# let the role register, upgrade, downgrade, stamp and test reversibility, and
# give it no way to write the catalog by hand: a direct INSERT, UPDATE or
# DELETE on every catalog table, and nextval on the event sequence, fail with
# 42501.  Then: a body's RESET ALL, in a session whose default
# session_replication_role is replica, does not switch off the catalog's
# deferred foreign keys for the rest of the transaction.
set -euo pipefail
cd "$(dirname "$0")/../.."
db=migr_privileges
created_role=0
cleanup() {
    psql -Xq -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    if [ "$created_role" = 1 ]; then
        psql -Xq -c "DROP ROLE IF EXISTS deployer" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# the ```sql block after the marker comment in docs/privileges.md
grants=$(awk '/^<!-- test\/shell\/privileges_grants.sh runs the next block/ { want = 1; next }
              want && /^```sql$/ { inside = 1; next }
              inside && /^```$/ { exit }
              inside { print }' docs/privileges.md)
grep -q "CREATE ROLE deployer" <<<"$grants" || fail "no grant block found in docs/privileges.md"
[ "$(psql -XAt -c "SELECT count(*) FROM pg_roles WHERE rolname = 'deployer'")" = 0 ] ||
    fail "a role named deployer already exists in this cluster"

psql -Xq -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -Xq -d $db -c "SET client_min_messages = warning" -c "CREATE EXTENSION migr"
created_role=1
printf '%s\n' "$grants" | psql -Xq -d $db -v ON_ERROR_STOP=1 -f - ||
    fail "the documented grants do not run"
psql -Xq -d $db -v ON_ERROR_STOP=1 -c "CREATE SCHEMA app AUTHORIZATION deployer"

# the deploy role does its job
out=$(psql -X -d $db -v ON_ERROR_STOP=1 2>&1 <<'SQL'
SET client_min_messages = warning;
SET ROLE deployer;
SELECT migr.revision('g1', NULL, 'table', 'CREATE TABLE app.t (id int);', 'DROP TABLE app.t;',
                     create_date => '2024-01-01');
SELECT migr.revision('g2', 'g1', 'column', 'ALTER TABLE app.t ADD COLUMN x int;',
                     'ALTER TABLE app.t DROP COLUMN x;', create_date => '2024-01-02',
                     verify => $$migr.has_column('app.t', 'x')$$);
SELECT string_agg(revision || ' ' || status, ', ' ORDER BY step) AS reversibility
  FROM migr.test_reversibility();
SELECT string_agg(revision || ' ' || operation, ', ') AS upgraded FROM migr.upgrade();
SELECT string_agg(revision || ' ' || operation, ', ') AS downgraded FROM migr.downgrade('-1');
SELECT string_agg(revision || ' ' || operation, ', ') AS stamped FROM migr.stamp('base');
SELECT string_agg(revision || ' ' || operation, ', ') AS stamped_again FROM migr.stamp('g1');
SELECT string_agg(DISTINCT role, ', ') AS event_roles FROM migr.event;
SELECT string_agg(DISTINCT registered_by, ', ') AS registered_by FROM migr.migration;
SQL
) || fail "the deploy role could not do its job: $out"
for want in "g1 pass, g2 pass" "g1 upgrade, g2 upgrade" "g2 downgrade" "g1 stamp" \
            "event_roles" "registered_by"; do
    grep -q "$want" <<<"$out" || fail "expected \"$want\" in: $out"
done
[ "$(grep -c '^ deployer$' <<<"$out")" = 2 ] || fail "recorded roles are not the deploy role: $out"

# ... and cannot write history by hand
stmts=()
for t in migration:id migration_edge:revision branch_label:label applied:revision summary:fresh \
         event:revision snapshot:event_id; do
    table=${t%%:*}
    col=${t#*:}
    stmts+=("INSERT INTO migr.$table DEFAULT VALUES;"
            "UPDATE migr.$table SET $col = $col;"
            "DELETE FROM migr.$table;")
done
stmts+=("SELECT nextval('migr.event_id_seq');")
script="SET ROLE deployer;"$'\n'
for s in "${stmts[@]}"; do
    script+="$s"$'\n'"\\echo SQLSTATE :LAST_ERROR_SQLSTATE"$'\n'"\\set LAST_ERROR_SQLSTATE 00000"$'\n'
done
out=$(printf '%s' "$script" | psql -X -d $db -f - 2>&1)
codes=$(echo "$out" | grep '^SQLSTATE ' | sort | uniq -c | sed 's/^ *//')
[ "$codes" = "${#stmts[@]} SQLSTATE 42501" ] ||
    fail "expected ${#stmts[@]} times 42501, got: $codes"$'\n'"$out"

# RESET ALL in a body brings back replica (the session default here); the
# edge migr writes afterwards is still checked at commit
out=$(PGOPTIONS='-c session_replication_role=replica' psql -X -d $db 2>&1 <<'SQL'
SET client_min_messages = warning;
SET session_replication_role = origin;
SELECT migr.revision('ra', NULL, 'reset all', 'RESET ALL;', '', create_date => '2024-02-01');
BEGIN;
SELECT revision FROM migr.upgrade('ra');
SHOW session_replication_role;
SELECT migr.revision('rz', 'never-registered', 'dangling', '', '', create_date => '2024-02-02');
COMMIT;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS dangling FROM migr.migration_edge WHERE target = 'never-registered';
SQL
)
grep -q '^ replica$' <<<"$out" || fail "RESET ALL did not bring back replica: $out"
grep -q '^SQLSTATE 42704$' <<<"$out" || fail "a dangling parent was accepted after RESET ALL: $out"
echo "documented grants suffice and history stays read-only; RESET ALL leaves the foreign keys on"

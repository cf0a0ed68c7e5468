#!/usr/bin/env bash
# A statement CALL mode hands to the background worker runs as the caller's
# current user, whatever defaults the worker's new session picks up: here the
# deploy role has a default "role" setting (ALTER ROLE ... SET role), which
# the caller undid with SET ROLE NONE.  The worker must not run as that
# default role.
set -euo pipefail
db=migr_worker_roles
dep=regress_migr_wr_deployer
grp=regress_migr_wr_group
cleanup() {
    psql -Xq -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    psql -Xq -c "DROP ROLE IF EXISTS $dep" -c "DROP ROLE IF EXISTS $grp" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

cleanup
psql -Xq -c "CREATE DATABASE $db"
psql -Xq -d $db -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE ROLE $grp NOLOGIN;
CREATE ROLE $dep LOGIN PASSWORD 'migr' IN ROLE $grp;
GRANT EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz,
                  text, text, text, text, boolean) TO $dep;
GRANT EXECUTE ON PROCEDURE migr.apply(text) TO $dep;
GRANT CREATE ON SCHEMA public TO $dep, $grp;
CREATE TABLE wr_t (x int);
ALTER TABLE wr_t OWNER TO $dep;
ALTER ROLE $dep SET role = '$grp';
SQL

# the deploy role owns the table; its default role does not
out=$(PGUSER=$dep PGPASSWORD=migr psql -X -d $db -v ON_ERROR_STOP=1 2>&1 <<'SQL'
SET client_min_messages = warning;
SELECT current_user AS at_login;
SET ROLE NONE;
SELECT current_user AS caller;
SELECT migr.revision('wr1', NULL, 'index', 'CREATE INDEX CONCURRENTLY wr_t_x ON wr_t (x);',
                     'DROP INDEX CONCURRENTLY wr_t_x;');
CALL migr.apply();
SELECT migr.current() AS current;
SQL
) || fail "the deploy role could not apply its index: $out"
grep -q "regress_migr_wr_group" <<<"$out" || fail "the default role was not in effect at login: $out"
[ "$(psql -XAt -d $db -c "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'wr_t_x'")" = "$dep" ] ||
    fail "no index wr_t_x owned by $dep"
[ "$(psql -XAt -d $db -c "SELECT role FROM migr.event WHERE revision = 'wr1'")" = "$dep" ] ||
    fail "the event does not name $dep"
echo "ok: the worker ran as the caller's current user"

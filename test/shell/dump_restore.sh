#!/usr/bin/env bash
# History survives pg_dump | psql into a fresh database: afterwards
# migr.check() is clean, migr.upgrade() is a no-op and the fingerprint is
# the same.  Also with pg_dump -Fc | pg_restore.
set -euo pipefail
src=migr_dump_src
psql -Xq -c "DROP DATABASE IF EXISTS $src" -c "CREATE DATABASE $src"
psql -Xq -o /dev/null -d $src -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
BEGIN;
-- registered in reverse order: the deferred foreign keys allow it
SELECT migr.revision('d3', 'd2', 'index', 'CREATE INDEX ix_users_email ON users (email);',
                     'DROP INDEX ix_users_email;', create_date => '2024-01-03',
                     verify => $$migr.has_index('users', 'ix_users_email')$$);
SELECT migr.revision('d2', 'd1', 'orders', 'CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id));
                                            CREATE INDEX ix_orders_user_id ON orders (user_id);',
                     'DROP TABLE orders;', 'shop', create_date => '2024-01-02');
SELECT migr.revision('d1', NULL, 'users', 'CREATE TABLE users (id int PRIMARY KEY, email text);',
                     'DROP TABLE users;', create_date => '2024-01-01');
SELECT migr.revision('e1', 'd1', 'side branch', 'CREATE TABLE audit (id int);', 'DROP TABLE audit;',
                     create_date => '2024-01-04', depends_on => 'shop');
COMMIT;
SELECT count(*) FROM migr.upgrade('heads');
-- merge the two heads, so check() has nothing to say
SELECT migr.revision('m1', 'd3, e1', 'merge', '', '', create_date => '2024-01-05');
-- and a long tail, so the restore loads thousands of edges in one COPY
SELECT count(migr.revision('t' || i, CASE WHEN i = 1 THEN 'm1' ELSE 't' || (i - 1) END,
                           'tail', '', '', create_date => '2024-01-06'::timestamptz + i * interval '1 second'))
  FROM generate_series(1, 3000) i;
SELECT count(*) FROM migr.upgrade();
SQL
before_fp=$(psql -XAt -d $src -c "SELECT migr.fingerprint()")
before_hist=$(psql -XAt -d $src -c "SELECT string_agg(revision || ':' || applied || ':' || is_current, ',' ORDER BY ordinal) FROM migr.history()")
before_events=$(psql -XAt -d $src -c "SELECT count(*) FROM migr.event")
before_check=$(psql -XAt -d $src -c "SELECT string_agg(severity || ' ' || code, '; ' ORDER BY severity, code) FROM migr.check()")

fail=0
restore_check() {
    local how=$1 db=$2
    local fp hist events check noop
    fp=$(psql -XAt -d "$db" -c "SELECT migr.fingerprint()")
    hist=$(psql -XAt -d "$db" -c "SELECT string_agg(revision || ':' || applied || ':' || is_current, ',' ORDER BY ordinal) FROM migr.history()")
    events=$(psql -XAt -d "$db" -c "SELECT count(*) FROM migr.event")
    check=$(psql -XAt -d "$db" -c "SELECT string_agg(severity || ' ' || code, '; ' ORDER BY severity, code) FROM migr.check()")
    noop=$(psql -XAt -d "$db" -c "SELECT count(*) FROM migr.upgrade('heads')")
    echo "$how: history of $(echo "$hist" | tr ',' '\n' | wc -l) revisions (md5 $(echo "$hist" | md5sum | cut -c1-12)), events $events, findings [${check}], upgrade steps $noop"
    [ "$fp" = "$before_fp" ] || { echo "$how: fingerprint differs"; fail=1; }
    [ "$hist" = "$before_hist" ] || { echo "$how: history differs"; fail=1; }
    [ "$events" = "$before_events" ] || { echo "$how: event log differs"; fail=1; }
    [ "$check" = "$before_check" ] || { echo "$how: migr.check() differs from the source's"; fail=1; }
    case "$check" in *error*) echo "$how: migr.check() reports errors"; fail=1 ;; esac
    [ "$noop" = 0 ] || { echo "$how: upgrade was not a no-op"; fail=1; }
    # and the restored history still works: down and up again
    psql -Xq -o /dev/null -d "$db" -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
        -c "SELECT count(*) FROM migr.downgrade('base')" -c "SELECT count(*) FROM migr.upgrade('heads')" \
        || { echo "$how: downgrade/upgrade after restore failed"; fail=1; }
}

dst=migr_dump_plain
psql -Xq -c "DROP DATABASE IF EXISTS $dst" -c "CREATE DATABASE $dst"
pg_dump -d $src | psql -Xq -o /dev/null -v ON_ERROR_STOP=1 -d $dst
restore_check "pg_dump | psql" $dst

dst2=migr_dump_custom
psql -Xq -c "DROP DATABASE IF EXISTS $dst2" -c "CREATE DATABASE $dst2"
tmp=$(mktemp)
pg_dump -Fc -d $src -f "$tmp"
pg_restore -d $dst2 "$tmp"
rm -f "$tmp"
restore_check "pg_dump -Fc | pg_restore" $dst2

psql -Xq -c "DROP DATABASE $src" -c "DROP DATABASE $dst" -c "DROP DATABASE $dst2"
exit $fail

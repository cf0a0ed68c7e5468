#!/usr/bin/env bash
# A CREATE UNIQUE INDEX CONCURRENTLY that fails over duplicate keys, run by
# CALL migr.apply(): the error (23505) reaches the caller, the failure row is
# committed with the statement's number and text, and the invalid index the
# failed build left is dropped, so migr.check() finds no invalid_index; once
# the duplicates are gone the re-run resumes at that statement and builds a
# valid index.  An unnamed index that fails the same way is named in a
# NOTICE and left alone (it cannot be told from another session's build).
# Then an invalid index of the same name made outside migr (a failed
# CREATE INDEX CONCURRENTLY by hand) is dropped before the revision's
# CREATE INDEX CONCURRENTLY IF NOT EXISTS runs, so the result is valid
# instead of the broken index kept without a word.
set -euo pipefail
db=migr_call_idxfail
trap 'psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
q() { psql -XAtq -d $db -v ON_ERROR_STOP=1 "$@"; }
# call TARGET: CALL migr.apply(TARGET); psql's output in out, its status in rc
call() {
    if out=$(psql -X -d $db -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "CALL migr.apply('$1')" 2>&1); then rc=0; else rc=$?; fi
}
invalid_indexes() {
    q -c "SELECT coalesce(string_agg(c.relname, ',' ORDER BY c.relname), '-')
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid"
}
# dedup TABLE: delete one row of each duplicated k
dedup() {
    q -c "DELETE FROM $1 WHERE ctid IN (SELECT min(ctid) FROM $1 GROUP BY k HAVING count(*) > 1)"
}
# the errors of migr.check(), but for what is pending and the tables made by hand
check_codes() {
    q -c "SELECT coalesce(string_agg(code || ':' || coalesce(revision, ''), ',' ORDER BY code, revision), '-')
            FROM migr.check() WHERE severity = 'error' AND code NOT IN ('pending', 'schema_drift')"
}

q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION migr;
CREATE TABLE u (k int NOT NULL);
INSERT INTO u SELECT g % 5000 FROM generate_series(1, 5003) g;   -- keys 1, 2, 3 twice
CREATE TABLE made (what text);
SELECT migr.revision('f1', NULL, 'unique keys',
    $$INSERT INTO made VALUES ('f1 statement 1');
      CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS u_k ON u (k);
      INSERT INTO made VALUES ('f1 statement 3');$$,
    $$DROP INDEX CONCURRENTLY IF EXISTS u_k;$$,
    create_date => '2025-01-01 00:00:00+00');
SQL

# 1. The build fails: 23505, recorded with its statement, no invalid index left
call f1
if [ "$rc" = 0 ]; then echo "CALL migr.apply('f1') succeeded over duplicate keys:"; echo "$out"; exit 1; fi
if ! grep -q '^ERROR:  23505: could not create unique index "u_k"' <<<"$out"; then
    echo "CALL migr.apply('f1') did not fail with 23505:"; echo "$out"; exit 1
fi
ev=$(q -c "SELECT revision, operation, outcome, sqlstate, statement_no, statement FROM migr.event ORDER BY id DESC LIMIT 1")
if [ "$ev" != "f1|upgrade|failed|23505|2|CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS u_k ON u (k)" ]; then
    echo "the failure row: $ev"; exit 1
fi
inv=$(invalid_indexes)
if [ "$inv" != - ]; then echo "invalid indexes left after the failed build: $inv"; exit 1; fi
if [ "$(q -c "SELECT to_regclass('u_k') IS NULL")" != t ]; then echo "index u_k exists after the failed build"; exit 1; fi
if ! grep -q '^NOTICE:  00000: dropping invalid index public.u_k left by the failed statement' <<<"$out"; then
    echo "no notice that the invalid index was dropped:"; echo "$out"; exit 1
fi
codes=$(check_codes)
if [ "$codes" != "partially_applied:f1" ]; then
    echo "migr.check() errors after the failed build: $codes (expected only partially_applied:f1)"; exit 1
fi
progress=$(q -c "SELECT revision, direction, statements_done, statements_total FROM migr.progress")
if [ "$progress" != "f1|upgrade|1|3" ]; then echo "migr.progress after the failure: $progress"; exit 1; fi

# 2. Without the duplicates the re-run resumes at statement 2; the index is valid
dedup u
call f1
if [ "$rc" != 0 ]; then echo "the re-run failed:"; echo "$out"; exit 1; fi
if ! grep -q 'resuming the upgrade of f1 at statement 2 of 3' <<<"$out"; then
    echo "the re-run did not resume at statement 2:"; echo "$out"; exit 1
fi
valid=$(q -c "SELECT indisvalid AND indisunique FROM pg_index WHERE indexrelid = 'u_k'::regclass")
if [ "$valid" != t ]; then echo "u_k after the re-run: valid and unique = $valid"; exit 1; fi
made=$(q -c "SELECT string_agg(what, ',' ORDER BY what) FROM made")
if [ "$made" != "f1 statement 1,f1 statement 3" ]; then echo "statements run: $made"; exit 1; fi
codes=$(check_codes)
if [ "$codes" != - ]; then echo "migr.check() errors after the re-run: $codes"; exit 1; fi

# 3. An unnamed index that fails: migr cannot tell its invalid index from
# another session's build, so it names it in a NOTICE and leaves it, as it
# leaves an invalid index of the table made before the run
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE w (k int NOT NULL);
INSERT INTO w SELECT g % 100 FROM generate_series(1, 101) g;
SELECT migr.revision('f2', 'f1', 'unnamed unique index',
    'CREATE UNIQUE INDEX CONCURRENTLY ON w (k);', 'SELECT 1;',
    create_date => '2025-01-02 00:00:00+00');
SQL
# the older invalid index, from a failed build by hand
if psql -Xq -d $db -c "CREATE UNIQUE INDEX CONCURRENTLY w_old ON w (k)" 2>/dev/null; then
    echo "the build by hand over duplicates succeeded"; exit 1
fi
call f2
if [ "$rc" = 0 ] || ! grep -q '^ERROR:  23505' <<<"$out"; then
    echo "CALL migr.apply('f2') did not fail with 23505:"; echo "$out"; exit 1
fi
inv=$(invalid_indexes)
if [ "$inv" != w_k_idx,w_old ]; then
    echo "invalid indexes after the failed unnamed build: $inv (expected w_k_idx,w_old)"; exit 1
fi
if ! grep -q '^NOTICE:  00000: index public.w_k_idx is invalid, and the failed statement may have left it' <<<"$out"; then
    echo "no NOTICE names the invalid index the unnamed build left:"; echo "$out"; exit 1
fi
codes=$(check_codes)
if [ "$codes" != "invalid_index:,invalid_index:" ]; then echo "migr.check() errors with w_k_idx and w_old invalid: $codes"; exit 1; fi
q -c "DROP INDEX w_old, w_k_idx"
dedup w
call f2
if [ "$rc" != 0 ]; then echo "the re-run of f2 failed:"; echo "$out"; exit 1; fi
if [ "$(q -c "SELECT count(*) FROM pg_index WHERE indrelid = 'w'::regclass AND indisvalid AND indisunique")" != 1 ]; then
    echo "w has no valid unique index after the re-run of f2"; exit 1
fi

# 4. An invalid index of the name, left by a failed build outside migr, is
# dropped first: CREATE INDEX CONCURRENTLY IF NOT EXISTS then builds it
q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE v (k int NOT NULL);
INSERT INTO v SELECT g % 100 FROM generate_series(1, 101) g;
SQL
if psql -Xq -d $db -c "CREATE UNIQUE INDEX CONCURRENTLY v_k ON v (k)" 2>/dev/null; then
    echo "the build by hand over duplicates succeeded"; exit 1
fi
if [ "$(q -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'v_k'::regclass")" != f ]; then
    echo "the failed build by hand left no invalid index v_k"; exit 1
fi
codes=$(check_codes)
if [ "$codes" != "invalid_index:" ]; then echo "migr.check() errors with v_k invalid: $codes"; exit 1; fi
dedup v
q -o /dev/null -c "SET client_min_messages = warning" \
  -c "SELECT migr.revision('f3', 'f2', 'unique v', 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS v_k ON v (k);',
                           'DROP INDEX CONCURRENTLY IF EXISTS v_k;', create_date => '2025-01-03 00:00:00+00')"
call f3
if [ "$rc" != 0 ]; then echo "CALL migr.apply('f3') failed:"; echo "$out"; exit 1; fi
valid=$(q -c "SELECT indisvalid AND indisunique FROM pg_index WHERE indexrelid = 'v_k'::regclass")
if [ "$valid" != t ]; then echo "v_k after CALL migr.apply('f3'): valid and unique = $valid"; exit 1; fi
if grep -q 'already exists, skipping' <<<"$out"; then
    echo "CREATE INDEX CONCURRENTLY IF NOT EXISTS kept the old index:"; echo "$out"; exit 1
fi
if ! grep -q 'dropping invalid index public.v_k so that CREATE INDEX CONCURRENTLY builds it again' <<<"$out"; then
    echo "no notice that the invalid v_k was dropped first:"; echo "$out"; exit 1
fi
codes=$(check_codes)
if [ "$codes" != - ]; then echo "migr.check() errors at the end: $codes"; exit 1; fi
current=$(q -c "SELECT string_agg(c, ',') FROM migr.current() c")
if [ "$current" != f3 ]; then echo "current at the end: $current"; exit 1; fi
echo "a failed CREATE INDEX CONCURRENTLY leaves no invalid index; an invalid index of the name is rebuilt"

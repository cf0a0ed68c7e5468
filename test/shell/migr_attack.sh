#!/usr/bin/env bash
# bin/migr in a hostile environment (docs/cli.md): a search_path that puts
# look-alikes of pg_catalog's operators, aggregates and types first, a
# connection string that asks for another client encoding, *.sql entries
# that are no regular files or whose names are not UTF-8, a --dir that is a
# file or cannot be read, object and database names with line breaks,
# SIGTERM and Ctrl-C mid-upgrade and mid-downgrade, two first upgrades at
# once.  Each case is a defect that was found and fixed; the test fails on
# the command as it was before the fix.
# MIGR_BIN names another migr to test (default: bin/migr of this checkout).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
migr=${MIGR_BIN:-$root/bin/migr}
tmp=$(mktemp -d)
dbs=(migr_atk_a migr_atk_enc migr_atk_files migr_atk_sig migr_atk_down migr_atk_two migr_atk_nl $'migr_atk\n@@end\tx')
cleanup() {
    rm -rf "$tmp"
    local d
    for d in "${dbs[@]}"; do
        psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
sql() { psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "SET client_min_messages = warning" -c "$2"; }

# run CODE DB COMMAND...: migr COMMAND against DB; expects exit CODE;
# stdout in $out, stderr in $err
run() {
    local want=$1 d=$2 rc=0
    shift 2
    PGDATABASE=$d timeout 60 "$migr" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    out=$(<"$tmp/out") err=$(<"$tmp/err")
    [ "$rc" = "$want" ] || fail "migr $* on $d exited $rc, not $want; stdout: $out; stderr: $err"
}
has() { grep -qF -- "$2" <<<"$1" || fail "expected \"$2\" in: $1"; }
hasnt() { ! grep -qF -- "$2" <<<"$1" || fail "did not expect \"$2\" in: $1"; }

# rev DIR STAMP ID REVISES UPGRADE [DOWNGRADE]: writes a migration file;
# STAMP is the seconds of 2024-01-01 00:00:SS
rev() {
    local f=$1/2024_01_01_0000$2_$3.sql
    printf -- '-- %s\n--\n-- Revision ID: %s\n-- Revises: %s\n-- Create Date: 2024-01-01 00:00:%s\n\n-- migr:upgrade\n%s\n' \
        "$3" "$3" "$4" "$2" "$5" >"$f"
    [ -z "${6:-}" ] || printf -- '\n-- migr:downgrade\n%s\n' "$6" >>"$f"
}

for d in "${dbs[@]}"; do
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$d\"" -c "CREATE DATABASE \"$d\""
done

# ---------------------------------------------------------------------------
# A search_path that names a schema before pg_catalog, holding operators and
# aggregates with the names and argument types of pg_catalog's: every
# operator and function in the command's own SQL is schema-qualified, so
# none of them runs.  (Revision SQL keeps the caller's search_path.)
sql migr_atk_a "CREATE SCHEMA evil;
CREATE FUNCTION evil.boom(text, text) RETURNS boolean LANGUAGE plpgsql
    AS \$\$BEGIN RAISE EXCEPTION 'evil operator called'; END\$\$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.boom);
CREATE OPERATOR evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.boom);
CREATE FUNCTION evil.cat(text, text) RETURNS text LANGUAGE plpgsql
    AS \$\$BEGIN RAISE EXCEPTION 'evil operator called'; END\$\$;
CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.cat);
CREATE FUNCTION evil.ieq(integer, integer) RETURNS boolean LANGUAGE plpgsql
    AS \$\$BEGIN RAISE EXCEPTION 'evil operator called'; END\$\$;
CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.ieq);
CREATE FUNCTION evil.neq(name, text) RETURNS boolean LANGUAGE plpgsql
    AS \$\$BEGIN RAISE EXCEPTION 'evil operator called'; END\$\$;
CREATE OPERATOR evil.= (LEFTARG = name, RIGHTARG = text, FUNCTION = evil.neq);
CREATE FUNCTION evil.cnt(bigint) RETURNS bigint LANGUAGE plpgsql
    AS \$\$BEGIN RAISE EXCEPTION 'evil count called'; END\$\$;
CREATE AGGREGATE evil.count(*) (SFUNC = evil.cnt, STYPE = bigint, INITCOND = '0');
CREATE DOMAIN evil.text AS pg_catalog.text;"
evil=$tmp/sp
mkdir "$evil"
rev "$evil" 01 e1 "" "CREATE TABLE public.e1 (id int);" "DROP TABLE public.e1;"
rev "$evil" 02 e2 e1 "CREATE TABLE public.e2 (id int);" "DROP TABLE public.e2;"
export PGOPTIONS="-c search_path=evil,pg_catalog,public"
run 0 migr_atk_a --dir "$evil" upgrade
hasnt "$err" "evil"
has "$out" "[4/5] apply: 2 revisions applied"
run 0 migr_atk_a --dir "$evil" upgrade e1 --dry-run
hasnt "$err" "evil"
for c in current heads history plan check script; do
    run 0 migr_atk_a "$c"
    hasnt "$err" "evil"
done
has "$(PGDATABASE=migr_atk_a "$migr" current 2>&1)" "e2 (head)"
run 0 migr_atk_a downgrade
hasnt "$err" "evil"
run 0 migr_atk_a downgrade --atomic
hasnt "$err" "evil"
run 0 migr_atk_a stamp e1
hasnt "$err" "evil"
run 0 migr_atk_a --dir "$evil" upgrade --atomic
hasnt "$err" "evil"
run 0 migr_atk_a --dir "$evil" upgrade e2
hasnt "$err" "evil"
unset PGOPTIONS

# ---------------------------------------------------------------------------
# A client encoding asked for by the connection string (or PGOPTIONS), which
# overrides PGCLIENTENCODING: the files still travel as UTF-8, so the
# message, the SQL and the recorded sha256 are those of the file.
enc=$tmp/enc
mkdir "$enc"
printf -- '-- caf\xc3\xa9\n--\n-- Revision ID: u1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:01\n\n-- migr:upgrade\nCREATE TABLE public.u1 (x text DEFAULT \x27\xe2\x82\xac\x27);\n' \
    >"$enc/2024_01_01_000001_u1.sql"
run 0 migr_atk_enc --dir "$enc" -d "dbname=migr_atk_enc client_encoding=LATIN1" upgrade
[ "$(sql migr_atk_enc "SELECT message FROM migr.migration WHERE id = 'u1'")" = "café" ] ||
    fail "the message did not travel as UTF-8"
[ "$(sql migr_atk_enc "SELECT encode(source_sha256, 'hex') FROM migr.migration WHERE id = 'u1'")" = \
  "$(sha256sum <"$enc/2024_01_01_000001_u1.sql" | cut -d' ' -f1)" ] || fail "the file did not travel byte for byte"
PGOPTIONS="-c client_encoding=LATIN1" run 0 migr_atk_enc --dir "$enc" upgrade
has "$out" "1 file loaded (1 unchanged)"

# ---------------------------------------------------------------------------
# Entries named *.sql that are not regular files: a FIFO made "migr upgrade"
# wait for a writer for ever (opened before it was looked at), a directory
# was skipped without a word.  Each is refused at step 3 (exit 5), naming it,
# and so is a symbolic link to nothing; a link to a file is a file.
files=$tmp/files
mkdir "$files"
rev "$files" 01 f1 "" "CREATE TABLE public.f1 (id int);"
mkfifo "$files/2024_01_01_000002_fifo.sql"
run 5 migr_atk_files --dir "$files" upgrade
has "$err" "$files/2024_01_01_000002_fifo.sql is not a regular file"
has "$err" "step 3/5 (status) failed"
rm "$files/2024_01_01_000002_fifo.sql"
mkdir "$files/2024_01_01_000002_dir.sql"
run 5 migr_atk_files --dir "$files" upgrade
has "$err" "$files/2024_01_01_000002_dir.sql is not a regular file"
rmdir "$files/2024_01_01_000002_dir.sql"
ln -s "$tmp/nothing" "$files/2024_01_01_000002_gone.sql"
run 5 migr_atk_files --dir "$files" upgrade
has "$err" "$files/2024_01_01_000002_gone.sql is a symbolic link to nothing"
rm "$files/2024_01_01_000002_gone.sql"
rev "$tmp" 02 f2 f1 "CREATE TABLE public.f2 (id int);"
# a name that is not UTF-8 is refused before anything is sent, naming the
# file; a surrogate or a stray continuation byte passed a loose check and
# the server refused the whole load with an error that named no file
for bad in $'\xc3\xa9\xa9' $'\xed\xa0\x80' $'\xc0\xaf' $'\xff'; do
    printf -- '-- x\n' >"$files/2024_01_01_000002_a$bad.sql"
    run 5 migr_atk_files --dir "$files" upgrade
    has "$err" "the name of $files/2024_01_01_000002_a$bad.sql is not valid UTF-8"
    rm "$files/2024_01_01_000002_a$bad.sql"
done
ln -s "$tmp/2024_01_01_000002_f2.sql" "$files/2024_01_01_000002_f2.sql"
run 0 migr_atk_files --dir "$files" upgrade
has "$out" "2 revisions applied"
[ "$(sql migr_atk_files "SELECT count(*) FROM migr.migration")" = 2 ] || fail "a file was not loaded"

# ---------------------------------------------------------------------------
# SIGTERM (a CI job's timeout) and Ctrl-C during step 4.  SIGTERM reached
# only the shell: migr ended, but its psql went on, finished the revision
# and applied the next ones, with nobody told.  Now psql is told to cancel
# and waited for; the revision running is rolled back, the ones before stay
# applied, the next does not start, and the message says so.
sigdir=$tmp/sig
mkdir "$sigdir"
rev "$sigdir" 01 s1 "" "CREATE TABLE public.s1 (id int);"
rev "$sigdir" 02 s2 s1 "SELECT pg_sleep(20); CREATE TABLE public.s2 (id int);"
rev "$sigdir" 03 s3 s2 "CREATE TABLE public.s3 (id int);"
# wait_sleep [DB]: until the backend of migr runs pg_sleep (10 s at most)
wait_sleep() {
    local _
    for _ in $(seq 50); do
        [ "$(sql postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = '${1:-migr_atk_sig}'
                             AND application_name = 'migr' AND wait_event = 'PgSleep'")" = 0 ] || return 0
        sleep 0.2
    done
    fail "migr upgrade did not reach the revision that sleeps"
}
migr_backends() {
    sql postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'migr_atk_sig' AND application_name = 'migr'"
}
PGDATABASE=migr_atk_sig "$migr" --dir "$sigdir" upgrade >"$tmp/out" 2>"$tmp/err" &
pid=$!
wait_sleep
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
err=$(<"$tmp/err")
[ "$rc" = 143 ] || fail "migr upgrade killed by SIGTERM exited $rc, not 143; stderr: $err"
has "$err" "interrupted by SIGTERM during step 4/5 (apply)"
has "$err" "the revisions applied before stay applied; the one running was rolled back"
[ "$(migr_backends)" = 0 ] || fail "the connection of migr upgrade outlived it after SIGTERM"
[ "$(sql migr_atk_sig "SELECT string_agg(c, ',') FROM migr.current() c")" = s1 ] ||
    fail "after SIGTERM during s2 the database is not at s1"
# Ctrl-C: the terminal sends SIGINT to the whole foreground process group,
# whose processes have SIGINT's default disposition.  This test may itself
# run in the background of a non-interactive shell (a CI job), where SIGINT
# is ignored and bash cannot trap a signal ignored when it started: env
# gives migr the foreground job's disposition.
set -m
PGDATABASE=migr_atk_sig env --default-signal=INT "$migr" --dir "$sigdir" upgrade --atomic >"$tmp/out" 2>"$tmp/err" &
pid=$!
set +m
wait_sleep
kill -INT -- "-$pid"
rc=0
wait "$pid" || rc=$?
err=$(<"$tmp/err")
[ "$rc" = 130 ] || fail "migr upgrade --atomic interrupted by SIGINT exited $rc, not 130; stderr: $err"
has "$err" "interrupted by SIGINT during step 4/5 (apply)"
has "$err" "nothing of this upgrade was applied (--atomic: one transaction)"
[ "$(migr_backends)" = 0 ] || fail "the connection of migr upgrade outlived it after SIGINT"
[ "$(sql migr_atk_sig "SELECT string_agg(c, ',') FROM migr.current() c")" = s1 ] ||
    fail "after SIGINT during s2 the database is not at s1"
# a downgrade stopped says what stays reverted: d2's is committed, d1's
# rolled back
down=$tmp/down
mkdir "$down"
rev "$down" 01 d1 "" "CREATE TABLE public.d1 (id int);" "SELECT pg_sleep(20); DROP TABLE public.d1;"
rev "$down" 02 d2 d1 "CREATE TABLE public.d2 (id int);" "DROP TABLE public.d2;"
run 0 migr_atk_down --dir "$down" upgrade
PGDATABASE=migr_atk_down "$migr" downgrade base >"$tmp/out" 2>"$tmp/err" &
pid=$!
wait_sleep migr_atk_down
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
err=$(<"$tmp/err")
[ "$rc" = 143 ] || fail "migr downgrade killed by SIGTERM exited $rc, not 143; stderr: $err"
has "$err" "migr downgrade: interrupted by SIGTERM; the statement running was cancelled"
has "$err" "the revisions reverted before stay reverted; the one running was rolled back"
[ "$(sql migr_atk_down "SELECT string_agg(c, ',') FROM migr.current() c")" = d1 ] ||
    fail "after SIGTERM during the downgrade of d1 the database is not at d1"

# ---------------------------------------------------------------------------
# Two first upgrades at once on one database: both ran CREATE EXTENSION IF
# NOT EXISTS, and the second failed on pg_namespace's unique index (exit 4).
# Now the creation waits for a lock of its own and looks again.  And the
# upgrade whose CALL found the revisions applied by the other said it had
# applied them: the count now comes from the steps its own CALL logged.
two=$tmp/two
mkdir "$two"
rev "$two" 01 t1 "" "CREATE TABLE public.t1 (id int);"
rev "$two" 02 t2 t1 "SELECT pg_sleep(0.5); CREATE TABLE public.t2 (id int);"
for _ in 1 2 3; do
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS migr_atk_two" \
        -c "CREATE DATABASE migr_atk_two"
    PGDATABASE=migr_atk_two "$migr" --dir "$two" upgrade >"$tmp/out1" 2>"$tmp/err1" &
    p1=$!
    PGDATABASE=migr_atk_two "$migr" --dir "$two" upgrade >"$tmp/out2" 2>"$tmp/err2" &
    p2=$!
    rc1=0 rc2=0
    wait "$p1" || rc1=$?
    wait "$p2" || rc2=$?
    [ "$rc1.$rc2" = 0.0 ] || fail "two upgrades at once exited $rc1 and $rc2: $(cat "$tmp/err1" "$tmp/err2")"
    total=$(sed -n 's/^\[4\/5\] apply: \([0-9]*\) revisions\{0,1\} applied.*/\1/p' "$tmp/out1" "$tmp/out2" |
            awk '{ s += $1 } END { print s + 0 }')
    [ "$total" = 2 ] || fail "two upgrades at once say they applied $total revisions, not 2: $(cat "$tmp/out1" "$tmp/out2")"
done

# ---------------------------------------------------------------------------
# The replies from psql are lines up to "@@end": text of the database that
# holds a line break must not end one early.  A warning about a constraint
# whose name holds "\n@@end" lost the rest of itself (and could hide what
# came after); a database name with a tab and "\n@@end" made every command
# fail on an unbound variable (exit 1).
nl=$tmp/nl tab=$'\t'
mkdir "$nl"
rev "$nl" 01 n1 "" "CREATE TABLE public.p (id int PRIMARY KEY);
CREATE TABLE public.c (pid int, CONSTRAINT \"fk
@@end
@@check${tab}7${tab}7\" FOREIGN KEY (pid) REFERENCES public.p);" "DROP TABLE public.c, public.p;"
run 0 migr_atk_nl --dir "$nl" upgrade
has "$out" "[5/5] verify: ok (migr.check: no errors, 1 warning, 0 info)"
[[ $err == *$'warning: unindexed_foreign_key: foreign key "fk\n@@end\n@@check\t7\t7" on "public.c" has no index'* ]] ||
    fail "the warning did not come whole: $err"
run 0 migr_atk_nl --dir "$nl" upgrade n1
[[ $err == *$'"fk\n@@end\n@@check\t7\t7" on "public.c" has no index'* ]] ||
    fail "the warning did not come whole: $err"
run 4 postgres -d "dbname='migr_atk
@@end${tab}x'" current
has "$err" 'migr is not installed in database "migr_atk @@end x"'

# ---------------------------------------------------------------------------
# --dir naming a file: "migr upgrade --dry-run" said "missing: would be
# created" and showed an empty plan, "migr new" that it did not exist.  An
# unreadable directory was read as one without files: the upgrade went on
# (exit 0), every revision loaded from a file reported as gone.
echo hi >"$tmp/plain"
run 4 migr_atk_files --dir "$tmp/plain" upgrade --dry-run
has "$err" "the migrations directory \"$tmp/plain\" is not a directory"
run 4 migr_atk_files --dir "$tmp/plain" upgrade
has "$err" "the migrations directory \"$tmp/plain\" is not a directory"
run 4 migr_atk_files --dir "$tmp/plain" new "one more"
has "$err" "the migrations directory \"$tmp/plain\" is not a directory"
ln -s "$tmp/nothing" "$tmp/dangling"
run 4 migr_atk_files --dir "$tmp/dangling" upgrade --dry-run
has "$err" "the migrations directory \"$tmp/dangling\" is a symbolic link to nothing"
run 4 migr_atk_files --dir "$tmp/dangling" new "one more"
has "$err" "is a symbolic link to nothing"
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    # root reads every directory: run it as postgres (the server's owner,
    # who can reach its socket), from a copy of the command that postgres
    # can read: the checkout may be in a directory only root can enter
    chmod 755 "$tmp"
    cp "$migr" "$tmp/migr-copy"
    chmod 755 "$tmp/migr-copy"
    chmod 000 "$files"
    rc=0
    runuser -u postgres -- env PATH="$PATH" PGHOST="${PGHOST:-}" PGPORT="${PGPORT:-}" PGUSER=postgres \
        PGDATABASE=migr_atk_files "$tmp/migr-copy" --dir "$files" upgrade >"$tmp/out" 2>"$tmp/err" || rc=$?
    chmod 755 "$files"
    err=$(<"$tmp/err")
    [ "$rc" = 5 ] || fail "an unreadable migrations directory: exit $rc, not 5: $err"
    has "$err" "cannot read the migrations directory $files: Permission denied"
fi

echo "ok"

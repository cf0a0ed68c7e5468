#!/usr/bin/env bash
# "migr upgrade" (scripts/db_upgrade.sh) and the other commands of bin/migr
# against real databases: each of the five steps failing with its exit code
# (no server, an extension the role may not create, an old migr, a malformed
# file, several heads, a failing migration, schema drift), the files sent byte
# for byte, --atomic, --dry-run changing nothing, and current, heads,
# history, plan, check, stamp, downgrade, script with their error exits,
# --help and usage errors; a deploy role that is no superuser.  See
# docs/cli.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
tmp=$(mktemp -d)
dbs=(migr_cli_a migr_cli_b migr_cli_c migr_cli_old migr_cli_noext migr_cli_dry migr_cli_dep)
role=migr_cli_plain
deployer=migr_cli_deployer
cleanup() {
    rm -rf "$tmp"
    local d
    for d in "${dbs[@]}"; do
        psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
    done
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS $role" \
        -c "DROP ROLE IF EXISTS $deployer" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
sql() { psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "SET client_min_messages = warning" -c "$2"; }

# run CODE DB COMMAND...: bin/migr COMMAND against DB; expects exit CODE;
# stdout in $out, stderr in $err
run() {
    local want=$1 d=$2 rc=0
    shift 2
    PGDATABASE=$d "$root/bin/migr" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    out=$(<"$tmp/out") err=$(<"$tmp/err")
    [ "$rc" = "$want" ] || fail "migr $* on $d exited $rc, not $want; stdout: $out; stderr: $err"
}
has() { grep -qF -- "$2" <<<"$1" || fail "expected \"$2\" in: $1"; }
hasnt() { ! grep -qF -- "$2" <<<"$1" || fail "did not expect \"$2\" in: $1"; }

# rev DIR NAME REVISES UPGRADE [DOWNGRADE]: writes a migration file
n=0
rev() {
    n=$((n + 1))
    local f
    f=$1/$(printf '2024_01_01_00%04d' "$n")_$2.sql
    printf -- '-- %s\n--\n-- Revision ID: %s\n-- Revises: %s\n-- Create Date: 2024-01-01 00:%02d:%02d\n\n-- migr:upgrade\n%s\n' \
        "$2" "$2" "$3" $((n / 60)) $((n % 60)) "$4" >"$f"
    [ -z "${5:-}" ] || printf -- '\n-- migr:downgrade\n%s\n' "$5" >>"$f"
}

for d in "${dbs[@]}"; do
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $d" -c "CREATE DATABASE $d"
done
[ "$(sql postgres "SELECT count(*) FROM pg_roles WHERE rolname IN ('$role', '$deployer')")" = 0 ] ||
    fail "a role named $role or $deployer already exists in this cluster"
sql postgres "CREATE ROLE $role LOGIN PASSWORD 'migr'"
sql postgres "CREATE ROLE $deployer LOGIN PASSWORD 'migr'"
sql postgres "GRANT CREATE ON DATABASE migr_cli_noext TO $role"

# ---------------------------------------------------------------------------
# usage, help, version
run 0 postgres --help
has "$out" "usage: migr [OPTIONS] COMMAND"
has "$out" "5  the migration files could not be loaded"
for c in new upgrade downgrade current heads history plan check stamp script; do
    run 0 postgres "$c" --help
    has "$out" "usage: migr $c"
    run 0 postgres help "$c"
    has "$out" "usage: migr $c"
done
for c in downgrade current heads history plan check stamp script; do
    run 0 postgres "$c" --help
    has "$out" "Does not"
done
run 0 postgres --version
control=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" migr.control)
[ "$out" = "migr $control" ] || fail "--version says \"$out\", migr.control $control"
run 2 postgres
has "$err" "no command given"
run 2 postgres frobnicate
has "$err" 'unrecognized command "frobnicate"'
run 2 postgres upgrade --frob
has "$err" 'unrecognized option "--frob"'
run 2 postgres upgrade head extra
has "$err" "too many arguments"
run 2 postgres current --atomic
has "$err" 'option --atomic is not an option of "migr current"'
run 2 postgres upgrade --data
run 2 postgres stamp
has "$err" "stamp needs a target"
run 2 postgres history x
run 2 postgres --dir
has "$err" "option --dir needs a value"
run 2 postgres upgrade -1x
rc=0
"$root/scripts/db_upgrade.sh" --bogus >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] || fail "db_upgrade.sh --bogus exited $rc"
has "$(<"$tmp/err")" 'unrecognized option "--bogus"'

# ---------------------------------------------------------------------------
# [1/5] connection: exit 3, psql's message on stderr, no step line
run 3 postgres -d "host=$tmp/nowhere port=1 dbname=x" upgrade
has "$err" "psql: error: connection to server on socket"
has "$err" "migr upgrade: step 1/5 (connection) failed"
[ -z "$out" ] || fail "a step line without a connection: $out"
rc=0
DATABASE_URL="postgresql://localhost:1/x" PGHOST='' "$root/scripts/db_upgrade.sh" >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 3 ] || fail "db_upgrade.sh with a bad DATABASE_URL exited $rc"
has "$(<"$tmp/err")" 'port 1 failed'
run 3 postgres -d "host=$tmp/nowhere" current
has "$err" "could not connect to the database"

# ---------------------------------------------------------------------------
# [2/5] initialise: exit 4 when the role may not create the extension, or
# migr is too old to load files; the commands that need migr say so
mkdir "$tmp/m0"
run 4 migr_cli_noext --dir "$tmp/m0" -d "dbname=migr_cli_noext user=$role password=migr" upgrade
has "$out" "[1/5] connection: ok ($role@"
has "$err" "permission denied to create extension \"migr\""
has "$err" "migr upgrade: step 2/5 (initialise) failed"
[ "$(sql migr_cli_noext "SELECT count(*) FROM pg_extension WHERE extname = 'migr'")" = 0 ] ||
    fail "migr was installed"
for c in current heads history plan check script "stamp head" downgrade; do
    # shellcheck disable=SC2086
    run 4 migr_cli_noext $c
    has "$err" 'migr is not installed in database "migr_cli_noext"'
done
sql migr_cli_old "CREATE EXTENSION migr VERSION '0.3.0'"
run 4 migr_cli_old --dir "$tmp/m0" upgrade
has "$err" "has no migr.load_all()"
has "$err" "ALTER EXTENSION migr UPDATE"

# ---------------------------------------------------------------------------
# the five steps, all well: a new directory is created
run 0 migr_cli_a --dir "$tmp/ma" upgrade
[ -d "$tmp/ma" ] || fail "the migrations directory was not created"
mapfile -t lines <<<"$out"
[ ${#lines[@]} = 5 ] || fail "not five lines: $out"
[[ ${lines[0]} =~ ^"[1/5] connection: ok (postgres@".*":".*"/migr_cli_a, PostgreSQL 15."[0-9]+")"$ ]] ||
    fail "step 1: ${lines[0]}"
[ "${lines[1]}" = "[2/5] initialise: migr $control (installed now); directory $tmp/ma (created now)" ] ||
    fail "step 2: ${lines[1]}"
[ "${lines[2]}" = "[3/5] status: no migration files in $tmp/ma; current base; 0 pending to head" ] ||
    fail "step 3: ${lines[2]}"
[ "${lines[3]}" = "[4/5] apply: nothing to apply" ] || fail "step 4: ${lines[3]}"
[ "${lines[4]}" = "[5/5] verify: ok (migr.check: no errors, 0 warnings, 0 info)" ] || fail "step 5: ${lines[4]}"

ma=$tmp/ma
rev "$ma" a1 "" "CREATE TABLE t1 (id int PRIMARY KEY);" "DROP TABLE t1;"
rev "$ma" a2 a1 "ALTER TABLE t1 ADD COLUMN v text;" "ALTER TABLE t1 DROP COLUMN v;"
# a file byte for byte: CRLF line endings, a tab, backslashes, psql's own
# syntax (:var, a backslash command) in a dollar-quoted body, UTF-8, no final
# newline
n=$((n + 1))
bytes="$ma/$(printf '2024_01_01_00%04d' "$n")_a3.sql"
perl -e 'print "-- a3\r\n--\r\n-- Revision ID: a3\r\n-- Revises: a2\r\n-- Create Date: 2024-01-01 00:00:$ARGV[0]\r\n\r\n",
               "-- migr:upgrade\r\nCREATE FUNCTION f() RETURNS text LANGUAGE sql AS \$\$\r\n",
               "SELECT \x27line1\r\n\\q\r\n:x :\x27\x27y\x27\x27 \x27 || E\x27tab\\there\x27 || \x27\t|caf\xc3\xa9\x27\r\n",
               "\$\$;\r\n-- migr:downgrade\r\nDROP FUNCTION f();"' "$(printf '%02d' "$n")" >"$bytes"
run 0 migr_cli_a --dir "$ma" upgrade
has "$out" "[3/5] status: 3 files loaded (0 unchanged, 3 registered); current base; 3 pending to head"
has "$out" "[4/5] apply: 3 revisions applied (CALL migr.apply('head')); current a3"
has "$err" "NOTICE:  applying a1 (revises base)"
[ "$(sql migr_cli_a "SELECT encode(source_sha256, 'hex') FROM migr.migration WHERE id = 'a3'")" = \
  "$(sha256sum <"$bytes" | cut -d' ' -f1)" ] || fail "the file did not travel byte for byte"
[ "$(sql migr_cli_a "SELECT f()")" = $'line1\n\\q\n:x :\'y\' tab\there\t|café' ] ||
    fail "f() returns $(sql migr_cli_a "SELECT f()")"
# a no-op: five lines, nothing applied, quiet prints nothing
run 0 migr_cli_a --dir "$ma" upgrade
has "$out" "[3/5] status: 3 files loaded (3 unchanged); current a3; 0 pending to head"
has "$out" "[4/5] apply: nothing to apply"
[ -z "$err" ] || fail "stderr of a no-op: $err"
MIGR_DIR=$ma run 0 migr_cli_a -q upgrade
[ -z "$out$err" ] || fail "upgrade -q printed: $out $err"
# the same bytes whatever the session's standard_conforming_strings
PGOPTIONS="-c standard_conforming_strings=off" run 0 migr_cli_a --dir "$ma" upgrade
has "$out" "(3 unchanged)"

# a file that is gone: a warning, and it stays registered
mv "$bytes" "$tmp/a3.sql.away"
run 0 migr_cli_a --dir "$ma" upgrade
has "$out" "(2 unchanged, 1 missing)"
has "$err" "warning: revision \"a3\" was loaded from \"${bytes##*/}\", which is not in $ma; it stays registered"
mv "$tmp/a3.sql.away" "$bytes"

# ---------------------------------------------------------------------------
# [3/5] status: a malformed file is exit 5 with the file and line, and
# nothing of the directory is registered (one transaction)
rev "$ma" a4 a3 "CREATE TABLE t4 (id int);" "DROP TABLE t4;"
rev "$ma" a5 a4 "SELECT 1;"
printf -- '\n-- migr:upgrade\nSELECT 2;\n' >>"$ma/$(printf '2024_01_01_00%04d' "$n")_a5.sql"
run 5 migr_cli_a --dir "$ma" upgrade
has "$err" 'ERROR:  duplicate section "upgrade"'
has "$err" "CONTEXT:  migration file \"$(printf '2024_01_01_00%04d' "$n")_a5.sql\", line 10"
has "$err" "migr upgrade: step 3/5 (status) failed"
has "$out" "[2/5] initialise"
hasnt "$out" "[3/5]"
[ "$(sql migr_cli_a "SELECT count(*) FROM migr.migration WHERE id IN ('a4', 'a5')")" = 0 ] ||
    fail "a4 was registered although a5 failed"
#    the lines of steps 1 and 2 come before what the load says, with stdout
#    and stderr in one file, even when the answers reach migr late (psql's
#    answers relayed half a second late) and without a stat cache (perl
#    reads the files while psql connects)
cat >"$tmp/slowpsql" <<EOF
#!/bin/bash
exec 4>&3
exec "$(command -v psql)" "\$@" 3> >(sleep 0.5; exec cat >&4)
EOF
chmod +x "$tmp/slowpsql"
in_order() {    # in_order TEXT: "[2/5]" before TEXT in $tmp/both
    local a b
    a=$(grep -nF '[2/5] initialise' "$tmp/both" | cut -d: -f1)
    b=$(grep -nF -- "$1" "$tmp/both" | head -1 | cut -d: -f1)
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] ||
        fail "\"[2/5]\" should come before \"$1\" in: $(cat "$tmp/both")"
}
slow_upgrade() {    # slow_upgrade CODE: as above, output in $tmp/both
    local rc=0
    MIGR_PSQL=$tmp/slowpsql MIGR_CACHE_DIR= PGDATABASE=migr_cli_a "$root/bin/migr" --dir "$ma" upgrade \
        >"$tmp/both" 2>&1 || rc=$?
    [ "$rc" = "$1" ] || fail "migr upgrade with a slow psql exited $rc, not $1: $(cat "$tmp/both")"
}
slow_upgrade 5
in_order 'ERROR:  duplicate section "upgrade"'
rm "$ma/$(printf '2024_01_01_00%04d' "$n")_a5.sql"
# not UTF-8: refused before it is sent, with the file and line
printf -- '-- a5\n--\n-- Revision ID: a5\n-- Revises: a4\n-- Create Date: 2024-01-01 00:00:59\n\n-- migr:upgrade\nSELECT \xe9;\n' \
    >"$ma/2024_01_01_000059_a5.sql"
run 5 migr_cli_a --dir "$ma" upgrade
has "$err" 'migration file "2024_01_01_000059_a5.sql" is not valid UTF-8 at line 8'
slow_upgrade 5
in_order 'is not valid UTF-8 at line 8'
rm "$ma/2024_01_01_000059_a5.sql"

# several heads: exit 5 with the heads and the way out; a target goes on
rev "$ma" b1 a3 "CREATE TABLE tb (id int);" "DROP TABLE tb;"
run 5 migr_cli_a --dir "$ma" upgrade
has "$out" "2 heads"
has "$err" "the revision graph has 2 heads: a4, b1"
has "$err" 'migr new --merge'
[ "$(sql migr_cli_a "SELECT string_agg(c, ',') FROM migr.current() c")" = a3 ] || fail "something was applied"
run 0 migr_cli_a --dir "$ma" upgrade heads
has "$out" "2 pending to heads"
has "$out" "[4/5] apply: 2 revisions applied (CALL migr.apply('heads')); current b1, a4"
has "$out" "[5/5] verify: ok (migr.check: no errors, 1 warning, 0 info)"
has "$err" "warning: multiple_heads: the revision graph has 2 heads"
run 6 migr_cli_a --dir "$ma" upgrade no_such_target
has "$err" 'ERROR:  revision or branch "no_such_target" does not exist'
has "$err" "step 3/5 (status) failed"
# scripts/db_upgrade.sh is the same command
rc=0
(cd "$tmp" && PGDATABASE=migr_cli_a MIGR_DIR=$ma "$root/scripts/db_upgrade.sh" heads) >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "db_upgrade.sh heads exited $rc: $(<"$tmp/out")"
has "$(<"$tmp/out")" "[4/5] apply: nothing to apply"

# ---------------------------------------------------------------------------
# [4/5] apply: a failing revision is exit 6 with its error; CALL mode keeps
# what ran before it, --atomic keeps nothing
mb=$tmp/mb
mkdir "$mb"
rev "$mb" c1 "" "CREATE TABLE c1 (id int);" "DROP TABLE c1;"
rev "$mb" c2 c1 "CREATE TABLE c2 (id int);" "DROP TABLE c2;"
rev "$mb" c3 c2 "ALTER TABLE c1 ADD COLUMN id int;" "SELECT 1;"
run 6 migr_cli_b --dir "$mb" upgrade --atomic
has "$out" "3 pending to head"
has "$err" 'ERROR:  column "id" of relation "c1" already exists'
has "$err" 'migr revision "c3" (upgrade), statement 1'
has "$err" "step 4/5 (apply) failed"
[ "$(sql migr_cli_b "SELECT count(*) FROM migr.current()")" = 0 ] || fail "--atomic left revisions applied"
run 6 migr_cli_b --dir "$mb" upgrade
has "$err" 'column "id" of relation "c1" already exists'
[ "$(sql migr_cli_b "SELECT string_agg(c, ',') FROM migr.current() c")" = c2 ] ||
    fail "CALL mode did not keep c1 and c2"
rm "$mb"/*_c3.sql
rev "$mb" c3 c2 "ALTER TABLE c1 ADD COLUMN v int;" "ALTER TABLE c1 DROP COLUMN v;"
run 0 migr_cli_b --dir "$mb" upgrade --atomic
has "$out" "[3/5] status: 3 files loaded (2 unchanged, 1 replaced); current c2; 1 pending to head"
has "$out" "[4/5] apply: 1 revision applied (migr.upgrade('head'), one transaction); current c3"

# [5/5] verify: a table altered behind migr's back is exit 1, every finding shown
sql migr_cli_b "ALTER TABLE c2 ADD COLUMN by_hand int"
run 1 migr_cli_b --dir "$mb" upgrade
has "$out" "[4/5] apply: nothing to apply"
hasnt "$out" "[5/5]"
has "$err" "ERROR:  migr.check() found 1 error"
has "$err" "error: schema_drift: the schema differs from the one migr last recorded"
has "$err" "  + column public.c2.by_hand"
has "$err" "step 5/5 (verify) failed"
run 1 migr_cli_b check
has "$out" "error: schema_drift"
has "$out" "+ column public.c2.by_hand"
has "$out" "1 error, 0 warnings, 0 info"
sql migr_cli_b "ALTER TABLE c2 DROP COLUMN by_hand"
run 0 migr_cli_b check
has "$out" "no findings"

# ---------------------------------------------------------------------------
# --dry-run: the script on stdout, the steps on stderr, and nothing changes,
# neither in a database without migr nor in one with pending files
snapshot() {
    pg_dump -d "$1" --no-owner | grep -v -e '^--' -e '^$' -e '^.restrict ' -e '^.unrestrict '
    sql "$1" "SELECT extname, extversion FROM pg_extension ORDER BY 1"
}
md=$tmp/md
before=$(snapshot migr_cli_dry)
run 0 migr_cli_dry --dir "$md" upgrade --dry-run
[ ! -e "$md" ] || fail "--dry-run created the directory"
has "$err" "[2/5] initialise: migr $control (would be installed); directory $md (missing: would be created)"
has "$err" "[5/5] verify: skipped (dry run)"
has "$out" "migr offline script"
hasnt "$out" "[1/5]"
[ "$(snapshot migr_cli_dry)" = "$before" ] || fail "--dry-run changed the database without migr"
mkdir "$md"
rev "$md" d1 "" "CREATE TABLE d1 (id int);" "DROP TABLE d1;"
run 0 migr_cli_dry --dir "$md" upgrade
rev "$md" d2 d1 "CREATE TABLE d2 (id int);" "DROP TABLE d2;"
rev "$md" d3 d2 "CREATE TABLE d3 (id int);" "DROP TABLE d3;"
before=$(snapshot migr_cli_dry)
events=$(sql migr_cli_dry "SELECT count(*) FROM migr.event")
run 0 migr_cli_dry --dir "$md" upgrade --dry-run
has "$err" "[3/5] status: 3 files loaded (1 unchanged, 2 registered); current d1; 2 pending to head"
has "$err" "[4/5] apply: dry run: migr.script('head') printed; nothing applied"
has "$out" "CREATE TABLE d2 (id int);"
has "$out" "CREATE TABLE d3 (id int);"
[ "$(snapshot migr_cli_dry)" = "$before" ] || fail "--dry-run changed the catalog or the schema"
[ "$(sql migr_cli_dry "SELECT count(*) FROM migr.event")" = "$events" ] || fail "--dry-run wrote events"
# a dangling parent is caught in a dry run too, although nothing commits
rev "$md" d4 nowhere "SELECT 1;"
run 5 migr_cli_dry --dir "$md" upgrade --dry-run
has "$err" "nowhere"

# ---------------------------------------------------------------------------
# the commands that do not load files
mc=$tmp/mc
mkdir "$mc"
rev "$mc" e1 "" "CREATE TABLE e1 (id int);" "DROP TABLE e1;"
n=$((n + 1))
printf -- '-- e2\n--\n-- Revision ID: e2\n-- Revises: e1\n-- Create Date: 2024-01-01 00:%02d:%02d\n-- Branch Labels: main\n\n-- migr:skip_if\nmigr.has_table('"'"'e2'"'"')\n\n-- migr:upgrade\nCREATE TABLE e2 (id int);\n' \
    $((n / 60)) $((n % 60)) >"$mc/$(printf '2024_01_01_00%04d' "$n")_e2.sql"
run 0 migr_cli_c --dir "$mc" upgrade e1
run 0 migr_cli_c current
[ "$out" = e1 ] || fail "current: $out"
run 0 migr_cli_c heads
[ "$out" = "e2 (main)" ] || fail "heads: $out"
run 0 migr_cli_c history
has "$out" "revision"
grep -Eq '^ 1 \| e1 +\| +\| main +\| [0-9]{4}-[0-9-]+ [0-9:]+ \| current +\| e1$' <<<"$out" || fail "history row 1: $out"
grep -Eq '^ 2 \| e2 +\| e1 +\| main +\| +\| head irreversible +\| e2$' <<<"$out" || fail "history row 2: $out"
run 0 migr_cli_c plan
grep -Eq '^ +1 \| e2 +\| upgrade +\| skip_if +\| no ' <<<"$out" || fail "plan: $out"
run 0 migr_cli_c plan e1
[ "$out" = 'nothing to do for target "e1"' ] || fail "plan with nothing to do should print no table header: $out"
run 6 migr_cli_c plan nope
has "$err" 'revision or branch "nope" does not exist'
run 0 migr_cli_c script
has "$out" "CREATE TABLE e2 (id int);"
run 6 migr_cli_c script nope
run 1 migr_cli_c check
has "$out" "error: pending: revision \"e2\" is not applied"
run 0 migr_cli_c --dir "$mc" upgrade
run 0 migr_cli_c current
[ "$out" = "e2 (head)" ] || fail "current after upgrade: $out"
run 0 migr_cli_c script
has "$out" "the upgrade to 'head', 0 steps"
run 6 migr_cli_c script e1
has "$err" 'cannot downgrade through irreversible revision "e2"'
run 0 migr_cli_c check
has "$out" "info: irreversible"
has "$out" "0 errors, 0 warnings, 1 info"
# downgrade through the irreversible e2: refused
run 6 migr_cli_c downgrade
has "$err" 'cannot downgrade through irreversible revision "e2"'
run 0 migr_cli_c stamp e1
has "$out" "e2       | stamp"
has "$out" "current: e1"
run 6 migr_cli_c stamp nope
has "$err" 'revision or branch "nope" does not exist'
run 0 migr_cli_c downgrade
has "$err" "NOTICE:  reverting e1"
has "$out" "current: base"
[ "$(sql migr_cli_c "SELECT count(*) FROM pg_class WHERE relname = 'e1'")" = 0 ] || fail "e1 still there"
run 0 migr_cli_c --dir "$mc" upgrade e1
run 0 migr_cli_c downgrade base --atomic
has "$out" "e1       | downgrade"
run 0 migr_cli_c current
[ -z "$out" ] || fail "current at base: $out"
has "$err" "(no revision applied: base)"
run 0 migr_cli_c -q current
[ -z "$out$err" ] || fail "current -q at base: $out $err"
# no rows, no table header: a stamp that changes nothing, an atomic
# downgrade with nothing to revert
run 0 migr_cli_c stamp base
[ "$out" = "current: base" ] || fail "stamp with nothing to do should print no table header: $out"
run 0 migr_cli_c downgrade base --atomic
[ "$out" = "current: base" ] || fail "downgrade with nothing to do should print no table header: $out"
# no temporary file for the table: it is printed as it comes, header and all
TMPDIR=/proc/migr-no-such-dir run 0 migr_cli_c history
has "$out" "revision"
has "$out" "| e1 "
# stdout closed early (| head): migr ends by SIGPIPE, as other tools do,
# without a word and without a stray temporary file
ntmp=$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'tmp.*' -type f | wc -l)
for c in history plan script; do
    # the reader is gone before migr writes
    { sleep 0.3; rc=0; PGDATABASE=migr_cli_c "$root/bin/migr" $c 2>"$tmp/err" || rc=$?; echo "rc=$rc" >"$tmp/rc"; } | true
    [ "$(<"$tmp/rc")" = rc=141 ] || fail "migr $c | true: $(<"$tmp/rc"), not SIGPIPE's 141"
    [ ! -s "$tmp/err" ] || fail "migr $c | true wrote to stderr: $(<"$tmp/err")"
done
[ "$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'tmp.*' -type f | wc -l)" = "$ntmp" ] ||
    fail "migr left a temporary file behind"
run 6 migr_cli_c downgrade nope

# ---------------------------------------------------------------------------
# a deploy role that is no superuser, with EXECUTE on the writers only
# (docs/privileges.md) and migr installed by the DBA: upgrade, check, downgrade
sql migr_cli_dep "CREATE EXTENSION migr"
sql migr_cli_dep "GRANT EXECUTE ON FUNCTION migr.load(text, text), migr.load_all(text[], text[], text[], text),
                        migr.upgrade(text), migr.downgrade(text), migr.stamp(text) TO $deployer;
                  GRANT EXECUTE ON PROCEDURE migr.apply(text), migr.revert(text) TO $deployer;
                  GRANT CREATE ON SCHEMA public TO $deployer"
mdep=$tmp/mdep
mkdir "$mdep"
rev "$mdep" f1 "" "CREATE TABLE public.f1 (id int PRIMARY KEY);" "DROP TABLE public.f1;"
rev "$mdep" f2 f1 "CREATE INDEX f1_id ON public.f1 (id);" "DROP INDEX public.f1_id;"
as_deployer="dbname=migr_cli_dep user=$deployer password=migr"
run 0 migr_cli_dep --dir "$mdep" -d "$as_deployer" upgrade
has "$out" "[1/5] connection: ok ($deployer@"
has "$out" "[2/5] initialise: migr $control; directory $mdep (exists)"
has "$out" "[4/5] apply: 2 revisions applied (CALL migr.apply('head')); current f2"
run 0 migr_cli_dep --dir "$mdep" -d "$as_deployer" upgrade
has "$out" "[4/5] apply: nothing to apply"
run 0 migr_cli_dep -d "$as_deployer" downgrade
has "$out" "current: f1"
[ "$(sql migr_cli_dep "SELECT string_agg(DISTINCT role, ',') FROM migr.event")" = "$deployer" ] ||
    fail "events not recorded as the deploy role"
echo "migr upgrade: the five steps and their exits, byte-exact files, --atomic, --dry-run; the other commands; a deploy role"

#!/usr/bin/env bash
# "migr new" (scripts/create_migration.sh): every validation error with its
# exit code, the file name and header, the parent found from the files'
# headers (base, chain, several heads, --revises, --merge), --branch-label,
# --depends-on, --data, no overwrite; then every kind of generated file
# loads with migr.load() in a fresh database.  See docs/cli.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
db=migr_cli_new
tmp=$(mktemp -d)
cleanup() {
    rm -rf "$tmp"
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# run CODE ARGS...: runs scripts/create_migration.sh in $tmp/work with ARGS,
# expects exit CODE; leaves stdout in $out and stderr in $err
run() {
    local want=$1 rc=0
    shift
    (cd "$tmp/work" && "$root/scripts/create_migration.sh" "$@") >"$tmp/out" 2>"$tmp/err" || rc=$?
    out=$(<"$tmp/out") err=$(<"$tmp/err")
    [ "$rc" = "$want" ] || fail "create_migration.sh $* exited $rc, not $want; stdout: $out; stderr: $err"
}
has() { grep -qF -- "$2" <<<"$1" || fail "expected \"$2\" in: $1"; }
header() { sed -n "s/^-- $2: //p" "$tmp/work/$1"; }

mkdir "$tmp/work"

# the directory must exist
run 4 "add users"
has "$err" 'the migrations directory "migrations" does not exist'
has "$err" 'mkdir -p'
mkdir "$tmp/work/migrations"

# the message
run 2
has "$err" "the migration message is missing"
run 2 ""
has "$err" "the migration message is empty"
for bad in "Add users" "1st table" "_private" " leading space"; do
    run 2 "$bad"
    has "$err" "must start with a lowercase letter"
done
for bad in "add-users" "add users!" "données" "add	tab" "add.users"; do
    run 2 "$bad"
    has "$err" "may hold only lowercase letters, digits, spaces and underscores"
done
run 2 "a$(printf 'b%.0s' {1..60})"
has "$err" "61 characters long; at most 60"
run 2 "add users" --no-such-option
has "$err" 'unrecognized option "--no-such-option"'
run 2 "add users" extra
has "$err" "too many arguments"
run 2 "add users" --atomic
has "$err" 'option --atomic is not an option of "migr new"'
run 2 "add users" --revises
has "$err" "option --revises needs a value"
[ -z "$(ls "$tmp/work/migrations")" ] || fail "a refused call wrote a file: $(ls "$tmp/work/migrations")"

# the first file: a base revision; path on stdout; name and Create Date agree
run 0 "add users"
[[ $out =~ ^migrations/([0-9]{4})_([0-9]{2})_([0-9]{2})_([0-9]{2})([0-9]{2})([0-9]{2})_add_users\.sql$ ]] ||
    fail "unexpected path: $out"
want_date="${BASH_REMATCH[1]}-${BASH_REMATCH[2]}-${BASH_REMATCH[3]} ${BASH_REMATCH[4]}:${BASH_REMATCH[5]}:${BASH_REMATCH[6]}"
[ -f "$tmp/work/$out" ] || fail "$out was not written"
[ "$(head -1 "$tmp/work/$out")" = "-- add users" ] || fail "line 1: $(head -1 "$tmp/work/$out")"
[ "$(header "$out" "Revision ID")" = add_users ] || fail "Revision ID of $out"
[ "$(header "$out" "Revises")" = "" ] || fail "the first file is not a base revision"
grep -qx -- "-- Revises:" "$tmp/work/$out" || fail "no empty Revises line"
[[ $(header "$out" "Create Date") =~ ^"$want_date".[0-9]{6}$ ]] ||
    fail "Create Date $(header "$out" "Create Date") does not match the name's $want_date"
[ "$(sed -n 6p "$tmp/work/$out")" = "" ] || fail "the header does not end with a blank line"
for want in "-- -- migr:skip_if" "-- migr.has_column('public.users', 'failed_logins')" "-- -- migr:requires" \
            "-- migr.has_table('public.users')" "-- -- migr:verify" "-- -- migr:verify_down" \
            "-- migr:upgrade" "-- migr:downgrade"; do
    grep -qxF -- "$want" "$tmp/work/$out" || fail "template line \"$want\" missing"
done
! grep -q "Transactional" "$tmp/work/$out" || fail "a plain template says Transactional"

# runs of spaces and underscores become one underscore; the head is the parent
sleep 1
run 0 "add  email__column_ now"
second=${out#migrations/}
[[ $second == *_add_email_column_now.sql ]] || fail "id not normalised: $second"
[ "$(header "$out" "Revises")" = add_users ] || fail "second file revises $(header "$out" "Revises")"
[ "$(head -1 "$tmp/work/$out")" = "-- add  email__column_ now" ] || fail "message not kept as given"

# an id a file already has
run 2 "add_users"
has "$err" 'already has the revision id "add_users"'
run 2 "add users" --revises base
has "$err" 'already has the revision id "add_users"'

# --revises: a second branch; then several heads are refused
run 2 "side branch" --revises no_such_revision
has "$err" 'no migration file in migrations has the revision id "no_such_revision"'
run 2 "side branch" --revises "a b"
has "$err" 'invalid --revises'
run 0 "side branch" --revises add_users --branch-label side
side=$out
[ "$(header "$side" "Revises")" = add_users ] || fail "--revises ignored"
[ "$(header "$side" "Branch Labels")" = side ] || fail "--branch-label not written"
run 2 "third"
has "$err" "have 2 heads: add_email_column_now, side_branch"
has "$err" "--revises"
has "$err" "migr new --merge"

# --merge: comment-only sections revising every head
run 2 "merge heads" --merge --revises add_users
has "$err" "--merge cannot be combined"
run 2 "merge heads" --merge --data
has "$err" "--merge cannot be combined"
run 0 "merge heads" --merge
merge=$out
[ "$(header "$merge" "Revises")" = "add_email_column_now, side_branch" ] ||
    fail "merge revises $(header "$merge" "Revises")"
[ "$(sed -n '/^-- migr:upgrade$/,$p' "$tmp/work/$merge" | grep -cv '^--\|^$')" = 0 ] ||
    fail "the merge has SQL: $(cat "$tmp/work/$merge")"
grep -qx -- "-- nothing to run: merge of add_email_column_now, side_branch" "$tmp/work/$merge" ||
    fail "the merge's upgrade does not say it runs nothing"
run 2 "merge again" --merge
has "$err" "nothing to merge: the files in migrations have 1 head(s)"

# --depends-on, a label check, --data
run 2 "labelled" --branch-label "has space"
has "$err" 'invalid branch label "has space"'
run 2 "depends" --depends-on "x;y"
has "$err" 'invalid --depends-on'
run 0 "fill email" --data --depends-on side
data=$out
[ "$(header "$data" "Revises")" = merge_heads ] || fail "--data revises $(header "$data" "Revises")"
[ "$(header "$data" "Depends On")" = side ] || fail "--depends-on not written"
[ "$(header "$data" "Transactional")" = false ] || fail "--data is not Transactional: false"
grep -q "^CALL migr.batch_update('public.table_name'," "$tmp/work/$data" ||
    fail "no schema-qualified CALL migr.batch_update skeleton"

# a new root with --revises base
run 0 "other root" --revises base --branch-label other
root_file=$out
[ "$(header "$root_file" "Revises")" = "" ] || fail "--revises base has parents"

# headers read as the parser reads them: CRLF endings, a BOM; other names ignored
sleep 1
printf '\xef\xbb\xbf-- crlf\r\n--\r\n-- Revision ID: crlf_one\r\n-- Revises: fill_email\r\n-- Create Date: 2020-01-01 00:00:00\r\n\r\n-- migr:upgrade\r\nSELECT 1;\r\n' \
    >"$tmp/work/migrations/2020_01_01_000000_crlf_one.sql"
printf -- '-- hidden\n--\n-- Revision ID: hidden\n-- Revises: crlf_one\n' >"$tmp/work/migrations/.hidden.sql"
printf -- '-- notes\n--\n-- Revision ID: notes\n-- Revises: crlf_one\n' >"$tmp/work/migrations/notes.txt"
run 2 "after crlf"
has "$err" "have 2 heads: crlf_one, other_root"
run 0 "after crlf" --revises crlf_one
[ "$(header "$out" "Revises")" = crlf_one ] || fail "CRLF header not read"
rm "$tmp/work/migrations/2020_01_01_000000_crlf_one.sql" "$tmp/work/$out"

# spaces around a field name are free; the header ends at a marker, so a
# "-- Revises:" comment in the SQL below it names no parent; line 1 is the
# message, whatever it says
printf -- '-- spaced\n--\n--   Revision ID  :  spaced_one\n--Revises :fill_email\n-- Create Date: 2020-01-01 00:00:01\n\n-- migr:upgrade\nSELECT 1;\n' \
    >"$tmp/work/migrations/2020_01_01_000001_spaced_one.sql"
printf -- '-- Revises: other_root\n--\n-- Revision ID: marker_one\n-- Revises: spaced_one\n-- Create Date: 2020-01-01 00:00:02\n-- migr:upgrade\n-- Revises: other_root\nSELECT 1;\n' \
    >"$tmp/work/migrations/2020_01_01_000002_marker_one.sql"
run 2 "after spaced"
has "$err" "have 2 heads: marker_one, other_root"
[[ $err != *"no Revision ID"* ]] || fail "a header with spaces around a field name was not read: $err"
rm "$tmp/work/migrations/2020_01_01_000001_spaced_one.sql" "$tmp/work/migrations/2020_01_01_000002_marker_one.sql"

# never overwrite: the names of the next seconds are taken by files without
# a header, so only the existing path stops it
now=$(date -u +%s)
for s in 0 1 2 3; do
    : >"$tmp/work/migrations/$(date -u -d "@$((now + s))" +%Y_%m_%d_%H%M%S)_clobber_me.sql"
done
run 2 "clobber me" --revises base
has "$err" "exists"
for f in "$tmp"/work/migrations/*_clobber_me.sql; do
    [ ! -s "$f" ] || fail "$f was overwritten"
done
has "$err" "no Revision ID in its header"
rm "$tmp"/work/migrations/*_clobber_me.sql

# --dir and MIGR_DIR
mkdir "$tmp/other"
run 0 "elsewhere" --dir "$tmp/other"
[[ $out == "$tmp/other/"*_elsewhere.sql ]] || fail "--dir ignored: $out"
rc=0
(cd "$tmp/work" && MIGR_DIR="$tmp/other" "$root/bin/migr" new "by env") >"$tmp/out" 2>&1 || rc=$?
[ "$rc" = 0 ] && grep -q "^$tmp/other/.*_by_env.sql$" "$tmp/out" || fail "MIGR_DIR ignored: $(cat "$tmp/out")"

# help
run 0 --help
has "$out" "usage: migr new MESSAGE"

# every generated file loads with migr.load(), in one transaction (the
# files refer to each other), as the file name and its content
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -Xq -d $db -c "SET client_min_messages = warning" -c "CREATE EXTENSION migr"
script="SET client_min_messages = warning;"$'\n'"BEGIN;"$'\n'
for f in "$tmp"/work/migrations/*.sql; do
    n=${f##*/}
    script+="\\set src \`cat '$f'\`"$'\n'"SELECT migr.load(:'src', '$n');"$'\n'
done
script+="COMMIT;"$'\n'
got=$(printf '%s' "$script" | psql -X -q -At -v ON_ERROR_STOP=1 -d $db 2>&1) || fail "the generated files do not load: $got"
state=$(psql -XAt -d $db -c "SELECT string_agg(revision || ':' || upgrade_transactional
                                               || ':' || array_to_string(branch_labels, ','), ' ' ORDER BY revision)
                              FROM migr.history()")
[ "$state" = "add_email_column_now:true: add_users:true: fill_email:false:side merge_heads:true:side other_root:true:other side_branch:true:side" ] ||
    fail "registered: $state"
[ "$(psql -XAt -d $db -c "SELECT string_agg(h, ',' ORDER BY h) FROM migr.heads() h")" = "fill_email,other_root" ] ||
    fail "heads after loading"
# the template's upgrade is a comment: the empty template applies as a no-op
[ "$(psql -XAtq -d $db -c "SET client_min_messages = warning" -c "SELECT count(*) FROM migr.upgrade('add_users')")" = 1 ] ||
    fail "the plain template does not apply"
echo "migr new: validation, heads, merge, labels, data template, no overwrite, files load"

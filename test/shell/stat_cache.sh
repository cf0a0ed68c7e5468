#!/usr/bin/env bash
# The stat cache of "migr upgrade" (docs/cli.md): a file whose device, inode,
# size, mtime and ctime are those recorded goes to the server as its sha256
# alone, never read; any change to the file, even one that keeps its size
# and puts its mtime back, or one made in the second it was read, makes it
# read again; a database that does not have the files so ("needed") gets
# them in full; a corrupt, unwritable or disabled cache only costs reading.
# What reaches the server is seen in the session log of psql (-L), through
# a wrapper given as MIGR_PSQL.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
tmp=$(mktemp -d)
dbs=(migr_cache_a migr_cache_b migr_cache_c)
dep=migr_stat_cache_dep
cleanup() {
    rm -rf "$tmp"
    local d
    for d in "${dbs[@]}"; do
        psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true
    done
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS $dep" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
sql() { psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "SET client_min_messages = warning" -c "$2"; }
for d in "${dbs[@]}"; do
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $d" -c "CREATE DATABASE $d"
done

# psql, logging the statements migr sends in $tmp/sent
real_psql=$(command -v psql)
cat >"$tmp/psql" <<EOF
#!/bin/sh
exec "$real_psql" -L "$tmp/sent" "\$@"
EOF
chmod +x "$tmp/psql"

# up CODE DB [ARGS]: migr upgrade c1 on DB (c2 and c3 stay pending, so
# they may change) with the cache in $tmp/cache; expects exit CODE; stdout
# in $out, stderr in $err, what psql got in $sent
up() {
    local want=$1 d=$2 rc=0
    shift 2
    : >"$tmp/sent"
    MIGR_PSQL=$tmp/psql MIGR_CACHE_DIR=${cache-$tmp/cache} \
        "$root/bin/migr" upgrade c1 --dir "$tmp/m" -d "dbname=$d" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    out=$(<"$tmp/out") err=$(<"$tmp/err") sent=$(<"$tmp/sent")
    [ "$rc" = "$want" ] || fail "migr upgrade on $d exited $rc, not $want; stdout: $out; stderr: $err"
}
has() { grep -qF -- "$2" <<<"$1" || fail "expected \"$2\" in: $1"; }
hasnt() { ! grep -qF -- "$2" <<<"$1" || fail "did not expect \"$2\" in: $1"; }
# the cache file, its stat block beside it in CACHE.stats
cache_file() { ls "$tmp/cache"/files-* 2>/dev/null | grep -v '\.stats$\|\.now$' || true; }
# the names in the cache's stat block (lines with tabs; the sha256s after
# it have none)
entries() { if [ -n "$(cache_file)" ]; then tail -n +2 "$(cache_file).stats" | cut -f1 | LC_ALL=C sort | tr '\n' ' '; fi; }

# three files, each with a marker only its content holds
mkdir "$tmp/m"
mk() {    # mk N MARKER
    printf -- '-- c%s\n--\n-- Revision ID: c%s\n-- Revises: %s\n-- Create Date: 2024-01-01 00:00:0%s\n\n-- migr:upgrade\nSELECT %s;\n-- migr:downgrade\nSELECT 0;\n' \
        "$1" "$1" "$([ "$1" = 1 ] || echo "c$(($1 - 1))")" "$1" "$2" >"$tmp/m/2024_01_01_00000$1_c$1.sql"
}
mk 1 "'marker_one'"
mk 2 "'marker_two'"
mk 3 "'marker_three'"

# 1. files changed less than two seconds ago are read and not recorded:
#    their ctime could not tell a change made in the same second
up 0 migr_cache_a
has "$out" "3 files loaded (0 unchanged, 3 registered)"
has "$sent" marker_one
[ -z "$(entries)" ] || fail "files younger than two seconds were recorded: $(entries)"

# 2. once they are older, a run reads them and records them with the
#    sha256 the server recorded; the next run reads none of them
sleep 2
up 0 migr_cache_a
has "$sent" marker_one
[ "$(entries)" = "2024_01_01_000001_c1.sql 2024_01_01_000002_c2.sql 2024_01_01_000003_c3.sql " ] ||
    fail "the cache should hold the three files, not: $(entries)"
want=$(sql migr_cache_a "SELECT string_agg(source_file || ' ' || encode(source_sha256, 'hex'), ',' ORDER BY source_file) FROM migr.migration")
got=$(paste -d' ' <(tail -n +2 "$(cache_file).stats" | cut -f1) <(tail -n +2 "$(cache_file)") | LC_ALL=C sort | paste -sd, -)
[ "$got" = "$want" ] || fail "the cache's sha256s ($got) are not those the server recorded ($want)"
#    with every file recorded, the cache holds their manifest, the sha256
#    of "name TAB sha256" lines, which is what the server computes too
want=$(sql migr_cache_a "SELECT encode(sha256(convert_to(string_agg(source_file || E'\t' || encode(source_sha256, 'hex') || E'\n', '' ORDER BY source_file COLLATE \"C\"), 'UTF8')), 'hex') FROM migr.migration")
[ "$(head -1 "$(cache_file)" | cut -f1-3)" = "migr stat cache 6	$want	3" ] ||
    fail "the cache's manifest is not $want: $(head -1 "$(cache_file)")"
up 0 migr_cache_a
has "$out" "3 files loaded (3 unchanged)"
hasnt "$sent" marker_
has "$sent" "'{}', '{}', NULL, '$want'"    # the manifest alone
has "$out" "verify: ok"
#    and the shell tells so with find alone: a perl that fails is not run,
#    until a file changes
mkdir "$tmp/noperl"
printf '#!/bin/sh\nexit 99\n' >"$tmp/noperl/perl"
chmod +x "$tmp/noperl/perl"
PATH=$tmp/noperl:$PATH up 0 migr_cache_a
has "$sent" "'{}', '{}', NULL, '$want'"
#    a find that fails vouches for nothing: perl, which takes the stats
#    from find too, reads every file (after the manifest, sent before find
#    is done, whose answer is dropped), and the cache stays as it was
mkdir "$tmp/nofind"
printf '#!/bin/sh\nexit 1\n' >"$tmp/nofind/find"
chmod +x "$tmp/nofind/find"
before=$(cat "$(cache_file)" "$(cache_file).stats")
PATH=$tmp/nofind:$PATH up 0 migr_cache_a
has "$sent" marker_one
has "$sent" marker_two
has "$out" "3 files loaded (3 unchanged)"
[ "$(cat "$(cache_file)" "$(cache_file).stats")" = "$before" ] || fail "a failed find changed the cache"
up 0 migr_cache_a
hasnt "$sent" marker_
touch "$tmp/m/2024_01_01_000001_c1.sql"
PATH=$tmp/noperl:$PATH up 5 migr_cache_a
sleep 2
up 0 migr_cache_a                           # reads c1 (same bytes) and records it
has "$sent" marker_one
has "$out" "3 unchanged"

# 3. a change that keeps the inode and the size and puts the mtime back is
#    still seen (the ctime moved) ...
f2=$tmp/m/2024_01_01_000002_c2.sql
edit() {    # edit OLD NEW: in place (same inode), mtime put back
    sed "s/$1/$2/" "$f2" >"$tmp/new" && cat "$tmp/new" >"$f2"
    touch -d @1700000000 "$f2"
}
edit marker_two marker_TW0
up 0 migr_cache_a
has "$sent" marker_TW0
hasnt "$sent" marker_one
has "$out" "1 replaced"
sleep 2
up 0 migr_cache_a                           # reads c2 and records it
has "$sent" marker_TW0
up 0 migr_cache_a
hasnt "$sent" marker_
#    ... and so is a second such change in the very second of a read that
#    saw the first: that read could not record the file (racily clean)
for i in 1 2 3; do
    edit "marker_TW$((i - 1))" "marker_TW$i"
    up 0 migr_cache_a
    has "$sent" "marker_TW$i"
    edit "marker_TW$i" "marker_TX$i"
    up 0 migr_cache_a
    has "$sent" "marker_TX$i"
    has "$out" "1 replaced"
    edit "marker_TX$i" "marker_TW$i"
done
grep -q marker_TW3 "$f2" || fail "c2 should hold marker_TW3"

# 4. another database: the cache vouches for files it does not have, so
#    nothing is loaded from the sha256s, and the files go again in full
sleep 2
up 0 migr_cache_a
up 0 migr_cache_a
hasnt "$sent" marker_
up 0 migr_cache_b
has "$out" "3 files loaded (0 unchanged, 3 registered)"
has "$out" "verify: ok"
has "$sent" marker_one
[ "$(sql migr_cache_b "SELECT string_agg(revision, ',' ORDER BY revision) FROM migr.applied")" = c1 ] ||
    fail "migr_cache_b should have c1 applied"
[ "$(sql migr_cache_b "SELECT count(*) FROM migr.migration")" = 3 ] ||
    fail "migr_cache_b should have c1, c2, c3 registered"
# and a dry run with the cache trusted changes nothing
up 0 migr_cache_b --dry-run
hasnt "$sent" marker_

# 5. a file removed: the cache forgets it; one added is read
rm "$tmp/m/2024_01_01_000003_c3.sql"
up 0 migr_cache_a
has "$err" "c3"
[ "$(entries)" = "2024_01_01_000001_c1.sql 2024_01_01_000002_c2.sql " ] ||
    fail "the cache should have forgotten c3: $(entries)"
mk 3 "'marker_three'"
up 0 migr_cache_a
has "$sent" marker_three
hasnt "$sent" marker_one
#    c1 forgotten by the cache (line k of both files) while c3 is too young
#    to be recorded: the next write records c1 again, but not every file,
#    so the cache has no manifest, and is trusted for what it has
cf=$(cache_file)
k=$(grep -n '^2024_01_01_000001_c1\.sql' "$cf.stats" | cut -d: -f1)
sed -i "${k}d" "$cf.stats" "$cf"
up 0 migr_cache_a
has "$sent" marker_one
[ -z "$(head -1 "$cf" | cut -f2)" ] ||
    fail "a cache without every file recorded has a manifest: $(head -1 "$cf")"

# 6. a corrupt cache is ignored; an entry naming another inode is not
#    trusted; an unwritable cache directory or MIGR_CACHE_DIR= only means
#    reading every file, without a word
sleep 2
cf=$(cache_file)
up 0 migr_cache_a                           # reads c3 and records it, trusting
has "$sent" marker_three                    # the cache for c1 and c2: a
hasnt "$sent" marker_one                    # manifest again
up 0 migr_cache_a
hasnt "$sent" marker_
sed -i "1s/\t[0-9a-f]*\t/\t$(printf '0%.0s' {1..64})\t/" "$cf"    # a manifest of other files
up 0 migr_cache_a
has "$sent" "NULL, '$(printf '0%.0s' {1..64})'"
has "$sent" marker_one
has "$out" "verify: ok"
printf 'not a cache\n2024_01_01_000001_c1.sql\t1\t2\t3\t4\t5\t%s\n' "$(printf '0%.0s' {1..64})" >"$cf"
up 0 migr_cache_a
has "$sent" marker_one
has "$out" "verify: ok"
# c1's inode, another digit in its place (the stat block keeps its length)
perl -pi -e 's/^(2024_01_01_000001_c1\.sql\t\d+\t\d*)(\d)/$1 . (($2 + 1) % 10)/e' "$cf.stats"
up 0 migr_cache_a
has "$sent" marker_one
hasnt "$sent" marker_two
cache=/proc/migr-no-such-dir up 0 migr_cache_a
has "$sent" marker_one
[ -z "$err" ] || fail "an unwritable cache directory should go unmentioned: $err"
rm -rf "$tmp/cache"
cache= up 0 migr_cache_a
has "$sent" marker_one
[ ! -e "$tmp/cache" ] || fail "MIGR_CACHE_DIR= must not write a cache"
# 7. Without a target, a cache with a manifest sends the manifest's load
#    and step 5's plain migr.check() to psql before find is done; step 5
#    takes that check when the files are unchanged, nothing was applied and
#    it found no error.  What a run prints is what it prints without the
#    cache (same: the run again with MIGR_CACHE_DIR empty).
mkdir "$tmp/h"
hk() {    # hk N SQL: file hN, revising hN-1
    printf -- '-- h%s\n--\n-- Revision ID: h%s\n-- Revises: %s\n-- Create Date: 2024-01-02 00:00:0%s\n\n-- migr:upgrade\n%s\n-- migr:downgrade\nSELECT 0;\n' \
        "$1" "$1" "$([ "$1" = 1 ] || echo "h$(($1 - 1))")" "$1" "$2" >"$tmp/h/2024_01_02_00000$1_h$1.sql"
}
hk 1 "CREATE TABLE public.h1 (i int);"
hk 2 "SELECT 'marker_h2';"
uph() {   # uph CODE [CONNINFO]: migr upgrade (to head) of $tmp/h on migr_cache_c
    local want=$1 conn=${2:-dbname=migr_cache_c} rc=0
    : >"$tmp/sent"
    MIGR_PSQL=$tmp/psql MIGR_CACHE_DIR=${cache-$tmp/cache} \
        "$root/bin/migr" upgrade --dir "$tmp/h" -d "$conn" >"$tmp/out" 2>"$tmp/err" || rc=$?
    out=$(<"$tmp/out") err=$(<"$tmp/err") sent=$(<"$tmp/sent")
    [ "$rc" = "$want" ] || fail "migr upgrade on $conn exited $rc, not $want; stdout: $out; stderr: $err"
}
same() {  # same CODE [CONNINFO]: the run with the cache prints what it prints without
    uph "$@"
    local o=$out e=$err
    cache= uph "$@"
    [ "$o" = "$out" ] || fail "with the cache, stdout was: $o; without: $out"
    [ "$e" = "$err" ] || fail "with the cache, stderr was: $e; without: $err"
    uph "$@"
}
count() { grep -cF -- "$2" <<<"$1" || true; }
plain="FILTER (WHERE code OPERATOR(pg_catalog.=) 'pending')"    # only in that plain check
uph 0
sleep 2
uph 0                                       # records the files
uph 0
has "$sent" "'{}', '{}', NULL, '"
hasnt "$sent" marker_h2
[ "$(count "$sent" "$plain")" = 1 ] || fail "a no-op should run one plain migr.check(): $sent"
hasnt "$sent" "strict => true"
[ "$(count "$sent" "E'@@conn")" = 1 ] || fail "a no-op should be one session: $sent"
has "$out" "[3/5] status: 2 files loaded (2 unchanged); current h2; 0 pending to head"
has "$out" "[5/5] verify: ok (migr.check: no errors, 0 warnings, 0 info)"
same 0
#    a new file: the early answers are dropped, the files loaded (by a
#    second psql: the first quit after the early check), the new revision
#    applied, and step 5 runs migr.check(strict => true) after it
hk 3 "SELECT 'marker_h3';"
#    ... unless that second psql cannot connect: exit 3, nothing loaded
cat >"$tmp/psql_once" <<EOF
#!/bin/sh
if [ -e "$tmp/psql_once.used" ]; then
    echo "psql: error: connection to server failed (the test's second psql)" >&2
    exit 2
fi
: >"$tmp/psql_once.used"
exec "$real_psql" "\$@"
EOF
chmod +x "$tmp/psql_once"
rc=0
MIGR_PSQL=$tmp/psql_once MIGR_CACHE_DIR=$tmp/cache "$root/bin/migr" upgrade --dir "$tmp/h" -d dbname=migr_cache_c \
    >"$tmp/out" 2>"$tmp/err" || rc=$?
[ "$rc" = 3 ] || fail "a second psql that cannot connect should be exit 3, not $rc: $(cat "$tmp/err")"
has "$(cat "$tmp/err")" "could not connect to the database"
[ "$(sql migr_cache_c "SELECT count(*) FROM migr.migration WHERE id = 'h3'")" = 0 ] ||
    fail "h3 was registered although the run could not connect again"
uph 0
[ "$(count "$sent" "E'@@conn")" = 2 ] || fail "a run after the early check should start a second session: $sent"
has "$sent" "'{}', '{}', NULL, '"
has "$sent" marker_h3
has "$sent" "strict => true"
has "$out" "3 files loaded (2 unchanged, 1 registered)"
has "$out" "[4/5] apply: 1 revision applied (CALL migr.apply('head')); current h3"
has "$out" "[5/5] verify: ok"
#    revisions pending with the files unchanged (a stamp down): applied,
#    then checked strictly
sleep 2
uph 0
sql migr_cache_c "SELECT migr.stamp('h1')" >/dev/null
uph 0
hasnt "$sent" marker_
has "$out" "[4/5] apply: 2 revisions applied (CALL migr.apply('head')); current h3"
has "$sent" "strict => true"
#    a table created by hand: the plain check finds the drift, and step 5
#    runs the strict check for its error, printed once
sql migr_cache_c "CREATE TABLE public.by_hand (i int)"
uph 1
hasnt "$sent" marker_
has "$sent" "strict => true"
[ "$(count "$err" "ERROR:  migr.check() found 1 error")" = 1 ] || fail "the check's error should be printed once: $err"
same 1
sql migr_cache_c "DROP TABLE public.by_hand"
uph 0
#    a deploy role without EXECUTE on migr.check(): no early check
sql postgres "CREATE ROLE $dep LOGIN PASSWORD 'migr'"
sql migr_cache_c "REVOKE EXECUTE ON FUNCTION migr.check(boolean) FROM PUBLIC;
                  GRANT EXECUTE ON FUNCTION migr.load_all(text[], text[], text[], text) TO $dep;
                  GRANT EXECUTE ON PROCEDURE migr.apply(text) TO $dep"
uph 1 "dbname=migr_cache_c user=$dep password=migr"
has "$sent" "'{}', '{}', NULL, '"
hasnt "$sent" "$plain"
has "$err" "permission denied for function check"
same 1 "dbname=migr_cache_c user=$dep password=migr"
echo "ok: stat cache"

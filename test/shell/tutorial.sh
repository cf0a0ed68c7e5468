#!/usr/bin/env bash
# docs/tutorial.md runs as written, and prints what it shows.  The tutorial's
# ```console blocks are sessions: each line starting with "$ " is a command,
# the lines below it (up to the next "$ " or the end of the block) are its
# output.  A ```sql block right after a line <!-- file: GLOB --> is the text
# the reader gives the one file GLOB matches (the file migr new made), with
# the Create Date that migr new wrote.  The commands run in order, in one
# shell, in an empty directory; each one's output (stdout and stderr) must be
# the one shown, once time stamps and durations are masked.  A command that
# fails must be followed by "$ echo $?", which shows its exit status.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
doc=${MIGR_TUTORIAL:-$repo/docs/tutorial.md}
db=myapp
scratch=$(mktemp -d)
work=$(mktemp -d)
cleanup() {
    cd /
    rm -rf "$scratch" "$work"
    psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db"
}
trap cleanup EXIT
psql -Xq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db"
export PATH="$repo/bin:$PATH"
unset DATABASE_URL MIGR_DIR PGDATABASE

fail() { echo "FAIL: $*"; exit 1; }

# parse: kind[i] is cmd or file; arg[i] the command or the glob; text[i]
# the output shown or the file's text
kind=() arg=() text=()
state=text file_glob=""
cur=""
flush() {
    if [ -n "$cur" ]; then kind+=(cmd); arg+=("$cur"); text+=("$out"); fi
    cur="" out=""
}
while IFS= read -r line; do
    case $state in
    text)
        if [[ $line =~ ^'<!-- file: '(.+)' -->'$ ]]; then
            file_glob=${BASH_REMATCH[1]}
        elif [ "$line" = '```console' ]; then
            state=console cur="" out=""
        elif [ "$line" = '```sql' ] && [ -n "$file_glob" ]; then
            state=file out=""
        elif [ -n "$line" ]; then
            file_glob=""
        fi ;;
    console)
        if [ "$line" = '```' ]; then
            flush; state=text
        elif [[ $line == '$ '* ]]; then
            flush; cur=${line#\$ }
        else
            [ -n "$cur" ] || fail "output before the first command of a console block: $line"
            out+="$line"$'\n'
        fi ;;
    file)
        if [ "$line" = '```' ]; then
            kind+=(file); arg+=("$file_glob"); text+=("$out"); state=text file_glob=""
        else
            out+="$line"$'\n'
        fi ;;
    esac
done <"$doc"
[ "$state" = text ] || fail "$doc ends inside a code block"
[ "${#kind[@]}" -gt 20 ] || fail "found only ${#kind[@]} commands and files in $doc"

# what differs from run to run and machine to machine: time stamps in file
# names and dates, the server's user, host, port and minor version; and
# trailing spaces (psql pads its tables, migr new writes "-- Revises: ")
mask() {
    sed -E -e 's/[0-9]{4}_[0-9]{2}_[0-9]{2}_[0-9]{6}/YYYY_MM_DD_HHMMSS/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([+-][0-9]{2}(:[0-9]{2})?)?/YYYY-MM-DD HH:MM:SS/g' \
        -e 's#^(\[1/5\] connection: ok \()[^@ ]+@[^ ]+:[0-9]+/([^,]+), PostgreSQL 15\.[0-9]+\)$#\1USER@HOST:PORT/\2, PostgreSQL 15.N)#' \
        -e 's/[[:space:]]+$//'
}

cd "$work"
rc=0
ncmd=0
for i in "${!kind[@]}"; do
    if [ "${kind[i]}" = file ]; then
        # shellcheck disable=SC2206
        matches=(${arg[i]})
        if [ "${#matches[@]}" != 1 ] || [ ! -f "${matches[0]}" ]; then
            fail "<!-- file: ${arg[i]} --> matches ${matches[*]} in $PWD"
        fi
        f=${matches[0]}
        date_line=$(grep -m1 '^-- Create Date: ' "$f") || fail "$f has no Create Date"
        # the header migr new wrote is the one shown, but for the date
        diff <(sed -n '1,/^$/p' "$f" | grep -v '^-- Create Date: ' | sed 's/[[:space:]]*$//') \
             <(printf '%s' "${text[i]}" | sed -n '1,/^$/p' | grep -v '^-- Create Date: ') >/dev/null ||
            { sed -n '1,/^$/p' "$f"; fail "the header of $f is not the one the tutorial shows"; }
        printf '%s' "${text[i]}" | sed "s/^-- Create Date: .*/$date_line/" >"$f"
        continue
    fi
    cmd=${arg[i]}
    if [ "$rc" != 0 ] && [ "$cmd" != 'echo $?' ]; then
        cat "$scratch/out"; fail "\"${arg[i - 1]}\" exited $rc, and the tutorial does not show it with echo \$?"
    fi
    set +e
    (exit "$rc")
    eval "$cmd" >"$scratch/out" 2>&1 </dev/null
    rc=$?
    set -e
    ncmd=$((ncmd + 1))
    if ! diff -u <(printf '%s' "${text[i]}" | mask) <(mask <"$scratch/out") >"$scratch/diff"; then
        echo "\$ $cmd  (in $PWD, exit $rc): the output differs from the tutorial's:"
        cat "$scratch/diff"
        fail "docs/tutorial.md does not show what \"$cmd\" prints"
    fi
done
[ "$rc" = 0 ] || fail "the last command exited $rc"
echo "docs/tutorial.md: $ncmd commands ran as written and printed what it shows"

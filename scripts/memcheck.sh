#!/usr/bin/env bash
# Memory checks that Debian's server cannot do: run migr against a
# PostgreSQL 15 built from Debian's own source package with assertions
# (--enable-cassert: Assert(), CLOBBER_FREED_MEMORY, MEMORY_CONTEXT_CHECKING)
# and valgrind support (-DUSE_VALGRIND: palloc chunks known to memcheck).
#
#   1. packages    what the build and the suites need (apt, as root)
#   2. postgresql  build and install into the cache; reused when done once
#   3. migr        build a copy of this checkout against it, with -Werror
#   4. assert      every suite of test/run_all.sh against the assert-enabled
#                  server, MALLOC_PERTURB_ set; fails on a failed suite or
#                  a TRAP (failed assertion) in the server log
#   5. valgrind    the pg_regress and isolation suites with the server under
#                  valgrind memcheck; fails if any valgrind error has a frame
#                  in migr.so (and on any other unsuppressed error, which
#                  makes the failing backend exit and the suite fail)
#
# Environment:
#   MIGR_MEMCHECK_CACHE     where the PostgreSQL build lives
#                           (default /var/cache/migr-memcheck)
#   MIGR_MEMCHECK_PORT      port of the throwaway cluster (default 54329)
#   MIGR_MEMCHECK_JOBS      make -j for the PostgreSQL build (default 2)
#   MIGR_MEMCHECK_VALGRIND  0 skips phase 5
#   MIGR_MEMCHECK_TESTS     only these pg_regress tests in phases 4 and 5,
#                           e.g. "install fingerprint" (no other suite)
#   MIGR_MEMCHECK_KEEP      1 keeps the run directory (logs) after a pass
#   MIGR_DIFF_SEEDS         graphs in the differential test (default 30 here)
# Prints the time of each phase and exits non-zero if any phase fails.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD

cache=${MIGR_MEMCHECK_CACHE:-/var/cache/migr-memcheck}
port=${MIGR_MEMCHECK_PORT:-54329}
jobs=${MIGR_MEMCHECK_JOBS:-2}
# The prefix must contain "postgres": Debian's 50-per-version-dirs patch
# otherwise moves pkglibdir to /usr/lib/postgresql/15/lib, the system's.
prefix=$cache/postgresql-15-assert
cflags="-O1 -g -fno-omit-frame-pointer"
config="--enable-cassert --enable-debug CPPFLAGS=-DUSE_VALGRIND CFLAGS=$cflags"
perturb=165

t_start=$(date +%s)
t_phase=$t_start
timings=""
phase() {
    local now
    now=$(date +%s)
    if [ -n "${cur:-}" ]; then
        timings="$timings$(printf '  %-11s %5d s' "$cur" $((now - t_phase)))"$'\n'
        echo "--- $cur: $((now - t_phase)) s"
    fi
    cur=$1
    t_phase=$now
    [ -n "$cur" ] && echo "=== memcheck: $cur"
}
stop_server() {
    [ -n "${data:-}" ] && [ -f "$data/postmaster.pid" ] &&
        as_pg "$bin/pg_ctl" -D "$data" -w -m immediate stop >/dev/null 2>&1
    return 0
}
trap stop_server EXIT
failures=""
fail() {
    echo "memcheck: $*"
    failures="$failures  $*"$'\n'
}
die() {
    echo "memcheck: $*" >&2
    phase ""
    printf '%s' "$timings"
    echo "memcheck: FAILED (run directory kept: ${run:-none})"
    exit 1
}

# The server refuses to run as root.
if [ "$(id -u)" = 0 ]; then
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

# ---------------------------------------------------------------- packages
phase packages
pkgs="dpkg-dev gcc make perl libreadline-dev zlib1g-dev valgrind
      postgresql-client-15 postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
      python3-alembic python3-psycopg2"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || die "missing packages:$missing (run as root to install them)"
    echo "installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq $missing >/dev/null ||
        die "apt-get install$missing failed"
fi

# ---------------------------------------------------------------- postgresql
phase postgresql
stamp=$prefix/.migr-memcheck
if [ -f "$stamp" ] && [ "$(sed -n 2p "$stamp")" = "$config" ] && [ -x "$prefix/bin/postgres" ]; then
    echo "reusing $(sed -n 1p "$stamp") from $prefix"
else
    [ "$(id -u)" = 0 ] || die "building PostgreSQL needs root (apt-get source)"
    if ! apt-cache showsrc postgresql-15 2>/dev/null | grep -q '^Package:'; then
        # Debian's source entries, next to the binary ones the system has
        . /etc/os-release
        cat >/etc/apt/sources.list.d/migr-deb-src.sources <<EOF
# added by migr scripts/memcheck.sh: apt-get source postgresql-15
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $VERSION_CODENAME $VERSION_CODENAME-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $VERSION_CODENAME-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        apt-get update -qq || die "apt-get update failed"
    fi
    # The installed server's version if its source can be had, else the
    # newest source Debian offers.
    installed=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)
    versions=$(apt-cache showsrc postgresql-15 | awk '/^Version:/ {print $2}' | sort -Vr -u)
    srcdir=$cache/src
    got=""
    for v in $installed $(echo "$versions" | grep -vxF "${installed:-none}"); do
        rm -rf "$srcdir" && mkdir -p "$srcdir"
        if (cd "$srcdir" && apt-get source -qq "postgresql-15=$v" >/dev/null 2>&1); then
            got=$v
            break
        fi
        echo "source of postgresql-15 $v not available"
    done
    [ -n "$got" ] || die "apt-get source postgresql-15 failed for every version"
    [ "$got" = "$installed" ] || echo "note: building $got, the installed server is ${installed:-none}"
    tree=$(find "$srcdir" -maxdepth 1 -mindepth 1 -type d -name 'postgresql-15-*' | head -1)
    rm -rf "$prefix"
    (
        set -e
        cd "$tree"
        echo "configure $config"
        ./configure -q --prefix="$prefix" --enable-cassert --enable-debug \
            CPPFLAGS=-DUSE_VALGRIND CFLAGS="$cflags" >"$srcdir/configure.log" 2>&1
        grep -q "^pkglibdir = \$(libdir)" src/Makefile.global  # not the system's
        echo "make -j$jobs"
        make -s -j"$jobs" >"$srcdir/make.log" 2>&1
        make -s install >>"$srcdir/make.log" 2>&1
        make -s -C src/test/isolation install >>"$srcdir/make.log" 2>&1
        cp src/tools/valgrind.supp "$prefix/valgrind.supp"
    ) || { tail -30 "$srcdir/configure.log" "$srcdir/make.log" 2>/dev/null; die "PostgreSQL build failed"; }
    case $("$prefix/bin/pg_config" --pkglibdir) in
        "$prefix"/*) ;;
        *) die "pkglibdir outside $prefix: $("$prefix/bin/pg_config" --pkglibdir)" ;;
    esac
    printf '%s\n%s\n' "postgresql-15 $got" "$config" >"$stamp"
fi
# contrib modules the suites use (batch_attack: citext), also into a build
# cached before a suite needed them
if [ ! -f "$("$prefix/bin/pg_config" --sharedir)/extension/citext.control" ]; then
    tree=$(find "$cache/src" -maxdepth 1 -mindepth 1 -type d -name 'postgresql-15-*' | head -1)
    [ -n "$tree" ] || die "no PostgreSQL source tree in $cache/src to build contrib/citext from"
    make -s -C "$tree/contrib/citext" install >>"$cache/src/make.log" 2>&1 || die "contrib/citext: make install failed"
fi
"$prefix/bin/pg_config" --configure | grep -q -- "--enable-cassert" || die "$prefix is not assert-enabled"
grep -q -- "-DUSE_VALGRIND" "$("$prefix/bin/pg_config" --pkglibdir)/pgxs/src/Makefile.global" ||
    die "$prefix is not built with USE_VALGRIND"

# ---------------------------------------------------------------- migr
phase migr
run=$(mktemp -d /tmp/migr-memcheck.XXXXXX)
chmod 755 "$run"
cp -a "$prefix" "$run/pg"
bin=$run/pg/bin
pg_config=$bin/pg_config
cp /usr/share/postgresql/15/extension/pgtap* "$("$pg_config" --sharedir)/extension/"
# A copy of the checkout: its own objects stay built for the system server.
mkdir "$run/migr"
tar -C "$top" --exclude=.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
    --exclude=results --exclude=output_iso --exclude=__pycache__ -cf - . |
    tar -C "$run/migr" -xf -
make -s -C "$run/migr" COPT=-Werror PG_CONFIG="$pg_config" >"$run/migr-build.log" 2>&1 &&
    make -s -C "$run/migr" install PG_CONFIG="$pg_config" >>"$run/migr-build.log" 2>&1 ||
    { cat "$run/migr-build.log"; die "migr build failed"; }
chown -R postgres "$run" 2>/dev/null || true

export PATH=$bin:$PATH PGHOST=$run PGPORT=$port PGUSER=postgres PGDATABASE=postgres
unset PGPASSWORD PGSERVICE
data=$run/data
opts="-c fsync=off -c max_locks_per_transaction=256 -c log_min_messages=warning"
as_pg "$bin/initdb" -D "$data" -A trust -U postgres --no-sync >"$run/initdb.log" 2>&1 ||
    { cat "$run/initdb.log"; die "initdb failed"; }

# ---------------------------------------------------------------- assert
phase assert
as_pg env MALLOC_PERTURB_=$perturb "$bin/pg_ctl" -D "$data" -w -l "$run/assert-server.log" \
    -o "-p $port -k $run $opts" start >/dev/null || { cat "$run/assert-server.log"; die "server did not start"; }
psql -Xqtc "SHOW debug_assertions" | grep -qx " *on" || die "the server has no assertions"
regress_only() {
    (cd "$run/migr" && make -s installcheck PG_CONFIG="$pg_config" REGRESS="$tests" ISOLATION=) ||
        { head -200 "$run/migr/regression.diffs"; return 1; }
}
tests=${MIGR_MEMCHECK_TESTS:-}
if [ -n "$tests" ]; then
    regress_only
else
    (cd "$run/migr" && PG_CONFIG=$pg_config MIGR_MALLOC_PERTURB=$perturb \
         MIGR_DIFF_SEEDS=${MIGR_DIFF_SEEDS:-30} bash test/run_all.sh)
fi 2>&1 | tee "$run/assert-suites.log"
suites_ok=${PIPESTATUS[0]}
as_pg "$bin/pg_ctl" -D "$data" -w -m fast stop >/dev/null
assert_ok=1
if grep -E "TRAP:|terminated by signal|was terminated by exception" "$run/assert-server.log"; then
    echo "memcheck: the assert-enabled server failed an assertion or a backend crashed"
    assert_ok=0
fi
[ "$suites_ok" = 0 ] || fail "a suite failed against the assert-enabled server"
[ $assert_ok = 1 ] || fail "a failed assertion or a crash (server log $run/assert-server.log)"

# ---------------------------------------------------------------- valgrind
if [ "${MIGR_MEMCHECK_VALGRIND:-1}" = 1 ]; then
    phase valgrind
    vg=$run/valgrind
    mkdir "$vg" && chown postgres "$vg" 2>/dev/null
    # --error-exitcode: a backend with an error exits non-zero, the
    # postmaster restarts, and the suite shows it too.
    as_pg bash -c "exec valgrind --quiet --trace-children=yes --track-origins=yes \
        --read-var-info=no --num-callers=40 --leak-check=no --fullpath-after= \
        --gen-suppressions=all --error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END \
        --suppressions=$run/pg/valgrind.supp --suppressions=$run/migr/test/valgrind/migr.supp \
        --error-exitcode=128 --log-file=$vg/%p.log \
        $bin/postgres -D $data -p $port -k $run $opts -c autovacuum=off \
        >$run/valgrind-server.log 2>&1 </dev/null &"
    for _ in $(seq 120); do
        pg_isready -q && break
        sleep 1
    done
    pg_isready -q || { cat "$run/valgrind-server.log"; die "server under valgrind did not start"; }
    if [ -n "$tests" ]; then
        regress_only
    else
        (cd "$run/migr" && make -s installcheck PG_CONFIG="$pg_config") ||
            { head -200 "$run/migr/regression.diffs" "$run/migr/output_iso/regression.diffs" 2>/dev/null; false; }
    fi 2>&1 | tee "$run/valgrind-suites.log"
    regress_ok=${PIPESTATUS[0]}
    as_pg "$bin/pg_ctl" -D "$data" -w -t 300 -m fast stop >/dev/null
    # One file per process; an error is the text between the markers.
    errors=$(cat "$vg"/*.log | grep -c 'VALGRINDERROR-BEGIN' || true)
    migr_errors=$(awk -v dir="$run/migr/" '
        /VALGRINDERROR-BEGIN/ { block = ""; inside = 1 }
        inside { block = block $0 "\n" }
        /VALGRINDERROR-END/ { inside = 0
            if (index(block, "migr.so") || index(block, dir)) { n++; printf "%s\n", block > "/dev/stderr" } }
        END { print n + 0 }' "$vg"/*.log 2>"$run/migr-errors.txt")
    echo "valgrind: $errors errors in $(ls "$vg" | wc -l) process logs, $migr_errors with a frame in migr.so"
    if [ "$migr_errors" != 0 ]; then
        head -150 "$run/migr-errors.txt"
        fail "valgrind: $migr_errors errors with a frame in migr.so (all in $run/migr-errors.txt)"
    elif [ "$errors" != 0 ]; then
        grep -l VALGRINDERROR-BEGIN "$vg"/*.log
        fail "valgrind: errors outside migr.so (the server's own go in test/valgrind/migr.supp)"
    fi
    [ "$regress_ok" = 0 ] || fail "pg_regress failed under valgrind"
fi

phase ""
printf '%s' "$timings"
echo "  total       $(($(date +%s) - t_start)) s"
if [ -n "$failures" ]; then
    printf '%s' "$failures"
    echo "memcheck: FAILED (run directory kept: $run)"
    exit 1
fi
if [ "${MIGR_MEMCHECK_KEEP:-0}" = 1 ]; then
    echo "memcheck: passed (run directory kept: $run)"
else
    rm -rf "$run"
    echo "memcheck: passed"
fi

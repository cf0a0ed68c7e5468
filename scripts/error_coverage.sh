#!/usr/bin/env bash
# error_coverage.sh: which ereport()/elog() sites in src/*.c do the tests
# never reach?
#
#   scripts/error_coverage.sh BINDIR [PORT]
#
# BINDIR is the bin directory of a PostgreSQL 15 installation this script may
# install into (migr is installed there built with --coverage: use a private
# copy, not a shared server).  PORT (default 5499) is where a throwaway
# cluster listens while the tests run.
#
# The working tree is copied to a temporary directory and built there with
# gcov instrumentation, so the checkout stays clean.  The pg_regress and
# isolation suites, pgTAP and the shell tests run against a throwaway cluster,
# which is then stopped cleanly (backends write their .gcda files when they
# exit).  gcov then tells which lines ran; every ereport/elog site whose line
# never ran is listed, marked "user" when it reports a user-facing condition
# (an errcode other than internal_error, or a NOTICE) and "internal"
# otherwise (elog, or ereport(ERROR) without errcode).
#
# Exit status: 0, or 1 when a suite failed; with MIGR_COV_STRICT=1 also 1
# when a user-facing site is never reached.  MIGR_COV_KEEP=1 keeps the
# temporary directory (the .gcov files are in it).
set -uo pipefail
cd "$(dirname "$0")/.."

bin=${1:?usage: scripts/error_coverage.sh BINDIR [PORT]}
port=${2:-5499}
pg_config=$bin/pg_config
[ -x "$pg_config" ] || { echo "error_coverage: no pg_config in $bin" >&2; exit 2; }
command -v gcov >/dev/null || { echo "error_coverage: gcov is not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/migr-cov.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sh -c "$*"; fi; }
cleanup() {
    as_pg "$bin/pg_ctl -D $work/data -m immediate stop" >/dev/null 2>&1
    if [ "${MIGR_COV_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# 1. an instrumented build of the working tree, installed into BINDIR's tree
git ls-files -z --cached --others --exclude-standard |
    tar --null -T - -cf - 2>/dev/null | tar -xf - -C "$work"
cflags="$(sed -n 's/^PG_CFLAGS *= *//p' Makefile) -O0 --coverage"
(cd "$work" && make -s PG_CONFIG="$pg_config" PG_CFLAGS="$cflags" SHLIB_LINK=--coverage &&
     make -s install PG_CONFIG="$pg_config" >/dev/null) || { echo "error_coverage: build failed" >&2; exit 2; }
# the server runs as postgres and writes src/*.gcda next to the objects
chmod -R a+rwX "$work"
chmod a+x "$(dirname "$work")"

# 2. a throwaway cluster, every suite but the Alembic differential test
as_pg "$bin/initdb -D $work/data -A trust -U postgres >/dev/null 2>&1 &&
       $bin/pg_ctl -D $work/data -w -l $work/server.log \
           -o '-p $port -k $work -c fsync=off -c max_locks_per_transaction=256' start >/dev/null" ||
    { echo "error_coverage: could not start a cluster on port $port" >&2; cat "$work/server.log" >&2; exit 2; }
export PATH=$bin:$PATH PGHOST=$work PGPORT=$port PGUSER=postgres PGDATABASE=postgres
failed=""
run() {
    local name=$1; shift
    if (cd "$work" && "$@") >"$work/$name.out" 2>&1; then
        echo "suite $name: ok"
    else
        echo "suite $name: FAILED (see below)"; tail -40 "$work/$name.out"
        failed="$failed $name"
    fi
}
run pg_regress make -s installcheck PG_CONFIG="$pg_config"
run pgtap sh -c 'psql -Xq -c "CREATE DATABASE migr_tap" &&
    psql -Xq -d migr_tap -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION migr" &&
    pg_prove -d migr_tap test/pgtap/*.sql'
for t in test/shell/*.sh; do
    run "$(basename "$t" .sh)" bash "$t"
done
# a clean stop: every backend exits normally and writes its counts
as_pg "$bin/pg_ctl -D $work/data -m fast -w stop" >/dev/null

# 3. which sites never ran
(cd "$work" && gcov -o src src/*.c >/dev/null 2>&1)
/usr/bin/python3 - "$work" <<'PY'
import glob, os, re, sys

work = sys.argv[1]
site = re.compile(r'\b(ereport|elog)\s*\(')
total = unreached = user_unreached = 0
rows = []
for path in sorted(glob.glob(os.path.join(work, "src", "*.c"))):
    name = os.path.basename(path)
    src = open(path).read()
    lines = src.split("\n")
    counts = {}
    gcov = os.path.join(work, name + ".gcov")
    if os.path.exists(gcov):
        for l in open(gcov):
            parts = l.split(":", 2)
            if len(parts) == 3 and parts[1].strip().isdigit():
                counts[int(parts[1])] = parts[0].strip()
    # blank out comments and string contents' effect on matching
    code = re.sub(r'/\*.*?\*/', lambda m: re.sub(r'[^\n]', ' ', m.group(0)), src, flags=re.S)
    for m in site.finditer(code):
        lineno = code.count("\n", 0, m.start()) + 1
        # the call's text, up to its closing parenthesis
        depth, i, instr = 0, m.end() - 1, False
        while i < len(code):
            c = code[i]
            if instr:
                if c == "\\": i += 1
                elif c == '"': instr = False
            elif c == '"': instr = True
            elif c == "(": depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0: break
            i += 1
        call = code[m.start():i + 1]
        level = re.match(r'\w+\s*\(\s*(\w+)', call).group(1)
        codes = re.findall(r'ERRCODE_\w+', call)
        msg = re.search(r'"((?:[^"\\]|\\.)*)"', call)
        msg = msg.group(1) if msg else ""
        if m.group(1) == "elog" and level in ("ERROR", "FATAL", "PANIC"):
            user = False
        elif level in ("ERROR", "FATAL", "PANIC"):
            user = bool(codes) and any(c != "ERRCODE_INTERNAL_ERROR" for c in codes)
        else:
            user = True             # NOTICE, WARNING: the user sees them
        total += 1
        count = counts.get(lineno)
        if count is None or count.startswith("#####") or count.startswith("====="):
            unreached += 1
            user_unreached += user
            rows.append("%-22s %-8s %-7s %-40s %s" % (
                "src/%s:%d" % (name, lineno), "user" if user else "internal",
                level, ",".join(c[8:] for c in codes) or "-", msg[:70]))
print()
print("ereport/elog sites never reached: %d of %d (%d user-facing)" % (unreached, total, user_unreached))
for r in rows:
    print(r)
open(os.path.join(work, "user_unreached"), "w").write(str(user_unreached))
PY

status=0
[ -n "$failed" ] && { echo "failed suites:$failed"; status=1; }
if [ "${MIGR_COV_STRICT:-0}" = 1 ] && [ "$(cat "$work/user_unreached" 2>/dev/null)" != 0 ]; then
    status=1
fi
exit $status

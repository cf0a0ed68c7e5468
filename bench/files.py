#!/usr/bin/python3
"""migr migration-files benchmark (issue 11): scripts/db_upgrade.sh against
psql running the same SQL (first deploy) and against dbmate (no-op deploy).

    bench/files.py [--sizes 1000,100] [--rounds 7] [--noop-rounds 31]
                   [--steps-rounds 15] [--deploy-steps 3] [--parts deploy,noop]
                   [--script scripts/db_upgrade.sh] [--dbmate PATH]
                   [--dbmate-npm PATH] [--keep]

The server comes from the PG* environment variables (PGHOST, PGPORT,
PGUSER, PGDATABASE: the database used to create and drop the others), psql
from PATH (the script runs with the same environment).  The user must be a
superuser.  With PGDATA set and the server on this machine, the CPU time of
all the server's processes is read from /proc.  With pg_stat_statements in
shared_preload_libraries, the no-op breakdown also reads the script's own
statements from it (bench/run.sh files starts a cluster so).  Run it on a
throwaway cluster only: it creates and drops databases named bench_files_*.
Run the server with fsync on: a first deploy commits once per file.

Every size N (--sizes) gets N migration files, file i holding
    CREATE TABLE t<i> (id bigint PRIMARY KEY, v text);
    CREATE INDEX ix_t<i>_v ON t<i> (v);
as its upgrade (and the DROPs as its downgrade), each revising the one
before it, written three ways with the same upgrade SQL byte for byte:
  migrations/YYYY_MM_DD_HHMMSS_r<i>.sql   migr's format (docs/files.md)
  db/migrations/YYYYMMDDHHMMSS_r<i>.sql   dbmate's format (-- migrate:up,
                                          -- migrate:down)
  plain/r<i>.sql                          the upgrade SQL alone, for psql

First deploy (--rounds rounds; each side on a fresh database created from
template1, so without the migr extension, after a CHECKPOINT):
  psql      the baseline: one psql process running a driver script with
            BEGIN; \\i plain/r<i>.sql; COMMIT; for each file, so one
            connection, one start-up and one commit per file
  migr      scripts/db_upgrade.sh -q --dir migrations -d dbname=...: it
            creates the extension, loads the files and applies them
  dbmate    dbmate --no-dump-schema migrate (reference: one transaction per
            file too, plus its schema_migrations row)
in this order or the reverse, in turn.  Measured: wall time of the process,
the CPU time of the whole server (user and system, from /proc), the client
processes' CPU time (getrusage of the reaped children), the WAL written.
Ratios are medians of the per-round ratios to psql.  After each of the
first --deploy-steps rounds, the script's steps run once more on a fresh
database, each timed alone from psycopg2 in one new session, with the
backend's CPU time and the WAL of each: the connection, CREATE EXTENSION
migr, migr.load_all() of the N files, CALL migr.apply(),
migr.check(strict => true).

No-op deploy (--noop-rounds rounds, after two untimed runs of each side):
the same files, all applied (each side's database deployed once by that
side), nothing to do:
  floor       psql -X -d dbname=... -c 'SELECT 1': start-up and connection
  dbmate      dbmate --no-dump-schema migrate (the binary itself)
  dbmate-npm  the same through npm's node_modules/.bin/dbmate (a node
              wrapper that spawns the binary), for reference
  migr        scripts/db_upgrade.sh -q --dir migrations -d dbname=...
in this order or the reverse, in turn.  Ratios are medians of the
per-round ratios to dbmate, with a 95% bootstrap interval of that median
for db_upgrade.sh (as for the first deploy's ratio to psql).  Then the breakdown of migr's no-op: the
script's sessions (pg_stat_database.sessions) and, with
pg_stat_statements, its statements (top level and nested, over
--steps-rounds runs); and each step timed alone from psycopg2, in a new
session (--steps-rounds sessions), then again in the same session: the
connection, SELECT 1, CREATE EXTENSION IF NOT EXISTS migr, migr.load_all()
of the N files, migr.current() and migr.summary, migr.check(strict =>
true), and for reference CALL migr.apply() and migr.fingerprint(), which
the script does not run on a no-op; the start-up of psql (--version), bash
and the script (--help) alone; and a psql process of its own sending the
script's load_all() statement (each array one E'' literal, as it sends it).
"""
import argparse
import datetime
import hashlib
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg2

import benchlib
from benchlib import CLK_TCK

ARGS = None
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DBMATE_CACHE = "/var/cache/migr-bench/dbmate"
BASE = datetime.datetime(2024, 1, 1)


def log(msg):
    print("files: " + msg, file=sys.stderr, flush=True)


def maintenance_db():
    return os.environ.get("PGDATABASE", "postgres")


ADMIN = None


def admin_cur():
    """One open autocommit connection to the maintenance database, for the
    probes around each timed run and for creating databases."""
    global ADMIN
    if ADMIN is None or ADMIN.closed:
        ADMIN = psycopg2.connect(dbname=maintenance_db())
        ADMIN.autocommit = True
    return ADMIN.cursor()


def admin(*sqls):
    cur = admin_cur()
    for sql in sqls:
        cur.execute(sql)


def query(db, sql, args=None):
    c = psycopg2.connect(dbname=db)
    try:
        cur = c.cursor()
        cur.execute(sql, args)
        return cur.fetchall()
    finally:
        c.close()


# ------------------------------------------------------------------ the files

def upgrade_sql(i):
    return ("CREATE TABLE t%d (id bigint PRIMARY KEY, v text);\n"
            "CREATE INDEX ix_t%d_v ON t%d (v);" % (i, i, i))


def downgrade_sql(i):
    return "DROP INDEX ix_t%d_v;\nDROP TABLE t%d;" % (i, i)


def write_files(d, n):
    """The n revisions in migr's format, dbmate's format and as plain SQL,
    and psql's driver script.  Returns the directories and the driver."""
    mig = os.path.join(d, "migrations")
    dbm = os.path.join(d, "db", "migrations")
    plain = os.path.join(d, "plain")
    for x in (mig, dbm, plain):
        os.makedirs(x)
    driver = []
    for i in range(n):
        rid = "r%06d" % i
        when = BASE + datetime.timedelta(seconds=i)
        with open(os.path.join(mig, "%s_%s.sql" % (when.strftime("%Y_%m_%d_%H%M%S"), rid)), "w") as f:
            f.write("-- table %d\n"
                    "--\n"
                    "-- Revision ID: %s\n"
                    "-- Revises: %s\n"
                    "-- Create Date: %s.000000\n"
                    "\n"
                    "-- migr:upgrade\n"
                    "%s\n"
                    "\n"
                    "-- migr:downgrade\n"
                    "%s\n" % (i, rid, "r%06d" % (i - 1) if i else "",
                              when.strftime("%Y-%m-%d %H:%M:%S"), upgrade_sql(i), downgrade_sql(i)))
        with open(os.path.join(dbm, "%s_%s.sql" % (when.strftime("%Y%m%d%H%M%S"), rid)), "w") as f:
            f.write("-- migrate:up\n%s\n\n-- migrate:down\n%s\n" % (upgrade_sql(i), downgrade_sql(i)))
        p = os.path.join(plain, rid + ".sql")
        with open(p, "w") as f:
            f.write(upgrade_sql(i) + "\n")
        driver.append("BEGIN;\n\\i %s\nCOMMIT;\n" % p)
    each = os.path.join(d, "each.sql")
    with open(each, "w") as f:
        f.write("".join(driver))
    return mig, dbm, each


# ---------------------------------------------------------------- databases

# Databases are dropped only at the end: files deleted shortly before a run
# make the kernel's file creation slower for a while (see bench/call.py).
CREATED = []


def create(name, tmpl="template1"):
    admin("CREATE DATABASE %s TEMPLATE %s" % (name, tmpl))
    CREATED.append(name)


def drop_all():
    admin(*("DROP DATABASE IF EXISTS %s" % x for x in reversed(CREATED)))
    del CREATED[:]


# ------------------------------------------------------------------ probes

def lsn(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


def wal_pos():
    cur = admin_cur()
    cur.execute("SELECT pg_catalog.pg_current_wal_lsn()")
    return lsn(cur.fetchone()[0])




def client_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Run:
    """One timed process: wall time, the CPU time of the client processes
    (it and every descendant it waited for), of the whole server, and the
    WAL written meanwhile."""

    def __init__(self, cmd, env=None, cwd=None, wal=True):
        w0 = wal_pos() if wal else None
        s0 = benchlib.server_cpu()
        c0 = client_cpu()
        t = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env, cwd=cwd)
        self.seconds = time.perf_counter() - t
        self.client = client_cpu() - c0
        s1 = benchlib.server_cpu()
        self.wal = wal_pos() - w0 if wal else None
        self.suser = self.ssys = None
        if s0 and s1:
            self.suser, self.ssys = s1[0] - s0[0], s1[1] - s0[1]
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr
        self.cmd = cmd

    def check(self, what):
        if self.rc != 0:
            raise RuntimeError("%s failed (exit %d): %s\n%s" % (what, self.rc, " ".join(self.cmd),
                                                               (self.err or self.out)[-2000:]))
        return self


# ------------------------------------------------------------------- sides

class Sides:
    """How each side runs against a database, for one size's files."""

    def __init__(self, d, n):
        self.d, self.n = d, n
        self.mig, self.dbm, self.each = write_files(d, n)
        self.cwd = os.path.join(d, "cwd")     # no .env file for dbmate to find
        os.makedirs(self.cwd)

    def dbmate_env(self, db):
        env = dict(os.environ)
        host = os.environ.get("PGHOST", "/var/run/postgresql")
        port = os.environ.get("PGPORT", "5432")
        user = os.environ.get("PGUSER", "postgres")
        if host.startswith("/"):
            env["DATABASE_URL"] = "postgres://%s@:%s/%s?socket=%s&sslmode=disable" % (user, port, db, host)
        else:
            env["DATABASE_URL"] = "postgres://%s@%s:%s/%s?sslmode=disable" % (user, host, port, db)
        return env

    def run(self, side, db, wal=True):
        if side == "psql":
            cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "dbname=" + db, "-f", self.each]
            return Run(cmd, wal=wal).check("psql")
        if side == "floor":
            cmd = ["psql", "-X", "-q", "-d", "dbname=" + db, "-c", "SELECT 1"]
            return Run(cmd, wal=wal).check("psql -c 'SELECT 1'")
        if side == "migr":
            # its stat cache in the benchmark's directory, not the home's
            cmd = [ARGS.script, "-q", "--dir", self.mig, "-d", "dbname=" + db]
            env = dict(os.environ, MIGR_CACHE_DIR=os.path.join(self.d, "migr-cache"))
            return Run(cmd, env=env, cwd=self.cwd, wal=wal).check("db_upgrade.sh")
        if side in ("dbmate", "dbmate-npm"):
            exe = ARGS.dbmate if side == "dbmate" else ARGS.dbmate_npm
            cmd = [exe, "--no-dump-schema", "--migrations-dir", self.dbm, "migrate"]
            return Run(cmd, env=self.dbmate_env(db), cwd=self.cwd, wal=wal).check(side)
        raise ValueError(side)

    def verify(self, side, db):
        """Every file applied: n indexes, and n rows in the side's own record."""
        n = self.n
        rows = query(db, "SELECT count(*) FROM pg_catalog.pg_class WHERE relname ~ '^ix_t[0-9]+_v$'")
        assert rows[0][0] == n, "%s: %d of %d indexes in %s" % (side, rows[0][0], n, db)
        if side == "migr":
            rows = query(db, "SELECT count(*) FROM migr.applied")
            assert rows[0][0] == n, "migr: %d of %d applied in %s" % (rows[0][0], n, db)
        elif side.startswith("dbmate"):
            rows = query(db, "SELECT count(*) FROM public.schema_migrations")
            assert rows[0][0] == n, "dbmate: %d of %d versions in %s" % (rows[0][0], n, db)


LABEL = {"psql": "psql, one session, each file between BEGIN and COMMIT",
         "migr": "scripts/db_upgrade.sh",
         "dbmate": "dbmate migrate",
         "dbmate-npm": "dbmate migrate through npm's node wrapper",
         "floor": "psql -c 'SELECT 1' (start-up and connection)"}


# --------------------------------------------------------------- statistics

def fmt_s(s):
    if s is None:
        return ""
    return "%.2f s" % s if s >= 1 else "%.1f ms" % (s * 1000) if s < 0.1 else "%.0f ms" % (s * 1000)


def quartiles(xs):
    if len(xs) < 4:
        return min(xs), max(xs)
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def ratios(runs, base):
    return [x.seconds / y.seconds for x, y in zip(runs, base)]


RESAMPLES = 2000


def median_interval(xs):
    """95% bootstrap interval of the median of xs (the rounds resampled
    with replacement; a fixed seed, so a report reads the same twice)."""
    rng = random.Random(0)
    meds = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(RESAMPLES))
    return meds[int(0.025 * RESAMPLES)], meds[int(0.975 * RESAMPLES) - 1]


def interval_line(what, wr, digits):
    lo, hi = median_interval(wr)
    return ("%s: median of the rounds' ratios %.*f×, 95%% bootstrap interval %.*f–%.*f× "
            "(%d resamples of the %d rounds).\n" % (what, digits, statistics.median(wr), digits, lo,
                                                   digits, hi, RESAMPLES, len(wr)))


def mean_or_none(xs):
    xs = [x for x in xs if x is not None]
    return statistics.mean(xs) if xs else None


# ------------------------------------------------------------- first deploy

DEPLOY_SIDES = ("psql", "migr", "dbmate")


def deploy(sides):
    n, rounds = sides.n, ARGS.rounds
    res = {s: [] for s in DEPLOY_SIDES}
    loads = []
    ext = []
    steps = []
    for r in range(rounds):
        order = DEPLOY_SIDES if r % 2 == 0 else tuple(reversed(DEPLOY_SIDES))
        for s in order:
            db = "bench_files_%d_deploy_%s_%d" % (n, s.replace("-", "_"), r + 1)
            create(db)
            admin("CHECKPOINT")
            res[s].append(sides.run(s, db))
            sides.verify(s, db)
        # CREATE EXTENSION migr alone, on a fresh database: part of migr's figure
        db = "bench_files_%d_ext_%d" % (n, r + 1)
        create(db)
        c = psycopg2.connect(dbname=db)
        c.autocommit = True
        t = time.perf_counter()
        c.cursor().execute("CREATE EXTENSION migr")
        ext.append(time.perf_counter() - t)
        c.close()
        # the script's steps timed alone on a fresh database, in a new session
        if r < ARGS.deploy_steps:
            db = "bench_files_%d_steps_%d" % (n, r + 1)
            create(db)
            admin("CHECKPOINT")
            steps.append(deploy_steps(sides, db))
        loads.append(os.getloadavg()[0])
        log("deploy %d files, round %d/%d: %s" % (n, r + 1, rounds, ", ".join(
            "%s %.2f s" % (s, res[s][-1].seconds) for s in DEPLOY_SIDES)))
    return res, loads, ext, steps


def read_migrations(sides):
    sources, filenames = [], []
    for f in sorted(os.listdir(sides.mig)):
        with open(os.path.join(sides.mig, f)) as fh:
            sources.append(fh.read())
        filenames.append(f)
    return sources, filenames


DEPLOY_STEPS = ("connect", "CREATE EXTENSION migr", "load_all()", "CALL migr.apply()",
                "migr.check(strict => true)")


def deploy_steps(sides, db):
    """The first deploy's steps, each timed alone from psycopg2 in one new
    session, with the backend's CPU time and the WAL of each."""
    sources, filenames = read_migrations(sides)
    sqls = (None, "CREATE EXTENSION migr",
            ("SELECT status, count(*) FROM migr.load_all(%s::text[], %s::text[]) GROUP BY status",
             (sources, filenames)),
            "CALL migr.apply()", "SELECT count(*) FROM migr.check(strict => true)")
    out = {}
    t = time.perf_counter()
    c = psycopg2.connect(dbname=db)
    out["connect"] = (time.perf_counter() - t, None, None)
    c.autocommit = True
    cur = c.cursor()
    cur.execute("SET client_min_messages = warning")

    def probe():
        cur.execute("SELECT pg_catalog.pg_read_file('/proc/self/stat'), pg_catalog.pg_current_wal_lsn()")
        stat, pos = cur.fetchone()
        f = stat.rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / CLK_TCK, lsn(pos)

    for name, sql in zip(DEPLOY_STEPS[1:], sqls[1:]):
        cpu0, w0 = probe()
        t = time.perf_counter()
        if isinstance(sql, tuple):
            cur.execute(*sql)
        else:
            cur.execute(sql)
        wall = time.perf_counter() - t
        if name == "load_all()":
            rows = dict(cur.fetchall())
            assert rows == {"registered": sides.n}, rows
        cpu1, w1 = probe()
        out[name] = (wall, cpu1 - cpu0, w1 - w0)
    c.close()
    sides.verify("migr", db)
    return out


def report_deploy(n, res, loads, ext, steps):
    rounds = ARGS.rounds
    base = res["psql"]
    print("### First deploy: %s files, each CREATE TABLE + CREATE INDEX\n" % "{:,}".format(n))
    print("%d rounds; in each, the sides in the order below or the reverse, in turn, each on a "
          "fresh database (no migr extension) after a CHECKPOINT; load average (1 min) after the "
          "rounds: %.2f–%.2f.\n" % (rounds, min(loads), max(loads)))
    print("| | wall, median | min–max | ratio to psql, median of rounds | min–max | IQR "
          "| server CPU user / system, median | client CPU, median | WAL per file |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in DEPLOY_SIDES:
        wall = [x.seconds for x in res[s]]
        cells = ["", "", ""]
        if s != "psql":
            wr = ratios(res[s], base)
            q1, q3 = quartiles(wr)
            cells = ["**%.3f×**" % statistics.median(wr) if s == "migr" else "%.3f×" % statistics.median(wr),
                     "%.3f–%.3f×" % (min(wr), max(wr)), "%.3f–%.3f×" % (q1, q3)]
        su = [x.suser for x in res[s] if x.suser is not None]
        sy = [x.ssys for x in res[s] if x.ssys is not None]
        server = "%s / %s" % (fmt_s(statistics.median(su)), fmt_s(statistics.median(sy))) if su else "n/a"
        print("| %s | %s | %s–%s | %s | %s | %s | %.1f kB |" % (
            LABEL[s], fmt_s(statistics.median(wall)), fmt_s(min(wall)), fmt_s(max(wall)),
            " | ".join(cells), server, fmt_s(statistics.median(x.client for x in res[s])),
            statistics.median(x.wal for x in res[s]) / n / 1024))
    print("\n" + interval_line("db_upgrade.sh against psql", ratios(res["migr"], base), 3))
    print("`CREATE EXTENSION migr` alone on a fresh database (part of db_upgrade.sh's figure): "
          "median %s (%s–%s).\n" % (fmt_s(statistics.median(ext)), fmt_s(min(ext)), fmt_s(max(ext))))
    if steps:
        print("db_upgrade.sh's steps, each timed alone from psycopg2 in one new session on a fresh "
              "database (%d times, one after each of the first rounds), with the backend's CPU time "
              "(user + system) and the WAL; median (min–max):\n" % len(steps))
        print("| step | wall | backend CPU | WAL |")
        print("|---|---|---|---|")
        for name in DEPLOY_STEPS:
            w = [x[name][0] for x in steps]
            cpu = [x[name][1] for x in steps if x[name][1] is not None]
            wal = [x[name][2] for x in steps if x[name][2] is not None]
            print("| %s | %s (%s–%s) | %s | %s |" % (
                "`%s`" % name if name != "connect" else name, fmt_s(statistics.median(w)), fmt_s(min(w)),
                fmt_s(max(w)), fmt_s(statistics.median(cpu)) if cpu else "",
                "%.1f MB" % (statistics.median(wal) / 1048576) if wal else ""))
        tot = [sum(x[name][0] for name in DEPLOY_STEPS) for x in steps]
        print("| all of them | %s (%s–%s) | | |\n" % (fmt_s(statistics.median(tot)), fmt_s(min(tot)), fmt_s(max(tot))))
    print("Per round, wall seconds: " + "; ".join(
        "%d: %s" % (i + 1, ", ".join("%s %.2f" % (s, res[s][i].seconds) for s in DEPLOY_SIDES))
        for i in range(rounds)))
    print()


# ------------------------------------------------------------------ no-op

def noop_sides():
    s = ["floor", "dbmate"]
    if ARGS.dbmate_npm:
        s.append("dbmate-npm")
    s.append("migr")
    return tuple(s)


def noop(sides):
    n, rounds = sides.n, ARGS.noop_rounds
    names = noop_sides()
    dbs = {}
    for side in ("migr", "dbmate"):
        db = "bench_files_%d_noop_%s" % (n, side)
        create(db)
        log("no-op %d files: deploying the %s database" % (n, side))
        sides.run(side, db)
        sides.verify(side, db)
        dbs[side] = db
    dbs["dbmate-npm"] = dbs["dbmate"]
    dbs["floor"] = dbs["migr"]
    admin("CHECKPOINT")
    for side in names:          # warm the caches: two untimed runs each
        for _ in range(2):
            sides.run(side, dbs[side], wal=False)
    res = {s: [] for s in names}
    loads = []
    for r in range(rounds):
        order = names if r % 2 == 0 else tuple(reversed(names))
        for s in order:
            res[s].append(sides.run(s, dbs[s], wal=False))
        loads.append(os.getloadavg()[0])
        if (r + 1) % 10 == 0 or r + 1 == rounds:
            log("no-op %d files, round %d/%d: %s" % (n, r + 1, rounds, ", ".join(
                "%s %.1f ms" % (s, res[s][-1].seconds * 1000) for s in names)))
    for side in ("migr", "dbmate"):
        sides.verify(side, dbs[side])
    return res, loads, breakdown(sides, dbs["migr"])


def sessions(db):
    cur = admin_cur()
    cur.execute("SELECT pg_catalog.pg_stat_clear_snapshot()")
    cur.execute("SELECT sessions FROM pg_catalog.pg_stat_database WHERE datname = %s", (db,))
    return cur.fetchone()[0]


def pgss_available():
    cur = admin_cur()
    cur.execute("SELECT pg_catalog.current_setting('shared_preload_libraries') ~ 'pg_stat_statements'")
    if not cur.fetchone()[0]:
        return False
    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return True


def breakdown(sides, db):
    """Where db_upgrade.sh's no-op time goes."""
    k = ARGS.steps_rounds
    out = {"runs": k}
    # the sessions one run opens (a backend counts its session when it ends)
    s0 = sessions(db)
    sides.run("migr", db, wal=False)
    time.sleep(1.0)
    out["sessions"] = sessions(db) - s0
    # the script's statements, as the server saw them
    out["pgss"] = None
    if pgss_available():
        admin("ALTER DATABASE %s SET pg_stat_statements.track = 'all'" % db)
        try:
            admin("SELECT pg_stat_statements_reset()")
            walls = [sides.run("migr", db, wal=False).seconds for _ in range(k)]
            cur = admin_cur()
            cur.execute("""SELECT s.toplevel, s.calls, s.total_exec_time, s.mean_exec_time,
                                  pg_catalog.regexp_replace(s.query, '\\s+', ' ', 'g')
                             FROM pg_stat_statements s JOIN pg_catalog.pg_database d ON d.oid = s.dbid
                            WHERE d.datname = %s
                            ORDER BY s.toplevel DESC, s.total_exec_time DESC""", (db,))
            out["pgss"] = cur.fetchall()
            out["pgss_wall"] = walls
        finally:
            admin("ALTER DATABASE %s RESET pg_stat_statements.track" % db)
    # each step alone, from one open connection
    sources, filenames = read_migrations(sides)
    shas = [hashlib.sha256(x.encode()).hexdigest() for x in sources]
    nulls = [None] * len(sources)
    manifest = hashlib.sha256("".join("%s\t%s\n" % (f, h) for f, h in sorted(zip(filenames, shas))).encode()).hexdigest()
    # what db_upgrade.sh runs on a no-op, in its order; then, for reference
    # (rows marked "not run"), what it skips
    steps = [("SELECT 1", "SELECT 1", None),
             ("CREATE EXTENSION IF NOT EXISTS migr", "CREATE EXTENSION IF NOT EXISTS migr", None),
             ("SELECT * FROM migr.load_all('{}', '{}', NULL, manifest), %d files (the stat cache's no-op)" % sides.n,
              "SELECT * FROM migr.load_all('{}', '{}', NULL, %s)", (manifest,)),
             ("SELECT * FROM migr.load_all(NULLs, filenames, sha256s), %d files (not run: the stat cache's run when a file changed)" % sides.n,
              "SELECT * FROM migr.load_all(%s::text[], %s::text[], %s::text[])", (nulls, filenames, shas)),
             ("SELECT * FROM migr.load_all(sources, filenames), %d files (not run: the files' bytes, without a stat cache)" % sides.n,
              "SELECT * FROM migr.load_all(%s::text[], %s::text[])", (sources, filenames)),
             ("migr.current() and migr.summary (the status line)",
              "SELECT (SELECT pg_catalog.string_agg(c, ' ') FROM migr.current() c),"
              " (SELECT graph_heads FROM migr.summary WHERE fresh),"
              " (SELECT pending FROM migr.summary WHERE fresh)", None),
             ("SELECT * FROM migr.check(strict => true)", "SELECT * FROM migr.check(strict => true)", None),
             ("CALL migr.apply() (not run: the script skips it when nothing is pending)",
              "CALL migr.apply()", None),
             ("SELECT migr.fingerprint() (not run: check() computes it when the catalog signature changed)",
              "SELECT migr.fingerprint()", None)]
    cold = {label: [] for label, _, _ in steps}
    warm = {label: [] for label, _, _ in steps}
    connect = []
    statuses = None
    for _ in range(k + 1):
        # a new session each time, as each run of the script is: the first
        # run of each step pays for the session's empty caches
        t = time.perf_counter()
        c = psycopg2.connect(dbname=db)
        connect.append(time.perf_counter() - t)
        c.autocommit = True
        cur = c.cursor()
        cur.execute("SET client_min_messages = warning")
        for times in (cold, warm):
            for label, sql, args in steps:
                t = time.perf_counter()
                cur.execute(sql, args)
                if cur.description:
                    rows = cur.fetchall()
                    if "load_all" in sql:
                        statuses = sorted(set(r[2] for r in rows))
                times[label].append(time.perf_counter() - t)
        c.close()
    # the first round warms the server's shared caches and is left out
    out["connect"] = connect[1:]
    out["steps"] = [(label, cold[label][1:], warm[label][1:]) for label, _, _ in steps]
    out["statuses"] = statuses
    # the load statement as the script sends it (each array one E'' literal
    # of an array value), sent by a psql process of its own: start-up,
    # connection, psql reading the statement, the server's load_all()
    def arr(xs):
        lit = "{" + ",".join("NULL" if x is None else
                             '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"' for x in xs) + "}"
        lit = lit.replace("\\", "\\\\").replace("'", "''").replace("\n", "\\n").replace("\r", "\\r")
        return "E'" + lit + "'::pg_catalog.text[]"
    load_sql = os.path.join(sides.d, "load.sql")
    with open(load_sql, "w") as f:
        f.write("SELECT count(*) FROM migr.load_all(%s,\n%s,\n%s);\n" % (arr(nulls), arr(filenames), arr(shas)))
    out["load_bytes"] = os.path.getsize(load_sql)
    out["n"] = sides.n
    out["psql_load"] = [Run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "dbname=" + db, "-f", load_sql],
                            wal=False).check("psql -f load.sql").seconds for _ in range(k)]
    out["cat"] = [Run(["sh", "-c", 'cat "$1"/*.sql >/dev/null', "cat", sides.mig], wal=False).seconds
                  for _ in range(k)]
    out["script_help"] = [Run([ARGS.script, "--help"], wal=False).seconds for _ in range(k)]
    out["psql_start"] = [Run(["psql", "--version"], wal=False).seconds for _ in range(k)]
    out["bash_start"] = [Run(["bash", "-c", ":"], wal=False).seconds for _ in range(k)]
    return out


def report_noop(n, res, loads, bd):
    rounds = ARGS.noop_rounds
    names = noop_sides()
    base = res["dbmate"]
    print("### No-op deploy: %s files, all applied\n" % "{:,}".format(n))
    print("%d rounds (after two untimed runs of each side); in each, the sides in the order "
          "below or the reverse, in turn; load average (1 min) during the rounds: %.2f–%.2f.\n"
          % (rounds, min(loads), max(loads)))
    print("| | wall, median | min–max | IQR | ratio to dbmate, median of rounds | min–max | IQR "
          "| client CPU, mean | server CPU, mean |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in names:
        wall = [x.seconds for x in res[s]]
        q1, q3 = quartiles(wall)
        cells = ["", "", ""]
        if s != "dbmate":
            wr = ratios(res[s], base)
            r1, r3 = quartiles(wr)
            cells = ["**%.2f×**" % statistics.median(wr) if s == "migr" else "%.2f×" % statistics.median(wr),
                     "%.2f–%.2f×" % (min(wr), max(wr)), "%.2f–%.2f×" % (r1, r3)]
        su = mean_or_none([x.suser + x.ssys if x.suser is not None else None for x in res[s]])
        print("| %s | %s | %s–%s | %s–%s | %s | %s | %s |" % (
            LABEL[s], fmt_s(statistics.median(wall)), fmt_s(min(wall)), fmt_s(max(wall)),
            fmt_s(q1), fmt_s(q3), " | ".join(cells), fmt_s(statistics.mean(x.client for x in res[s])),
            fmt_s(su) if su is not None else "n/a"))
    print("\n" + interval_line("db_upgrade.sh against dbmate", ratios(res["migr"], base), 2))
    print("Server CPU is the whole server's (all processes, from /proc, in ticks of %d ms), "
          "averaged over the rounds.\n" % (1000 // CLK_TCK))
    print("#### Where db_upgrade.sh's no-op time goes (%s files)\n" % "{:,}".format(n))
    print("One run of the script opened %d session%s (pg_stat_database.sessions).\n"
          % (bd["sessions"], "" if bd["sessions"] == 1 else "s"))
    if bd["pgss"] is not None:
        print("The script's statements as pg_stat_statements saw them over %d runs (median wall "
              "time of those runs %s); execution time only, per call:\n"
              % (bd["runs"], fmt_s(statistics.median(bd["pgss_wall"]))))
        print("| level | statement | calls per run | mean per call | per run |")
        print("|---|---|---|---|---|")
        top = [r for r in bd["pgss"] if r[0]]
        nested = [r for r in bd["pgss"] if not r[0]][:ARGS.nested]
        for toplevel, calls, total, mean, q in top + nested:
            q = q if len(q) <= 90 else q[:87] + "..."
            print("| %s | `%s` | %g | %.2f ms | %.2f ms |" % (
                "top" if toplevel else "nested", q.replace("|", "\\|"), calls / bd["runs"], mean,
                total / bd["runs"]))
        top_total = sum(r[2] for r in top) / bd["runs"] / 1000
        print("\nTop-level statements together: %s per run, out of a median wall time of %s.\n"
              % (fmt_s(top_total), fmt_s(statistics.median(bd["pgss_wall"]))))
    print("Each step alone from psycopg2 (round trip included): in a new session, in the "
          "script's order, then once more in the same session; median of %d sessions after one "
          "warm-up (load_all returned the statuses %s):\n" % (bd["runs"], ", ".join(bd["statuses"] or [])))
    print("| step | new session, median | min–max | again in the same session, median |")
    print("|---|---|---|---|")
    xs = bd["connect"]
    print("| connect (psycopg2) | %s | %s–%s | |" % (fmt_s(statistics.median(xs)), fmt_s(min(xs)), fmt_s(max(xs))))
    total = statistics.median(xs)
    total_warm = 0
    refs = []
    for label, xs, ws in bd["steps"]:
        row = "| `%s` | %s | %s–%s | %s |" % (label, fmt_s(statistics.median(xs)), fmt_s(min(xs)),
                                            fmt_s(max(xs)), fmt_s(statistics.median(ws)))
        if "not run" in label:
            refs.append(row)
            continue
        total += statistics.median(xs)
        total_warm += statistics.median(ws)
        print(row)
    print("| the script's steps together | %s | | %s |" % (fmt_s(total), fmt_s(total_warm)))
    for row in refs:
        print(row)
    print("\nProcess start-up, for comparison:\n")
    print("| | median | min–max |")
    print("|---|---|---|")
    for label, xs in (("`psql --version` (process start-up alone)", bd["psql_start"]),
                      ("`bash -c :`", bd["bash_start"]),
                      ("`%s --help` (the script's start-up)" % os.path.basename(ARGS.script), bd["script_help"]),
                      ("`cat migrations/*.sql >/dev/null` (reading the %s files)" % "{:,}".format(bd["n"]),
                       bd["cat"]),
                      ("`psql -c 'SELECT 1'` (the floor side above)", [x.seconds for x in res["floor"]]),
                      ("`psql -f load.sql`: the script's load_all() statement when one file changed (%s kB: "
                       "NULLs, names and sha256s from its stat cache, each array one literal) from a psql of its own" % "{:,}".format(bd["load_bytes"] // 1024), bd["psql_load"])):
        print("| %s | %s | %s–%s |" % (label, fmt_s(statistics.median(xs)), fmt_s(min(xs)), fmt_s(max(xs))))
    print()


# ------------------------------------------------------------------- main

def machine():
    cpu = benchlib.cpu_model()
    names = ("server_version", "fsync", "synchronous_commit", "shared_buffers", "max_connections",
             "shared_preload_libraries", "pg_stat_statements.track")
    cur = admin_cur()
    vals = []
    for name in names:
        cur.execute("SELECT current_setting(%s, true)", (name,))
        vals.append(cur.fetchone()[0])
    if vals[1] != "on":
        log("warning: fsync is %s; a commit per file costs what it costs with fsync on only" % vals[1])
    psql = subprocess.run(["psql", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    dbm = subprocess.run([ARGS.dbmate, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    return ("%s; %s, %d cores, load average %s; PostgreSQL %s, %s; %s; %s (%s)"
            % (time.strftime("%Y-%m-%d"), cpu, os.cpu_count(),
               " ".join("%.2f" % x for x in os.getloadavg()), vals[0],
               ", ".join("%s=%s" % (k, v) for k, v in zip(names[1:], vals[1:]) if v),
               psql, dbm, ARGS.dbmate))


def main():
    global ARGS
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default=env("MIGR_BENCH_FILES_SIZES", "1000,100"),
                   help="numbers of migration files, comma-separated")
    p.add_argument("--rounds", type=int, default=int(env("MIGR_BENCH_FILES_ROUNDS", "7")),
                   help="rounds of the first deploy")
    p.add_argument("--noop-rounds", type=int, default=int(env("MIGR_BENCH_FILES_NOOP_ROUNDS", "31")))
    p.add_argument("--steps-rounds", type=int, default=15,
                   help="runs for the no-op breakdown")
    p.add_argument("--deploy-steps", type=int, default=3,
                   help="first deploys with each step timed alone (one after each of the first rounds)")
    p.add_argument("--nested", type=int, default=12, help="nested statements listed in the breakdown")
    p.add_argument("--parts", default="deploy,noop")
    p.add_argument("--script", default=env("MIGR_BENCH_FILES_SCRIPT", os.path.join(ROOT, "scripts", "db_upgrade.sh")))
    p.add_argument("--dbmate", default=env("MIGR_BENCH_DBMATE", os.path.join(
        DBMATE_CACHE, "node_modules", "@dbmate", "linux-x64", "bin", "dbmate")))
    p.add_argument("--dbmate-npm", default=env("MIGR_BENCH_DBMATE_NPM", os.path.join(
        DBMATE_CACHE, "node_modules", ".bin", "dbmate")), help="'' to leave it out")
    p.add_argument("--keep", action="store_true", help="keep the bench_files_* databases")
    ARGS = p.parse_args()
    # the script runs from another directory (no .env for dbmate to find)
    ARGS.script = os.path.abspath(ARGS.script)
    if ARGS.dbmate_npm and not os.path.exists(ARGS.dbmate_npm):
        log("no %s: the npm wrapper is left out" % ARGS.dbmate_npm)
        ARGS.dbmate_npm = ""
    for x in (ARGS.script, ARGS.dbmate):
        if not os.access(x, os.X_OK):
            log("not executable: %s" % x)
            return 2
    parts = set(ARGS.parts.split(","))
    sizes = [int(x) for x in ARGS.sizes.split(",") if x]
    started = time.monotonic()
    print("%s.\n" % machine())
    print("Script: %s. Rounds: %d (first deploy), %d (no-op).\n" % (ARGS.script, ARGS.rounds, ARGS.noop_rounds))
    sys.stdout.flush()
    cur = admin_cur()
    cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_files\\_%'")
    CREATED.extend(x for (x,) in cur.fetchall())
    if CREATED:
        log("dropping %d bench_files_* databases left by an earlier run" % len(CREATED))
        drop_all()
    d = tempfile.mkdtemp(prefix="migr_files_")
    os.chmod(d, 0o755)
    try:
        for n in sizes:
            sides = Sides(os.path.join(d, str(n)), n)
            if "deploy" in parts:
                report_deploy(n, *deploy(sides))
                sys.stdout.flush()
            if "noop" in parts:
                report_noop(n, *noop(sides))
                sys.stdout.flush()
    finally:
        shutil.rmtree(d)
        if not ARGS.keep:
            drop_all()
    print("(total run time %.0f s; load average at the end %s)"
          % (time.monotonic() - started, " ".join("%.2f" % x for x in os.getloadavg())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""migr CALL-mode benchmark: CALL migr.apply() against psql running the same files.

    bench/call.py [--n 1000] [--rounds 7] [--big 10000] [--parts 6,7]

The server comes from the PG* environment variables (PGHOST, PGPORT,
PGUSER, PGDATABASE: the database used to create and drop the others).  The
user must be a superuser: each timed session reads its own backend's
/proc/self/stat and /proc/self/status with pg_read_file().  Run it on a
throwaway cluster on this machine only: it creates and drops databases named
bench_call_*.  Run the server with fsync on, as bench/run.sh does: a commit
per revision is what is measured.

Every revision is one file holding the SQL of P1 (bench/bench.py): a
CREATE TABLE and a CREATE INDEX.  migr's copy of each file is registered
with migr.revision() before anything is timed.

P6  --n revisions (default 1,000).  Baseline: one psql process running the
    n files, each in its own transaction (a driver script of
    "BEGIN; \\i file; COMMIT;" per file), so both sides commit once per
    revision, connect once and pay psql's start-up once.  Measured: CALL
    migr.apply() (one psql -c), and for reference SELECT migr.upgrade()
    (one transaction).  Each round runs every side once, psql, CALL,
    upgrade() or the reverse in turn (CALL always next to its baseline),
    each on a fresh database copied from a template, after a CHECKPOINT.
    Reported: wall time of the psql process, the user and the system CPU
    time of its backend (from /proc/self/stat read at the start and the end
    of the same session), and the WAL it wrote; ratios are medians of the
    per-round ratios, with the min-max (and the IQR for wall time).
Databases are dropped only at the end (or at the start, when an earlier run
left some): files deleted just before a run slow the kernel's file creation
for a while, which would land on that run.
P7  --big revisions (default 10,000), once each: CALL migr.apply() (wall
    time, backend CPU, peak memory: VmHWM of the backend, and its growth
    over the call), psql with each file in its own transaction, psql -1
    with all the files in one transaction, and SELECT migr.upgrade().  The
    last two take a lock on every relation they create and keep it until
    the end of their one transaction: with max_locks_per_transaction = 64
    they run out of lock table space, which is reported with the file or
    revision reached.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg2

DATE = "2024-01-01 00:00:00+00"
CLK_TCK = os.sysconf("SC_CLK_TCK")
ARGS = None
# one line per session, at its start and its end: backend stat, WAL position, status
PROBE = ("SELECT 'probe', pg_catalog.rtrim(pg_catalog.pg_read_file('/proc/self/stat'), E'\\n'),"
         " pg_catalog.pg_current_wal_lsn(),"
         " pg_catalog.replace(pg_catalog.pg_read_file('/proc/self/status'), E'\\n', ';')")


def log(msg):
    print("call: " + msg, file=sys.stderr, flush=True)


def maintenance_db():
    return os.environ.get("PGDATABASE", "postgres")


def admin(*sqls):
    c = psycopg2.connect(dbname=maintenance_db())
    c.autocommit = True
    try:
        for sql in sqls:
            c.cursor().execute(sql)
    finally:
        c.close()


def body(i):
    return ("CREATE TABLE t%d (id bigint PRIMARY KEY, v text);\n"
            "CREATE INDEX ix_t%d_v ON t%d (v);\n" % (i, i, i))


def write_files(d, n):
    """n revision files and two driver scripts: each file in its own
    transaction, and all of them plain (for psql -1)."""
    names = []
    for i in range(n):
        p = os.path.join(d, "r%06d.sql" % i)
        with open(p, "w") as f:
            f.write(body(i))
        names.append(p)
    each = os.path.join(d, "each.sql")
    with open(each, "w") as f:
        for p in names:
            f.write("BEGIN;\n\\i %s\nCOMMIT;\n" % p)
    one = os.path.join(d, "one.sql")
    with open(one, "w") as f:
        for p in names:
            f.write("\\i %s\n" % p)
    return each, one


# Databases are dropped only at the end: files deleted shortly before a run
# make the kernel's file creation slower for a while (ext4 skips recently
# freed inodes), which would land on whichever run came next.
CREATED = []


def create(name, tmpl="template1"):
    admin("CREATE DATABASE %s TEMPLATE %s" % (name, tmpl))
    CREATED.append(name)


def drop_all():
    admin(*("DROP DATABASE IF EXISTS %s" % x for x in reversed(CREATED)))
    del CREATED[:]


def template(name, n):
    """A database with migr and n registered revisions, to copy per run."""
    create(name)
    c = psycopg2.connect(dbname=name)
    cur = c.cursor()
    cur.execute("CREATE EXTENSION migr")
    cur.execute("SET client_min_messages = warning")
    t = time.perf_counter()
    cur.execute("""SELECT count(migr.revision(format('r%%s', lpad(i::text, 6, '0')),
                        CASE WHEN i > 0 THEN format('r%%s', lpad((i - 1)::text, 6, '0')) END,
                        format('table %%s', i),
                        format('CREATE TABLE t%%s (id bigint PRIMARY KEY, v text);' || E'\\n' ||
                               'CREATE INDEX ix_t%%s_v ON t%%s (v);' || E'\\n', i, i, i),
                        format('DROP INDEX ix_t%%s_v;' || E'\\n' || 'DROP TABLE t%%s;', i, i),
                        create_date => %s::timestamptz))
                     FROM generate_series(0, %s) i""", (DATE, n - 1))
    c.commit()
    reg = time.perf_counter() - t
    # the registered bodies are byte for byte the files psql runs
    cur.execute("SELECT upgrade_sql FROM migr.migration WHERE id = %s", ("r%06d" % (n - 1),))
    assert cur.fetchone()[0] == body(n - 1), "registered body differs from the file"
    c.close()
    return reg


def fresh(db, tmpl):
    create(db, tmpl)
    admin("CHECKPOINT")


class Run:
    """One timed psql process: wall time, and from the probes of its own
    session the backend's CPU time, the WAL written and the memory."""

    def __init__(self, db, args):
        cmd = ["psql", "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", db,
               "-c", PROBE, *args, "-c", PROBE]
        t = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.seconds = time.perf_counter() - t
        self.rc = p.returncode
        self.stderr = p.stderr
        probes = [l for l in p.stdout.splitlines() if l.startswith("probe|")]
        self.cpu = self.user = self.sys = self.wal = self.hwm = self.hwm_growth = None
        if len(probes) == 2:
            (u0, k0, w0, s0), (u1, k1, w1, s1) = (self.probe(l) for l in probes)
            self.user = u1 - u0
            self.sys = k1 - k0
            self.cpu = self.user + self.sys
            self.wal = w1 - w0
            self.hwm = s1["VmHWM"]
            self.hwm_growth = s1["VmHWM"] - s0["VmHWM"]
        elif self.rc == 0:
            raise RuntimeError("psql printed %d probes: %s" % (len(probes), p.stdout[-500:]))

    @staticmethod
    def probe(line):
        _, stat, lsn, status = line.split("|")
        fields = stat.rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK
        hi, lo = lsn.split("/")
        mem = {}
        for item in status.split(";"):
            m = re.match(r"(\w+):\s+(\d+) kB", item)
            if m:
                mem[m.group(1)] = int(m.group(2))
        return utime, stime, (int(hi, 16) << 32) + int(lo, 16), mem

    def error(self):
        """The first ERROR line (with the file psql names), its HINT and the CONTEXT line naming a revision."""
        err = hint = ctx = None
        for l in self.stderr.splitlines():
            if err is None and "ERROR:" in l:
                err = l.strip()
            elif err and hint is None and l.startswith("HINT:"):
                hint = l[5:].strip()
            elif err and ctx is None and "migr revision" in l:
                ctx = l.strip()
        return err, hint, ctx

    def check(self, what):
        if self.rc != 0:
            raise RuntimeError("%s failed: %s" % (what, self.error()[0] or self.stderr[-500:]))
        return self


def fmt_s(s):
    return "%.2f s" % s if s >= 1 else "%.0f ms" % (s * 1000)


def quartiles(xs):
    if len(xs) < 4:
        return min(xs), max(xs)
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    c = psycopg2.connect(dbname=maintenance_db())
    cur = c.cursor()
    cur.execute("SELECT current_setting('server_version'), current_setting('fsync'),"
                " current_setting('synchronous_commit'), current_setting('shared_buffers'),"
                " current_setting('max_locks_per_transaction'), current_setting('max_connections')")
    ver, fsync, sync, sb, locks, conns = cur.fetchone()
    c.close()
    if fsync != "on":
        log("warning: fsync is %s; a commit per revision costs what it costs with fsync on only" % fsync)
    return ("%s; %s, %d cores, load average %s; PostgreSQL %s, fsync=%s, synchronous_commit=%s, "
            "shared_buffers=%s, max_locks_per_transaction=%s, max_connections=%s"
            % (time.strftime("%Y-%m-%d"), cpu, os.cpu_count(),
               " ".join("%.2f" % x for x in os.getloadavg()), ver, fsync, sync, sb, locks, conns))


SIDES_P6 = ("psql", "call", "upgrade")
LABEL = {"psql": "psql, each file its own transaction",
         "call": "CALL migr.apply()",
         "upgrade": "SELECT migr.upgrade() (one transaction)"}


def p6(d):
    n, rounds = ARGS.n, ARGS.rounds
    each, _ = write_files(d, n)
    log("P6: registering %d revisions" % n)
    template("bench_call_t%d" % n, n)
    create("bench_call_empty")
    args = {"psql": ["-f", each],
            "call": ["-c", "CALL migr.apply()"],
            "upgrade": ["-c", "SELECT count(*) FROM migr.upgrade()"]}
    res = {s: [] for s in SIDES_P6}
    loads = []
    for r in range(rounds):
        # CALL always runs next to the baseline, before it and after it in turn
        order = SIDES_P6 if r % 2 == 0 else tuple(reversed(SIDES_P6))
        for s in order:
            db = "bench_call_%s_%d" % (s, r + 1)
            fresh(db, "bench_call_empty" if s == "psql" else "bench_call_t%d" % n)
            res[s].append(Run(db, args[s]).check(LABEL[s]))
        loads.append(os.getloadavg()[0])
        log("P6 round %d/%d: %s" % (r + 1, rounds, ", ".join(
            "%s %.2f s (user %.2f s, sys %.2f s)"
            % (s, res[s][-1].seconds, res[s][-1].user, res[s][-1].sys) for s in SIDES_P6)))
    for s in ("call", "upgrade"):
        c = psycopg2.connect(dbname="bench_call_%s_%d" % (s, rounds))
        cur = c.cursor()
        cur.execute("SELECT count(*) FROM migr.applied")
        assert cur.fetchone()[0] == n, s
        cur.execute("SELECT count(*) FROM pg_catalog.pg_class WHERE relname ~ '^ix_t[0-9]+_v$'")
        assert cur.fetchone()[0] == n, s
        c.close()
    return res, loads


def ratios(runs, base, attr):
    return [getattr(x, attr) / getattr(y, attr) for x, y in zip(runs, base)]


def report_p6(res, loads):
    n, rounds = ARGS.n, ARGS.rounds
    base = res["psql"]
    print("## P6: %s revisions through CALL migr.apply(), each CREATE TABLE + CREATE INDEX\n" % "{:,}".format(n))
    print("Rounds: %d. Each round runs psql, CALL and upgrade() in that order or the reverse, "
          "in turn, each on a fresh database after a CHECKPOINT; load average (1 min) after "
          "the rounds: %.2f–%.2f.\n" % (rounds, min(loads), max(loads)))
    print("Wall time of the psql process:\n")
    print("| | median | min–max | ratio to psql, median of rounds | min–max | IQR |")
    print("|---|---|---|---|---|---|")
    for s in SIDES_P6:
        wall = [x.seconds for x in res[s]]
        cells = ["", "", ""]
        if s != "psql":
            wr = ratios(res[s], base, "seconds")
            q1, q3 = quartiles(wr)
            cells = ["%.3f×" % statistics.median(wr), "%.3f–%.3f×" % (min(wr), max(wr)),
                     "%.3f–%.3f×" % (q1, q3)]
        print("| %s | %s | %s–%s | %s |" % (LABEL[s], fmt_s(statistics.median(wall)), fmt_s(min(wall)),
                                          fmt_s(max(wall)), " | ".join(cells)))
    print("\nCPU time of the session's backend (user: PostgreSQL and migr; system: mostly the "
          "kernel creating files), and the WAL it wrote:\n")
    print("| | user, median | user ratio, median (min–max) | system, median | system ratio, median (min–max) | WAL per revision |")
    print("|---|---|---|---|---|---|")
    for s in SIDES_P6:
        cells = []
        for attr in ("user", "sys"):
            cells.append(fmt_s(statistics.median(getattr(x, attr) for x in res[s])))
            if s == "psql":
                cells.append("")
            else:
                r = ratios(res[s], base, attr)
                cells.append("%.2f× (%.2f–%.2f×)" % (statistics.median(r), min(r), max(r)))
        print("| %s | %s | %.1f kB |" % (LABEL[s], " | ".join(cells),
                                         statistics.median(x.wal for x in res[s]) / n / 1024))
    print()
    print("Per round, wall / user / system seconds: " + "; ".join(
        "%d: %s" % (i + 1, ", ".join("%s %.2f/%.2f/%.2f" % (s, res[s][i].seconds, res[s][i].user, res[s][i].sys)
                                     for s in SIDES_P6)) for i in range(rounds)))
    print()


def p7(d):
    n = ARGS.big
    each, one = write_files(d, n)
    log("P7: registering %d revisions" % n)
    reg = template("bench_call_t%d" % n, n)
    create("bench_call_big_empty")
    out = {"register": reg}
    log("P7: CALL migr.apply()")
    fresh("bench_call_big_call", "bench_call_t%d" % n)
    out["call"] = Run("bench_call_big_call", ["-c", "CALL migr.apply()"]).check("CALL migr.apply()")
    c = psycopg2.connect(dbname="bench_call_big_call")
    cur = c.cursor()
    cur.execute("SELECT count(*) FROM migr.applied")
    out["call_applied"] = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM migr.event WHERE outcome = 'ok'")
    out["call_events"] = cur.fetchone()[0]
    c.close()
    assert out["call_applied"] == n
    log("P7: psql, each file its own transaction")
    fresh("bench_call_big_psql", "bench_call_big_empty")
    out["psql"] = Run("bench_call_big_psql", ["-f", each]).check("psql")
    log("P7: psql -1, all files in one transaction")
    fresh("bench_call_big_psql1", "bench_call_big_empty")
    out["psql1"] = Run("bench_call_big_psql1", ["-1", "-f", one])
    log("P7: SELECT migr.upgrade()")
    fresh("bench_call_big_upgrade", "bench_call_t%d" % n)
    out["upgrade"] = Run("bench_call_big_upgrade", ["-c", "SELECT count(*) FROM migr.upgrade()"])
    out["load"] = os.getloadavg()[0]
    return out


def report_p7(out):
    n = ARGS.big
    print("## P7: %s revisions, each CREATE TABLE + CREATE INDEX, once each\n" % "{:,}".format(n))
    print("Registration (one statement, not timed below): %s. Load average (1 min) at the end: %.2f.\n"
          % (fmt_s(out["register"]), out["load"]))
    print("| run | result | wall | backend CPU | peak memory (VmHWM) | VmHWM growth |")
    print("|---|---|---|---|---|---|")
    for key, label in (("call", "CALL migr.apply()"),
                       ("psql", "psql, each file its own transaction"),
                       ("psql1", "psql -1, all files in one transaction"),
                       ("upgrade", "SELECT migr.upgrade() (one transaction)")):
        r = out[key]
        if r.rc == 0:
            result = "ok"
            if key == "call":
                result = "ok: %d applied, %d events" % (out["call_applied"], out["call_events"])
        else:
            err, hint, ctx = r.error()
            m = re.search(r"/r(\d+)\.sql:\d+: ERROR", err or "")
            where = ""
            if m:
                where = " in file %d of %d" % (int(m.group(1)) + 1, n)
            elif ctx and re.search(r'"r(\d+)"', ctx):
                where = " at revision %d of %d" % (int(re.search(r'"r(\d+)"', ctx).group(1)) + 1, n)
            msg = re.sub(r"^.*ERROR:\s*", "", err or "?")
            result = "failed%s: %s%s" % (where, msg, " (HINT: %s)" % hint if hint else "")
        cpu = "%s (user %s)" % (fmt_s(r.cpu), fmt_s(r.user)) if r.cpu is not None else ""
        mem = "%.1f MB" % (r.hwm / 1024) if r.hwm is not None else ""
        growth = "%.1f MB" % (r.hwm_growth / 1024) if r.hwm_growth is not None else ""
        print("| %s | %s | %s | %s | %s | %s |" % (label, result, fmt_s(r.seconds), cpu, mem, growth))
    print()


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=int(os.environ.get("MIGR_BENCH_CALL_N", "1000")),
                   help="revisions in P6")
    p.add_argument("--rounds", type=int, default=int(os.environ.get("MIGR_BENCH_CALL_ROUNDS", "7")),
                   help="rounds of P6")
    p.add_argument("--big", type=int, default=int(os.environ.get("MIGR_BENCH_CALL_BIG", "10000")),
                   help="revisions in P7")
    p.add_argument("--parts", default="6,7")
    p.add_argument("--keep", action="store_true", help="keep the bench_call_* databases")
    ARGS = p.parse_args()
    parts = set(int(x) for x in ARGS.parts.split(","))
    started = time.monotonic()
    print("%s.\n" % machine())
    d = tempfile.mkdtemp(prefix="migr_call_")
    os.chmod(d, 0o755)
    c = psycopg2.connect(dbname=maintenance_db())
    cur = c.cursor()
    cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_call\\_%'")
    CREATED.extend(x for (x,) in cur.fetchall())
    c.close()
    if CREATED:
        log("dropping %d bench_call_* databases left by an earlier run" % len(CREATED))
        drop_all()
    try:
        if 6 in parts:
            report_p6(*p6(d))
            sys.stdout.flush()
        if 7 in parts:
            report_p7(p7(d))
    finally:
        shutil.rmtree(d)
        if not ARGS.keep:
            drop_all()
    print("(total run time %.0f s; load average at the end %s)"
          % (time.monotonic() - started, " ".join("%.2f" % x for x in os.getloadavg())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

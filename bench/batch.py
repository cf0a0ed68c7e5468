#!/usr/bin/python3
"""migr large-data-migration benchmark (issue 10): migr.batch_update() against
a plain UPDATE and the migration standard's OFFSET loop, under a concurrent
pgbench load at a fixed rate.

    bench/batch.py [--rows 5000000] [--rounds 4] [--cap 60] [--idle 30]
                   [--rate 200] [--clients 8] [--recommended ARGS]
                   [--knobs ARGS|ARGS|...] [--methods idle,update,...]

The server comes from the PG* environment variables (PGHOST, PGPORT, PGUSER,
PGDATABASE: the database used to create and drop the others); pgbench from
PATH.  The user must be a superuser (each timed session reads its backend's
/proc/self/stat with pg_read_file()).  With PGDATA set and the server on
this machine, the CPU time of all the server's processes is read from /proc
too.  Run it on a throwaway cluster only: it creates and drops databases
named bench_batch_* and ends the load's backends with pg_terminate_backend().
The server needs pg_stat_statements in shared_preload_libraries (bench/run.sh
batch starts one so).

The table: t (id bigint PRIMARY KEY, v int, hits int, payload text,
created_at timestamptz), --rows rows, built once in a template database,
then VACUUM (FREEZE, ANALYZE).  Every measurement runs on a fresh copy
(CREATE DATABASE ... TEMPLATE, STRATEGY FILE_COPY), with the table and its
index loaded into shared buffers (pg_prewarm) and after a CHECKPOINT, so
every method starts from the same state.  Every method updates every row
with SET v = v + 1; the result is checked (sum(v) grows by --rows).

Methods (each round runs them all, the idle baseline first, then the others
in this order or the reverse, in turn):
  idle     no migration: the load alone for --idle seconds
  update   UPDATE t SET v = v + 1, one statement, autocommit
  other    a control: UPDATE t2 SET v = v + 1, where t2 is a copy of t (in a
           second template) that the load never touches: the same write
           volume with no row lock shared with the load
  offset   the loop of /work/shared/migration-standards.md ("Performance
           Considerations") as an Alembic migration runs it: one transaction
           around the whole loop, driven from the client through psycopg2
           (the driver Alembic uses here), SELECT id FROM t ORDER BY id
           LIMIT 1000 OFFSET k, then UPDATE t SET v = v + 1 WHERE id =
           ANY(ids) with the ids as a parameter.  It runs until --cap
           seconds, is rolled back, and its full time is extrapolated from a
           least-squares line through the time of each iteration against
           its offset (so the total is quadratic in the rows)
  batch    CALL migr.batch_update('t', 'v = v + 1') with the default arguments
  rec      CALL migr.batch_update('t', 'v = v + 1', <--recommended>), by
           default pause => '200ms'
--knobs: further argument lists for migr.batch_update, each run once after
the rounds (by default target_time => '0', a fixed 1000-row batch, '50ms'
and '1s').

The load: pgbench -n -M prepared -R --rate -c --clients, two scripts of
equal weight, a single-row SELECT and a single-row UPDATE of another column
(hits) by random id, started a few seconds before the method and ended (its
backends terminated) a few seconds after it, once the backlog has drained.
Latencies come from pgbench --log: with -R, pgbench measures each
transaction from its scheduled start, so waiting for a free client counts.
Reported: p50, p99 and max of the transactions scheduled while the method
ran, and the transactions completed while it ran, per second, against the
idle baseline of the same round.  While a method runs, a sampler reads
every 0.1 s what the load's backends and the method's backend wait for
(pg_stat_activity) and the kernel's Dirty and Writeback (/proc/meminfo), and
every second a batch job's row in migr.batch_job.
"""
import argparse
import bisect
import collections
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psycopg2

import benchlib

CLK_TCK = os.sysconf("SC_CLK_TCK")
ARGS = None
TEMPLATE = "bench_batch_tmpl"
TEMPLATE2 = "bench_batch_tmpl2"    # with a second table t2, a copy of t, for "other"
RUNDB = "bench_batch_run"
APP = "migr_bench_load"
PROBE = ("SELECT pg_catalog.rtrim(pg_catalog.pg_read_file('/proc/self/stat'), E'\\n'),"
         " pg_catalog.pg_current_wal_lsn()")
SET = "v = v + 1"


def log(msg):
    print("batch: %s %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def loadavg():
    return " ".join("%.2f" % x for x in os.getloadavg())


def uptime():
    try:
        return subprocess.run(["uptime"], stdout=subprocess.PIPE, text=True).stdout.strip()
    except OSError:
        return "load average " + loadavg()


def connect(db, autocommit=True):
    c = psycopg2.connect(dbname=db)
    c.autocommit = autocommit
    return c


def maintenance_db():
    return os.environ.get("PGDATABASE", "postgres")


def admin(*sqls):
    c = connect(maintenance_db())
    try:
        for sql in sqls:
            c.cursor().execute(sql)
    finally:
        c.close()


def one(db, sql, params=None):
    c = connect(db)
    try:
        cur = c.cursor()
        cur.execute(sql, params)
        return cur.fetchone()
    finally:
        c.close()


def lsn(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


def probe(cur):
    """User and system CPU seconds of this session's backend, and the WAL position."""
    cur.execute(PROBE)
    stat, pos = cur.fetchone()
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK, lsn(pos)


def server_cpu():
    """CPU seconds (user and system) of the whole server, or None."""
    cpu = benchlib.server_cpu()
    return None if cpu is None else cpu[0] + cpu[1]


# ---------------------------------------------------------------- the table

def build():
    n = ARGS.rows
    admin("DROP DATABASE IF EXISTS %s" % RUNDB, "DROP DATABASE IF EXISTS %s" % TEMPLATE2,
          "DROP DATABASE IF EXISTS %s" % TEMPLATE, "CREATE DATABASE %s" % TEMPLATE)
    c = connect(TEMPLATE)
    cur = c.cursor()
    t = time.perf_counter()
    cur.execute("CREATE EXTENSION migr")
    cur.execute("CREATE EXTENSION pg_prewarm")
    cur.execute("CREATE EXTENSION pg_stat_statements")
    cur.execute("""CREATE TABLE t (
                       id bigint PRIMARY KEY,
                       v int NOT NULL,
                       hits int NOT NULL DEFAULT 0,
                       payload text NOT NULL,
                       created_at timestamptz NOT NULL)""")
    # the primary key is built after the load, as a restore would
    cur.execute("ALTER TABLE t DROP CONSTRAINT t_pkey")
    cur.execute("""INSERT INTO t (id, v, payload, created_at)
                   SELECT i, (i %% 1000)::int, md5(i::text),
                          timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second'
                     FROM generate_series(1, %s) i""", (n,))
    cur.execute("ALTER TABLE t ADD PRIMARY KEY (id)")
    cur.execute("VACUUM (FREEZE, ANALYZE) t")
    secs = time.perf_counter() - t
    cur.execute("SELECT sum(v)::int8, count(*) FROM t")
    total, count = cur.fetchone()
    assert count == n
    cur.execute("SELECT pg_relation_size('t'), pg_indexes_size('t')")
    heap, idx = cur.fetchone()
    plans = {}
    for k in sorted({0, n // 2, max(n - 1000, 0)}):
        cur.execute("EXPLAIN SELECT id FROM t ORDER BY id LIMIT 1000 OFFSET %d" % k)
        plans[k] = " / ".join(r[0].strip() for r in cur.fetchall())
    c.close()
    if "other" in ARGS.methods:
        admin("CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY" % (TEMPLATE2, TEMPLATE))
        c = connect(TEMPLATE2)
        cur = c.cursor()
        cur.execute("CREATE TABLE t2 AS SELECT * FROM t")
        cur.execute("ALTER TABLE t2 ADD PRIMARY KEY (id)")
        cur.execute("VACUUM (FREEZE, ANALYZE) t2")
        c.close()
    return {"seconds": secs, "sum": total, "heap": heap, "index": idx, "plans": plans}


def fresh(other=False):
    """A copy of the template, warm in shared buffers, after a checkpoint."""
    admin("DROP DATABASE IF EXISTS %s" % RUNDB,
          "CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY" % (RUNDB, TEMPLATE2 if other else TEMPLATE))
    c = connect(RUNDB)
    cur = c.cursor()
    cur.execute("SELECT pg_prewarm('t'), pg_prewarm('t_pkey')")
    if other:
        cur.execute("SELECT pg_prewarm('t2'), pg_prewarm('t2_pkey')")
    cur.execute("SELECT pg_stat_statements_reset()")
    cur.execute("CHECKPOINT")
    c.close()


# ----------------------------------------------------------------- the load

class Load:
    """pgbench at a fixed rate on RUNDB, from start() to stop()."""

    def __init__(self, d):
        self.dir = d
        self.prefix = os.path.join(d, "pgb")
        for p in glob.glob(self.prefix + ".*"):
            os.unlink(p)
        n = ARGS.rows
        self.read = os.path.join(d, "read.sql")
        self.write = os.path.join(d, "write.sql")
        with open(self.read, "w") as f:
            f.write("\\set id random(1, %d)\nSELECT v, hits, payload FROM t WHERE id = :id;\n" % n)
        with open(self.write, "w") as f:
            f.write("\\set id random(1, %d)\nUPDATE t SET hits = hits + 1 WHERE id = :id;\n" % n)
        self.proc = None

    def start(self):
        env = dict(os.environ, PGAPPNAME=APP, PGDATABASE=RUNDB)
        self.out = open(os.path.join(self.dir, "pgbench.out"), "w")
        self.proc = subprocess.Popen(
            ["pgbench", "-n", "-M", "prepared", "-c", str(ARGS.clients), "-j", "2",
             "-R", str(ARGS.rate), "-T", "36000", "--log", "--log-prefix=" + self.prefix,
             "-f", self.read + "@1", "-f", self.write + "@1", RUNDB],
            env=env, stdout=self.out, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            (k,) = one(maintenance_db(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                       (APP,))
            if k >= ARGS.clients:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("pgbench did not start: %s" % open(self.out.name).read()[-500:])

    def drain(self, limit=60):
        """Wait until no load backend waits for a lock (the backlog then
        drains in well under a second at these rates), plus a margin."""
        deadline = time.monotonic() + limit
        time.sleep(1)
        while time.monotonic() < deadline:
            (k,) = one(maintenance_db(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
                       " AND wait_event_type = 'Lock'", (APP,))
            if k == 0:
                break
            time.sleep(0.5)
        time.sleep(ARGS.tail)

    def stop(self):
        admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '%s'" % APP)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()
        txns = []   # (scheduled start, end, latency in seconds, script)
        for p in glob.glob(self.prefix + ".*"):
            with open(p) as f:
                for line in f:
                    x = line.split()
                    if len(x) < 6 or not x[2].isdigit():
                        continue   # skipped or failed
                    end = int(x[4]) + int(x[5]) / 1e6
                    lat = int(x[2]) / 1e6
                    txns.append((end - lat, end, lat, int(x[3])))
            os.unlink(p)
        with open(self.out.name) as f:
            out = f.read()
        m = re.search(r"number of failed transactions: (\d+)", out)
        return txns, int(m.group(1)) if m else None


def pct(xs, p):
    """Nearest-rank percentile of a sorted list."""
    if not xs:
        return float("nan")
    k = max(0, min(len(xs) - 1, int(-(-p * len(xs) // 100)) - 1))
    return xs[k]


def load_stats(txns, t0, t1, failed):
    sched = sorted(l for s, e, l, _ in txns if t0 <= s <= t1)
    writes = sorted(l for s, e, l, k in txns if t0 <= s <= t1 and k == 1)
    reads = sorted(l for s, e, l, k in txns if t0 <= s <= t1 and k == 0)
    done = sum(1 for s, e, l, _ in txns if t0 <= e <= t1)
    return {"n": len(sched), "p50": pct(sched, 50), "p99": pct(sched, 99),
            "max": sched[-1] if sched else float("nan"),
            "w99": pct(writes, 99), "r99": pct(reads, 99), "done_rate": done / (t1 - t0), "window": t1 - t0,
            "failed": failed,
            "over100ms": sum(1 for x in sched if x > 0.1),
            "over1s": sum(1 for x in sched if x > 1.0)}


WB_KB = 8192   # the kernel writes back at least this much: "writeback running"


def writeback_split(txns, t0, t1, dirty):
    """The load's transactions scheduled in [t0, t1] whose run overlaps a
    sample with kernel Writeback >= WB_KB (or the 0.1 s after one), against
    the others: (share of samples with writeback, n and p99 with, n and p99
    without)."""
    wb = [t for t, _, w in dirty if w >= WB_KB]
    with_, without = [], []
    for s, e, l, _ in txns:
        if not t0 <= s <= t1:
            continue
        i = bisect.bisect_left(wb, s - 0.1)
        (with_ if i < len(wb) and wb[i] <= e else without).append(l)
    with_.sort()
    without.sort()
    return (len(wb) / len(dirty) if dirty else 0.0, len(with_), pct(with_, 99), len(without), pct(without, 99))


# -------------------------------------------------------------- the methods

class Result:
    def __init__(self, method):
        self.method = method
        self.seconds = None
        self.user = self.sys = self.wal = self.server_cpu = None
        self.load = None
        self.extra = {}
        self.error = None


def run_method(method, args, load):
    fresh(method == "other")
    r = Result(method)
    c = connect(RUNDB)
    cur = c.cursor()
    notices = collections.deque(maxlen=20000)
    c.notices = notices
    load.start()
    time.sleep(ARGS.lead)
    la0 = os.getloadavg()[0]
    cpu0 = server_cpu()
    u0, s0, w0 = probe(cur)
    sampler = Sampler(method in ("batch", "rec", "knob"), c.get_backend_pid())
    t0 = time.time()
    try:
        if method == "idle":
            time.sleep(ARGS.idle)
        elif method == "update":
            cur.execute("UPDATE t SET " + SET)
        elif method == "other":
            cur.execute("UPDATE t2 SET " + SET)
        elif method == "offset":
            offset_loop(c, r)
        else:
            cur.execute("CALL migr.batch_update('t', %s" % ("%s, " + args if args else "%s") + ")", (SET,))
    except psycopg2.Error as e:
        r.error = "%s: %s" % (e.pgcode, str(e).strip().splitlines()[0])
        c.rollback() if not c.autocommit else None
    t1 = time.time()
    r.seconds = t1 - t0
    sampler.stop()
    if method == "offset":
        u1, s1, w1 = r.extra.pop("probe")
        cpu1 = r.extra.pop("server_cpu")
        c = connect(RUNDB)
        cur = c.cursor()
    else:
        u1, s1, w1 = probe(cur)
        cpu1 = server_cpu()
    load.drain()
    txns, failed = load.stop()
    r.load = load_stats(txns, t0, t1, failed)
    r.extra["waits"] = (sampler.ticks, sampler.waits, sampler.mwaits)
    r.extra["dirty"] = sampler.dirty
    r.extra["wb"] = writeback_split(txns, t0, t1, sampler.dirty)
    r.extra["loadavg"] = (la0, os.getloadavg()[0])
    r.user, r.sys, r.wal = u1 - u0, s1 - s0, w1 - w0
    if cpu0 is not None and cpu1 is not None:
        r.server_cpu = cpu1 - cpu0
    cur.execute("""SELECT pg_relation_size('t'), pg_indexes_size('t'), n_dead_tup, n_tup_hot_upd,
                          autovacuum_count
                     FROM pg_stat_user_tables WHERE relid = 't'::regclass""")
    heap, idx, dead, hot, av = cur.fetchone()
    cur.execute("SELECT sum(v)::int8 FROM t")
    (total,) = cur.fetchone()
    r.extra.update(heap=heap, index=idx, dead=dead, hot=hot, autovacuum=av)
    if method == "other":
        # the control updates t2: t is untouched, t2 checked instead
        cur.execute("SELECT sum(v)::int8, pg_relation_size('t2'), pg_indexes_size('t2') FROM t2")
        total, r.extra["heap"], r.extra["index"] = cur.fetchone()
    if method not in ("idle", "offset") and r.error is None:
        r.extra["ok"] = total == SETUP["sum"] + ARGS.rows
        if not r.extra["ok"]:
            r.error = "wrong result: sum(v) = %d, expected %d" % (total, SETUP["sum"] + ARGS.rows)
    if method in ("batch", "rec", "knob"):
        cur.execute("SELECT row_to_json(j) FROM migr.batch_job j ORDER BY job_id DESC LIMIT 1")
        row = cur.fetchone()
        r.extra["job"] = row[0] if row else None
        r.extra["samples"] = sampler.samples
        r.extra["notices"] = len(notices)
        r.extra["last_notices"] = [x.strip() for x in list(notices)[-3:]]
        cur.execute("""SELECT calls, round(total_exec_time)::int8, round(mean_exec_time::numeric, 2),
                              rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 140)
                         FROM pg_stat_statements
                        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                          AND query !~* '(pg_stat_statements|pg_read_file|pg_stat_activity|FROM t WHERE id = \\$1|SET hits = hits|^CHECKPOINT|sum\\(v\\)|row_to_json|pg_prewarm)'
                        ORDER BY total_exec_time DESC LIMIT 6""")
        r.extra["statements"] = cur.fetchall()
    if method == "offset":
        offset_probes(cur, r)
    c.close()
    admin("DROP DATABASE %s" % RUNDB)
    return r


def meminfo():
    """Dirty and Writeback of /proc/meminfo, in kB (the kernel's page cache
    waiting to be written, and being written)."""
    d = w = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("Dirty:"):
                    d = int(line.split()[1])
                elif line.startswith("Writeback:"):
                    w = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return d, w


class Sampler:
    """While a method runs: every 0.1 s what the load's active backends and
    the method's backend wait for (pg_stat_activity; no wait event: on the
    CPU or ready to run), and every second, for a batch job, its row in
    migr.batch_job (rows done, batch size)."""

    def __init__(self, job, pid):
        self.samples = []
        self.waits = collections.Counter()      # load backends: event -> samples
        self.mwaits = collections.Counter()     # the method's backend
        self.ticks = 0
        self.dirty = []     # (time, Dirty, Writeback) from /proc/meminfo, kB
        self.job = job
        self.pid = pid
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        c = connect(RUNDB)
        cur = c.cursor()
        t0 = time.time()
        next_job = t0 + 1
        while not self.done.wait(0.1):
            try:
                cur.execute("""SELECT pid = %s, coalesce(wait_event_type || ':' || wait_event, 'CPU')
                                 FROM pg_stat_activity
                                WHERE state = 'active' AND (application_name = %s OR pid = %s)""",
                            (self.pid, APP, self.pid))
                self.ticks += 1
                self.dirty.append((time.time(),) + meminfo())
                for mine, ev in cur.fetchall():
                    (self.mwaits if mine else self.waits)[ev] += 1
                if self.job and time.time() >= next_job:
                    next_job += 1
                    cur.execute("SELECT rows_done, batches_done, batch_size, last_batch_ms"
                                " FROM migr.batch_job ORDER BY job_id DESC LIMIT 1")
                    row = cur.fetchone()
                    if row:
                        self.samples.append((time.time() - t0,) + tuple(row))
            except psycopg2.Error:
                pass
        c.close()

    def stop(self):
        self.done.set()
        self.thread.join()


def offset_loop(c, r):
    """The standard's loop, in one transaction, until ARGS.cap seconds."""
    c.autocommit = False   # Alembic runs the migration in one transaction
    cur = c.cursor()
    batch_size = 1000
    offset = 0
    iters = []   # (offset, seconds of the SELECT, seconds of the UPDATE)
    start = time.perf_counter()
    finished = False
    while True:
        t = time.perf_counter()
        cur.execute("""
            SELECT id FROM t
            ORDER BY id
            LIMIT %d OFFSET %d
        """ % (batch_size, offset))
        batch = cur.fetchall()
        t1 = time.perf_counter()
        if not batch:
            finished = True
            break
        ids = [row[0] for row in batch]
        cur.execute("""
            UPDATE t
            SET """ + SET + """
            WHERE id = ANY(%(ids)s)
        """, {"ids": ids})
        t2 = time.perf_counter()
        iters.append((offset, t1 - t, t2 - t1))
        offset += batch_size
        if t2 - start > ARGS.cap:
            break
    r.extra["probe"] = probe(cur)
    r.extra["server_cpu"] = server_cpu()
    if finished:
        c.commit()
    else:
        c.rollback()
    c.close()
    r.extra["iters"] = iters
    r.extra["finished"] = finished


def fit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    a = my - b * mx
    ss = sum((y - my) ** 2 for y in ys)
    r2 = 1 - sum((y - a - b * x) ** 2 for x, y in zip(xs, ys)) / ss if ss else 1.0
    return a, b, r2


def offset_probes(cur, r):
    """Extrapolate the loop; time its SELECT alone at offsets it did not reach."""
    iters = r.extra["iters"]
    n = ARGS.rows
    nb = -(-n // 1000)
    xs = [o for o, _, _ in iters]
    a, b, r2 = fit(xs, [s + u for _, s, u in iters])
    sa, sb, sr2 = fit(xs, [s for _, s, _ in iters])
    r.extra["fit"] = (a, b, r2)
    r.extra["select_fit"] = (sa, sb, sr2)
    # every iteration i at offset 1000 i, plus the final empty SELECT at offset n
    r.extra["extrapolated"] = nb * a + b * 1000 * nb * (nb - 1) / 2 + (sa + sb * n)
    if r.extra["finished"]:
        r.extra["extrapolated"] = r.seconds
    probes = []
    for k in sorted({n // 2, max(n - 1000, 0)}):
        if iters and k <= iters[-1][0]:
            continue
        t = time.perf_counter()
        cur.execute("SELECT id FROM t ORDER BY id LIMIT 1000 OFFSET %d" % k)
        cur.fetchall()
        probes.append((k, time.perf_counter() - t, sa + sb * k))
    r.extra["probes"] = probes


# ---------------------------------------------------------------- the report

def fmt_s(s):
    if s is None or s != s:
        return "–"
    if s >= 3600:
        return "%.1f h" % (s / 3600)
    if s >= 60:
        return "%.1f min" % (s / 60) if s >= 600 else "%.1f s" % s
    return "%.2f s" % s if s >= 1 else "%.1f ms" % (s * 1000)


def fmt_mb(b):
    return "%.0f MB" % (b / 1048576)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs, f=fmt_s):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    if len(xs) == 1:
        return f(xs[0])
    return "%s (%s–%s)" % (f(statistics.median(xs)), f(min(xs)), f(max(xs)))


def ratio_spread(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    if len(xs) == 1:
        return "%.2f×" % xs[0]
    return "%.2f× (%.2f–%.2f×)" % (statistics.median(xs), min(xs), max(xs))


def label(method, args):
    return {"idle": "idle (load only, %d s)" % ARGS.idle,
            "update": "plain UPDATE",
            "other": "control: plain UPDATE of t2, a copy of t the load does not touch",
            "offset": "OFFSET loop (capped at %d s)" % ARGS.cap,
            "batch": "migr.batch_update, defaults",
            "rec": "migr.batch_update, %s" % args,
            "knob": "migr.batch_update, %s" % args}[method]


def report(res, knobs, settings, loads):
    n = ARGS.rows
    print("## Large data migration: %s rows, SET v = v + 1 on every row\n" % "{:,}".format(n))
    print("%s.\n" % settings)
    print("Table `t` (id bigint primary key, v int, hits int, payload text of 32 characters, "
          "created_at timestamptz), built in %s, frozen and analysed: heap %s, primary key %s. "
          "Load: pgbench at %d transactions/s (-R), %d clients, half single-row SELECTs, half "
          "single-row UPDATEs of `hits`, by random id. Rounds: %d; the OFFSET loop capped at %d s. "
          "Load average (1 min) after each round: %s.\n"
          % (fmt_s(SETUP["seconds"]), fmt_mb(SETUP["heap"]), fmt_mb(SETUP["index"]), ARGS.rate,
             ARGS.clients, ARGS.rounds, ARGS.cap, ", ".join("%.2f" % x for x in loads)))
    methods = [m for m in ARGS.methods if m in res]
    base = res.get("update")
    print("### Wall time, CPU, WAL and size after\n")
    print("| method | wall, median (min–max) | ratio to plain UPDATE, median of rounds (min–max) "
          "| backend CPU, user + system | server CPU, all processes | WAL | heap after | indexes after |")
    print("|---|---|---|---|---|---|---|---|")
    rows_out = [(m, label(m, ARGS.recommended), res[m]) for m in methods if m != "idle"]
    rows_out += [("knob", label("knob", a), [x]) for a, x in knobs]
    for m, lab, rs in rows_out:
        ok = [x for x in rs if x.error is None]
        if m == "offset":
            wall = "%s per round (capped), %s done; extrapolated to all rows: %s" % (
                fmt_s(med([x.seconds for x in rs])),
                "{:,}".format(int(med([len(x.extra["iters"]) * 1000 for x in rs]))),
                spread([x.extra["extrapolated"] for x in rs]))
            rat = ratio_spread([x.extra["extrapolated"] / y.seconds for x, y in zip(rs, base or [])]
                               if base else [])
        else:
            wall = spread([x.seconds for x in ok])
            rat = ""
            if base and m != "update":
                if m == "knob":
                    rat = ratio_spread([ok[0].seconds / med([y.seconds for y in base])]) + " of the median" if ok else ""
                else:
                    rat = ratio_spread([x.seconds / y.seconds for x, y in zip(rs, base)
                                        if x.error is None and y.error is None])
        errs = ["round %d: %s" % (i + 1, x.error) for i, x in enumerate(rs) if x.error]
        print("| %s | %s%s | %s | %s | %s | %s | %s | %s |" % (
            lab, wall, "; " + "; ".join(errs) if errs else "", rat,
            fmt_s(med([x.user + x.sys for x in rs])),
            fmt_s(med([x.server_cpu for x in rs])) if any(x.server_cpu is not None for x in rs) else "–",
            fmt_mb(med([x.wal for x in rs])), fmt_mb(med([x.extra["heap"] for x in rs])),
            fmt_mb(med([x.extra["index"] for x in rs]))))
    print("\nBefore: heap %s, primary key %s. The OFFSET loop's sizes are after its rollback.\n"
          % (fmt_mb(SETUP["heap"]), fmt_mb(SETUP["index"])))

    print("### Concurrent load: latency of the transactions scheduled while the method ran\n")
    print("Medians over the rounds (min–max); the ratio is the method's p99 over the idle p99 of "
          "the same round.\n")
    print("| method | p50 | p99 | p99 ratio to idle | max | p99 of the SELECTs | p99 of the UPDATEs "
          "| over 100 ms | over 1 s | completed per s while it ran (rate %d) |" % ARGS.rate)
    print("|---|---|---|---|---|---|---|---|---|---|")
    idle = res.get("idle")
    for m, lab, rs in [("idle", label("idle", None), res["idle"])] + rows_out if idle else rows_out:
        ls = [x.load for x in rs]
        if m == "knob":
            rat = ratio_spread([rs[0].load["p99"] / med([y.load["p99"] for y in idle])]) + " of the median" if idle else ""
        else:
            rat = ratio_spread([x.load["p99"] / y.load["p99"] for x, y in zip(rs, idle)]) if idle and m != "idle" else ""
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            lab, spread([l["p50"] for l in ls]), spread([l["p99"] for l in ls]), rat,
            spread([l["max"] for l in ls]), spread([l["r99"] for l in ls]), spread([l["w99"] for l in ls]),
            spread([100.0 * l["over100ms"] / l["n"] for l in ls if l["n"]], lambda v: "%.2f%%" % v),
            spread([l["over1s"] for l in ls], lambda v: "%d" % v),
            spread([l["done_rate"] for l in ls], lambda v: "%.0f" % v)))
    print("\nWhat the load's active backends and the method's backend were doing, sampled every 0.1 s "
          "(all rounds; CPU: no wait event, on the CPU or ready to run; Extension:Extension: "
          "migr's pause), as a share of the samples; and the kernel's dirty page cache (the "
          "whole machine's, from /proc/meminfo).\n")
    print("| method | load backends active per sample | load: top wait events | method's backend "
          "| kernel Dirty, mean / max | kernel Writeback, mean / max | time with writeback ≥ 8 MB "
          "| load p99 overlapping writeback (n) | load p99 otherwise (n) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m, lab, rs in ([("idle", label("idle", None), res["idle"])] if idle else []) + rows_out:
        ticks = sum(x.extra["waits"][0] for x in rs)
        lw = collections.Counter()
        mw = collections.Counter()
        for x in rs:
            lw.update(x.extra["waits"][1])
            mw.update(x.extra["waits"][2])
        if not ticks:
            continue
        def top(c, k):
            tot = sum(c.values())
            return ", ".join("%s %.0f%%" % (e, 100.0 * v / tot) for e, v in c.most_common(k)) if tot else "–"
        dirty = [d for x in rs for d in x.extra["dirty"]]
        def mm(k):
            v = [d[k + 1] for d in dirty]
            return "%.0f / %.0f MB" % (sum(v) / len(v) / 1024, max(v) / 1024) if v else "–"
        wbs = [x.extra["wb"] for x in rs if "wb" in x.extra]
        wcell = ["–", "–", "–"]
        if wbs:
            wcell = ["%.0f%%" % (100 * med([w[0] for w in wbs])),
                     "%s (%d)" % (fmt_s(med([w[2] for w in wbs if w[1]])), sum(w[1] for w in wbs)),
                     "%s (%d)" % (fmt_s(med([w[4] for w in wbs if w[3]])), sum(w[3] for w in wbs))]
        print("| %s | %.2f | %s | %s | %s | %s | %s |" % (lab, sum(lw.values()) / ticks, top(lw, 4),
                                                          top(mw, 4) if m != "idle" else "", mm(0), mm(1),
                                                          " | ".join(wcell)))
    print()
    failed = sum(x.load["failed"] or 0 for _, _, rs in rows_out for x in rs)
    print("\n(%d load transactions failed in all.)\n" % failed)

    if "offset" in res:
        print("### The OFFSET loop\n")
        print("Plans (EXPLAIN on the frozen table): %s.\n" % "; ".join(
            "OFFSET %s: %s" % ("{:,}".format(k), p) for k, p in SETUP["plans"].items()))
        print("| round | iterations in the cap | last offset | time per iteration = a + b × offset | R² "
              "| SELECT alone at the last offset | extrapolated total | SELECT alone at larger offsets, "
              "measured (line) |")
        print("|---|---|---|---|---|---|---|---|")
        for i, x in enumerate(res["offset"]):
            a, b, r2 = x.extra["fit"]
            it = x.extra["iters"]
            print("| %d | %d | %s | %.2f ms + %.3f ms per 1,000 rows | %.3f | %s | %s | %s |" % (
                i + 1, len(it), "{:,}".format(it[-1][0]) if it else "–", a * 1000, b * 1e6, r2,
                fmt_s(it[-1][1]) if it else "–", fmt_s(x.extra["extrapolated"]),
                "; ".join("%s: %s (%s)" % ("{:,}".format(k), fmt_s(s), fmt_s(p))
                          for k, s, p in x.extra["probes"])))
        print()

    bs = [(lab, rs) for m, lab, rs in rows_out if m in ("batch", "rec", "knob")]
    if bs:
        print("### migr.batch_update: the job\n")
        print("| call | batches | final batch size | batch size over the run (sampled each second) "
              "| last batch | NOTICEs |")
        print("|---|---|---|---|---|---|")
        for lab, rs in bs:
            for i, x in enumerate(rs):
                j = x.extra.get("job") or {}
                sizes = [s[3] for s in x.extra.get("samples", []) if s[3] is not None]
                print("| %s, round %d | %s | %s | %s | %s | %d |" % (
                    lab, i + 1, j.get("batches_done", "–"), j.get("batch_size", "–"),
                    "%d–%d, median %d" % (min(sizes), max(sizes), statistics.median(sizes)) if sizes else "–",
                    "%.0f ms" % j["last_batch_ms"] if j.get("last_batch_ms") is not None else "–",
                    x.extra.get("notices", 0)))
        print("\nTop statements by execution time in the last round (pg_stat_statements, track = all; "
              "the load's own statements left out):\n")
        for lab, rs in bs:
            print("- %s:" % lab)
            for calls, total, mean, rows, q in rs[-1].extra.get("statements", []):
                print("  - %d calls, %d ms in all, %.2f ms each, %d rows: `%s`" % (calls, total, mean, rows, q))
        print()

    print("Load average (1 min) at the start and the end of each method, per round: " + "; ".join(
        "%d: %s" % (i + 1, ", ".join("%s %.1f–%.1f" % ((m,) + res[m][i].extra["loadavg"])
                                     for m in methods if i < len(res[m])))
        for i in range(ARGS.rounds)) + ".\n")
    print("Per round, wall seconds / p99 ms: " + "; ".join(
        "%d: %s" % (i + 1, ", ".join("%s %s/%.0f" % (m, "%.1f" % res[m][i].seconds if m != "offset" else
                                                     "%.0f (extrap.)" % res[m][i].extra["extrapolated"],
                                                     res[m][i].load["p99"] * 1000)
                                     for m in methods if i < len(res[m])))
        for i in range(ARGS.rounds)))
    print()


def settings_line():
    cpu = benchlib.cpu_model()
    names = ("server_version", "fsync", "synchronous_commit", "shared_buffers", "work_mem",
             "maintenance_work_mem", "effective_cache_size", "min_wal_size", "max_wal_size", "wal_buffers", "checkpoint_timeout",
             "wal_compression", "autovacuum", "autovacuum_vacuum_cost_limit", "max_connections",
             "shared_preload_libraries", "pg_stat_statements.track")
    c = connect(maintenance_db())
    cur = c.cursor()
    vals = []
    for name in names:
        cur.execute("SELECT current_setting(%s)", (name,))
        vals.append(cur.fetchone()[0])
    c.close()
    return ("%s; %s, %d cores, %s of memory; PostgreSQL %s, %s"
            % (time.strftime("%Y-%m-%d"), cpu, os.cpu_count(), mem_total(), vals[0],
               ", ".join("%s=%s" % (n, v) for n, v in zip(names[1:], vals[1:]))))


def mem_total():
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        return "%.0f GB" % (kb / 1048576)
    except (OSError, ValueError, IndexError):
        return "?"


SETUP = {}


def main():
    global ARGS
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=int(env("MIGR_BENCH_BATCH_ROWS", "5000000")))
    p.add_argument("--rounds", type=int, default=int(env("MIGR_BENCH_BATCH_ROUNDS", "4")))
    p.add_argument("--cap", type=float, default=float(env("MIGR_BENCH_BATCH_CAP", "60")),
                   help="seconds the OFFSET loop runs before it is rolled back")
    p.add_argument("--idle", type=int, default=int(env("MIGR_BENCH_BATCH_IDLE", "30")),
                   help="seconds of the idle baseline")
    p.add_argument("--rate", type=int, default=int(env("MIGR_BENCH_BATCH_RATE", "200")))
    p.add_argument("--clients", type=int, default=int(env("MIGR_BENCH_BATCH_CLIENTS", "8")))
    p.add_argument("--lead", type=float, default=3.0, help="seconds of load before the method")
    p.add_argument("--tail", type=float, default=2.0, help="seconds of load after the backlog drained")
    p.add_argument("--recommended", default=env("MIGR_BENCH_BATCH_REC", "pause => '200ms'"),
                   help="named arguments of migr.batch_update for the recommended setting")
    p.add_argument("--knobs", default=env("MIGR_BENCH_BATCH_KNOBS",
                                          "target_time => '0'|target_time => '50ms'|target_time => '1s'"),
                   help="argument lists separated by |, each run once after the rounds")
    p.add_argument("--methods", default=env("MIGR_BENCH_BATCH_METHODS", "idle,update,other,offset,batch,rec"))
    p.add_argument("--keep", action="store_true", help="keep the template database")
    ARGS = p.parse_args()
    ARGS.methods = [m for m in ARGS.methods.split(",") if m]
    if not ARGS.recommended and "rec" in ARGS.methods:
        ARGS.methods.remove("rec")
    knob_args = [k.strip() for k in ARGS.knobs.split("|") if k.strip()]
    started = time.monotonic()
    print("Start: %s\n" % uptime())
    settings = settings_line()
    d = tempfile.mkdtemp(prefix="migr_batch_")
    os.chmod(d, 0o755)
    try:
        log("building the table (%d rows)" % ARGS.rows)
        SETUP.update(build())
        log("built in %.0f s: heap %s, index %s" % (SETUP["seconds"], fmt_mb(SETUP["heap"]), fmt_mb(SETUP["index"])))
        load = Load(d)
        res = {m: [] for m in ARGS.methods}
        loads = []
        others = [m for m in ARGS.methods if m != "idle"]
        for rnd in range(ARGS.rounds):
            order = (["idle"] if "idle" in ARGS.methods else []) + (others if rnd % 2 == 0 else others[::-1])
            for m in order:
                log("round %d/%d: %s (load %s)" % (rnd + 1, ARGS.rounds, m, loadavg()))
                x = run_method(m, ARGS.recommended if m == "rec" else "", load)
                res[m].append(x)
                log("  %s: %.1f s%s; load p50 %.1f ms, p99 %.1f ms, max %.0f ms%s" % (
                    m, x.seconds, " (extrapolated %.0f s)" % x.extra["extrapolated"] if m == "offset" else "",
                    x.load["p50"] * 1000, x.load["p99"] * 1000, x.load["max"] * 1000,
                    "" if x.error is None else "; ERROR " + x.error))
            loads.append(os.getloadavg()[0])
        knobs = []
        for a in knob_args:
            log("knob: %s (load %s)" % (a, loadavg()))
            x = run_method("knob", a, load)
            knobs.append((a, x))
            log("  %.1f s%s; load p99 %.1f ms" % (x.seconds, "" if x.error is None else " ERROR " + x.error,
                                                  x.load["p99"] * 1000))
        report(res, knobs, settings, loads)
    finally:
        shutil.rmtree(d, ignore_errors=True)
        admin("DROP DATABASE IF EXISTS %s" % RUNDB)
        if not ARGS.keep:
            admin("DROP DATABASE IF EXISTS %s" % TEMPLATE2, "DROP DATABASE IF EXISTS %s" % TEMPLATE)
    print("End: %s (total run time %.0f s)" % (uptime(), time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())

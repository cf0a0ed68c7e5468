#!/usr/bin/python3
"""migr scale benchmark: the shapes of issue 8 at 10,000 and 100,000 revisions.

    bench/scale.py [--sizes 10000,100000] [--rounds 3] [--shapes 1,2,...]

The server comes from the PG* environment variables (PGHOST, PGPORT,
PGUSER, PGDATABASE: the database used to create and drop the others).  Run
it on a throwaway cluster on this machine only: it creates and drops
databases named scale_*, reads the backends' /proc/<pid>/status for memory
figures and, when a call ignores cancellation for --kill-after seconds
beyond its cap, ends that backend with SIGKILL, which makes the server
restart (see --no-kill).

Histories are built by bulk INSERT ... SELECT into the catalog, checked
first against what migr.revision() itself writes for 200 revisions of each
shape.  Shapes (all bodies empty, create_date equal, ids r000001...):
  1  registration through migr.revision() of a linear chain in one
     transaction, in order and newest first; baseline: the same catalog
     rows written by bulk INSERT in the same round
  2  no-op migr.upgrade() and migr.current() in a fresh connection on the
     fully applied chain (connecting timed apart; the call is the client
     round trip of that statement only), as migr.upgrade() left it and
     again after a catalog write that changes no row (which makes a kept
     summary stale); baselines: connecting, and the first count(*) over
     migr.migration / migr.applied in a fresh connection
  3  migr.plan('heads') from base (baseline: count(*) over migr.migration
     in the same warm session), and migr.upgrade() from base, per revision
  4  a branch label on every revision: migr.heads() and migr.current()
     (all applied); one label "L" on the first revision:
     migr.plan('L@+<size-10>')
  5  every revision also depends on the one two below it: migr.heads()
  6  at the largest size, with statement_timeout = 1s: how long until
     current(), heads() and plan() end, how, and whether the next
     statement of the session runs
  7  peak memory of the shape-3 upgrade: the sampled peak of the
     backend's private memory (RssAnon) above its value before the call,
     and the growth of VmHWM (which also counts shared buffers touched)
A call slower than its cap is reported as "> cap (timed out)"; a
measurement slower than --long seconds runs once.
"""
import argparse
import os
import signal
import statistics
import sys
import threading
import time

import psycopg2
import psycopg2.extensions

DATE = "2024-01-01 00:00:00+00"
VOLATILE_COLUMNS = {"registered_at", "registered_by", "applied_at", "applied_by", "duration",
                    "started_at", "backend_pid", "taken_at"}

ARGS = None


def log(msg):
    print("scale: " + msg, file=sys.stderr, flush=True)


def width(n):
    return max(6, len(str(n)))


def rid(expr, n):
    """SQL for revision id number expr (r000042) at size n."""
    return "format('r%%s', lpad((%s)::text, %d, '0'))" % (expr, width(n))


# --------------------------------------------------------------------------
# connections and the cluster

def connect(db=None, autocommit=True):
    c = psycopg2.connect(dbname=db) if db else psycopg2.connect("")
    c.autocommit = autocommit
    return c


def maintenance_db():
    return os.environ.get("PGDATABASE", "postgres")


def admin(sql, *params):
    c = connect(maintenance_db())
    try:
        c.cursor().execute(sql, params or None)
    finally:
        c.close()


def wait_ready(limit=180):
    """After a backend was killed the server restarts: wait until it accepts connections."""
    t = time.monotonic()
    while True:
        try:
            connect(maintenance_db()).close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() - t > limit:
                raise
            time.sleep(0.5)


def drop_db(name):
    admin("DROP DATABASE IF EXISTS %s" % name)


def clone_db(name, template):
    drop_db(name)
    admin("CREATE DATABASE %s TEMPLATE %s" % (name, template))


def backend_is_local(pid, db):
    """True when pid is this machine's backend serving database db."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return cmd.startswith("postgres:") and (" %s " % db) in cmd


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssShmem"):
                    out[k] = int(v.split()[0])   # kB
    except OSError:
        pass
    return out


class Outcome:
    """How one capped statement ended: ok (rows), timeout (57014), error, killed."""

    def __init__(self, kind, seconds, rows=None, sqlstate=None, message=None):
        self.kind, self.seconds, self.rows = kind, seconds, rows
        self.sqlstate, self.message = sqlstate, message


def run_capped(conn, db, statements, cap, kill_after=None, timeout_ms=None, sampler=None):
    """Run statements (each fetched in full) in conn; time them together.

    statement_timeout is timeout_ms (default: the cap).  A watchdog cancels
    the query when the cap plus 2 s has passed without an answer; if the
    backend still has not answered kill_after seconds later it is killed
    (SIGKILL) when --no-kill is not given and the backend is local, and
    the server's restart is waited for.  A commit, if the connection is not
    in autocommit mode, is part of the timed work."""
    cur = conn.cursor()
    pid = conn.get_backend_pid()
    cur.execute("SET statement_timeout = %d" % (timeout_ms if timeout_ms is not None else cap * 1000))
    if not conn.autocommit:
        conn.commit()
    if kill_after is None:
        kill_after = ARGS.kill_after
    done = threading.Event()
    state = {"killed": False}

    def watchdog():
        if done.wait(cap + 2):
            return
        try:
            conn.cancel()
        except psycopg2.Error:
            pass
        if done.wait(kill_after):
            return
        if ARGS.no_kill or not backend_is_local(pid, db):
            log("backend %d ignores cancellation; waiting for it (--no-kill or not local)" % pid)
            return
        log("backend %d ignored cancellation for %d s: SIGKILL (the server restarts)" % (pid, kill_after))
        state["killed"] = True
        os.kill(pid, signal.SIGKILL)

    w = threading.Thread(target=watchdog, daemon=True)
    w.start()
    rows = None
    t = time.perf_counter()
    try:
        if sampler:
            sampler.start(pid)
        for sql in statements:
            cur.execute(sql)
            rows = cur.fetchall() if cur.description else None
        if not conn.autocommit:
            conn.commit()
        return Outcome("ok", time.perf_counter() - t, rows)
    except psycopg2.extensions.QueryCanceledError as e:
        el = time.perf_counter() - t
        try:
            conn.rollback()
        except psycopg2.Error:
            pass
        return Outcome("timeout", el, sqlstate=e.pgcode, message=str(e).strip())
    except psycopg2.Error as e:
        el = time.perf_counter() - t
        if state["killed"]:
            done.set()
            wait_ready()
            return Outcome("killed", el, message="backend killed after ignoring cancellation")
        try:
            conn.rollback()
        except psycopg2.Error:
            pass
        return Outcome("error", el, sqlstate=e.pgcode, message=(e.pgerror or str(e)).strip().splitlines()[0])
    finally:
        done.set()
        if sampler:
            sampler.stop()


class Sampler:
    """Peak RssAnon of a backend, sampled every 2 ms while a call runs."""

    def __init__(self):
        self.peak = None
        self._stop = threading.Event()
        self._t = None

    def start(self, pid):
        self.pid = pid
        self.before = proc_status(pid)
        self.peak = self.before.get("RssAnon")
        self._stop.clear()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.wait(0.002):
            v = proc_status(self.pid).get("RssAnon")
            if v is not None and (self.peak is None or v > self.peak):
                self.peak = v

    def stop(self):
        self._stop.set()
        self._t.join()
        self.after = proc_status(self.pid)


# --------------------------------------------------------------------------
# histories

SHAPES = ("chain", "labels", "label1", "deps")


def build_catalog(cur, n, shape):
    """Write an n-revision linear chain into migr's catalog by bulk INSERT.
    shape: chain; labels (label l<id digits> on every revision); label1
    (label "L" on the first); deps (each also depends on the one two below)."""
    labels = {"labels": "ARRAY[%s]" % rid("i", n).replace("'r%s'", "'l%s'"),
              "label1": "CASE WHEN i = 1 THEN ARRAY['L'] ELSE '{}'::text[] END"}.get(shape, "'{}'::text[]")
    deps = ("CASE WHEN i > 2 THEN ARRAY[%s] ELSE '{}'::text[] END" % rid("i - 2", n)
            if shape == "deps" else "'{}'::text[]")
    cur.execute("""
        INSERT INTO migr.migration (id, revises, depends_on, branch_labels, message, create_date,
                                    upgrade_sql, downgrade_sql, checksum)
        SELECT %s, CASE WHEN i > 1 THEN ARRAY[%s] ELSE '{}'::text[] END, %s, %s, '',
               '%s'::timestamptz, '', '', sha256(convert_to('U0:D0:', 'UTF8'))
          FROM generate_series(1, %d) i""" % (rid("i", n), rid("i - 1", n), deps, labels, DATE, n))
    cur.execute("""
        INSERT INTO migr.migration_edge (revision, kind, ord, target)
        SELECT m.id, 'p', u.o, u.t FROM migr.migration m, unnest(m.revises) WITH ORDINALITY u(t, o)
        UNION ALL
        SELECT m.id, 'd', u.o, u.t FROM migr.migration m, unnest(m.depends_on) WITH ORDINALITY u(t, o)""")
    cur.execute("""
        INSERT INTO migr.branch_label (label, revision)
        SELECT u.l, m.id FROM migr.migration m, unnest(m.branch_labels) u(l)""")


# What migr.upgrade() writes besides the applied set: the event log, the
# schema snapshot and the summary that serves no-op upgrades and current()
# (absent, so a bulk-applied history is read through the graph, as after
# any catalog write).
UPGRADE_ONLY_TABLES = ("event", "snapshot", "summary")

# A statement on a catalog table that changes no row.  Statement triggers
# still fire: where migr keeps a summary, this marks it stale, as a real
# catalog write would.
NO_OP_CATALOG_WRITE = "UPDATE migr.applied SET head_seq = head_seq WHERE false"


def apply_all_bulk(cur):
    """Mark a linear chain applied by bulk INSERT, as migr.upgrade() would."""
    cur.execute("""
        INSERT INTO migr.applied (revision, applied_at, applied_by, checksum, duration, head_seq)
        SELECT id, now(), current_user, checksum, interval '0', 1 FROM migr.migration""")


def register_sql(n, shape="chain", reverse=False):
    """One statement registering the shape through migr.revision()."""
    extra = {"labels": ", branch_labels => %s" % rid("i", n).replace("'r%s'", "'l%s'"),
             "label1": ", branch_labels => CASE WHEN i = 1 THEN 'L' END",
             "deps": ", depends_on => CASE WHEN i > 2 THEN %s END" % rid("i - 2", n)}.get(shape, "")
    series = "generate_series(%d, 1, -1)" % n if reverse else "generate_series(1, %d)" % n
    return ("SELECT count(migr.revision(%s, CASE WHEN i > 1 THEN %s END, NULL, '', ''%s,"
            " create_date => '%s'::timestamptz)) FROM %s i" % (rid("i", n), rid("i - 1", n), extra, DATE, series))


def catalog_digest(db, skip=()):
    """md5 per table of schema migr over all rows, without time/role columns."""
    c = connect(db)
    cur = c.cursor()
    cur.execute("""SELECT c.relname, array_agg(quote_ident(a.attname) ORDER BY a.attnum)
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                    WHERE n.nspname = 'migr' AND c.relkind = 'r' AND a.attname <> ALL (%s)
                    GROUP BY c.relname ORDER BY c.relname""", (sorted(VOLATILE_COLUMNS),))
    out = {}
    for rel, cols in cur.fetchall():
        if rel in skip:
            continue
        cur.execute("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                    " FROM (SELECT %s FROM migr.%s) t" % (", ".join(cols), rel))
        out[rel] = cur.fetchone()
    c.close()
    return out


def digest_diff(a, b):
    return ", ".join("migr.%s (%s rows vs %s)" % (k, a.get(k, ("-",))[0], b.get(k, ("-",))[0])
                     for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))


def new_db(name, n=None, shape=None, analyze=True):
    """A database with migr, and the shape's catalog if n is given."""
    clone_db(name, "scale_empty")
    if n is None:
        return
    c = connect(name)
    cur = c.cursor()
    build_catalog(cur, n, shape)
    if analyze:
        cur.execute("VACUUM ANALYZE migr.migration, migr.migration_edge, migr.branch_label")
    c.close()


def validate_builders(n=200):
    """The bulk builders must write what migr.revision() and migr.upgrade() write."""
    for shape in SHAPES:
        new_db("scale_check_bulk", n, shape)
        clone_db("scale_check_reg", "scale_empty")
        c = connect("scale_check_reg", autocommit=False)
        cur = c.cursor()
        cur.execute("SET client_min_messages = warning")
        cur.execute(register_sql(n, shape))
        c.commit()
        c.close()
        a, b = catalog_digest("scale_check_bulk"), catalog_digest("scale_check_reg")
        if a != b:
            sys.exit("scale: the bulk %s builder differs from migr.revision(): %s" % (shape, digest_diff(a, b)))
        if shape in ("chain", "labels"):
            for db, how in (("scale_check_bulk", "bulk"), ("scale_check_reg", "upgrade")):
                c = connect(db)
                cur = c.cursor()
                cur.execute("SET client_min_messages = warning")
                if how == "bulk":
                    apply_all_bulk(cur)
                else:
                    cur.execute("SELECT count(*) FROM migr.upgrade()")
                c.close()
            a = catalog_digest("scale_check_bulk", skip=UPGRADE_ONLY_TABLES)
            b = catalog_digest("scale_check_reg", skip=UPGRADE_ONLY_TABLES)
            if a != b:
                sys.exit("scale: bulk-applied %s differs from migr.upgrade(): %s" % (shape, digest_diff(a, b)))
    drop_db("scale_check_bulk")
    drop_db("scale_check_reg")


# --------------------------------------------------------------------------
# measurements

class Result:
    def __init__(self, shape, size, baseline=None, per_rev=True):
        self.shape, self.size, self.baseline, self.per_rev = shape, size, baseline, per_rev
        self.times = []
        self.failure = None     # Outcome that ended the series, if any

    def add(self, out, cap):
        if out.kind == "ok":
            self.times.append(out.seconds)
            return True
        self.failure = (out, cap)
        return False

    def median(self):
        return statistics.median(self.times) if self.times else None


RESULTS = []
BASELINES = {}      # (name, size) -> Result


def series(res, rounds, once):
    """Call once() up to rounds times; stop after a failure or a slow round."""
    for _ in range(rounds):
        out, cap = once()
        if not res.add(out, cap) or out.seconds > ARGS.long:
            break
    return res


def warm_series(db, sql, res, cap=None, rounds=None):
    """Repeat sql in one session (the first call, which loads the library
    and the caches, is not counted)."""
    cap = cap or ARGS.cap
    c = connect(db)
    c.cursor().execute("SET client_min_messages = warning")
    first = run_capped(c, db, [sql], cap)
    if first.kind != "ok":
        res.add(first, cap)
    elif first.seconds > ARGS.long:
        res.add(first, cap)
    else:
        series(res, rounds or ARGS.rounds, lambda: (run_capped(c, db, [sql], cap), cap))
    if not c.closed:
        c.close()
    if not res.shape.startswith("baseline:"):
        RESULTS.append(res)
    return res


def fresh_series(db, sql, res, rounds=None, connect_res=None, prep=None):
    """sql as the first statement of a new connection, rounds times; prep
    (SQL) runs before each round in a connection of its own."""
    def once():
        if prep:
            p = connect(db)
            p.cursor().execute(prep)
            p.close()
        t = time.perf_counter()
        c = connect(db)
        ct = time.perf_counter() - t
        if connect_res is not None:
            connect_res.times.append(ct)
        c.cursor().execute("SET client_min_messages = warning")
        out = run_capped(c, db, [sql], ARGS.cap)
        if not c.closed:
            c.close()
        return out, ARGS.cap
    return series(res, rounds or ARGS.fresh_rounds, once)


def baseline(name, size):
    return BASELINES.get((name, size))


def shape_registration(n):
    inorder = Result("1 register chain in order (one transaction)", n, "bulk catalog INSERT")
    reverse = Result("1 register chain newest first (one transaction)", n, "bulk catalog INSERT")
    bulk = Result("baseline: bulk catalog INSERT", n)
    for r in range(ARGS.rounds):
        clone_db("scale_run", "scale_empty")
        c = connect("scale_run", autocommit=False)
        t = time.perf_counter()
        build_catalog(c.cursor(), n, "chain")
        c.commit()
        bulk.times.append(time.perf_counter() - t)
        c.close()
        for res, rev in ((inorder, False), (reverse, True)):
            if res.failure or (r > 0 and res.times and res.times[-1] > ARGS.long):
                continue
            clone_db("scale_run", "scale_empty")
            c = connect("scale_run", autocommit=False)
            c.cursor().execute("SET client_min_messages = warning")
            c.commit()
            log("register %d revisions %s (cap %d s)" % (n, "newest first" if rev else "in order", ARGS.reg_cap))
            out = run_capped(c, "scale_run", [register_sql(n, reverse=rev)], ARGS.reg_cap)
            if not c.closed:
                c.close()
            res.add(out, ARGS.reg_cap)
            if out.kind == "ok" and r == 0:
                a = catalog_digest("scale_run")
                clone_db("scale_check_bulk", "scale_chain_%d" % n)
                b = catalog_digest("scale_check_bulk")
                drop_db("scale_check_bulk")
                if a != b:
                    sys.exit("scale: registered and bulk-built catalogs differ: " + digest_diff(a, b))
        if (inorder.failure or inorder.times[-1] > ARGS.long) and (reverse.failure or reverse.times[-1] > ARGS.long):
            break
    drop_db("scale_run")
    BASELINES[("bulk catalog INSERT", n)] = bulk
    RESULTS.extend([inorder, reverse])


def shape_plan_upgrade(n):
    warm_series("scale_chain_%d" % n, "SELECT count(*) FROM migr.plan('heads')",
                Result("3 plan('heads') from base", n, "count(*) migr.migration, warm"))
    up = Result("3 upgrade() from base", n, "count(*) migr.migration, warm")
    for r in range(ARGS.rounds):
        clone_db("scale_run", "scale_chain_%d" % n)
        c = connect("scale_run")
        c.cursor().execute("SET client_min_messages = warning")
        s = Sampler() if backend_is_local(c.get_backend_pid(), "scale_run") else None
        log("upgrade %d revisions from base" % n)
        out = run_capped(c, "scale_run", ["SELECT count(*) FROM migr.upgrade()"], ARGS.cap, sampler=s)
        if not c.closed:
            c.close()
        ok = up.add(out, ARGS.cap)
        if ok and s:
            MEMORY.setdefault(n, []).append((s.peak - s.before["RssAnon"],
                                             s.after.get("VmHWM", 0) - s.before["VmHWM"]))
        if ok and not db_exists("scale_chain_applied_%d" % n):
            admin("ALTER DATABASE scale_run RENAME TO scale_chain_applied_%d" % n)
        if not ok or out.seconds > ARGS.long:
            break
    drop_db("scale_run")
    RESULTS.append(up)


MEMORY = {}


def db_exists(name):
    c = connect(maintenance_db())
    cur = c.cursor()
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    r = cur.fetchone() is not None
    c.close()
    return r


def ensure_chain_applied(n):
    """The fully applied chain, from a real migr.upgrade() (shape 3 leaves one)."""
    name = "scale_chain_applied_%d" % n
    if db_exists(name):
        return name
    clone_db(name, "scale_chain_%d" % n)
    c = connect(name)
    c.cursor().execute("SET client_min_messages = warning")
    out = run_capped(c, name, ["SELECT count(*) FROM migr.upgrade()"], ARGS.cap)
    if out.kind != "ok":
        log("upgrade of the %d chain failed (%s); marking it applied by bulk INSERT instead" % (n, out.kind))
        c = connect(name)
        apply_all_bulk(c.cursor())
    c.close()
    return name


def shape_fresh(n):
    db = ensure_chain_applied(n)
    conn = Result("baseline: connect", n)
    for table in ("migration", "applied"):
        name = "count(*) migr.%s, fresh" % table
        BASELINES[(name, n)] = fresh_series(db, "SELECT count(*) FROM migr.%s" % table,
                                            Result("baseline: " + name, n), connect_res=conn)
    BASELINES[("connect", n)] = conn
    RESULTS.append(fresh_series(db, "SELECT count(*) FROM migr.upgrade()",
                                Result("2 no-op upgrade(), fresh connection", n,
                                       "count(*) migr.migration, fresh", per_rev=False),
                                connect_res=conn))
    RESULTS.append(fresh_series(db, "SELECT count(*) FROM migr.current()",
                                Result("2 current(), fresh connection", n,
                                       "count(*) migr.applied, fresh", per_rev=False),
                                connect_res=conn))
    # the same after a catalog write that changes nothing, before each round
    RESULTS.append(fresh_series(db, "SELECT count(*) FROM migr.upgrade()",
                                Result("2 no-op upgrade(), fresh connection, after a catalog write", n,
                                       "count(*) migr.migration, fresh", per_rev=False),
                                connect_res=conn, prep=NO_OP_CATALOG_WRITE))
    RESULTS.append(fresh_series(db, "SELECT count(*) FROM migr.current()",
                                Result("2 current(), fresh connection, after a catalog write", n,
                                       "count(*) migr.applied, fresh", per_rev=False),
                                connect_res=conn, prep=NO_OP_CATALOG_WRITE))


def shape_labels(n):
    warm_series("scale_labels_%d" % n, "SELECT count(*) FROM migr.heads()",
                Result("4 heads(), label on every revision", n, "count(*) migr.migration, warm"))
    warm_series("scale_labels_%d" % n, "SELECT count(*) FROM migr.current()",
                Result("4 current(), label on every revision, all applied", n,
                       "count(*) migr.applied, warm"))
    warm_series("scale_label1_%d" % n, "SELECT count(*) FROM migr.plan('L@+%d')" % (n - 10),
                Result("4 plan('L@+%d'), one label at the bottom" % (n - 10), n,
                       "count(*) migr.migration, warm"))


def shape_deps(n):
    warm_series("scale_deps_%d" % n, "SELECT count(*) FROM migr.heads()",
                Result("5 heads(), each revision depends on the one two below", n,
                       "count(*) migr.migration, warm"))


def warm_baselines(n):
    """count(*) over the catalog tables in a warm session, per size."""
    for table, db in (("migration", "scale_chain_%d" % n), ("applied", "scale_labels_%d" % n)):
        res = Result("baseline: count(*) migr.%s, warm" % table, n)
        warm_series(db, "SELECT count(*) FROM migr.%s" % table, res, rounds=max(ARGS.rounds, 5))
        BASELINES[("count(*) migr.%s, warm" % table, n)] = res


INTERRUPTS = []


def shape_interrupt(n):
    calls = [("current()", "labels", "SELECT count(*) FROM migr.current()"),
             ("heads()", "labels", "SELECT count(*) FROM migr.heads()"),
             ("plan('L@+%d')" % (n - 10), "label1", "SELECT count(*) FROM migr.plan('L@+%d')" % (n - 10)),
             ("heads()", "deps", "SELECT count(*) FROM migr.heads()"),
             ("plan('heads')", "chain", "SELECT count(*) FROM migr.plan('heads')")]
    for name, shape, sql in calls:
        db = "scale_%s_%d" % (shape, n)
        c = connect(db)
        c.cursor().execute("SET client_min_messages = warning")
        log("interrupt: %s on %s" % (name, db))
        out = run_capped(c, db, [sql], 1, kill_after=ARGS.interrupt_kill, timeout_ms=1000)
        nxt = "-"
        if out.kind != "killed":
            cur = c.cursor()
            try:
                cur.execute("SET statement_timeout = '1s'")
                cur.execute("SELECT 1")
                cur.fetchall()
                nxt = "runs"
            except psycopg2.Error as e:
                nxt = "fails: %s %s" % (e.pgcode, (e.pgerror or str(e)).strip().splitlines()[0])
        if not c.closed:
            c.close()
        INTERRUPTS.append((name, shape, n, out, nxt))


# --------------------------------------------------------------------------
# report

def fmt(s):
    if s is None:
        return "-"
    if s >= 1:
        return "%.2f s" % s
    return "%.1f ms" % (s * 1000)


def failure_text(res):
    out, cap = res.failure
    if out.kind == "timeout":
        return "> %d s (timed out; cancelled after %.1f s)" % (cap, out.seconds)
    if out.kind == "killed":
        return "> %.0f s (killed: ignored cancellation)" % out.seconds
    return "error %s after %s: %s" % (out.sqlstate, fmt(out.seconds), out.message)


def machine():
    """One line: date, CPU, cores, load, server version and settings."""
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    c = connect(maintenance_db())
    cur = c.cursor()
    cur.execute("SELECT current_setting('server_version'), current_setting('fsync'),"
                " current_setting('shared_buffers'), current_setting('work_mem')")
    ver, fsync, sb, wm = cur.fetchone()
    c.close()
    return ("%s; %s, %d cores, load average %s; PostgreSQL %s, fsync=%s, shared_buffers=%s, work_mem=%s"
            % (time.strftime("%Y-%m-%d"), cpu, os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg()), ver, fsync, sb, wm))


def report(sizes, started, header):
    print("## Scale: linear chains of %s revisions, empty bodies\n" % " and ".join("{:,}".format(n) for n in sizes))
    print("%s.\n" % header)
    print("Rounds: %d (fresh-connection calls: %d); a measurement over %d s runs once. "
          "Caps: %d s per call, %d s per registration.\n"
          % (ARGS.rounds, ARGS.fresh_rounds, ARGS.long, ARGS.cap, ARGS.reg_cap))
    print("| shape | size | median | spread (min–max) | n | per revision | ratio to baseline |")
    print("|---|---|---|---|---|---|---|")
    order = {}
    for r in RESULTS:
        order.setdefault(r.shape.split(" ")[0], len(order))
    for r in sorted(RESULTS, key=lambda r: (order[r.shape.split(" ")[0]], r.size)):
        med = r.median()
        if med is None:
            print("| %s | %d | %s | | 0 | | |" % (r.shape, r.size, failure_text(r)))
            continue
        spread = "%s–%s" % (fmt(min(r.times)), fmt(max(r.times))) if len(r.times) > 1 else ""
        note = " (then: %s)" % failure_text(r) if r.failure else ""
        per = "%.4f ms" % (med / r.size * 1000) if r.per_rev else ""
        ratio = ""
        b = baseline(r.baseline, r.size) if r.baseline else None
        if b and b.median():
            ratio = "%.1f× %s" % (med / b.median(), r.baseline)
        print("| %s | %d | %s%s | %s | %d | %s | %s |" % (r.shape, r.size, fmt(med), note, spread,
                                                       len(r.times), per, ratio))
    print("\nBaselines (same run, same databases):\n")
    print("| baseline | size | median | spread (min–max) | n |")
    print("|---|---|---|---|---|")
    for (name, n), r in sorted(BASELINES.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if r.times:
            print("| %s | %d | %s | %s–%s | %d |" % (name, n, fmt(r.median()), fmt(min(r.times)),
                                                    fmt(max(r.times)), len(r.times)))
    if MEMORY:
        print("\nPeak memory of upgrade() from base (shape 7):\n")
        print("| size | private memory peak (RssAnon), median | per revision | range | VmHWM growth (with shared buffers), median | n |")
        print("|---|---|---|---|---|---|")
        for n, rows in sorted(MEMORY.items()):
            anon = [a for a, _ in rows]
            hwm = [h for _, h in rows]
            print("| %d | %.1f MB | %.2f kB | %.1f–%.1f MB | %.1f MB | %d |"
                  % (n, statistics.median(anon) / 1024, statistics.median(anon) / n,
                     min(anon) / 1024, max(anon) / 1024, statistics.median(hwm) / 1024, len(rows)))
    if INTERRUPTS:
        print("\nInterruptibility (shape 6), statement_timeout = 1s:\n")
        print("| call | shape | size | ended after | how | next statement |")
        print("|---|---|---|---|---|---|")
        for name, shape, n, out, nxt in INTERRUPTS:
            how = {"ok": "returned rows", "timeout": "cancelled (%s)" % out.sqlstate,
                   "killed": "not cancelled; killed %d s after the cancel request" % ARGS.interrupt_kill,
                   "error": "error %s: %s" % (out.sqlstate, out.message)}[out.kind]
            print("| %s | %s | %d | %s | %s | %s |" % (name, shape, n, fmt(out.seconds), how, nxt))
    print("\n(total run time %.0f s; load average at the end %s)"
          % (time.monotonic() - started, " ".join("%.2f" % x for x in os.getloadavg())))


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default=os.environ.get("MIGR_BENCH_SCALE_SIZES", "10000,100000"))
    p.add_argument("--rounds", type=int, default=int(os.environ.get("MIGR_BENCH_ROUNDS", "3")))
    p.add_argument("--fresh-rounds", type=int, default=5, help="rounds of the fresh-connection calls")
    p.add_argument("--shapes", default="1,2,3,4,5,6,7")
    p.add_argument("--cap", type=int, default=30, help="seconds allowed per call")
    p.add_argument("--reg-cap", type=int, default=90, help="seconds allowed per registration")
    p.add_argument("--long", type=int, default=15, help="a measurement slower than this runs once")
    p.add_argument("--kill-after", type=int, default=5,
                   help="seconds a backend may ignore cancellation before SIGKILL")
    p.add_argument("--interrupt-kill", type=int, default=10,
                   help="the same for shape 6 (statement_timeout 1s)")
    p.add_argument("--no-kill", action="store_true", help="never kill a backend; wait for it")
    p.add_argument("--keep", action="store_true", help="keep the scale_* databases")
    ARGS = p.parse_args()
    sizes = [int(s) for s in ARGS.sizes.split(",")]
    shapes = set(int(s) for s in ARGS.shapes.split(","))
    started = time.monotonic()
    header = machine()

    c = connect(maintenance_db())
    cur = c.cursor()
    cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'scale\\_%'")
    for (d,) in cur.fetchall():
        cur.execute("DROP DATABASE %s" % d)
    cur.execute("CREATE DATABASE scale_empty")
    c.close()
    e = connect("scale_empty")
    e.cursor().execute("CREATE EXTENSION migr")
    e.close()
    log("checking the bulk builders against migr.revision() and migr.upgrade()")
    validate_builders()
    for n in sizes:
        for shape in SHAPES:
            log("building %s at %d" % (shape, n))
            new_db("scale_%s_%d" % (shape, n), n, shape)
        c = connect("scale_labels_%d" % n)
        apply_all_bulk(c.cursor())
        c.cursor().execute("VACUUM ANALYZE migr.applied")
        c.close()
        warm_baselines(n)
    for n in sizes:
        if 3 in shapes or 7 in shapes:
            shape_plan_upgrade(n)
        if 2 in shapes:
            shape_fresh(n)
        if 4 in shapes:
            shape_labels(n)
        if 5 in shapes:
            shape_deps(n)
        if 1 in shapes:
            shape_registration(n)
    if 6 in shapes:
        shape_interrupt(max(sizes))
    if not ARGS.keep:
        c = connect(maintenance_db())
        cur = c.cursor()
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE 'scale\\_%'")
        for (d,) in cur.fetchall():
            cur.execute("DROP DATABASE %s" % d)
        c.close()
    report(sizes, started, header)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""migr benchmarks; run through bench/run.sh (inside pg_virtualenv).

P1  N revisions, each creating a table and an index: migr.upgrade() and
    migr.downgrade('base') against the same SQL run with `psql -1`, in the
    same run.  Both sides are timed as whole psql invocations, so client
    start-up counts on both.  Rounds alternate; the median is reported.
P2  10,000 revisions with empty bodies: migr's own cost per revision
    (loading the graph, planning, bookkeeping, the event log).
P3  planning time of migr.plan('heads') on graphs of 2,500 to 40,000
    revisions with a branch and a merge every 10 revisions: linear growth
    shows as a constant time per revision.
P4  the check functions against the equivalent information_schema query,
    10,000 calls each, in a database with 1,000 other tables.
P5  migr.fingerprint(), migr.check() and a no-op migr.upgrade() on 1,000
    tables and a 10,000-revision history with merges.  P1 runs with the
    fingerprint recorded at the end of each call, as always.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg2

ROUNDS = int(os.environ.get("MIGR_BENCH_ROUNDS", "3"))


def psql(db, *args, stdin=None):
    t = time.perf_counter()
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, *args],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, input=stdin,
                   text=True)
    return time.perf_counter() - t


def fresh_db(name):
    c = psycopg2.connect(dbname="postgres")
    c.autocommit = True
    c.cursor().execute("DROP DATABASE IF EXISTS %s" % name)
    c.cursor().execute("CREATE DATABASE %s" % name)
    c.close()


def p1(n):
    ups = ["CREATE TABLE t%d (id bigint PRIMARY KEY, v text);\nCREATE INDEX ix_t%d_v ON t%d (v);" % (i, i, i)
           for i in range(n)]
    downs = ["DROP INDEX ix_t%d_v;\nDROP TABLE t%d;" % (i, i) for i in range(n)]
    d = tempfile.mkdtemp()
    up_file = os.path.join(d, "up.sql")
    down_file = os.path.join(d, "down.sql")
    with open(up_file, "w") as f:
        f.write("\n".join(ups))
    with open(down_file, "w") as f:
        f.write("\n".join(reversed(downs)))
    fresh_db("bench_psql")
    fresh_db("bench_migr")
    c = psycopg2.connect(dbname="bench_migr")
    cur = c.cursor()
    cur.execute("CREATE EXTENSION migr")
    cur.execute("SET client_min_messages = warning")
    for i in range(n):
        cur.execute("SELECT migr.revision(%s, %s, %s, %s, %s, create_date => %s::timestamptz)",
                    ("r%05d" % i, "r%05d" % (i - 1) if i else None, "table %d" % i,
                     ups[i], downs[i], "2024-01-01 00:00:00+00"))
    c.commit()
    c.close()
    res = {"psql_up": [], "psql_down": [], "migr_up": [], "migr_down": []}
    for _ in range(ROUNDS):
        res["psql_up"].append(psql("bench_psql", "-1", "-f", up_file))
        res["migr_up"].append(psql("bench_migr", "-c", "SELECT count(*) FROM migr.upgrade()"))
        res["psql_down"].append(psql("bench_psql", "-1", "-f", down_file))
        res["migr_down"].append(psql("bench_migr", "-c", "SELECT count(*) FROM migr.downgrade('base')"))
    out = {k: statistics.median(v) for k, v in res.items()}
    for d in ("up", "down"):
        ratios = [m / p for m, p in zip(res["migr_" + d], res["psql_" + d])]
        out["ratio_" + d] = (statistics.median(ratios), min(ratios), max(ratios))
    return out


def p2(n):
    fresh_db("bench_overhead")
    c = psycopg2.connect(dbname="bench_overhead")
    cur = c.cursor()
    cur.execute("CREATE EXTENSION migr")
    cur.execute("SET client_min_messages = warning")
    t = time.perf_counter()
    cur.execute("""SELECT count(migr.revision(format('r%%s', lpad(i::text, 5, '0')),
                        CASE WHEN i > 1 THEN format('r%%s', lpad((i - 1)::text, 5, '0')) END,
                        'trivial', '', '', create_date => '2024-01-01'::timestamptz))
                     FROM generate_series(1, %s) i""", (n,))
    c.commit()
    reg = time.perf_counter() - t
    ups, downs, noops = [], [], []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        cur.execute("SELECT count(*) FROM migr.upgrade()")
        c.commit()
        ups.append(time.perf_counter() - t)
        t = time.perf_counter()
        cur.execute("SELECT count(*) FROM migr.upgrade()")
        c.commit()
        noops.append(time.perf_counter() - t)
        t = time.perf_counter()
        cur.execute("SELECT count(*) FROM migr.downgrade('base')")
        c.commit()
        downs.append(time.perf_counter() - t)
    c.close()
    return reg, statistics.median(ups), statistics.median(downs), statistics.median(noops)


def p3(sizes):
    out = []
    for n in sizes:
        fresh_db("bench_plan")
        c = psycopg2.connect(dbname="bench_plan")
        cur = c.cursor()
        cur.execute("CREATE EXTENSION migr")
        cur.execute("SET client_min_messages = warning")
        # every 10th revision opens a side branch that the 5th after it merges
        cur.execute("""
            INSERT INTO migr.migration (id, revises, create_date, upgrade_sql, downgrade_sql, checksum)
            SELECT format('r%%s', i),
                   CASE WHEN i = 1 THEN '{}'::text[]
                        WHEN i %% 10 = 5 AND i > 10 THEN ARRAY[format('r%%s', i - 1), format('s%%s', i - 5)]
                        ELSE ARRAY[format('r%%s', i - 1)] END,
                   '2024-01-01'::timestamptz + i * interval '1 second', '', '', '\\x00'::bytea
              FROM generate_series(1, %s) i
            UNION ALL
            SELECT format('s%%s', i), ARRAY[format('r%%s', i)],
                   '2024-01-01'::timestamptz + i * interval '1 second', '', '', '\\x00'::bytea
              FROM generate_series(10, %s, 10) i WHERE i + 5 <= %s""", (n, n, n))
        cur.execute("""INSERT INTO migr.migration_edge (revision, kind, ord, target)
                       SELECT m.id, 'p', u.o, u.t FROM migr.migration m,
                              unnest(m.revises) WITH ORDINALITY u(t, o)""")
        c.commit()
        cur.execute("SELECT count(*) FROM migr.migration")
        total = cur.fetchone()[0]
        times = []
        for _ in range(ROUNDS + 2):
            t = time.perf_counter()
            cur.execute("SELECT count(*) FROM migr.plan('heads')")
            steps = cur.fetchone()[0]
            times.append(time.perf_counter() - t)
        c.commit()
        c.close()
        assert steps == total, (steps, total)
        out.append((total, statistics.median(times)))
    return out


CHECKS = [
    ("has_table", "migr.has_table('bench_t' || left(g::text, 0))",
     "EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'bench_t' || left(g::text, 0))"),
    ("has_column", "migr.has_column('bench_t' || left(g::text, 0), 'c5')",
     "EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'bench_t' || left(g::text, 0) AND column_name = 'c5')"),
    ("column_type_is", "migr.column_type_is('bench_t' || left(g::text, 0), 'c5', 'varchar(50)')",
     "EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'bench_t' || left(g::text, 0) AND column_name = 'c5' AND data_type = 'character varying' AND character_maximum_length = 50)"),
    ("has_constraint", "migr.has_constraint('bench_t' || left(g::text, 0), 'bench_t_pkey')",
     "EXISTS (SELECT 1 FROM information_schema.table_constraints WHERE table_schema = 'public' AND table_name = 'bench_t' || left(g::text, 0) AND constraint_name = 'bench_t_pkey')"),
]


def p4(n):
    """Each check n times inside one statement, against the equivalent
    information_schema query, in a database with 1,000 other tables.  The
    table name depends on the row (|| left(g::text, 0) adds nothing) so the
    planner cannot evaluate the subquery once for all rows."""
    fresh_db("bench_checks")
    c = psycopg2.connect(dbname="bench_checks")
    cur = c.cursor()
    cur.execute("CREATE EXTENSION migr")
    cur.execute("DO $$BEGIN FOR i IN 1..1000 LOOP EXECUTE format("
                "'CREATE TABLE filler_%s (id int PRIMARY KEY, a text, b int)', i); END LOOP; END$$")
    cur.execute("CREATE TABLE bench_t (id int PRIMARY KEY, " +
                ", ".join("c%d varchar(50)" % i for i in range(10)) + ")")
    c.commit()
    out = []
    for name, migr_expr, is_expr in CHECKS:
        times = {}
        for label, expr in (("migr", migr_expr), ("is", is_expr)):
            best = []
            for _ in range(ROUNDS):
                t = time.perf_counter()
                cur.execute("SELECT count(*) FILTER (WHERE %s) FROM generate_series(1, %d) g" % (expr, n))
                assert cur.fetchone()[0] == n, (name, label)
                best.append(time.perf_counter() - t)
            times[label] = statistics.median(best)
        out.append((name, times["migr"], times["is"]))
    c.close()
    return out


def p5(ntables, nrevs):
    """A database with ntables tables (each with a primary key, an index, a
    foreign key and a check constraint), a few views and functions, and an
    nrevs-revision history with a merge every 10 revisions, all applied."""
    fresh_db("bench_health")
    c = psycopg2.connect(dbname="bench_health")
    cur = c.cursor()
    cur.execute("CREATE EXTENSION migr")
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE TABLE t0 (id int PRIMARY KEY)")
    cur.execute(
        "DO $$BEGIN FOR i IN 1..%d LOOP EXECUTE format("
        "'CREATE TABLE t%%s (id int PRIMARY KEY, parent_id int REFERENCES t0 (id), "
        "v text CHECK (v <> ''''), n int DEFAULT 0); "
        "CREATE INDEX ix_t%%s_parent_id ON t%%s (parent_id)', i, i, i); END LOOP; END$$" % ntables)
    cur.execute(
        "DO $$BEGIN FOR i IN 1..20 LOOP EXECUTE format("
        "'CREATE VIEW v%s AS SELECT id, v FROM t%s; "
        "CREATE FUNCTION f%s(x int) RETURNS int LANGUAGE sql AS ''SELECT x + %s''', "
        "i, i, i, i); END LOOP; END$$")
    cur.execute(
        "INSERT INTO migr.migration (id, revises, create_date, upgrade_sql, downgrade_sql, checksum)"
        " SELECT format('r%%s', i),"
        "        CASE WHEN i = 1 THEN '{}'::text[]"
        "             WHEN i %% 10 = 5 AND i > 10 THEN ARRAY[format('r%%s', i - 1), format('s%%s', i - 5)]"
        "             ELSE ARRAY[format('r%%s', i - 1)] END,"
        "        '2024-01-01'::timestamptz + i * interval '1 second', '', '', '\\x00'::bytea"
        "   FROM generate_series(1, %s) i"
        " UNION ALL"
        " SELECT format('s%%s', i), ARRAY[format('r%%s', i)],"
        "        '2024-01-01'::timestamptz + i * interval '1 second', '', '', '\\x00'::bytea"
        "   FROM generate_series(10, %s, 10) i WHERE i + 5 <= %s", (nrevs, nrevs, nrevs))
    cur.execute("INSERT INTO migr.migration_edge (revision, kind, ord, target)"
                " SELECT m.id, 'p', u.o, u.t FROM migr.migration m,"
                "        unnest(m.revises) WITH ORDINALITY u(t, o)")
    c.commit()
    cur.execute("SELECT count(*) FROM migr.stamp('heads')")
    c.commit()
    res = {}
    for name, sql in (("fingerprint()", "SELECT migr.fingerprint()"),
                      ("check()", "SELECT count(*) FROM migr.check()"),
                      ("no-op upgrade('heads')", "SELECT count(*) FROM migr.upgrade('heads')")):
        times = []
        for _ in range(ROUNDS + 2):
            t = time.perf_counter()
            cur.execute(sql)
            cur.fetchall()
            c.commit()
            times.append(time.perf_counter() - t)
        res[name] = statistics.median(times)
    cur.execute("SELECT count(*) FROM migr.describe()")
    nobj = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM migr.migration")
    total = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM migr.check() WHERE severity = 'error'")
    errors = cur.fetchone()[0]
    c.close()
    return res, nobj, total, errors


def main():
    n1 = int(os.environ.get("MIGR_BENCH_P1", "1000"))
    n2 = int(os.environ.get("MIGR_BENCH_P2", "10000"))
    print("## P1: %d revisions, each CREATE TABLE + CREATE INDEX (median of %d rounds)\n" % (n1, ROUNDS))
    r = p1(n1)
    print("| | psql -1 | migr | ratio (median of per-round ratios) | range |\n|---|---|---|---|---|")
    for d, name in (("up", "upgrade"), ("down", "downgrade to base")):
        print("| %s | %.3f s | %.3f s | %.2f× | %.2f–%.2f× |"
              % (name, r["psql_" + d], r["migr_" + d], r["ratio_" + d][0],
                 r["ratio_" + d][1], r["ratio_" + d][2]))
    print()
    print("## P2: %d revisions with empty bodies (median of %d rounds)\n" % (n2, ROUNDS))
    reg, up, down, noop = p2(n2)
    print("| | total | per revision |\n|---|---|---|")
    print("| register (one statement) | %.3f s | %.3f ms |" % (reg, reg / n2 * 1000))
    print("| upgrade | %.3f s | %.4f ms |" % (up, up / n2 * 1000))
    print("| downgrade to base | %.3f s | %.4f ms |" % (down, down / n2 * 1000))
    print("| no-op upgrade | %.1f ms | |" % (noop * 1000))
    print()
    print("## P3: planning (migr.plan('heads')) on graphs with a merge every 10 revisions\n")
    print("| revisions | plan time | per revision |\n|---|---|---|")
    for total, t in p3([2500, 5000, 10000, 20000, 40000]):
        print("| %d | %.1f ms | %.2f µs |" % (total, t * 1000, t / total * 1e6))
    n4 = int(os.environ.get("MIGR_BENCH_P4", "10000"))
    print()
    print("## P4: check functions against the information_schema query, %d calls each, 1,000 other tables\n" % n4)
    print("| check | migr | information_schema | per call (migr / is) | speed-up |\n|---|---|---|---|---|")
    for name, tm, ti in p4(n4):
        print("| %s | %.1f ms | %.1f ms | %.2f µs / %.1f µs | %.0f× |"
              % (name, tm * 1000, ti * 1000, tm / n4 * 1e6, ti / n4 * 1e6, ti / tm))
    nt = int(os.environ.get("MIGR_BENCH_P5_TABLES", "1000"))
    nr = int(os.environ.get("MIGR_BENCH_P5_REVS", "10000"))
    res, nobj, total, errors = p5(nt, nr)
    print()
    print("## P5: health on %d tables (%d described objects) and %d revisions with merges, all applied\n"
          % (nt, nobj, total))
    print("| call | median | target |\n|---|---|---|")
    targets = {"fingerprint()": "", "check()": "≤ 200 ms", "no-op upgrade('heads')": "≤ 20 ms"}
    for name, t in res.items():
        print("| %s | %.1f ms | %s |" % (name, t * 1000, targets[name]))
    print("\n(check() reported %d error-level findings on this database.)" % errors)
    return 0



if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Differential test: migr against real Alembic on random revision graphs.

For each seed, build a random graph (branches, merges of 2-3 parents,
several bases, branch labels, depends_on), write it out as a throwaway
Alembic project whose migrations record themselves in a table (SQLite), and
register the same graph in migr.  Then run the same random command sequence
through both and compare, after every command: success or failure, the steps
in order, and the set of current heads.

Alembic loads its files in (create_date, id) order here, as migr orders
revisions; Alembic itself uses os.listdir() order.

Usage: alembic_diff.py [--seeds N] [--first S] [--seed S ...] [--regression] [--verbose]
Needs PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE of a server where the migr
extension is installed (run under pg_virtualenv).  Exits non-zero on any
disagreement that is not explained by Alembic's own nondeterminism (see
classify()).
"""

import argparse
import datetime
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import warnings

import psycopg2
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.base import Script

warnings.simplefilter("ignore")

# Alembic's load order is os.listdir() order; make it the file name order,
# which the generator makes (create_date, id) order.
_orig_list = Script._list_py_dir.__func__


def _sorted_list_py_dir(cls, scriptdir, path):
    return sorted(_orig_list(cls, scriptdir, path))


Script._list_py_dir = classmethod(_sorted_list_py_dir)

ENV_PY = '''
from alembic import context
from sqlalchemy import create_engine
engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as conn:
    context.configure(connection=conn, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
'''

BASE_DATE = datetime.datetime(2024, 1, 1, 12, 0, 0)


class Rev:
    def __init__(self, rid, parents, deps, labels, date):
        self.id = rid
        self.parents = parents
        self.deps = deps
        self.labels = labels
        self.date = date


def ancestors(revs, ids):
    """Proper ancestors (parents and deps) of the given ids."""
    byid = {r.id: r for r in revs}
    seen = set()
    stack = [p for i in ids for p in byid[i].parents + byid[i].deps]
    while stack:
        x = stack.pop()
        if x not in seen:
            seen.add(x)
            stack.extend(byid[x].parents + byid[x].deps)
    return seen


def gen_graph(rng):
    n = rng.randint(2, 14)
    revs = []
    used_ids = set()
    heads = []
    label_no = 0
    for i in range(n):
        while True:
            rid = "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([4, 5, 6])))
            if rng.random() < 0.15 and revs:
                # share a prefix with an earlier id to exercise ambiguity
                rid = rng.choice(revs).id[:4] + rid[:2]
            if rid not in used_ids:
                break
        used_ids.add(rid)
        r = rng.random()
        if i == 0 or r < 0.1:
            parents = []
        elif r < 0.25 and len(revs) >= 2:
            k = min(len(revs), rng.choice([2, 2, 3]))
            pool = heads if len(heads) >= k and rng.random() < 0.7 else [x.id for x in revs]
            parents = rng.sample(pool, k)
            # A parent that is an ancestor of another parent makes Alembic
            # itself fail (KeyError in _topological_sort, or a version
            # table keeping a non-head); such merges are left out.
            anc = ancestors(revs, parents)
            parents = [p for p in parents if p not in anc]
        else:
            pool = heads if heads and rng.random() < 0.6 else [x.id for x in revs]
            parents = [rng.choice(pool)]
        deps = []
        if revs and rng.random() < 0.12:
            # likewise a dependency that is an ancestor of a parent, or
            # below which a parent lies, is a redundant edge
            anc = ancestors(revs, parents)
            cand = [x.id for x in revs if x.id not in parents and x.id not in anc
                    and not set(parents) & ancestors(revs, [x.id])]
            if cand:
                deps = [rng.choice(cand)]
        labels = []
        if rng.random() < 0.12:
            labels = ["lbl%d" % label_no]
            label_no += 1
        date = BASE_DATE + datetime.timedelta(minutes=rng.choice([0, 1, 2, 3, 5, 8]) * 10 + i)
        if rng.random() < 0.3:
            date = BASE_DATE  # ties are broken by id
        revs.append(Rev(rid, parents, deps, labels, date))
        heads = [h for h in heads if h not in parents] + [rid]
    return revs


def gen_commands(rng, revs, k):
    ids = [r.id for r in revs]
    labels = [l for r in revs for l in r.labels]
    cmds = []
    for _ in range(k):
        r = rng.random()
        direction = "upgrade" if r < 0.5 else "downgrade" if r < 0.9 else "stamp"
        choices = ["head", "heads", "base", "+1", "-1", "+2", "-2",
                   "ID", "ID", "ID", "PREFIX", "ID+1", "ID-1", "ID@head"]
        if labels:
            choices += ["L@head", "L@base", "L@+1", "L@-1", "L@heads"]
        t = rng.choice(choices)
        rid = rng.choice(ids)
        lab = rng.choice(labels) if labels else None
        t = (t.replace("PREFIX", rid[:rng.randint(1, len(rid))])
              .replace("ID", rid))
        if lab:
            t = t.replace("L@", lab + "@")
        cmds.append((direction, t))
    return cmds


def order_key(r):
    return (r.date, r.id)


def write_alembic(revs, root):
    vers = os.path.join(root, "versions")
    os.makedirs(vers)
    with open(os.path.join(root, "env.py"), "w") as f:
        f.write(ENV_PY)
    for rank, r in enumerate(sorted(revs, key=order_key)):
        down = None
        if len(r.parents) == 1:
            down = repr(r.parents[0])
        elif r.parents:
            down = repr(tuple(r.parents))
        with open(os.path.join(vers, "%04d_%s.py" % (rank, r.id)), "w") as f:
            f.write('"""%s"""\n' % r.id)
            f.write("revision = %r\n" % r.id)
            f.write("down_revision = %s\n" % down)
            f.write("branch_labels = %s\n" % (repr(tuple(r.labels)) if r.labels else None))
            f.write("depends_on = %s\n" % (repr(r.deps[0]) if r.deps else None))
            f.write("from alembic import op\n")
            f.write("def upgrade():\n    op.execute(\"INSERT INTO steps VALUES ('%s', 'upgrade')\")\n" % r.id)
            f.write("def downgrade():\n    op.execute(\"INSERT INTO steps VALUES ('%s', 'downgrade')\")\n" % r.id)
    db = os.path.join(root, "db.sqlite")
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE steps (rev text, op text)")
    con.commit()
    con.close()
    cfg = Config()
    cfg.set_main_option("script_location", root)
    cfg.set_main_option("sqlalchemy.url", "sqlite:///" + db)
    return cfg, db


def alembic_run(cfg, db, direction, target):
    con = sqlite3.connect(db)
    before = con.execute("SELECT count(*) FROM steps").fetchone()[0]
    con.close()
    ok = True
    err = None
    try:
        if direction == "upgrade":
            command.upgrade(cfg, target)
        elif direction == "downgrade":
            command.downgrade(cfg, target)
        else:
            command.stamp(cfg, target)
    except BaseException as e:  # AssertionError counts as a failure too
        if isinstance(e, KeyboardInterrupt):
            raise
        ok = False
        err = "%s: %s" % (type(e).__name__, e)
    con = sqlite3.connect(db)
    steps = [tuple(x) for x in con.execute("SELECT rev, op FROM steps LIMIT -1 OFFSET ?", (before,))]
    try:
        current = [x[0] for x in con.execute("SELECT version_num FROM alembic_version ORDER BY rowid")]
    except sqlite3.OperationalError:
        current = []
    con.close()
    return ok, err, steps, current


def migr_setup(conn, revs):
    cur = conn.cursor()
    cur.execute("DROP EXTENSION IF EXISTS migr CASCADE")
    cur.execute("DROP TABLE IF EXISTS public.steps")
    cur.execute("CREATE TABLE public.steps (n serial, rev text, op text)")
    cur.execute("CREATE EXTENSION migr")
    cur.execute("SET client_min_messages = warning")
    for r in sorted(revs, key=order_key):
        cur.execute(
            "SELECT migr.revision(id => %s, revises => %s, message => %s,"
            " upgrade => %s, downgrade => %s, branch_labels => %s,"
            " depends_on => %s, create_date => %s)",
            (r.id, ", ".join(r.parents), r.id,
             "INSERT INTO public.steps (rev, op) VALUES ('%s', 'upgrade')" % r.id,
             "INSERT INTO public.steps (rev, op) VALUES ('%s', 'downgrade')" % r.id,
             ", ".join(r.labels) or None, ", ".join(r.deps) or None,
             r.date.replace(tzinfo=datetime.timezone.utc)))
    conn.commit()


def migr_current(conn):
    cur = conn.cursor()
    cur.execute("SELECT * FROM migr.current()")
    rows = [x[0] for x in cur.fetchall()]
    conn.commit()
    return rows


def migr_run(conn, direction, target):
    cur = conn.cursor()
    cur.execute("SELECT pg_catalog.max(n) FROM public.steps")
    before = cur.fetchone()[0] or 0
    conn.commit()
    ok = True
    err = None
    try:
        cur.execute("SELECT revision, operation FROM migr.%s(%%s)" % direction, (target,))
        result = [tuple(x) for x in cur.fetchall()]
        conn.commit()
    except psycopg2.Error as e:
        conn.rollback()
        ok = False
        err = "%s %s" % (e.pgcode, e.pgerror.strip().splitlines()[0] if e.pgerror else e)
        result = []
    cur.execute("SELECT rev, op FROM public.steps WHERE n > %s ORDER BY n", (before,))
    steps = [tuple(x) for x in cur.fetchall()]
    conn.commit()
    if direction == "stamp":
        result = []     # a stamp runs no SQL; its rows are bookkeeping
    if ok and steps != result:
        raise AssertionError("migr returned %r but ran %r" % (result, steps))
    return ok, err, steps, migr_current(conn)


def classify(direction, target, a_cur_before, m_cur_before, a, m, revs):
    """Differences that come from Alembic, not from migr (docs/graph.md):
    - a relative downgrade from several heads walks the branch of the first
      alembic_version row, whose order after a merge depends on Python set
      iteration; migr keeps a deterministic row order;
    - stamping several destinations ("heads", "x@heads"): Alembic merges
      every current head on the target's lineage into whichever destination
      descends from one of them, dropping current heads that were
      themselves destinations; migr stamps every destination;
    - stamping several destinations of which one is an ancestor of another
      ("-1" from several heads): Alembic keeps both version rows, migr's
      current set holds only the heads."""
    if (direction == "downgrade" and target.startswith("-")
            and len(a_cur_before) > 1 and a_cur_before[0] != m_cur_before[0]):
        return "alembic-row-order"
    if (direction == "stamp" and target.endswith("heads") and a[0] and m[0]
            and set(a[3]) < set(m[3])):
        return "alembic-stamp-several"
    # stamping several destinations of which one is below another: Alembic
    # keeps a row for each, so its version table holds a non-head
    if direction == "stamp" and a[0] and m[0]:
        below = ancestors(revs, a[3])
        if set(x for x in a[3] if x not in below) == set(m[3]) and set(a[3]) != set(m[3]):
            return "alembic-stamp-non-head-row"
    return None


def run_seed(seed, conn, verbose):
    rng = random.Random(seed)
    revs = gen_graph(rng)
    cmds = gen_commands(rng, revs, rng.randint(4, 10))
    root = tempfile.mkdtemp(prefix="migr-diff-")
    try:
        cfg, db = write_alembic(revs, root)
        migr_setup(conn, revs)
        stats = {"commands": 0, "agree": 0, "explained": 0}
        # history order: "alembic history" walks newest first
        try:
            a_hist = [r.revision for r in ScriptDirectory.from_config(cfg).walk_revisions()][::-1]
        except BaseException as e:
            a_hist = "error: %s" % e
        cur = conn.cursor()
        cur.execute("SELECT revision FROM migr.history() ORDER BY ordinal")
        m_hist = [x[0] for x in cur.fetchall()]
        conn.commit()
        stats["commands"] += 1
        if a_hist != m_hist:
            print("seed %d: DISAGREE on history order" % seed)
            print("   alembic: %s" % (a_hist,))
            print("   migr:    %s" % (m_hist,))
            return stats, False
        stats["agree"] += 1
        a_cur = []
        m_cur = []
        for direction, target in cmds:
            stats["commands"] += 1
            a = alembic_run(cfg, db, direction, target)
            m = migr_run(conn, direction, target)
            same = (a[0] == m[0] and a[2] == m[2] and sorted(a[3]) == sorted(m[3]))
            if same:
                stats["agree"] += 1
            else:
                why = classify(direction, target, a_cur, m_cur, a, m, revs)
                if why is None:
                    print("seed %d: DISAGREE on %s(%r)" % (seed, direction, target))
                    for r in sorted(revs, key=order_key):
                        print("   rev %s parents=%s deps=%s labels=%s date=%s"
                              % (r.id, r.parents, r.deps, r.labels, r.date))
                    print("   alembic: ok=%s err=%s steps=%s current=%s" % (a[0], a[1], a[2], a[3]))
                    print("   migr:    ok=%s err=%s steps=%s current=%s" % (m[0], m[1], m[2], m[3]))
                    return stats, False
                stats["explained"] += 1
                if verbose:
                    print("seed %d: %s(%r) differs (%s)" % (seed, direction, target, why))
                # continue from the same state on both sides is impossible;
                # stop this seed here
                return stats, True
            a_cur, m_cur = a[3], m[3]
            if verbose:
                print("seed %d: %s(%r) ok=%s steps=%s" % (seed, direction, target, a[0], a[2]))
        return stats, True
    finally:
        shutil.rmtree(root)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=300)
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--seed", type=int, action="append", default=[])
    ap.add_argument("--regression", action="store_true",
                    help="also run the seeds listed in regression_seeds")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    seeds = args.seed or list(range(args.first, args.first + args.seeds))
    if args.regression:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "regression_seeds")
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line and int(line) not in seeds:
                    seeds.append(int(line))
    conn = psycopg2.connect("")
    total = {"commands": 0, "agree": 0, "explained": 0}
    failed = []
    for s in seeds:
        st, ok = run_seed(s, conn, args.verbose)
        for k in total:
            total[k] += st[k]
        if not ok:
            failed.append(s)
    print("graphs: %d, commands: %d, agreed: %d, differences explained by "
          "Alembic's own behaviour: %d, disagreements: %d"
          % (len(seeds), total["commands"], total["agree"], total["explained"], len(failed)))
    if failed:
        print("failing seeds: %s" % " ".join(map(str, failed)))
    print("%d passed, %d failed" % (len(seeds) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

-- load_batch: migr.load_all() registers the new files it can in a few
-- statements (src/regbatch.c).  What it registers, the notices and the
-- errors are those of registering the files one by one in file order
-- (migr.load() in a transaction, the reference here); rows written by one
-- statement share their cmin, which tells which way they were written.
SET client_min_messages = notice;
SET timezone = 'UTC';
\set SHOW_CONTEXT always

-- file number day of revision id: Create Date 2025-01-01 + day minutes
CREATE FUNCTION lb_file(id text, revises text, day int, extra text DEFAULT '',
                        up text DEFAULT NULL, down text DEFAULT 'SELECT 0;')
RETURNS text LANGUAGE sql AS $$
  SELECT format(E'-- revision %s\n-- Revision ID: %s\n-- Revises: %s\n-- Create Date: %s\n%s\n-- migr:upgrade\n%s\n%s',
                id, id, coalesce(revises, ''),
                to_char('2025-01-01'::timestamp + day * interval '1 minute', 'YYYY-MM-DD HH24:MI:SS'),
                extra, coalesce(up, 'SELECT ' || day || ';'),
                CASE WHEN down IS NULL THEN '' ELSE E'-- migr:downgrade\n' || down || E'\n' END)
$$;
CREATE FUNCTION lb_name(id text, day int) RETURNS text LANGUAGE sql AS $$
  SELECT to_char('2025-01-01'::timestamp + day * interval '1 minute', 'YYYY_MM_DD_HH24MISS')
         || '_' || id || '.sql'
$$;
CREATE TABLE lb_files (name text PRIMARY KEY, src text NOT NULL);
-- what the catalog holds for the revisions whose id starts with prefix,
-- all but registered_at
CREATE FUNCTION lb_catalog(prefix text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT 'revision ' || (m.id, m.revises, m.depends_on, m.branch_labels, m.message,
                         m.create_date, m.upgrade_sql, m.downgrade_sql, m.checksum,
                         m.checksum_algorithm, m.skip_if, m.requires, m.verify,
                         m.verify_down, m.registered_by, m.transactional,
                         m.upgrade_transactional, m.downgrade_transactional,
                         m.source_file, m.source_sha256)::text
    FROM migr.migration m WHERE starts_with(m.id, prefix)
  UNION ALL
  SELECT 'edge ' || (e.revision, e.kind, e.ord, e.target)::text
    FROM migr.migration_edge e WHERE starts_with(e.revision, prefix)
  UNION ALL
  SELECT 'label ' || (l.label, l.revision)::text
    FROM migr.branch_label l WHERE starts_with(l.revision, prefix)
$$;
CREATE TABLE lb_got (how text, line text);
-- the files of lb_files through migr.load_all(), in the given order
CREATE FUNCTION lb_load_all() RETURNS TABLE (filename text, revision text, status text) LANGUAGE sql AS $$
  SELECT l.filename, l.revision, l.status
    FROM migr.load_all((SELECT array_agg(src ORDER BY name DESC) FROM lb_files),
                       (SELECT array_agg(name ORDER BY name DESC) FROM lb_files)) l
$$;
-- and one by one, in file-name order, as migr.load() does: the reference
CREATE FUNCTION lb_load_each() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT * FROM lb_files ORDER BY name LOOP
        RETURN NEXT migr.load(f.src, f.name);
    END LOOP;
END
$$;
-- forget the revisions whose id starts with prefix
CREATE FUNCTION lb_forget(prefix text) RETURNS void LANGUAGE sql AS $$
  DELETE FROM migr.migration WHERE starts_with(id, prefix)
$$;
-- the two catalogs recorded in lb_got differ in n rows
CREATE FUNCTION lb_differences() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM ((SELECT line FROM lb_got WHERE how = 'all'
                         EXCEPT ALL SELECT line FROM lb_got WHERE how = 'each')
                        UNION ALL
                        (SELECT line FROM lb_got WHERE how = 'each'
                         EXCEPT ALL SELECT line FROM lb_got WHERE how = 'all')) d
$$;

--
-- Every kind of field, in an order where each file names only what files
-- before it declare: one statement writes all the rows
--
INSERT INTO lb_files VALUES
  (lb_name('lb01', 1), lb_file('lb01', NULL, 1, E'-- Branch Labels: lbx\n')),
  (lb_name('lb02', 2), lb_file('lb02', NULL, 2, E'-- Branch Labels: lby, lbz\n')),
  -- a dependency on a label of an earlier file: its revision is stored
  (lb_name('lb03', 3), lb_file('lb03', 'lb01', 3, E'-- Depends On: lby\n')),
  (lb_name('lb04', 4), lb_file('lb04', 'lb02', 4, '',
     E'CREATE TABLE lb_t (id int);\n-- migr:skip_if\nmigr.has_table(''lb_t'')\n-- migr:requires\ntrue\n-- migr:verify\nmigr.has_table(''lb_t'')\n-- migr:verify_down\nNOT migr.has_table(''lb_t'')',
     'DROP TABLE lb_t;')),
  -- a merge without a downgrade: irreversible
  (lb_name('lb05', 5), lb_file('lb05', 'lb03, lb04', 5, '', NULL, NULL)),
  -- non-transactional, twice
  (lb_name('lb06', 6), lb_file('lb06', 'lb05', 6, E'-- Transactional: false\n')),
  (lb_name('lb07', 7), lb_file('lb07', 'lb06', 7, E'-- Depends On: lb04, lbz\n',
     'CREATE INDEX CONCURRENTLY lb_i ON lb_t (id);', 'DROP INDEX lb_i;')),
  (lb_name('lb08', 8), lb_file('lb08', 'lb07', 8, '', 'SELECT ''ünïcødé'';')),
  (lb_name('lb09', 9), replace(lb_file('lb09', 'lb08', 9), E'\n', E'\r\n')),
  (lb_name('lb10', 10), lb_file('lb10', 'lb09', 10, '', '-- nothing to run')),
  (lb_name('lb11', 11), lb_file('lb11', 'lb10', 11, E'-- Branch Labels: lbw\n-- Depends On: lbx\n'));
SELECT * FROM lb_load_all();
SELECT count(*) AS rows, count(DISTINCT cmin::text) AS statements
  FROM migr.migration WHERE id LIKE 'lb%';
INSERT INTO lb_got SELECT 'all', lb_catalog('lb');
SELECT lb_forget('lb');
BEGIN;
SELECT lb_load_each();
COMMIT;
SELECT count(*) AS rows, count(DISTINCT cmin::text) AS statements
  FROM migr.migration WHERE id LIKE 'lb%';
INSERT INTO lb_got SELECT 'each', lb_catalog('lb');
SELECT count(*) AS catalog_rows, lb_differences() AS differences FROM lb_got WHERE how = 'all';
SELECT id, revises, depends_on, branch_labels FROM migr.migration WHERE id LIKE 'lb%' ORDER BY id;
SELECT lb_forget('lb');

--
-- A load whose 500th of 1,000 files is bad leaves nothing
--
SET client_min_messages = warning;
DELETE FROM lb_files;
INSERT INTO lb_files
  SELECT lb_name('lc' || i, i),
         lb_file('lc' || i, CASE WHEN i > 1 THEN 'lc' || (i - 1) END, i,
                 CASE WHEN i = 3 THEN E'-- Branch Labels: lcq\n' ELSE '' END)
    FROM generate_series(1, 1000) i;
CREATE TEMPORARY TABLE lb_before AS SELECT lb_catalog('') AS line;
-- a syntax error in its upgrade
UPDATE lb_files SET src = replace(src, 'SELECT 500;', 'SELEC 500;') WHERE name = lb_name('lc500', 500);
SELECT count(*) FROM lb_load_all();
\echo :LAST_ERROR_SQLSTATE
-- a branch label the third file declares
UPDATE lb_files SET src = replace(lb_file('lc500', 'lc499', 500), E'\n\n', E'\n-- Branch Labels: lcq\n\n')
 WHERE name = lb_name('lc500', 500);
SELECT count(*) FROM lb_load_all();
\echo :LAST_ERROR_SQLSTATE
-- a revision id that the third file declares as a label
UPDATE lb_files SET src = replace(src, E'-- Branch Labels: lcq\n', ''),
                    name = lb_name('lcq', 500)
 WHERE name = lb_name('lc500', 500);
UPDATE lb_files SET src = replace(src, 'lc500', 'lcq') WHERE name = lb_name('lcq', 500);
SELECT count(*) FROM lb_load_all();
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM (SELECT line FROM lb_before EXCEPT ALL SELECT lb_catalog('')) d)
     + (SELECT count(*) FROM (SELECT lb_catalog('') EXCEPT ALL SELECT line FROM lb_before) d)
       AS catalog_changes;
-- fixed, all 1,000 go in one statement
UPDATE lb_files SET src = replace(src, 'lcq', 'lc500'), name = lb_name('lc500', 500)
 WHERE name = lb_name('lcq', 500);
SELECT status, count(*) FROM lb_load_all() GROUP BY status;
SELECT count(*) AS rows, count(DISTINCT cmin::text) AS statements,
       (SELECT count(*) FROM migr.migration_edge WHERE revision LIKE 'lc%') AS edges
  FROM migr.migration WHERE id LIKE 'lc%';
SELECT revision FROM migr.branch_label WHERE label = 'lcq';
SELECT lb_forget('lc');
SET client_min_messages = notice;

--
-- Errors that depend on files before: the same as one by one, at the same
-- file and line
--
-- a branch label declared twice, an id used as a label, a dependency listed
-- twice once a label names its revision
DELETE FROM lb_files;
INSERT INTO lb_files VALUES
  (lb_name('le1', 1), lb_file('le1', NULL, 1, E'-- Branch Labels: lel\n')),
  (lb_name('le2', 2), lb_file('le2', 'le1', 2)),
  (lb_name('le3', 3), lb_file('le3', 'le2', 3, E'-- Branch Labels: lel\n'));
SELECT * FROM lb_load_all();
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SELECT lb_load_each();
ROLLBACK;
UPDATE lb_files SET src = lb_file('lel', 'le2', 3), name = lb_name('lel', 3) WHERE name = lb_name('le3', 3);
SELECT * FROM lb_load_all();
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SELECT lb_load_each();
ROLLBACK;
UPDATE lb_files SET src = lb_file('le3', 'le2', 3, E'-- Depends On: le1, lel\n'), name = lb_name('le3', 3)
 WHERE name = lb_name('lel', 3);
SELECT * FROM lb_load_all();
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SELECT lb_load_each();
ROLLBACK;
-- a cycle through a parent whose file comes later: the batch writes what
-- it holds and the rest goes one by one, which finds the cycle
UPDATE lb_files SET src = lb_file('le1', 'le3', 1) WHERE name = lb_name('le1', 1);
UPDATE lb_files SET src = lb_file('le3', 'le2', 3) WHERE name = lb_name('le3', 3);
INSERT INTO lb_files VALUES (lb_name('le0', 0), lb_file('le0', NULL, 0));
SELECT * FROM lb_load_all();
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SELECT lb_load_each();
ROLLBACK;
SELECT count(*) AS left_behind FROM migr.migration WHERE id LIKE 'le%';

--
-- A branch label that an earlier file depends on: the revision declaring
-- it takes the dependency over, one by one
--
DELETE FROM lb_files;
INSERT INTO lb_files VALUES
  (lb_name('lf1', 1), lb_file('lf1', NULL, 1)),
  (lb_name('lf2', 2), lb_file('lf2', 'lf1', 2, E'-- Depends On: lfl\n')),
  (lb_name('lf3', 3), lb_file('lf3', 'lf1', 3, E'-- Branch Labels: lfl\n')),
  (lb_name('lf4', 4), lb_file('lf4', 'lf2, lf3', 4)),
  (lb_name('lf5', 5), lb_file('lf5', 'lf4', 5, E'-- Depends On: lfl\n'));
DELETE FROM lb_got;
SELECT * FROM lb_load_all();
SELECT id, depends_on FROM migr.migration WHERE id LIKE 'lf%' ORDER BY id;
SELECT revision, kind, target FROM migr.migration_edge WHERE kind = 'd' AND revision LIKE 'lf%' ORDER BY 1;
INSERT INTO lb_got SELECT 'all', lb_catalog('lf');
SELECT lb_forget('lf');
BEGIN;
SELECT lb_load_each();
COMMIT;
INSERT INTO lb_got SELECT 'each', lb_catalog('lf');
SELECT count(*) AS catalog_rows, lb_differences() AS differences FROM lb_got WHERE how = 'all';
-- the same label depended on twice, once by its name
UPDATE lb_files SET src = lb_file('lf2', 'lf1', 2, E'-- Depends On: lfl, lf3\n') WHERE name = lb_name('lf2', 2);
SELECT lb_forget('lf');
SELECT * FROM lb_load_all();
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SELECT lb_load_each();
ROLLBACK;

--
-- A replaced file among new ones
--
SELECT lb_forget('lf');
DELETE FROM lb_files;
INSERT INTO lb_files SELECT lb_name('lg' || i, i), lb_file('lg' || i, CASE WHEN i > 1 THEN 'lg' || (i - 1) END, i)
  FROM generate_series(1, 3) i;
SELECT * FROM lb_load_all();
UPDATE lb_files SET src = replace(src, 'SELECT 2;', 'SELECT 22;') WHERE name = lb_name('lg2', 2);
INSERT INTO lb_files SELECT lb_name('lg' || i, i), lb_file('lg' || i, 'lg' || (i - 1), i)
  FROM generate_series(4, 6) i;
DELETE FROM lb_got;
SELECT * FROM lb_load_all();
SELECT id, upgrade_sql FROM migr.migration WHERE id LIKE 'lg%' ORDER BY id;
INSERT INTO lb_got SELECT 'all', lb_catalog('lg');
-- the reference: the first three as they were, then the six one by one
SELECT lb_forget('lg');
SET client_min_messages = warning;
SELECT migr.load(lb_file('lg' || i, CASE WHEN i > 1 THEN 'lg' || (i - 1) END, i), lb_name('lg' || i, i))
  FROM generate_series(1, 3) i;
SET client_min_messages = notice;
BEGIN;
SELECT lb_load_each();
COMMIT;
INSERT INTO lb_got SELECT 'each', lb_catalog('lg');
SELECT count(*) AS catalog_rows, lb_differences() AS differences FROM lb_got WHERE how = 'all';

--
-- Inside a transaction block, after a registration that names a revision
-- to come: the batch leaves that revision to one by one
--
SELECT lb_forget('lg');
DELETE FROM lb_files;
INSERT INTO lb_files VALUES
  (lb_name('lh2', 2), lb_file('lh2', NULL, 2)),
  (lb_name('lh3', 3), lb_file('lh3', 'lh2', 3)),
  (lb_name('lh4', 4), lb_file('lh4', 'lh3', 4));
BEGIN;
SELECT migr.revision('lh1', 'lh3', 'one', 'SELECT 1;', create_date => '2025-01-01 00:01:00+00');
SELECT * FROM lb_load_all();
COMMIT;
SELECT id, revises FROM migr.migration WHERE id LIKE 'lh%' ORDER BY id;
-- and one that would close a cycle
SELECT lb_forget('lh');
UPDATE lb_files SET src = lb_file('lh2', 'lh1', 2) WHERE name = lb_name('lh2', 2);
BEGIN;
SELECT migr.revision('lh1', 'lh3', 'one', 'SELECT 1;', create_date => '2025-01-01 00:01:00+00');
SELECT * FROM lb_load_all();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT migr.revision('lh1', 'lh3', 'one', 'SELECT 1;', create_date => '2025-01-01 00:01:00+00');
SELECT lb_load_each();
ROLLBACK;

--
-- CALL migr.apply() writes a revision's migr.applied row and its event in
-- one statement: the same rows that migr.upgrade() writes for a call
--
SELECT lb_forget('lh');
SET client_min_messages = warning;
SELECT migr.load(lb_file('lk' || i, CASE WHEN i > 1 THEN 'lk' || (i - 1) END, i, '',
                         CASE WHEN i = 2 THEN E'CREATE TABLE lk_t (id int);\n-- migr:skip_if\ntrue'
                              ELSE 'CREATE TABLE lk_' || i || ' (id int); SELECT ' || i || ';' END,
                         CASE WHEN i = 2 THEN 'SELECT 0;' ELSE 'DROP TABLE lk_' || i || ';' END),
                 lb_name('lk' || i, i))
  FROM generate_series(1, 4) i;
CREATE TABLE lb_steps (how text, line text);
SELECT coalesce(max(id), 0) AS lk_event FROM migr.event \gset
CALL migr.apply();
INSERT INTO lb_steps
  SELECT 'call', (a.revision, a.applied_by, a.checksum, a.head_seq)::text FROM migr.applied a
  UNION ALL
  SELECT 'call', (e.revision, e.operation, e.role, e.backend_pid = pg_backend_pid(), e.heads_before,
                  e.heads_after, e.fingerprint, e.outcome, e.sqlstate, e.statement_no)::text
    FROM migr.event e WHERE e.id > :lk_event;
SELECT regexp_replace(line, ',[0-9a-f]{64},', ',<fingerprint>,') AS line FROM lb_steps ORDER BY line;
SELECT count(*) AS reverted FROM migr.downgrade('base');
SELECT max(id) AS lk_event FROM migr.event \gset
SELECT count(*) AS applied FROM migr.upgrade();
INSERT INTO lb_steps
  SELECT 'upgrade', (a.revision, a.applied_by, a.checksum, a.head_seq)::text FROM migr.applied a
  UNION ALL
  SELECT 'upgrade', (e.revision, e.operation, e.role, e.backend_pid = pg_backend_pid(), e.heads_before,
                     e.heads_after, e.fingerprint, e.outcome, e.sqlstate, e.statement_no)::text
    FROM migr.event e WHERE e.id > :lk_event;
SELECT (SELECT count(*) FROM (SELECT line FROM lb_steps WHERE how = 'call'
                              EXCEPT ALL SELECT line FROM lb_steps WHERE how = 'upgrade') d)
     + (SELECT count(*) FROM (SELECT line FROM lb_steps WHERE how = 'upgrade'
                              EXCEPT ALL SELECT line FROM lb_steps WHERE how = 'call') d)
       AS differences;
SELECT count(*) AS reverted FROM migr.downgrade('base');
SELECT lb_forget('lk');
SET client_min_messages = notice;

-- clean up
SELECT count(*) AS left_behind FROM migr.migration;
DROP TABLE lb_files, lb_got, lb_steps;
DROP FUNCTION lb_file, lb_name, lb_catalog, lb_load_all, lb_load_each, lb_forget, lb_differences;
DROP EXTENSION migr;
CREATE EXTENSION migr;

-- graph: branches, merges, several bases, labels and depends_on
SET client_min_messages = warning;
-- base -> a -> {b -> b2, c} -> m (merge of b2 and c, in that order) -> n
-- a second base x, and y depending on m
CREATE FUNCTION pg_temp.reg(id text, revises text, d int, labels text DEFAULT NULL,
                            deps text DEFAULT NULL) RETURNS text
LANGUAGE sql AS $$
  SELECT migr.revision(id, revises, 'rev ' || id, '', '', labels, deps,
                       '2024-01-01 00:00:00+00'::timestamptz + d * interval '1 minute')
$$;
SELECT pg_temp.reg('base0', NULL, 0);
SELECT pg_temp.reg('aaaa', 'base0', 1);
SELECT pg_temp.reg('bbbb', 'aaaa', 2, 'feature');
SELECT pg_temp.reg('b222', 'bbbb', 3);
SELECT pg_temp.reg('cccc', 'aaaa', 4);
SELECT * FROM migr.heads() ORDER BY 1;
SELECT pg_temp.reg('mmmm', 'b222, cccc', 5);
SELECT pg_temp.reg('nnnn', 'mmmm', 6);
SELECT pg_temp.reg('xbase', NULL, 7, 'other');
SELECT pg_temp.reg('yyyy', 'xbase', 8, NULL, 'mmmm');
SELECT * FROM migr.heads() ORDER BY 1;
-- application order: at the merge (b222, cccc) the branches run in reverse
-- parent order: cccc first, then bbbb/b222, then the merge
SELECT ordinal, revision, revises, depends_on, branch_labels, is_head
  FROM migr.history() ORDER BY ordinal;
-- the same order when the merge lists its parents the other way round
SELECT migr.revision('mmmm', 'cccc, b222', 'rev mmmm', '', '', NULL, NULL,
                     '2024-01-01 00:05:00+00');
SELECT ordinal, revision FROM migr.history() ORDER BY ordinal;
SELECT migr.revision('mmmm', 'b222, cccc', 'rev mmmm', '', '', NULL, NULL,
                     '2024-01-01 00:05:00+00');
-- upgrading to yyyy applies its dependency chain too
SELECT revision FROM migr.upgrade('yyyy');
-- current: yyyy depends on mmmm, so mmmm is not a current head
SELECT * FROM migr.current() ORDER BY 1;
SELECT revision, operation FROM migr.upgrade('heads');
SELECT * FROM migr.current() ORDER BY 1;
-- downgrading a depended-on revision reverts its dependents
SELECT revision, operation FROM migr.downgrade('b222');
SELECT * FROM migr.current() ORDER BY 1;
-- cycles are refused, including one made by re-registering
\set SHOW_CONTEXT never
SELECT pg_temp.reg('cy1', NULL, 10);
SELECT pg_temp.reg('cy2', 'cy1', 11);
SELECT pg_temp.reg('cy3', 'cy2', 12);
SELECT migr.revision('cy1', 'cy3', 'loop', '', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('cy1', NULL, 'loop', '', '', depends_on => 'cy2');
\echo :LAST_ERROR_SQLSTATE
-- the database itself refuses them, whoever writes the edges
INSERT INTO migr.migration_edge (revision, kind, ord, target) VALUES ('cy1', 'd', 1, 'cy3');
\echo :LAST_ERROR_SQLSTATE
-- a statement writing many edges (a restore) is checked as a whole, once
INSERT INTO migr.migration (id, create_date, upgrade_sql, checksum)
SELECT 'bulk' || i, now(), '', '\x00' FROM generate_series(1, 40) i;
INSERT INTO migr.migration_edge (revision, kind, ord, target)
SELECT 'bulk' || i, 'p', 1, 'bulk' || (i % 40 + 1) FROM generate_series(1, 40) i;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO migr.migration_edge (revision, kind, ord, target)
SELECT 'bulk' || i, 'p', 1, 'bulk' || (i + 1) FROM generate_series(1, 39) i;
SELECT count(*) AS bulk_edges FROM migr.migration_edge WHERE revision LIKE 'bulk%';
DELETE FROM migr.migration WHERE id LIKE 'bulk%';
\set SHOW_CONTEXT errors
-- an applied revision cannot be re-parented either
SELECT migr.revision('aaaa', 'nnnn', 'loop', '', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('zzzz', 'zzzz', 'self', '', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('zzzz', 'base0', 'self dep', '', '', depends_on => 'zzzz');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM migr.migration;
-- labels are unique and never collide with ids
SELECT pg_temp.reg('dup1', 'nnnn', 9, 'feature');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.reg('dup2', 'nnnn', 9, 'aaaa');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.reg('feature', 'nnnn', 9);
\echo :LAST_ERROR_SQLSTATE
DROP EXTENSION migr;
CREATE EXTENSION migr;

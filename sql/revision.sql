-- revision: registering revisions
SET client_min_messages = notice;
SELECT migr.revision('a1', NULL, 'create t', 'CREATE TABLE t (id int);', 'DROP TABLE t;',
                     create_date => '2024-01-01 00:00:00+00');
-- named parameters, a parent, labels and a dependency
SELECT migr.revision(id => 'b2', revises => 'a1', message => 'add column',
                     upgrade => 'ALTER TABLE t ADD COLUMN name text;',
                     downgrade => 'ALTER TABLE t DROP COLUMN name;',
                     branch_labels => 'core', create_date => '2024-01-02 00:00:00+00');
SELECT migr.revision('c3', '', 'second base', 'CREATE TABLE u (id int);', 'DROP TABLE u;',
                     create_date => '2024-01-03 00:00:00+00');
SELECT migr.revision('d4', 'b2', 'needs u', 'SELECT 1;', 'SELECT 1;',
                     depends_on => 'c3', create_date => '2024-01-04 00:00:00+00');
SELECT id, revises, depends_on, branch_labels, message, create_date,
       downgrade_sql IS NULL AS irreversible, checksum_algorithm,
       length(checksum) AS checksum_bytes
  FROM migr.migration ORDER BY create_date, id;
SELECT revision, kind, ord, target FROM migr.migration_edge ORDER BY 1, 2, 3;
SELECT * FROM migr.branch_label;
-- identical re-registration is a no-op, even without create_date
SELECT registered_at AS before FROM migr.migration WHERE id = 'b2' \gset
SELECT migr.revision(id => 'b2', revises => 'a1', message => 'add column',
                     upgrade => 'ALTER TABLE t ADD COLUMN name text;',
                     downgrade => 'ALTER TABLE t DROP COLUMN name;',
                     branch_labels => 'core');
SELECT registered_at = :'before' AS unchanged FROM migr.migration WHERE id = 'b2';
-- different content for an unapplied revision replaces it, with a NOTICE
SELECT migr.revision('d4', 'b2', 'needs u, reworded', 'SELECT 2;', 'SELECT 2;',
                     depends_on => 'c3');
SELECT id, message, upgrade_sql FROM migr.migration WHERE id = 'd4';
-- the checksum covers the SQL: different SQL, different checksum
SELECT a.checksum = b.checksum AS same
  FROM migr.migration a, migr.migration b WHERE a.id = 'a1' AND b.id = 'c3';
-- a dependency may be named by a branch label; the revision is stored
SELECT migr.revision('e5', 'c3', 'label dep', '', '', depends_on => 'core',
                     create_date => '2024-01-05 00:00:00+00');
SELECT depends_on FROM migr.migration WHERE id = 'e5';
-- an irreversible revision says so
SELECT migr.revision('f6', 'e5', 'one way', 'SELECT 1;', create_date => '2024-01-06 00:00:00+00');
-- once applied, content cannot change
SELECT count(*) FROM migr.upgrade('a1');
SELECT migr.revision('a1', NULL, 'create t', 'CREATE TABLE t (id bigint);', 'DROP TABLE t;');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('a1', NULL, 'create t, new words', 'CREATE TABLE t (id int);', 'DROP TABLE t;');
\echo :LAST_ERROR_SQLSTATE
-- but identical re-registration of an applied revision is fine
SELECT migr.revision('a1', NULL, 'create t', 'CREATE TABLE t (id int);', 'DROP TABLE t;');
-- a whole directory can be registered in one transaction, in any order
BEGIN;
SELECT migr.revision('h8', 'g7', 'child first', '', '', create_date => '2024-01-08 00:00:00+00');
SELECT migr.revision('g7', 'f6', 'parent second', '', '', create_date => '2024-01-07 00:00:00+00');
COMMIT;
SELECT count(*) FROM migr.migration;
-- ... but a parent that never arrives fails the commit
BEGIN;
SELECT migr.revision('x9', 'nowhere', 'dangling', '', '');
COMMIT;
SELECT count(*) FROM migr.migration WHERE id = 'x9';
-- writes by a role without privileges are refused
CREATE ROLE regress_migr_nobody;
SET ROLE regress_migr_nobody;
SELECT migr.revision('z1', NULL, 'sneaky', '', '');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO migr.migration (id, create_date, upgrade_sql, checksum) VALUES ('z1', now(), '', '\x00');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM migr.migration;
RESET ROLE;
DROP ROLE regress_migr_nobody;
-- clean up
DROP TABLE t;
DROP EXTENSION migr;
CREATE EXTENSION migr;

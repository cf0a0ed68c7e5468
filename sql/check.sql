-- check: every finding, provoked on purpose
SET client_min_messages = warning;
-- nothing registered: nothing to say
SELECT * FROM migr.check();
CREATE TABLE parent (id int PRIMARY KEY);
SELECT migr.revision('c1', NULL, 'child', 'CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));',
                     'DROP TABLE child;', create_date => '2024-01-01 00:00:00+00',
                     verify => $$migr.has_table('child')$$);
SELECT migr.revision('c2', 'c1', 'one way', 'ALTER TABLE child ADD COLUMN note text;',
                     create_date => '2024-01-02 00:00:00+00');
SELECT migr.revision('c3', 'c1', 'branch', 'CREATE INDEX ix_child_parent_id ON child (parent_id);',
                     'DROP INDEX ix_child_parent_id;', create_date => '2024-01-03 00:00:00+00');
-- pending revisions, several heads, an irreversible revision, no fingerprint yet
SELECT severity, code, revision, message FROM migr.check();
SELECT count(*) FROM migr.upgrade('c2');
-- now the foreign key lacks an index, and c3 is still pending
SELECT severity, code, revision, message, detail FROM migr.check();
SELECT count(*) FROM migr.upgrade('heads');
SELECT migr.revision('c4', 'c2, c3', 'merge', '', '', create_date => '2024-01-04 00:00:00+00');
SELECT count(*) FROM migr.upgrade();
-- a clean database has only the info about c2
SELECT severity, code, revision FROM migr.check();
SELECT count(*) FROM migr.check(strict => true);
-- schema drift: a change by hand, named in the detail
ALTER TABLE child ADD COLUMN hand_made int;
CREATE TABLE stray (id int);
SELECT severity, code, message, detail FROM migr.check() WHERE code = 'schema_drift';
SELECT * FROM migr.check(strict => true);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE stray;
ALTER TABLE child DROP COLUMN hand_made;
SELECT count(*) AS drift FROM migr.check() WHERE code = 'schema_drift';
-- verify no longer holds
ALTER TABLE child RENAME TO child_renamed;
SELECT code, revision, message FROM migr.check() WHERE severity = 'error' ORDER BY code;
ALTER TABLE child_renamed RENAME TO child;
-- a verify that raises is reported, not fatal to check()
UPDATE migr.migration SET verify = 'EXISTS (SELECT 1 FROM no_such_table)' WHERE id = 'c1';
SELECT code, revision, detail FROM migr.check() WHERE code = 'verify_failed';
-- content edited in place (only possible by writing the catalog directly):
-- check() recomputes the sha256 from what is stored, so an edit that leaves
-- the checksum column alone is seen as well: c1's verify above, c3's SQL here
UPDATE migr.migration SET upgrade_sql = upgrade_sql || ' -- edited' WHERE id = 'c3';
SELECT code, revision, message FROM migr.check()
 WHERE code IN ('checksum_mismatch', 'tampered') ORDER BY code, revision;
SELECT detail FROM migr.check() WHERE code = 'tampered' AND revision = 'c3';
-- a forger who also rewrites the checksum column still differs from what ran
UPDATE migr.migration SET upgrade_sql = 'SELECT 1',
       checksum = sha256(convert_to('U8:SELECT 1D0:', 'UTF8')) WHERE id = 'c4';
SELECT code, revision FROM migr.check() WHERE revision = 'c4' ORDER BY code;
-- an unapplied revision edited in place is tampered, not "changed since applied"
SELECT migr.revision('c5', 'c4', 'later', 'SELECT 1;', 'SELECT 1;', create_date => '2024-01-05 00:00:00+00');
UPDATE migr.migration SET skip_if = 'true' WHERE id = 'c5';
SELECT code, revision FROM migr.check() WHERE revision = 'c5' ORDER BY code;
-- an applied revision that is no longer registered
INSERT INTO migr.applied VALUES ('ghost', now(), current_user, '\x00', '0', 99);
SELECT code, revision, message FROM migr.check() WHERE code = 'unregistered';
DELETE FROM migr.applied WHERE revision = 'ghost';
-- an index left INVALID by a failed CREATE INDEX CONCURRENTLY is an error;
-- migr.describe() leaves it out, so it is no drift
INSERT INTO parent VALUES (1);
INSERT INTO child VALUES (1, 1), (2, 1);
CREATE UNIQUE INDEX CONCURRENTLY "Bad Index" ON child (parent_id);
\echo :LAST_ERROR_SQLSTATE
SELECT severity, code, revision, message, detail FROM migr.check() WHERE code IN ('invalid_index', 'schema_drift');
SELECT count(*) AS described FROM migr.describe() WHERE object LIKE '%Bad Index%';
REINDEX INDEX "Bad Index";
\echo :LAST_ERROR_SQLSTATE
DROP INDEX "Bad Index";
SELECT count(*) AS invalid_index FROM migr.check() WHERE code = 'invalid_index';
DELETE FROM child;
DELETE FROM parent;
-- unindexed foreign keys: names quoted once, several in a stable order, and
-- an invalid index does not count as covering one
CREATE TABLE "P Q" (id int PRIMARY KEY);
CREATE TABLE "C D" (id int, p int REFERENCES "P Q", q int REFERENCES "P Q");
SELECT message FROM migr.check() WHERE code = 'unindexed_foreign_key';
INSERT INTO "P Q" VALUES (1);
INSERT INTO "C D" VALUES (1, 1, 1), (2, 1, 1);
CREATE UNIQUE INDEX CONCURRENTLY "C D_p_idx" ON "C D" (p);
SELECT count(*) FROM migr.check() WHERE code = 'unindexed_foreign_key';
DROP TABLE "C D", "P Q";
-- a snapshot written by hand into an impossible shape is refused, not crashed on
UPDATE migr.snapshot SET kinds = kinds[1:1];
SELECT count(*) FROM migr.check();
\echo :LAST_ERROR_SQLSTATE
DROP TABLE child, parent;
DROP EXTENSION migr;
CREATE EXTENSION migr;
-- check() reads migr.migration and migr.applied with a scan of its own, but
-- only what the query would show the caller: under row-level security, or
-- without the privilege to read them, the query decides, as it always did
SELECT migr.revision('r1', NULL, 'r1', 'CREATE TABLE rls_t (k int);', 'DROP TABLE rls_t;',
                     create_date => '2024-01-01 00:00:00+00');
SELECT migr.revision('r2', 'r1', 'r2', 'SELECT 1;', 'SELECT 1;',
                     create_date => '2024-01-02 00:00:00+00');
SELECT count(*) FROM migr.upgrade();
CREATE ROLE regress_migr_checker;
ALTER TABLE migr.applied ENABLE ROW LEVEL SECURITY;
CREATE POLICY hide_r2 ON migr.applied USING (revision OPERATOR(pg_catalog.<>) 'r2');
SET ROLE regress_migr_checker;
SELECT severity, code, revision FROM migr.check();
RESET ROLE;
SELECT severity, code, revision FROM migr.check();
DROP POLICY hide_r2 ON migr.applied;
ALTER TABLE migr.applied DISABLE ROW LEVEL SECURITY;
REVOKE SELECT ON migr.migration FROM PUBLIC;
SET ROLE regress_migr_checker;
\set VERBOSITY terse
SELECT count(*) FROM migr.check();
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
RESET ROLE;
GRANT SELECT ON migr.migration TO PUBLIC;
SET ROLE regress_migr_checker;
SELECT severity, code, revision FROM migr.check();
RESET ROLE;
DROP ROLE regress_migr_checker;
SELECT count(*) FROM migr.downgrade('base');
DROP EXTENSION migr;
CREATE EXTENSION migr;

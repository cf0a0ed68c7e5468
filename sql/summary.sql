-- summary: the row that lets a no-op upgrade and current() skip the graph
SET client_min_messages = warning;
CREATE FUNCTION summary() RETURNS TABLE (fresh bool, pending int8, graph_heads int4, current_heads text[])
LANGUAGE sql AS $$ SELECT fresh, pending, graph_heads, current_heads FROM migr.summary $$;
-- a new installation has no row, so everything loads the graph
DROP EXTENSION migr;
CREATE EXTENSION migr;
SELECT * FROM summary();
SELECT * FROM migr.current();
SELECT migr.revision('s1', NULL, 'one', 'CREATE TABLE s1 (id int);', 'DROP TABLE s1;',
                     create_date => '2024-01-01 00:00:00+00');
SELECT migr.revision('s2', 's1', 'two', 'ALTER TABLE s1 ADD COLUMN b int;', 'ALTER TABLE s1 DROP COLUMN b;',
                     create_date => '2024-01-02 00:00:00+00');
SELECT revision, operation FROM migr.upgrade('s1');
-- written by the upgrade: one revision still to apply
SELECT * FROM summary();
SELECT * FROM migr.current();
SELECT revision, operation FROM migr.upgrade();
SELECT * FROM summary();
-- the no-op upgrade answers from the row
SELECT revision, operation FROM migr.upgrade();
SELECT revision, operation FROM migr.upgrade('heads');
-- registering a revision marks it stale, so the next upgrade applies it
SELECT migr.revision('s3', 's2', 'three', 'ALTER TABLE s1 ADD COLUMN c int;', 'ALTER TABLE s1 DROP COLUMN c;',
                     create_date => '2024-01-03 00:00:00+00');
SELECT fresh FROM summary();
SELECT * FROM migr.current();
SELECT revision, operation FROM migr.upgrade();
SELECT * FROM summary();
-- registering an identical revision writes nothing and keeps it fresh
SELECT migr.revision('s3', 's2', 'three', 'ALTER TABLE s1 ADD COLUMN c int;', 'ALTER TABLE s1 DROP COLUMN c;',
                     create_date => '2024-01-03 00:00:00+00');
SELECT fresh FROM summary();
-- a rolled-back registration leaves it fresh (it is transactional)
BEGIN;
SELECT migr.revision('s4', 's3', 'four', '', '', create_date => '2024-01-04 00:00:00+00');
SELECT fresh FROM summary();
ROLLBACK;
SELECT fresh FROM summary();
-- two heads: upgrade('head') must still raise MG001 although all is applied
SELECT migr.revision('s4', 's1', 'side branch', '', '', create_date => '2024-01-04 00:00:00+00');
SELECT revision, operation FROM migr.upgrade('heads');
SELECT * FROM summary();
SELECT revision, operation FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT revision, operation FROM migr.upgrade('heads');
-- downgrade and stamp write it too
SELECT revision, operation FROM migr.downgrade('s2');
SELECT * FROM summary();
SELECT revision, operation FROM migr.stamp('heads');
SELECT * FROM summary();
-- a hand write, even one under session_replication_role = replica, which
-- switches ordinary triggers off, marks it stale: the upgrade then loads the
-- graph and sees the unregistered revision
SET session_replication_role = replica;
INSERT INTO migr.applied VALUES ('ghost', now(), current_user, '\x00', '0', 99);
RESET session_replication_role;
SELECT fresh FROM summary();
SELECT revision, operation FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
DELETE FROM migr.applied WHERE revision = 'ghost';
-- check() compares a fresh row with the graph; a hand edit of the row is
-- the one thing the trigger cannot see
SELECT revision, operation FROM migr.upgrade('heads');
SELECT count(*) FROM migr.check() WHERE code = 'summary_mismatch';
UPDATE migr.summary SET current_heads = '{s4}';
SELECT * FROM migr.current();
SELECT code, message, detail FROM migr.check() WHERE code = 'summary_mismatch';
SELECT migr.revision('s5', 's3', 'five', '', '', create_date => '2024-01-05 00:00:00+00');
-- a stale row is never read: current() answers from the graph
UPDATE migr.summary SET current_heads = '{wrong}';
SELECT * FROM migr.current() ORDER BY 1;
-- a fresh row without current heads (its NOT NULL dropped by hand) reads
-- as no current heads, as the graph says is a mismatch; it crashed the
-- server before
SELECT revision, operation FROM migr.upgrade('heads');
ALTER TABLE migr.summary ALTER COLUMN current_heads DROP NOT NULL;
UPDATE migr.summary SET current_heads = NULL;
SELECT count(*) AS current_rows FROM migr.current();
SELECT code, message FROM migr.check() WHERE code = 'summary_mismatch';
-- the same through the query, which a role under row-level security gets
-- instead of the scan
CREATE ROLE regress_migr_summary_reader;
GRANT USAGE ON SCHEMA migr TO regress_migr_summary_reader;
GRANT SELECT ON migr.summary TO regress_migr_summary_reader;
ALTER TABLE migr.summary ENABLE ROW LEVEL SECURITY;
CREATE POLICY summary_all ON migr.summary FOR SELECT USING (true);
SET ROLE regress_migr_summary_reader;
SELECT count(*) AS current_rows FROM migr.current();
RESET ROLE;
DROP POLICY summary_all ON migr.summary;
ALTER TABLE migr.summary DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON migr.summary FROM regress_migr_summary_reader;
REVOKE ALL ON SCHEMA migr FROM regress_migr_summary_reader;
DROP ROLE regress_migr_summary_reader;
DELETE FROM migr.summary;
ALTER TABLE migr.summary ALTER COLUMN current_heads SET NOT NULL;
DROP FUNCTION summary();
DROP TABLE s1;
DROP EXTENSION migr;
CREATE EXTENSION migr;

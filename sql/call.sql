-- call: CALL migr.apply() and migr.revert() commit after each revision,
-- record failures, resume non-transactional revisions where they stopped
SET client_min_messages = notice;
CREATE TABLE call_log (n serial, what text);
-- five revisions; the third fails in its second statement
SELECT migr.revision('c1', NULL, 'one', 'CREATE TABLE c_one (id int);', 'DROP TABLE c_one;',
                     create_date => '2025-01-01 00:00:00+00');
SELECT migr.revision('c2', 'c1', 'two', 'CREATE TABLE c_two (id int);', 'DROP TABLE c_two;',
                     create_date => '2025-01-02 00:00:00+00');
SELECT migr.revision('c3', 'c2', 'three',
                     $$CREATE TABLE c_three (id int PRIMARY KEY);
                       INSERT INTO c_three SELECT id FROM c_missing;$$,
                     'DROP TABLE c_three;', create_date => '2025-01-03 00:00:00+00');
SELECT migr.revision('c4', 'c3', 'four', 'CREATE TABLE c_four (id int);', 'DROP TABLE c_four;',
                     create_date => '2025-01-04 00:00:00+00');
SELECT migr.revision('c5', 'c4', 'five', 'CREATE TABLE c_five (id int);', 'DROP TABLE c_five;',
                     create_date => '2025-01-05 00:00:00+00');
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
-- 1 and 2 stay applied, 3 is rolled back whole, and its failure is recorded
SELECT migr.current();
SELECT to_regclass('c_two') IS NOT NULL AS c_two, to_regclass('c_three') IS NULL AS no_c_three;
SELECT revision, operation, outcome, sqlstate, error, statement_no, statement,
       heads_before, heads_after
  FROM migr.event ORDER BY id;
SELECT severity, code, revision FROM migr.check();
-- the run kept migr.summary stale while it went, and let go of that after
-- the failure: a hand write marks it stale again
SELECT fresh FROM migr.summary;
BEGIN;
DELETE FROM migr.applied WHERE revision = 'c2';
SELECT fresh FROM migr.summary;
ROLLBACK;
-- fix the cause and run again: it continues with the failed revision
CREATE TABLE c_missing (id int);
INSERT INTO c_missing VALUES (1), (2);
CALL migr.apply();
SELECT migr.current();
SELECT count(*) AS rows_in_c_three FROM c_three;
SELECT revision, outcome FROM migr.event WHERE id > 3 ORDER BY id;
SELECT severity, code, revision FROM migr.check();
BEGIN;
DELETE FROM migr.applied WHERE revision = 'c5';
SELECT fresh FROM migr.summary;
ROLLBACK;
-- nothing left to do
CALL migr.apply();
-- revert, one commit per revision, to a target
CALL migr.revert('c2');
SELECT migr.current();
CALL migr.revert();
SELECT migr.current();
-- the same targets and errors as migr.upgrade()
CALL migr.apply('nosuch');
\echo :LAST_ERROR_SQLSTATE
CALL migr.apply(NULL);
\echo :LAST_ERROR_SQLSTATE
-- inside a transaction block: refused at once, nothing done
BEGIN;
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
CALL migr.revert('base');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- from a function: refused too
CREATE FUNCTION call_apply() RETURNS void LANGUAGE plpgsql AS $$ BEGIN CALL migr.apply(); END $$;
SELECT call_apply();
\echo :LAST_ERROR_SQLSTATE
-- a DO block outside a transaction block may CALL it
DO $$ BEGIN CALL migr.apply('c2'); END $$;
SELECT migr.current();
SELECT count(*) AS events FROM migr.event;
-- from revision SQL: refused as every writer is
SELECT migr.revision('c6', 'c5', 'nested', 'CALL migr.apply();', '',
                     create_date => '2025-01-06 00:00:00+00');
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
DELETE FROM migr.migration WHERE id = 'c6';
-- a verify that fails: the revision is rolled back, the failure recorded
SELECT migr.revision('c6', 'c5', 'verified', 'CREATE TABLE c_six (id int);', 'DROP TABLE c_six;',
                     create_date => '2025-01-06 00:00:00+00', verify => $$migr.has_table('c_seven')$$);
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
SELECT revision, outcome, sqlstate, statement_no FROM migr.event ORDER BY id DESC LIMIT 1;
SELECT migr.current();
DELETE FROM migr.migration WHERE id = 'c6';
-- requires that does not hold
SELECT migr.revision('c6', 'c5', 'required', 'CREATE TABLE c_six (id int);', 'DROP TABLE c_six;',
                     create_date => '2025-01-06 00:00:00+00', requires => 'false');
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
SELECT revision, outcome, sqlstate, error FROM migr.event ORDER BY id DESC LIMIT 1;
DELETE FROM migr.migration WHERE id = 'c6';
CALL migr.apply();
-- a downgrade through an irreversible revision is refused before anything runs
SELECT migr.revision('c6', 'c5', 'irreversible', 'CREATE TABLE c_six (id int);',
                     create_date => '2025-01-06 00:00:00+00');
CALL migr.apply();
CALL migr.revert('c4');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.current();

-- non-transactional: declared, statement by statement, resumable
SELECT migr.revision('n1', 'c6', 'backfill in steps',
    $$INSERT INTO call_log (what) VALUES ('step 1');
      INSERT INTO call_log (what) VALUES ('step 2');
      INSERT INTO call_log (what) SELECT 'step 3 ' || (1 / count(*))::text FROM c_gate;
      INSERT INTO call_log (what) VALUES ('step 4');$$,
    $$DELETE FROM call_log;$$,
    create_date => '2025-02-01 00:00:00+00', transactional => false);
CREATE TABLE c_gate (id int);
SELECT step, revision, transactional FROM migr.plan();
SELECT revision, upgrade_transactional, downgrade_transactional FROM migr.history() WHERE revision = 'n1';
-- one transaction cannot run it
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
-- statements 1 and 2 ran and stay; the failure names statement 3
SELECT n, what FROM call_log ORDER BY n;
SELECT revision, direction, statements_done, statements_total FROM migr.progress;
SELECT revision, outcome, sqlstate, statement_no, statement FROM migr.event ORDER BY id DESC LIMIT 1;
SELECT severity, code, revision, message FROM migr.check() WHERE code <> 'irreversible';
-- while it is part way, every other run is refused
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.downgrade('c5');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.stamp('c5');
\echo :LAST_ERROR_SQLSTATE
CALL migr.revert('c5');
\echo :LAST_ERROR_SQLSTATE
-- its content is fixed while it is part way: re-registering it is refused,
-- and a hand edit of the catalog is caught before anything more runs
SELECT migr.revision('n1', 'c6', 'backfill in steps', 'SELECT 1;', 'SELECT 1;',
                     create_date => '2025-02-01 00:00:00+00', transactional => false);
\echo :LAST_ERROR_SQLSTATE
UPDATE migr.migration SET checksum = '\x00' WHERE id = 'n1';
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
UPDATE migr.migration SET checksum = (SELECT checksum FROM migr.revision_progress) WHERE id = 'n1';
-- fixed, it resumes at statement 3: statements 1 and 2 do not run again
INSERT INTO c_gate VALUES (1);
CALL migr.apply();
SELECT n, what FROM call_log ORDER BY n;
SELECT count(*) AS progress_rows FROM migr.progress;
SELECT migr.current();
SELECT revision, operation, outcome, statement_no FROM migr.event ORDER BY id DESC LIMIT 1;
-- and reverts the same way
CALL migr.revert('c6');
SELECT count(*) AS log_rows FROM call_log;
SELECT migr.current();
-- registration says when a body cannot run in one transaction
SELECT migr.revision('n2', 'n1', 'index', 'CREATE INDEX CONCURRENTLY c_gate_id ON c_gate (id);',
                     'DROP INDEX CONCURRENTLY c_gate_id;', create_date => '2025-02-02 00:00:00+00');
SELECT migr.revision('n3', 'n2', 'vacuum', 'SELECT 1; VACUUM c_gate;', 'SELECT 1;',
                     create_date => '2025-02-03 00:00:00+00');
SELECT revision, upgrade_transactional, downgrade_transactional FROM migr.history()
 WHERE revision IN ('n2', 'n3') ORDER BY revision;
SELECT step, revision, transactional FROM migr.plan();
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
-- the reversibility test runs n1 (its statements can run in a transaction)
-- but cannot run n2's CREATE INDEX CONCURRENTLY in its rolled-back one
SELECT step, revision, status, detail FROM migr.test_reversibility();
-- a catalog edited by hand that calls such a revision transactional: the
-- statement is still refused before it runs, and so is transaction control
UPDATE migr.migration SET upgrade_transactional = true WHERE id = 'n2';
DELETE FROM migr.migration WHERE id = 'n3';
UPDATE migr.migration SET transactional = true, upgrade_transactional = true WHERE id = 'n1';
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
UPDATE migr.migration SET upgrade_sql = 'SELECT 1; COMMIT;' WHERE id = 'n2';
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
UPDATE migr.migration SET transactional = false, upgrade_transactional = false WHERE id = 'n1';
DELETE FROM migr.migration WHERE id = 'n2';
SET client_min_messages = warning;
SELECT migr.revision('n2', 'n1', 'index', 'CREATE INDEX CONCURRENTLY c_gate_id ON c_gate (id);',
                     'DROP INDEX CONCURRENTLY c_gate_id;', create_date => '2025-02-02 00:00:00+00');
SELECT migr.revision('n3', 'n2', 'vacuum', 'SELECT 1; VACUUM c_gate;', 'SELECT 1;',
                     create_date => '2025-02-03 00:00:00+00');
SET client_min_messages = notice;
-- a revision changes its mind about transactional => the fields differ
SELECT migr.revision('n3', 'n2', 'vacuum', 'SELECT 1; VACUUM c_gate;', 'SELECT 1;',
                     create_date => '2025-02-03 00:00:00+00', transactional => false);
SELECT transactional FROM migr.migration WHERE id = 'n3';
DELETE FROM migr.migration WHERE id IN ('n2', 'n3');
-- clean up
SELECT revision, operation FROM migr.stamp('base');
DELETE FROM migr.migration;
DROP FUNCTION call_apply();
DROP TABLE call_log, c_missing, c_gate, c_one, c_six;

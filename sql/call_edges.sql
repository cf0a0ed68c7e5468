-- call_edges: CALL mode where a top-level statement's surroundings fail, and
-- statements that must run at top level however they are spelt
SET client_min_messages = notice;

-- An invalid index of the name a CREATE INDEX CONCURRENTLY IF NOT EXISTS
-- gives is dropped before the statement runs.  When that drop fails, the
-- revision has failed: the failure is recorded like the statement's own.
CREATE ROLE regress_migr_ce_owner;
CREATE ROLE regress_migr_ce_caller;
GRANT EXECUTE ON PROCEDURE migr.apply(text) TO regress_migr_ce_caller;
CREATE TABLE ce_t (x int);
INSERT INTO ce_t VALUES (1), (1);
-- a unique index over duplicates: the build fails and leaves it invalid
CREATE UNIQUE INDEX CONCURRENTLY ce_t_x ON ce_t (x);
ALTER TABLE ce_t OWNER TO regress_migr_ce_owner;
SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 'ce_t'::regclass;
SELECT migr.revision('ce1', NULL, 'index',
                     'CREATE INDEX CONCURRENTLY IF NOT EXISTS ce_t_x ON ce_t (x);',
                     'DROP INDEX CONCURRENTLY IF EXISTS ce_t_x;');
-- the caller does not own the invalid index, so it cannot drop it
SET ROLE regress_migr_ce_caller;
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT revision, operation, outcome, sqlstate, statement_no, statement
  FROM migr.event ORDER BY id DESC LIMIT 1;
SELECT migr.current();
SELECT count(*) AS progress_rows FROM migr.progress;
-- the owner can, and then the run goes through
CALL migr.apply();
SELECT migr.current();
SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 'ce_t'::regclass;
SELECT revision, operation FROM migr.stamp('base');
DELETE FROM migr.migration;

-- REINDEX SCHEMA cannot run in a transaction block: registration sees it,
-- and CALL mode hands it to the background worker
CREATE SCHEMA ce_s;
CREATE TABLE ce_s.t (x int PRIMARY KEY);
SELECT migr.revision('ce2', NULL, 'reindex', 'REINDEX SCHEMA ce_s;', 'SELECT 1;');
SELECT revision, upgrade_transactional, downgrade_transactional
  FROM migr.history() WHERE revision = 'ce2';
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
CALL migr.apply();
SELECT migr.current();
SELECT revision, operation, outcome, statement_no FROM migr.event ORDER BY id DESC LIMIT 1;
SELECT revision, operation FROM migr.stamp('base');
DELETE FROM migr.migration;

-- A revision part way through cannot be registered with other content: its
-- committed statements ran from the content it has.  A new parent, say,
-- would put another revision before it in every plan, and every run would
-- be refused.
CREATE TABLE ce_log (n serial, what text);
CREATE TABLE ce_gate (id int);
SELECT migr.revision('ce3', NULL, 'base', 'SELECT 1;', 'SELECT 1;');
SELECT migr.revision('ce4', 'ce3', 'steps',
    $$INSERT INTO ce_log (what) VALUES ('s1');
      INSERT INTO ce_log (what) SELECT 's2 ' || (1 / count(*))::text FROM ce_gate;$$,
    'DELETE FROM ce_log;', transactional => false);
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
SELECT revision, statements_done, statements_total FROM migr.progress;
SELECT migr.revision('ce35', 'ce3', 'a new parent', 'SELECT 1;', 'SELECT 1;');
SELECT migr.revision('ce4', 'ce35', 'steps',
    $$INSERT INTO ce_log (what) VALUES ('s1');
      INSERT INTO ce_log (what) SELECT 's2 ' || (1 / count(*))::text FROM ce_gate;$$,
    'DELETE FROM ce_log;', transactional => false);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('ce4', 'ce3', 'steps',
    $$INSERT INTO ce_log (what) VALUES ('s1');
      INSERT INTO ce_log (what) VALUES ('changed');$$,
    'DELETE FROM ce_log;', transactional => false);
\echo :LAST_ERROR_SQLSTATE
-- unchanged, and identical re-registration is still a no-op
SELECT revises FROM migr.history() WHERE revision = 'ce4';
SELECT migr.revision('ce4', 'ce3', 'steps',
    $$INSERT INTO ce_log (what) VALUES ('s1');
      INSERT INTO ce_log (what) SELECT 's2 ' || (1 / count(*))::text FROM ce_gate;$$,
    'DELETE FROM ce_log;', transactional => false);
INSERT INTO ce_gate VALUES (1);
CALL migr.apply('ce4');
SELECT n, what FROM ce_log ORDER BY n;
SELECT revision, operation FROM migr.stamp('base');
DELETE FROM migr.migration;

-- The checks around a non-transactional revision are never retried: their
-- failure says so, and after verify its committed statements stay
SELECT migr.revision('ce5', NULL, 'requires', 'SELECT 1;', 'SELECT 1;',
                     requires => 'false', transactional => false);
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('ce5', NULL, 'verify', 'CREATE TABLE ce_v (id int);', 'DROP TABLE ce_v;',
                     verify => $$migr.has_table('ce_v2')$$, transactional => false);
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
SELECT revision, outcome, sqlstate, error_detail, error_hint FROM migr.event ORDER BY id DESC LIMIT 2;
SELECT revision, statements_done, statements_total FROM migr.progress;
-- the cause fixed, the run finishes it without running its statement again
CREATE TABLE ce_v2 (id int);
CALL migr.apply();
SELECT migr.current();
SELECT revision, operation FROM migr.stamp('base');
DELETE FROM migr.migration;

-- A named CREATE INDEX CONCURRENTLY without IF NOT EXISTS whose earlier
-- build left an invalid index (a caller killed mid-build): the invalid
-- index is dropped first, so the statement does not fail on it
CREATE TABLE ce_n (x int);
INSERT INTO ce_n VALUES (1), (1);
CREATE UNIQUE INDEX CONCURRENTLY ce_n_x ON ce_n (x);
DELETE FROM ce_n;
SELECT migr.revision('ce6', NULL, 'named', 'CREATE UNIQUE INDEX CONCURRENTLY ce_n_x ON ce_n (x);',
                     'DROP INDEX CONCURRENTLY ce_n_x;');
CALL migr.apply();
SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 'ce_n'::regclass;
SELECT revision, operation FROM migr.stamp('base');
DELETE FROM migr.migration;
-- An unnamed one that fails: its invalid index cannot be told from another
-- session's build, so it is named in a NOTICE and left for the DBA, and
-- migr.check() reports it
DROP INDEX ce_n_x;
INSERT INTO ce_n VALUES (2), (2);
SELECT migr.revision('ce7', NULL, 'unnamed', 'CREATE UNIQUE INDEX CONCURRENTLY ON ce_n (x);',
                     'SELECT 1;');
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
SELECT indexrelid::regclass, indisvalid FROM pg_index WHERE indrelid = 'ce_n'::regclass ORDER BY 1;
SELECT severity, code, message FROM migr.check() WHERE code = 'invalid_index';
DROP INDEX ce_n_x_idx;
SELECT revision, operation FROM migr.stamp('base');
DELETE FROM migr.migration;

-- Revision SQL that lets go of the migration lock the CALL holds fails its
-- step: another runner could have started
SELECT migr.revision('ce8', NULL, 'unlock', 'CREATE TABLE ce_u (id int); SELECT pg_advisory_unlock_all();',
                     'DROP TABLE ce_u;');
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('ce_u') IS NULL AS rolled_back;
SELECT revision, outcome, sqlstate FROM migr.event ORDER BY id DESC LIMIT 1;
SELECT count(*) AS migration_locks FROM pg_locks WHERE locktype = 'advisory' AND objid = 1835624306;
DELETE FROM migr.migration;

-- clean up
DROP TABLE ce_n;
DROP SCHEMA ce_s CASCADE;
DROP TABLE ce_t, ce_log, ce_gate, ce_v, ce_v2;
REVOKE EXECUTE ON PROCEDURE migr.apply(text) FROM regress_migr_ce_caller;
DROP ROLE regress_migr_ce_owner, regress_migr_ce_caller;

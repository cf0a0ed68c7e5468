-- script: migr.script() writes the plan of an upgrade or downgrade as a psql
-- script; the calls it makes into migr refuse a script that does not fit
-- the database, runs out of order or was edited, and record what CALL would
SET client_min_messages = notice;
-- migr.event keeps the events of the tests before this one
SELECT coalesce(max(id), 0) AS first_event FROM migr.event \gset
CREATE TABLE s_data (id int PRIMARY KEY, v int[]);
INSERT INTO s_data VALUES (1, '{1,2,3}');
-- a branch (s2, s3) and a merge (s4); checks; a non-transactional s3; SQL
-- psql could misread (an array slice, a trailing comment, a line starting
-- with a backslash in a dollar quote)
SELECT migr.revision('s1', NULL, 'one', 'CREATE TABLE s_one (id int);', 'DROP TABLE s_one;',
                     create_date => '2025-01-01 00:00:00+00');
SELECT migr.revision('s2', 's1', E'two\r\nlines',
                     $$CREATE VIEW s_slice AS SELECT v[1:n] AS head, v[2:] AS rest FROM s_data, (VALUES (2)) AS k(n);
                       SELECT $x$
\echo not a command$x$ -- trailing comment$$,
                     'DROP VIEW s_slice;', create_date => '2025-01-02 00:00:00+00',
                     requires => $$migr.has_table('s_one')$$,
                     verify => $$migr.has_table('s_slice')$$);
SELECT migr.revision('s3', 's1', 'three', $$CREATE INDEX CONCURRENTLY IF NOT EXISTS s_data_v ON s_data (v);
                                            ALTER TABLE s_data ADD COLUMN w int;$$,
                     'ALTER TABLE s_data DROP COLUMN w; DROP INDEX CONCURRENTLY IF EXISTS s_data_v;',
                     create_date => '2025-01-03 00:00:00+00', verify_down => $$NOT migr.has_column('s_data', 'w')$$);
SELECT migr.revision('s4', 's2, s3', 'merge', 'SELECT 1;', 'SELECT 2;',
                     create_date => '2025-01-04 00:00:00+00', skip_if => 'true');
\pset format unaligned
\pset tuples_only on
SELECT migr.script();
\pset format aligned
\pset tuples_only off
-- the direction is guessed as migr.plan() guesses it
SELECT position('the downgrade to ''base'', 0 steps' IN migr.script('base')) > 0 AS downgrade;
SELECT position('the upgrade to ''s2'', 2 steps' IN migr.script('s2', 'upgrade')) > 0 AS upgrade;
-- refused: an unrecognized direction, NULL target, an unknown target
SELECT migr.script('head', 'sideways');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.script(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.script('nope');
\echo :LAST_ERROR_SQLSTATE

-- the calls without a script running
SELECT migr.script_step(1, 's1', 'upgrade', 'x');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_done(1, 's1');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_end();
\echo :LAST_ERROR_SQLSTATE
-- script_begin: not in a transaction block, not from a function; the plan
-- must be the script's
SELECT substring(migr.script() FROM $$script_begin\('upgrade', 'head', 4, '([0-9a-f]+)'\)$$) AS digest \gset
BEGIN;
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
CREATE FUNCTION s_begin(d text) RETURNS void LANGUAGE plpgsql
    AS $$ BEGIN CALL migr.script_begin('upgrade', 'head', 4, d); END $$;
SELECT s_begin(:'digest');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_begin('upgrade', 'head', 3, :'digest');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_begin('upgrade', 'head', 4, 'f00');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_begin('sideways', 'head', 4, :'digest');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_begin('upgrade', 'head', NULL, :'digest');
\echo :LAST_ERROR_SQLSTATE
SET default_transaction_read_only = on;
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
\echo :LAST_ERROR_SQLSTATE
RESET default_transaction_read_only;
-- nothing was locked by the refused starts
SELECT count(*) AS migration_locks FROM pg_locks WHERE locktype = 'advisory' AND objid = 1835624306;

-- a script that begins, then runs out of order: each error ends it and
-- lets go of the lock
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
SELECT count(*) AS migration_locks FROM pg_locks WHERE locktype = 'advisory' AND objid = 1835624306;
-- migr.progress shows the script as it shows a CALL
SELECT kind, state, pid = pg_backend_pid() AS this_session, revision, direction FROM migr.progress;
SELECT operation, target, step, steps FROM migr.run;
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
\echo :LAST_ERROR_SQLSTATE
-- that error, as every error, ended the script
SELECT count(*) AS migration_locks FROM pg_locks WHERE locktype = 'advisory' AND objid = 1835624306;
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
BEGIN;
SELECT migr.script_step(2, 's3', 'upgrade', 'x');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT count(*) AS migration_locks FROM pg_locks WHERE locktype = 'advisory' AND objid = 1835624306;
SELECT migr.script_step(1, 's1', 'upgrade', 'x');
\echo :LAST_ERROR_SQLSTATE
-- a step's end or a statement when no step runs; a NULL step; the end
-- before the last step; a lock let go between steps
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
CALL migr.script_done(1, 's1');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
SELECT migr.script_step(NULL, 's1', 'upgrade', 'x');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
CALL migr.script_done(NULL, 's1');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
CALL migr.script_end();
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
SELECT pg_advisory_unlock_all();
BEGIN;
SELECT migr.script_step(1, 's1', 'upgrade', 'x');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT count(*) AS migr_script_memory FROM pg_backend_memory_contexts WHERE name = 'migr script';
-- the wrong revision, the wrong checksum, outside its transaction block
SELECT substring(migr.script() FROM $$script_step\(1, 's1', 'upgrade', '([0-9a-f]+)'\)$$) AS sum1 \gset
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
BEGIN;
SELECT migr.script_step(1, 's2', 'upgrade', :'sum1');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
BEGIN;
SELECT migr.script_step(1, 's1', 'upgrade', '00');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
SELECT migr.script_step(1, 's1', 'upgrade', :'sum1');
\echo :LAST_ERROR_SQLSTATE
-- a transactional step cannot commit before its end: its SQL is rolled back
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
BEGIN;
SELECT migr.script_step(1, 's1', 'upgrade', :'sum1');
CREATE TABLE s_one (id int);
CALL migr.script_progress(1, 's1', 1);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
BEGIN;
SELECT migr.script_step(1, 's1', 'upgrade', :'sum1');
CREATE TABLE s_one (id int);
COMMIT;
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('s_one') IS NULL AS rolled_back, (SELECT count(*) FROM migr.applied) AS applied;
-- a migr writer from the revision's SQL is refused, as in CALL mode
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
BEGIN;
SELECT migr.script_step(1, 's1', 'upgrade', :'sum1');
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- so is SQL that lets go of the migration lock
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
BEGIN;
SELECT migr.script_step(1, 's1', 'upgrade', :'sum1');
SELECT pg_advisory_unlock_all();
CALL migr.script_done(1, 's1');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- step 1 whole, then s3 (non-transactional): not in a transaction block,
-- its statements in order, all of them before its end
CALL migr.script_begin('upgrade', 'head', 4, :'digest');
BEGIN;
SELECT migr.script_step(1, 's1', 'upgrade', :'sum1');
CREATE TABLE s_one (id int);
CALL migr.script_done(1, 's1');
COMMIT;
SELECT substring(migr.script() FROM $$script_step\(1, 's3', 'upgrade', '([0-9a-f]+)'\)$$) AS sum3 \gset
BEGIN;
SELECT migr.script_step(2, 's3', 'upgrade', :'sum3');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- that ended the script; step 1 stays applied
SELECT migr.current();
SELECT substring(migr.script() FROM $$script_begin\('upgrade', 'head', 3, '([0-9a-f]+)'\)$$) AS digest \gset
CALL migr.script_begin('upgrade', 'head', 3, :'digest');
SELECT migr.script_step(1, 's3', 'upgrade', :'sum3');
CALL migr.script_done(1, 's3');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_begin('upgrade', 'head', 3, :'digest');
SELECT migr.script_step(1, 's3', 'upgrade', :'sum3');
CALL migr.script_progress(1, 's3', 2);
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_progress(1, 's3', NULL);
\echo :LAST_ERROR_SQLSTATE
-- the end of another step, or of another revision
CALL migr.script_begin('upgrade', 'head', 3, :'digest');
SELECT migr.script_step(1, 's3', 'upgrade', :'sum3');
CALL migr.script_done(2, 's2');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_begin('upgrade', 'head', 3, :'digest');
SELECT migr.script_step(1, 's3', 'upgrade', :'sum3');
CALL migr.script_progress(1, 's2', 1);
\echo :LAST_ERROR_SQLSTATE
-- a CREATE INDEX CONCURRENTLY IF NOT EXISTS that keeps an invalid index
-- left by a failed build is not counted as run
INSERT INTO s_data VALUES (2, '{1,2,3}');
CREATE UNIQUE INDEX CONCURRENTLY s_data_v ON s_data (v);
DELETE FROM s_data WHERE id = 2;
CALL migr.script_begin('upgrade', 'head', 3, :'digest');
SELECT migr.script_step(1, 's3', 'upgrade', :'sum3');
CREATE INDEX CONCURRENTLY IF NOT EXISTS s_data_v ON s_data (v);
CALL migr.script_progress(1, 's3', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT revision, statements_done FROM migr.revision_progress;
DROP INDEX s_data_v;

-- a script stops at its first error: s3's second statement fails (the
-- column is there already), and s3 stays part way, as after CALL
DROP TABLE s_one;
ALTER TABLE s_data ADD COLUMN w int;
\pset format unaligned
\pset tuples_only on
\o results/script_part.sql
SELECT migr.script('head');
\o
\pset format aligned
\pset tuples_only off
\i results/script_part.sql
\set ON_ERROR_STOP off
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT migr.current();
SELECT revision, statements_done, statements_total FROM migr.revision_progress;
SELECT count(*) AS migration_locks FROM pg_locks WHERE locktype = 'advisory' AND objid = 1835624306;
-- while s3 is part way, no script of a plan that does not continue it
SELECT migr.script('s1', 'downgrade');
\echo :LAST_ERROR_SQLSTATE
-- a new script resumes s3 at its second statement, then stops where s2's
-- requires does not hold (MG004)
ALTER TABLE s_data DROP COLUMN w;
\pset format unaligned
\pset tuples_only on
\o results/script_resume.sql
SELECT migr.script('head');
\o
\pset format aligned
\pset tuples_only off
\i results/script_resume.sql
\set ON_ERROR_STOP off
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT migr.current();
SELECT count(*) AS progress_rows FROM migr.revision_progress;
-- a third script finishes: s2, then s4, which skip_if skips
CREATE TABLE s_one (id int);
-- psql has a variable n: s2's "v[1:n]" must still reach the server as such
\set n 3
\pset format unaligned
\pset tuples_only on
\o results/script_rest.sql
SELECT migr.script('head');
\o
\pset format aligned
\pset tuples_only off
\i results/script_rest.sql
\set ON_ERROR_STOP off
SELECT revision, operation, outcome, heads_before, heads_after, statement_no,
       fingerprint IS NOT NULL AS fingerprint
  FROM migr.event WHERE id > :first_event ORDER BY id;
SELECT fresh, current_heads FROM migr.summary;
SELECT severity, code, revision FROM migr.check();
SELECT * FROM s_slice;
\unset n
-- run again, it refuses at its start and changes nothing
\i results/script_rest.sql
\set ON_ERROR_STOP off
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS events FROM migr.event WHERE id > :first_event;
-- the script of nothing to do has no step
SELECT substring(migr.script('head', 'upgrade') FROM $$script_begin\('upgrade', 'head', 0, '([0-9a-f]+)'\)$$) AS digest \gset
CALL migr.script_begin('upgrade', 'head', 0, :'digest');
SELECT migr.script_step(1, 's2', 'upgrade', 'x');
\echo :LAST_ERROR_SQLSTATE
CALL migr.script_begin('upgrade', 'head', 0, :'digest');
CALL migr.script_end();
SELECT count(*) AS migration_locks FROM pg_locks WHERE locktype = 'advisory' AND objid = 1835624306;

-- the downgrade, as a script
\pset format unaligned
\pset tuples_only on
\o results/script_down.sql
SELECT migr.script('s1', 'downgrade');
\o
\pset format aligned
\pset tuples_only off
\i results/script_down.sql
\set ON_ERROR_STOP off
SELECT migr.current();
SELECT revision, operation, heads_before, heads_after, statement_no FROM migr.event
 WHERE id > :first_event AND operation = 'downgrade' ORDER BY id;
-- a verify_down that does not hold fails the step's end (MG005); here the
-- script was edited to leave out the statement that drops the column
SELECT revision, operation FROM migr.stamp('s4');
ALTER TABLE s_data ADD COLUMN w int;
CREATE VIEW s_slice AS SELECT 1 AS one;
\pset format unaligned
\pset tuples_only on
\o results/script_down2.sql
SELECT regexp_replace(migr.script('s1', 'downgrade'), 'ALTER TABLE s_data DROP COLUMN w;\n', '');
\o
\pset format aligned
\pset tuples_only off
\i results/script_down2.sql
\set ON_ERROR_STOP off
\echo :LAST_ERROR_SQLSTATE
SELECT migr.current();
SELECT revision, direction, statements_done, statements_total FROM migr.revision_progress;
DELETE FROM migr.revision_progress;
-- an irreversible step: no script (MG002)
SELECT migr.revision('s5', 's4', 'five', 'SELECT 5;', create_date => '2025-01-05 00:00:00+00');
SELECT revision, operation FROM migr.stamp('s5');
SELECT migr.script('s4');
\echo :LAST_ERROR_SQLSTATE

-- clean up
SELECT revision, operation FROM migr.stamp('base');
DELETE FROM migr.migration;
DROP FUNCTION s_begin(text);
DROP TABLE s_data, s_one;

-- ALTER EXTENSION migr UPDATE from 0.2.0 grants the script's calls, and the
-- batch jobs revisions may run, to the roles that may CALL migr.apply() or
-- migr.revert(), and to no one else
SET client_min_messages = warning;
DROP EXTENSION migr;
CREATE EXTENSION migr VERSION '0.2.0';
CREATE ROLE regress_migr_scripter;
CREATE ROLE regress_migr_reader;
GRANT EXECUTE ON PROCEDURE migr.apply(text) TO regress_migr_scripter;
ALTER EXTENSION migr UPDATE;
SELECT r.rolname,
       has_function_privilege(r.rolname, 'migr.script(text, text)', 'EXECUTE') AS script,
       has_function_privilege(r.rolname, 'migr.script_begin(text, text, int4, text)', 'EXECUTE') AS script_begin,
       has_function_privilege(r.rolname, 'migr.script_step(int4, text, text, text)', 'EXECUTE') AS script_step,
       has_function_privilege(r.rolname, 'migr.script_progress(int4, text, int4)', 'EXECUTE') AS script_progress,
       has_function_privilege(r.rolname, 'migr.script_done(int4, text)', 'EXECUTE') AS script_done,
       has_function_privilege(r.rolname, 'migr.script_end()', 'EXECUTE') AS script_end,
       has_function_privilege(r.rolname, 'migr.batch_update(regclass, text, text, int4, text, interval, interval, text, boolean)',
                              'EXECUTE') AS batch_update,
       has_function_privilege(r.rolname, 'migr.batch(regclass, text, text, int4, text, interval, interval, text, boolean)',
                              'EXECUTE') AS batch
  FROM pg_roles r WHERE r.rolname IN ('regress_migr_scripter', 'regress_migr_reader') ORDER BY 1;
DROP EXTENSION migr;
CREATE EXTENSION migr;
DROP ROLE regress_migr_scripter, regress_migr_reader;

-- lock_safety: migr.lock_timeout and migr.statement_timeout, which apply to
-- each statement migr runs for a revision (a body statement or a check).
-- Lock timeouts need a second session: test/specs/lock_timeout.spec.
SET client_min_messages = warning;
SELECT count(*) FROM migr.current();  -- loads the library

--
-- The settings: defaults, SET, invalid values, a misspelt name
--
SHOW migr.lock_timeout;
SHOW migr.statement_timeout;
SET migr.lock_timeout = '2s';
SHOW migr.lock_timeout;
SET migr.statement_timeout = 1500;
SHOW migr.statement_timeout;
RESET migr.lock_timeout;
RESET migr.statement_timeout;
SET migr.lock_timeout = -1;
\echo :LAST_ERROR_SQLSTATE
SET migr.statement_timeout = 'soon';
\echo :LAST_ERROR_SQLSTATE
SET migr.statement_timout = '1s';
\echo :LAST_ERROR_SQLSTATE

--
-- migr.statement_timeout
--
CREATE TABLE ls_log (step text, lock_timeout text);
-- a statement over the limit: 57014 with migr's message, the context names
-- the revision and the statement, and nothing is applied
SELECT migr.revision('ls1', NULL, 'slow', 'CREATE TABLE ls_made (id int); SELECT pg_sleep(2);',
                     'DROP TABLE ls_made;', create_date => '2024-01-01');
SET migr.statement_timeout = '200ms';
SELECT revision, operation FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.current() AS head;
SELECT to_regclass('ls_made') IS NULL AS not_made;
-- the limit is per statement: three statements of 0.3 s each pass under a
-- limit of 0.5 s, though the whole call takes longer than that
SELECT migr.revision('ls1', NULL, 'slow', 'SELECT pg_sleep(0.3); SELECT pg_sleep(0.3); SELECT pg_sleep(0.3);',
                     'SELECT 1;', create_date => '2024-01-01');
SET migr.statement_timeout = '500ms';
SELECT clock_timestamp() AS t0 \gset
SELECT revision, operation FROM migr.upgrade();
SELECT clock_timestamp() - :'t0'::timestamptz > interval '500 ms' AS took_longer_than_limit;
SELECT revision, operation FROM migr.downgrade('base');
-- off by default: the same revision and one second's statement run
RESET migr.statement_timeout;
SHOW migr.statement_timeout;
SELECT migr.revision('ls2', 'ls1', 'one second', 'SELECT pg_sleep(1);', 'SELECT 1;',
                     create_date => '2024-01-02');
SELECT revision, operation FROM migr.upgrade();
-- a check is limited too
SELECT migr.revision('ls3', 'ls2', 'slow check', 'SELECT 1;', 'SELECT 1;',
                     verify => '(SELECT true FROM pg_sleep(2))', create_date => '2024-01-03');
SET migr.statement_timeout = '200ms';
SELECT revision, operation FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.current() AS head;
-- a cancel that is not migr's keeps PostgreSQL's message: the user's ...
SELECT migr.revision('ls3', 'ls2', 'cancelled', 'SELECT pg_cancel_backend(pg_backend_pid()); SELECT pg_sleep(2);',
                     'SELECT 1;', create_date => '2024-01-03');
SET migr.statement_timeout = '1min';
SELECT revision, operation FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
-- ... and the server's statement_timeout, when it comes first
SELECT migr.revision('ls3', 'ls2', 'slow', 'SELECT pg_sleep(2);', 'SELECT 1;', create_date => '2024-01-03');
SET statement_timeout = '300ms';
SELECT revision, operation FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
-- migr's cancel is query_canceled to PL/pgSQL, with migr's message
SET migr.statement_timeout = '200ms';
DO $$
BEGIN
  PERFORM migr.upgrade();
EXCEPTION WHEN query_canceled THEN
  RAISE WARNING 'caught: %', SQLERRM;
END $$;
RESET migr.statement_timeout;
SELECT * FROM migr.current() AS head;

--
-- migr.lock_timeout: each statement runs with it as lock_timeout, and the
-- session's lock_timeout comes back afterwards, error or not
--
SET lock_timeout = '7s';
SELECT migr.revision('ls3', 'ls2', 'records lock_timeout',
                     $$INSERT INTO ls_log SELECT 'ls3 up', current_setting('lock_timeout');$$,
                     $$INSERT INTO ls_log SELECT 'ls3 down', current_setting('lock_timeout');$$,
                     create_date => '2024-01-03',
                     verify => $$(SELECT true FROM ls_log WHERE step = 'ls3 up'
                                   AND current_setting('lock_timeout') = '5s')$$);
SELECT revision, operation FROM migr.upgrade();
SHOW lock_timeout;
SET migr.lock_timeout = '250ms';
SELECT revision, operation FROM migr.downgrade('ls2');
SHOW lock_timeout;
-- 0: the session's own lock_timeout (here, the verify check fails)
SET migr.lock_timeout = 0;
SELECT revision, operation FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
SHOW lock_timeout;
SELECT step, lock_timeout FROM ls_log ORDER BY step;
-- a body can change the setting for its later statements; SET LOCAL ends
-- with the transaction.  A body's SET lock_timeout stays in the session, as
-- any SET in a body does, but migr's statements keep migr.lock_timeout.
TRUNCATE ls_log;
RESET migr.lock_timeout;
SELECT migr.revision('ls4', 'ls3', 'own timeout',
                     $$SET lock_timeout = '2s';
                       INSERT INTO ls_log SELECT 'ls4 before', current_setting('lock_timeout');
                       SET LOCAL migr.lock_timeout = '30s';
                       INSERT INTO ls_log SELECT 'ls4 after', current_setting('lock_timeout');$$,
                     'SELECT 1;', create_date => '2024-01-04');
SELECT revision, operation FROM migr.upgrade();
SELECT step, lock_timeout FROM ls_log ORDER BY step;
SHOW migr.lock_timeout;
SHOW lock_timeout;
SET lock_timeout = '7s';
-- an error in a body restores lock_timeout too, also inside a transaction
-- block that goes on after a savepoint
SELECT migr.revision('ls5', 'ls4', 'fails', 'SELECT 1; SELECT 1/0;', 'SELECT 1;',
                     create_date => '2024-01-05');
SELECT revision, operation FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
SHOW lock_timeout;
BEGIN;
SAVEPOINT s;
SELECT revision, operation FROM migr.upgrade();
ROLLBACK TO SAVEPOINT s;
SHOW lock_timeout;
-- and after a step that worked, in the same transaction
SELECT revision, operation FROM migr.downgrade('ls3');
SHOW lock_timeout;
ROLLBACK;

-- a cancel is never swallowed as an answer: a skip_if that outlasts the
-- caller's statement_timeout stops migr.plan() with 57014 (it evaluates
-- checks in subtransactions that catch errors), and a body that outlasts it
-- stops migr.test_reversibility(), leaving no subtransaction open behind
SELECT revision, operation FROM migr.stamp('base');
DELETE FROM migr.migration;
SELECT migr.revision('sl1', NULL, 'slow check', 'SELECT 1;', 'SELECT 1;',
                     create_date => '2024-03-01 00:00:00+00',
                     skip_if => '(SELECT false FROM pg_sleep(2))');
SELECT migr.revision('sl2', 'sl1', 'slow body', 'SELECT pg_sleep(2);', 'SELECT 1;',
                     create_date => '2024-03-02 00:00:00+00');
SET statement_timeout = '300ms';
-- terse: under valgrind the timeout may fire elsewhere in the call
\set VERBOSITY terse
SELECT step, revision, would_skip FROM migr.plan();
\echo :LAST_ERROR_SQLSTATE
SELECT step, revision, status FROM migr.test_reversibility();
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
RESET statement_timeout;
DELETE FROM migr.migration;

DROP TABLE ls_log;
RESET lock_timeout;
DROP EXTENSION migr;
CREATE EXTENSION migr;

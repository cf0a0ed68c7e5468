-- batch jobs: CALL migr.batch_update() and migr.batch() walk a table in key
-- order, one committed batch at a time, and resume where they stopped
SET client_min_messages = notice;
SET migr.progress_interval = 0;
CREATE TABLE bt (id bigint PRIMARY KEY, v int NOT NULL DEFAULT 0, note text);
INSERT INTO bt (id) SELECT g FROM generate_series(1, 10000) g;

-- every row once, in batches of 1000 (target_time 0: the size stays)
CALL migr.batch_update('bt', 'v = v + 1', batch_size => 1000, target_time => '0');
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) FILTER (WHERE v <> 1) AS other FROM bt;
SELECT revision, name, kind, relation, sql, where_clause, key_columns, state, rows_done,
       batches_done, rows_total, last_key, batch_size, finished_at IS NOT NULL AS finished,
       pid = pg_backend_pid() AS mine
  FROM migr.batch_job;
-- a finished job is not run again: the same call says so and does nothing
CALL migr.batch_update('bt', 'v = v + 1', batch_size => 1000, target_time => '0');
SELECT sum(v) FROM bt;
-- unless asked to start over
CALL migr.batch_update('bt', 'v = v + 1', batch_size => 1000, target_time => '0', restart => true);
SELECT count(*) FILTER (WHERE v = 2) AS twice, count(*) FILTER (WHERE v <> 2) AS other FROM bt;
-- the view lists running and interrupted work only
SELECT count(*) FROM migr.progress;

-- where_clause: rows that do not match are left alone, and a batch holds
-- batch_size matching rows
CALL migr.batch_update('bt', 'v = 0', where_clause => 'id % 4 = 0', batch_size => 1000,
                       target_time => '0');
SELECT count(*) FILTER (WHERE v = 0) AS reset, count(*) FILTER (WHERE v = 2) AS kept FROM bt;
SELECT rows_done, batches_done, rows_total FROM migr.batch_job WHERE where_clause = 'id % 4 = 0';

-- a failure half-way through: the batches before it stay committed, the
-- job says where it stopped, and a second call goes on from there
CREATE TABLE bt_ctl (fail_at bigint);
INSERT INTO bt_ctl VALUES (5500);
CREATE FUNCTION bt_fail_if(bigint) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  IF $1 = (SELECT fail_at FROM bt_ctl) THEN
    RAISE EXCEPTION 'injected failure at id %', $1;
  END IF;
  RETURN 0;
END $$;
UPDATE bt SET v = 0;
CALL migr.batch_update('bt', 'v = v + 1 + bt_fail_if(id)', batch_size => 1000,
                       target_time => '0', name => 'injected');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) FILTER (WHERE v = 0) AS none,
       count(*) FILTER (WHERE v > 1) AS more, max(id) FILTER (WHERE v = 1) AS last_done FROM bt;
SELECT state, rows_done, batches_done, last_key, sqlstate, error FROM migr.batch_job WHERE name = 'injected';
SELECT kind, state, job, relation, rows_done, rows_total, percent, last_key, error
  FROM migr.progress;
-- migr.check() reports it
SELECT severity, code, revision, message, detail FROM migr.check() WHERE code = 'unfinished_batch_job';
-- the cause fixed, the same call resumes after key 5000: no row twice, none missed
DELETE FROM bt_ctl;
CALL migr.batch_update('bt', 'v = v + 1 + bt_fail_if(id)', batch_size => 1000,
                       target_time => '0', name => 'injected');
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) FILTER (WHERE v <> 1) AS other FROM bt;
SELECT state, rows_done, batches_done, sqlstate FROM migr.batch_job WHERE name = 'injected';
-- a name stands for one job: other arguments under it are refused ...
CALL migr.batch_update('bt', 'v = 7', name => 'injected');
\echo :LAST_ERROR_SQLSTATE
-- ... unless restarting it, which replaces them
CALL migr.batch_update('bt', 'note = ''x''', where_clause => 'id <= 10', name => 'injected',
                       restart => true);
SELECT count(note) FROM bt;
SELECT sql, where_clause, state, rows_done FROM migr.batch_job WHERE name = 'injected';
SELECT count(*) AS unfinished FROM migr.check() WHERE code = 'unfinished_batch_job';

-- a composite key: a unique index of two NOT NULL columns, walked in its order
CREATE TABLE bt_comp (a int NOT NULL, b text NOT NULL, v int NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX bt_comp_ab ON bt_comp (a, b);
INSERT INTO bt_comp (a, b) SELECT g % 7, 'k' || g FROM generate_series(1, 5000) g;
CALL migr.batch_update('bt_comp', 'v = v + 1', batch_size => 333, key => 'a, b',
                       target_time => '0');
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) FILTER (WHERE v <> 1) AS other FROM bt_comp;
SELECT key_columns, batches_done, last_key FROM migr.batch_job WHERE relation = 'public.bt_comp';
-- a quoted column name in a key
CREATE TABLE bt_quoted ("Key Col" int PRIMARY KEY, v int);
INSERT INTO bt_quoted SELECT g, 0 FROM generate_series(1, 50) g;
CALL migr.batch_update('bt_quoted', 'v = 1', batch_size => 20, key => '"Key Col"', target_time => '0');
SELECT count(*) FILTER (WHERE v = 1) FROM bt_quoted;

-- the size adapts: batches far below target_time double (at most twice
-- the size of the batch before): 100, 200, 400, ... until the table ends
CREATE TABLE bt_grow (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO bt_grow (id) SELECT g FROM generate_series(1, 10000) g;
CALL migr.batch_update('bt_grow', 'v = v + 1', batch_size => 100, target_time => '60s');
SELECT rows_done, batches_done, batch_size FROM migr.batch_job WHERE relation = 'public.bt_grow';
-- and batches above it halve, down to a hundredth of batch_size
-- (how many batches that takes depends on the machine: no NOTICE here)
SET client_min_messages = warning;
CALL migr.batch_update('bt_grow', 'v = v + 1 + (SELECT 0 FROM pg_sleep(0.0002))',
                       where_clause => 'id <= 3000', batch_size => 1000, target_time => '1ms');
RESET client_min_messages;
SELECT rows_done, batch_size <= 20 AS shrunk, batches_done > 100 AS many
  FROM migr.batch_job WHERE where_clause = 'id <= 3000';
SELECT count(*) FILTER (WHERE v = 2) AS twice, count(*) FILTER (WHERE v = 1) AS once FROM bt_grow;

-- a batch of more keys than are read at a time (10,000): its first and last
-- keys still bound the UPDATE
CREATE TABLE bt_big (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO bt_big (id) SELECT g FROM generate_series(1, 30000) g;
CALL migr.batch_update('bt_big', 'v = v + 1', batch_size => 25000, target_time => '0');
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) FILTER (WHERE v <> 1) AS other FROM bt_big;
SELECT batches_done, last_key FROM migr.batch_job WHERE relation = 'public.bt_big';
-- a key whose type changed since the job stopped is refused: its last key
-- was written for the old type
UPDATE bt_big SET v = 0;
INSERT INTO bt_ctl VALUES (12345);
CALL migr.batch_update('bt_big', 'v = v + 1 + bt_fail_if(id)', batch_size => 10000,
                       target_time => '0', name => 'retyped');
ALTER TABLE bt_big ALTER COLUMN id TYPE bigint;
DELETE FROM bt_ctl;
CALL migr.batch_update('bt_big', 'v = v + 1 + bt_fail_if(id)', batch_size => 10000,
                       target_time => '0', name => 'retyped');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt_big', 'v = v + 1 + bt_fail_if(id)', batch_size => 10000,
                       target_time => '0', name => 'retyped', restart => true);
SELECT key_types, rows_done FROM migr.batch_job WHERE name = 'retyped';
DROP TABLE bt_big;

-- pause: a sleep between batches (three batches, so two pauses of a second)
CREATE TABLE bt_pause (id int PRIMARY KEY, v int);
INSERT INTO bt_pause SELECT g, 0 FROM generate_series(1, 25) g;
SELECT clock_timestamp() AS t0 \gset
CALL migr.batch_update('bt_pause', 'v = 1', batch_size => 10, pause => '1s', target_time => '0');
SELECT clock_timestamp() - :'t0'::timestamptz >= interval '2s' AS paused;

-- migr.batch: any statement per batch, the batch's first and last key bound
-- as $1 and $2: here a copy into a new table
CREATE TABLE bt_copy (id bigint PRIMARY KEY, v int);
CALL migr.batch('bt', 'INSERT INTO bt_copy SELECT id, v * 10 FROM bt WHERE id BETWEEN $1 AND $2',
                batch_size => 2500, target_time => '0');
SELECT count(*), sum(v) FROM bt_copy;
SELECT kind, rows_done, batches_done FROM migr.batch_job WHERE kind = 'sql';
-- with a composite key, $1, $2 are the first key and $3, $4 the last
CREATE TABLE bt_comp_copy (a int, b text);
CALL migr.batch('bt_comp', 'INSERT INTO bt_comp_copy SELECT a, b FROM bt_comp WHERE (a, b) BETWEEN ($1, $2) AND ($3, $4)',
                batch_size => 1000, key => 'a, b', target_time => '0');
SELECT count(*), count(DISTINCT (a, b)) FROM bt_comp_copy;
-- a DELETE in batches, of the rows matching where_clause
CALL migr.batch('bt_copy', 'DELETE FROM bt_copy WHERE id BETWEEN $1 AND $2 AND id > 9000',
                where_clause => 'id > 9000', batch_size => 400, target_time => '0');
SELECT count(*) FROM bt_copy;

-- inside a transaction block the batches are not committed one by one,
-- and say so; a rollback takes everything back, the job's row too
BEGIN;
CALL migr.batch_update('bt', 'v = v + 100', batch_size => 4000, target_time => '0', name => 'in_block');
SELECT count(*) FILTER (WHERE v = 101) FROM bt;
ROLLBACK;
SELECT count(*) FILTER (WHERE v = 1) AS untouched FROM bt;
SELECT count(*) FROM migr.batch_job WHERE name = 'in_block';

-- what is refused, before anything runs
CREATE TABLE bt_nokey (a int, b int);
CALL migr.batch_update('bt_nokey', 'a = 1');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE bt_nullable (a int UNIQUE, b int);
CALL migr.batch_update('bt_nullable', 'b = 1', key => 'a');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt_comp', 'v = 1', key => 'b, a');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt_comp', 'v = 1', key => 'a');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1', key => 'nosuch');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1', key => 'id,');
\echo :LAST_ERROR_SQLSTATE
CREATE VIEW bt_view AS SELECT * FROM bt;
CALL migr.batch_update('bt_view', 'v = 1');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update(NULL, 'v = 1');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', NULL);
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1', batch_size => 0);
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1', pause => '-1s');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1', name => '');
\echo :LAST_ERROR_SQLSTATE
-- clauses cannot reach outside their place in migr's statement
CALL migr.batch_update('bt', ' ');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1 WHERE id = 1');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1) WHERE (true');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1; DROP TABLE bt');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1', where_clause => 'true) OR (true');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1', where_clause => 'true, false');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1', where_clause => 'true FROM pg_class');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1', where_clause => 'true --', target_time => '0');
SELECT count(*) FILTER (WHERE v = 1) = 10000 AS a_comment_is_harmless FROM bt;
CALL migr.batch('bt', 'SELECT 1; SELECT 2');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch('bt', 'SELECT $3');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1, id = id + 1000000');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt_comp', '(v, b) = (1, b || ''x'')', key => 'a, b');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'v = 1', key => 'a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,aa,ab,ac,ad,ae,af,ag');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('bt', 'nosuch = 1');
\echo :LAST_ERROR_SQLSTATE
-- none of these wrote the catalog
SELECT count(*) FROM migr.batch_job WHERE state <> 'done';

-- in revision SQL: a job belongs to its revision.  In migr.upgrade() (one
-- transaction) it runs without commits; once the revision's step is
-- recorded its job is forgotten, so running the revision again runs it again
UPDATE bt SET v = 0;
SELECT migr.revision('bt_r1', NULL, 'backfill in one transaction',
    $$CALL migr.batch_update('bt', 'v = v + 1', batch_size => 3000, target_time => '0');$$,
    $$CALL migr.batch_update('bt', 'v = v - 1', batch_size => 3000, target_time => '0');$$);
SELECT revision, operation FROM migr.upgrade();
SELECT sum(v) FROM bt;
SELECT count(*) FROM migr.batch_job WHERE revision = 'bt_r1';
SELECT revision, operation FROM migr.downgrade('base');
SELECT revision, operation FROM migr.upgrade();
SELECT sum(v) FROM bt;

-- in a non-transactional revision run by CALL migr.apply(), each batch
-- commits; a failure stops the revision at that statement, with the batches
-- before it committed, and CALL migr.apply() goes on from the last one
INSERT INTO bt_ctl VALUES (7001);
SELECT migr.revision('bt_r2', 'bt_r1', 'backfill, committed as it goes',
    $$CALL migr.batch_update('bt', 'v = v + 1 + bt_fail_if(id)', batch_size => 1000, target_time => '0');
      CREATE TABLE bt_after ();$$,
    $$DROP TABLE bt_after;$$, transactional => false);
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FILTER (WHERE v = 2) AS done, count(*) FILTER (WHERE v = 1) AS pending FROM bt;
SELECT revision, state, rows_done, last_key, sqlstate FROM migr.batch_job WHERE revision = 'bt_r2';
SELECT kind, state, revision, rows_done, error FROM migr.progress ORDER BY kind;
SELECT revision, operation, outcome, sqlstate, statement_no FROM migr.event
 WHERE revision = 'bt_r2' ORDER BY id;
DELETE FROM bt_ctl;
CALL migr.apply();
SELECT count(*) FILTER (WHERE v = 2) AS done, count(*) FILTER (WHERE v <> 2) AS other FROM bt;
SELECT count(*) FROM migr.batch_job WHERE revision = 'bt_r2';
SELECT count(*) FROM migr.progress;
SELECT revision, operation, outcome, statement_no FROM migr.event WHERE revision = 'bt_r2' ORDER BY id;
-- unqualified, the CALL could be any procedure: it runs in the revision's
-- statement and so without commits (a NOTICE says so)
SELECT migr.revision('bt_r3', 'bt_r2', 'unqualified',
    $$CALL batch_update('public.bt', 'v = v + 1', batch_size => 5000, target_time => '0');
      SELECT 1;$$,
    $$SELECT 1;$$, transactional => false);
SET search_path = public, migr;
CALL migr.apply();
RESET search_path;
SELECT count(*) FILTER (WHERE v = 3) FROM bt;

-- a deploy role needs EXECUTE and rights on the table, none on the catalog
CREATE ROLE regress_migr_batcher;
GRANT EXECUTE ON PROCEDURE migr.batch_update(regclass, text, text, int4, text, interval, interval, text, boolean)
  TO regress_migr_batcher;
GRANT SELECT, UPDATE ON bt_pause TO regress_migr_batcher;
SET ROLE regress_migr_batcher;
CALL migr.batch_update('bt_pause', 'v = 3', batch_size => 10, target_time => '0');
INSERT INTO migr.batch_job (name, kind, relid, relation, sql, where_clause, key_columns,
                            batch_size, state, started_at, resumed_at, updated_at)
VALUES ('forged', 'update', 0, 'x', 'x', 'true', '{}', 1, 'done', now(), now(), now());
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch('bt_pause', 'DELETE FROM bt_pause WHERE id BETWEEN $1 AND $2');
\echo :LAST_ERROR_SQLSTATE
-- the job's SQL runs as the caller: no rights on a table, no batches
CALL migr.batch_update('bt', 'v = 0');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) FILTER (WHERE v = 3) FROM bt_pause;
REVOKE ALL ON bt_pause FROM regress_migr_batcher;
REVOKE EXECUTE ON PROCEDURE migr.batch_update(regclass, text, text, int4, text, interval, interval, text, boolean)
  FROM regress_migr_batcher;
DROP ROLE regress_migr_batcher;

-- a job run in the caller's transaction keeps its lock until the end of
-- the transaction: the same job may still run again in it, and the stairway
-- test upgrades a revision with a batch job twice (each upgrade forgets
-- the job, as recording a step does)
CREATE TABLE bt_twice (id int PRIMARY KEY, v int);
INSERT INTO bt_twice SELECT g, NULL FROM generate_series(1, 100) g;
BEGIN;
CALL migr.batch_update('bt_twice', 'v = 1', where_clause => 'v IS NULL', name => 'twice');
UPDATE bt_twice SET v = NULL WHERE id <= 10;
CALL migr.batch_update('bt_twice', 'v = 1', where_clause => 'v IS NULL', name => 'twice', restart => true);
COMMIT;
SELECT count(*) FILTER (WHERE v = 1) AS filled FROM bt_twice;
SELECT migr.revision('bt_fill', NULL, 'fill',
  $$CALL migr.batch_update('public.bt_twice', 'v = 2', where_clause => 'v IS DISTINCT FROM 2');$$,
  $$CALL migr.batch_update('public.bt_twice', 'v = 1', where_clause => 'v IS DISTINCT FROM 1');$$,
  transactional => false);
-- each of the three steps runs its job: "finished", never "finished before"
SELECT step, revision, status, detail FROM migr.test_reversibility('bt_fill');
SELECT count(*) FILTER (WHERE v = 1) AS untouched FROM bt_twice;
SELECT count(*) AS jobs_left FROM migr.batch_job WHERE revision = 'bt_fill';
DELETE FROM migr.migration WHERE id = 'bt_fill';

-- clean up for the tests after this one
CALL migr.revert('base');
DELETE FROM migr.migration;
DROP TABLE bt, bt_ctl, bt_comp, bt_quoted, bt_grow, bt_pause, bt_copy, bt_comp_copy,
           bt_nokey, bt_nullable, bt_twice CASCADE;
DROP FUNCTION bt_fail_if(bigint);

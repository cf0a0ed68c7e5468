-- batch jobs under attack: inputs a new user or a hostile caller may pass,
-- and the states a table can be in, that sql/batch.sql does not try
SET client_min_messages = notice;
SET migr.progress_interval = 0;

-- ba_fail(k): fails on the key stored in ba_ctl (as text, whatever its type)
CREATE TABLE ba_ctl (fail_at text);
CREATE FUNCTION ba_fail(anyelement) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  IF $1::text = (SELECT fail_at FROM ba_ctl) THEN
    RAISE EXCEPTION 'injected failure at %', $1;
  END IF;
  RETURN 0;
END $$;

-- the row estimate of a partitioned table, and of a table over 10 MB with a
-- where_clause, comes from EXPLAIN: the job runs
CREATE TABLE ba_part (region text NOT NULL, id int NOT NULL, v int NOT NULL DEFAULT 0,
                      PRIMARY KEY (region, id)) PARTITION BY LIST (region);
CREATE TABLE ba_part_a PARTITION OF ba_part FOR VALUES IN ('a');
CREATE TABLE ba_part_b PARTITION OF ba_part FOR VALUES IN ('b');
INSERT INTO ba_part (region, id) SELECT CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END, g
  FROM generate_series(1, 1000) g;
CALL migr.batch_update('ba_part', 'v = v + 1', batch_size => 70, target_time => '0');
CALL migr.batch_update('ba_part', 'v = v + 1', where_clause => 'id <= 100', batch_size => 70,
                       target_time => '0');
SELECT v, count(*) FROM ba_part GROUP BY v ORDER BY v;
CREATE TABLE ba_big (id int PRIMARY KEY, pad text NOT NULL, v int NOT NULL DEFAULT 0);
INSERT INTO ba_big (id, pad) SELECT g, repeat('x', 1000) FROM generate_series(1, 9500) g;
ANALYZE ba_big;
SELECT relpages >= 1280 AS over_10_mb FROM pg_class WHERE oid = 'ba_big'::regclass;
CALL migr.batch_update('ba_big', 'v = 1', where_clause => 'id % 2 = 0', batch_size => 2000,
                       target_time => '0');
SELECT count(*) FILTER (WHERE v = 1) AS even FROM ba_big;
SELECT rows_total > 0 AS estimated FROM migr.batch_job WHERE relation = 'public.ba_big';
DROP TABLE ba_big;

-- a key whose ordering is not in pg_catalog (citext): the batches walk it in
-- its own order, not in the order of text, and no row is skipped
CREATE EXTENSION citext;
CREATE TABLE ba_ci (email citext PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO ba_ci (email) VALUES ('a'), ('B'), ('c'), ('D'), ('e'), ('F'), ('g'), ('H');
CALL migr.batch_update('ba_ci', 'v = v + 1', batch_size => 2, target_time => '0');
SELECT string_agg(email || '=' || v, ' ' ORDER BY email) FROM ba_ci;
-- a composite key of a citext and an int (operators in two schemas)
CREATE TABLE ba_ci2 (email citext NOT NULL, n int NOT NULL, v int NOT NULL DEFAULT 0,
                     UNIQUE (email, n));
INSERT INTO ba_ci2 (email, n) SELECT e, g FROM unnest(ARRAY['a', 'B', 'c', 'D']) e,
                                             generate_series(1, 5) g;
CALL migr.batch_update('ba_ci2', 'v = v + 1', batch_size => 3, key => 'email, n',
                       target_time => '0');
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) FILTER (WHERE v <> 1) AS other FROM ba_ci2;
CALL migr.batch('ba_ci2', 'UPDATE ba_ci2 SET v = v + 1 WHERE (email, n) >= ($1, $2) AND (email, n) <= ($3, $4)',
                batch_size => 3, key => 'email, n', target_time => '0');
SELECT count(*) FILTER (WHERE v = 2) AS twice, count(*) FILTER (WHERE v <> 2) AS other FROM ba_ci2;
-- a unique index with an operator class and a collation of its own: the walk
-- follows the index
CREATE TABLE ba_pat (k text COLLATE "C" NOT NULL, v int NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX ba_pat_k ON ba_pat (k text_pattern_ops);
INSERT INTO ba_pat (k) SELECT md5(g::text) FROM generate_series(1, 500) g;
CALL migr.batch_update('ba_pat', 'v = v + 1', batch_size => 60, key => 'k', target_time => '0');
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) FILTER (WHERE v <> 1) AS other FROM ba_pat;

-- the last key is stored in a form that reads back the same whatever the
-- session's DateStyle, extra_float_digits or TimeZone
CREATE TABLE ba_date (d date PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO ba_date (d) SELECT date '2020-01-01' + g FROM generate_series(0, 59) g;
INSERT INTO ba_ctl VALUES ('7');
SET DateStyle = 'SQL, DMY';
CALL migr.batch_update('ba_date', 'v = v + 1 + ba_fail(d - date ''2020-01-01'')', batch_size => 5, target_time => '0',
                       name => 'dates');
RESET DateStyle;
SELECT last_key FROM migr.batch_job WHERE name = 'dates';
DELETE FROM ba_ctl;
SET DateStyle = 'SQL, MDY';
CALL migr.batch_update('ba_date', 'v = v + 1 + ba_fail(d - date ''2020-01-01'')', batch_size => 5, target_time => '0',
                       name => 'dates');
RESET DateStyle;
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) FILTER (WHERE v <> 1) AS other FROM ba_date;
CREATE TABLE ba_float (x float8 PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO ba_float (x) SELECT 1 + g * 3e-16 FROM generate_series(0, 9) g;
INSERT INTO ba_float (x) SELECT 2 + g FROM generate_series(0, 9) g;
INSERT INTO ba_ctl VALUES ('2');
SET extra_float_digits = -15;
CALL migr.batch_update('ba_float', 'v = v + 1 + ba_fail(x)', batch_size => 4, target_time => '0',
                       name => 'floats');
RESET extra_float_digits;
DELETE FROM ba_ctl;
CALL migr.batch_update('ba_float', 'v = v + 1 + ba_fail(x)', batch_size => 4, target_time => '0',
                       name => 'floats');
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) FILTER (WHERE v <> 1) AS other FROM ba_float;
CREATE TABLE ba_ts (t timestamptz PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO ba_ts (t) SELECT timestamptz '2020-03-01 00:00:00+00' + g * interval '20 min'
  FROM generate_series(0, 29) g;
INSERT INTO ba_ctl SELECT extract(epoch FROM timestamptz '2020-03-01 03:00:00+00');
SET TimeZone = 'Europe/Paris';
SET DateStyle = 'SQL, DMY';
CALL migr.batch_update('ba_ts', 'v = v + 1 + ba_fail(extract(epoch FROM t))',
                       batch_size => 4, target_time => '0', name => 'timestamps');
SELECT last_key FROM migr.batch_job WHERE name = 'timestamps';
DELETE FROM ba_ctl;
SET TimeZone = 'America/New_York';
SET DateStyle = 'SQL, MDY';
CALL migr.batch_update('ba_ts', 'v = v + 1 + ba_fail(extract(epoch FROM t))',
                       batch_size => 4, target_time => '0', name => 'timestamps');
RESET TimeZone;
RESET DateStyle;
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) FILTER (WHERE v <> 1) AS other FROM ba_ts;

-- a SET that moves the key would meet its rows again ahead of the walk,
-- for ever: refused, before anything runs
CREATE TABLE ba_key (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO ba_key (id) SELECT generate_series(1, 100);
CALL migr.batch_update('ba_key', 'id = id + 1000', batch_size => 10);
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('ba_key', '(v, id) = (2, id + 1000)', batch_size => 10);
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('ba_ci2', 'n = n * 2', key => 'email, n');
\echo :LAST_ERROR_SQLSTATE
-- another unique column of the table may change
ALTER TABLE ba_key ADD COLUMN code int;
UPDATE ba_key SET code = id;
ALTER TABLE ba_key ALTER COLUMN code SET NOT NULL;
ALTER TABLE ba_key ADD UNIQUE (code);
CALL migr.batch_update('ba_key', 'id = id + 1000', batch_size => 10, key => 'code',
                       target_time => '0');
SELECT min(id), max(id) FROM ba_key;

-- a role that may read the table but not update it (or not read what the
-- statement reads) is refused before the job's row is written, not by its
-- first batch; a column grant is enough for the columns the SET assigns
CREATE ROLE regress_ba_reader;
GRANT EXECUTE ON PROCEDURE migr.batch_update(regclass, text, text, int4, text, interval, interval, text, boolean),
                           migr.batch(regclass, text, text, int4, text, interval, interval, text, boolean)
  TO regress_ba_reader;
GRANT SELECT ON ba_key TO regress_ba_reader;
SET ROLE regress_ba_reader;
CALL migr.batch_update('ba_key', 'v = 0', name => 'reader');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch('ba_key', 'INSERT INTO ba_ctl SELECT $1 WHERE $2 > 0', name => 'reader');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT UPDATE (v) ON ba_key TO regress_ba_reader;
SET ROLE regress_ba_reader;
CALL migr.batch_update('ba_key', 'v = (SELECT count(*) FROM ba_ctl)', name => 'reader');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('ba_key', 'v = 3', where_clause => 'EXISTS (SELECT FROM ba_ctl)', name => 'reader');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('ba_key', 'v = 3', batch_size => 50, target_time => '0', name => 'reader');
RESET ROLE;
SELECT name, state, rows_done FROM migr.batch_job WHERE name = 'reader';
REVOKE ALL ON ba_key FROM regress_ba_reader;
REVOKE EXECUTE ON PROCEDURE migr.batch_update(regclass, text, text, int4, text, interval, interval, text, boolean),
                            migr.batch(regclass, text, text, int4, text, interval, interval, text, boolean)
  FROM regress_ba_reader;
DROP ROLE regress_ba_reader;

-- migr.batch() runs its statement inside the batch's transaction: one that
-- ends it, or that cannot run in a transaction, is refused before anything runs
CALL migr.batch('ba_key', 'COMMIT');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch('ba_key', 'ROLLBACK');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch('ba_key', 'VACUUM ba_key');
\echo :LAST_ERROR_SQLSTATE

-- a statement that does not use the batch's keys would run on the same
-- rows in every batch (here: v doubled once per batch)
CALL migr.batch('ba_key', 'UPDATE ba_key SET v = v * 2');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch('ba_ci2', 'DELETE FROM ba_ci2 WHERE n > 4', key => 'email, n');
\echo :LAST_ERROR_SQLSTATE
-- keys used in a CTE or a CALL count
CREATE TABLE ba_key_log (first_id int, last_id int);
CREATE PROCEDURE ba_log(a int, b int) LANGUAGE sql AS 'INSERT INTO ba_key_log VALUES (a, b)';
CALL migr.batch('ba_key', 'WITH r AS (SELECT $1 AS a, $2 AS b) INSERT INTO ba_key_log SELECT a, b FROM r',
                batch_size => 50, key => 'code', target_time => '0');
CALL migr.batch('ba_key', 'CALL ba_log($1, $2)', batch_size => 50, key => 'code', target_time => '0');
SELECT * FROM ba_key_log ORDER BY first_id, last_id;
DROP TABLE ba_key_log;
DROP PROCEDURE ba_log(int, int);

-- a job whose own SQL calls the same job: the advisory lock does not stop
-- the backend that holds it, so the job would run from within itself, down
-- to the stack depth limit
CREATE FUNCTION ba_again() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  CALL migr.batch('ba_key', 'SELECT ba_again() WHERE $1 > 0', batch_size => 50, name => 'again');
  RETURN 0;
END $$;
\set VERBOSITY terse
CALL migr.batch('ba_key', 'SELECT ba_again() WHERE $1 > 0', batch_size => 50, name => 'again');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT state, sqlstate, error FROM migr.batch_job WHERE name = 'again';
DROP FUNCTION ba_again();

-- a batch's allocations go with the batch: the memory of a job does not
-- grow with its number of batches
CREATE TABLE ba_mem (id int PRIMARY KEY);
INSERT INTO ba_mem SELECT generate_series(1, 3000);
CREATE TABLE ba_mem_log (id int, used bigint);
CALL migr.batch('ba_mem', 'INSERT INTO ba_mem_log SELECT $1, sum(used_bytes) FROM pg_backend_memory_contexts WHERE name = ''SPI Proc''',
                batch_size => 1, target_time => '0');
SELECT count(*) AS batches,
       max(used) FILTER (WHERE id > 2900) - max(used) FILTER (WHERE id <= 100) < 50000 AS flat
  FROM ba_mem_log;
DROP TABLE ba_mem, ba_mem_log;

-- a name that ends a comment stays inside migr's comment in
-- pg_stat_activity.query
CALL migr.batch('ba_key', 'INSERT INTO ba_ctl SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid() AND $1 = 1',
                key => 'code', name => 'x */ DROP TABLE ba_key; /*');
SELECT fail_at FROM ba_ctl;
DELETE FROM ba_ctl;

-- intervals too long for migr's arithmetic are refused, not wrapped around
CALL migr.batch_update('ba_key', 'v = 1', pause => '100000000 years');
\echo :LAST_ERROR_SQLSTATE
CALL migr.batch_update('ba_key', 'v = 1', target_time => '-100000000 years');
\echo :LAST_ERROR_SQLSTATE

-- none of the refusals wrote the catalog
SELECT name, state FROM migr.batch_job WHERE state <> 'done' OR relation = 'public.ba_key'
 ORDER BY job_id;

-- a last key edited by hand to another number of columns is refused as
-- corrupt when the job goes on (XX001), and nothing of it runs
CREATE TABLE ba_lk (id int PRIMARY KEY, v int NOT NULL DEFAULT 0);
INSERT INTO ba_lk SELECT generate_series(1, 20);
INSERT INTO ba_ctl VALUES ('7');
\set VERBOSITY terse
CALL migr.batch_update('ba_lk', 'v = v + 1 + ba_fail(id)', batch_size => 5, target_time => '0',
                       name => 'lastkey');
DELETE FROM ba_ctl;
UPDATE migr.batch_job SET last_key = ARRAY['5', '6'] WHERE name = 'lastkey';
CALL migr.batch_update('ba_lk', 'v = v + 1 + ba_fail(id)', batch_size => 5, target_time => '0',
                       name => 'lastkey');
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT state, last_key, rows_done FROM migr.batch_job WHERE name = 'lastkey';
SELECT count(*) FILTER (WHERE v = 1) AS once, count(*) FILTER (WHERE v = 0) AS untouched FROM ba_lk;
DROP TABLE ba_lk;

DELETE FROM migr.batch_job;
DROP TABLE ba_ctl, ba_part, ba_ci, ba_ci2, ba_pat, ba_date, ba_float, ba_ts, ba_key;
DROP FUNCTION ba_fail(anyelement);
DROP EXTENSION citext;

-- upgrade: applying revisions in the caller's transaction
SET client_min_messages = notice;
\set SHOW_CONTEXT errors
SELECT migr.revision('u1', NULL, 'table', 'CREATE TABLE items (id int PRIMARY KEY);',
                     'DROP TABLE items;', create_date => '2024-01-01 00:00:00+00');
SELECT migr.revision('u2', 'u1', 'column', 'ALTER TABLE items ADD COLUMN name text;',
                     'ALTER TABLE items DROP COLUMN name;', create_date => '2024-01-02 00:00:00+00');
SELECT migr.revision('u3', 'u2', 'index; data',
                     'CREATE INDEX ix_items_name ON items (name); INSERT INTO items VALUES (1, ''one'');',
                     'DELETE FROM items; DROP INDEX ix_items_name;', create_date => '2024-01-03 00:00:00+00');
-- plan first, then apply
SELECT * FROM migr.plan();
SELECT revision, operation, duration >= '0'::interval AS timed FROM migr.upgrade();
SELECT * FROM items;
-- running it again is a no-op that returns no rows
SELECT * FROM migr.upgrade();
SELECT revision, applied_by = current_user AS by_me, length(checksum) AS sum_len
  FROM migr.applied ORDER BY applied_at, revision;
SELECT revision, operation, heads_before, heads_after, backend_pid = pg_backend_pid() AS my_pid
  FROM migr.event ORDER BY id;
-- a failing revision aborts the whole call: nothing of it remains
SELECT migr.revision('u4', 'u3', 'ok', 'CREATE TABLE extra (id int);', 'DROP TABLE extra;',
                     create_date => '2024-01-04 00:00:00+00');
SELECT migr.revision('u5', 'u4', 'broken',
                     'ALTER TABLE items ADD COLUMN price int;
                      ALTER TABLE items ADD COLUMN price int;',
                     'SELECT 1;', create_date => '2024-01-05 00:00:00+00');
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('extra') AS extra_table;
SELECT count(*) AS applied FROM migr.applied;
SELECT * FROM migr.current();
-- inside an explicit transaction the caller decides: roll back, nothing stays
BEGIN;
SELECT revision FROM migr.upgrade('u4');
SELECT * FROM migr.current();
ROLLBACK;
SELECT * FROM migr.current();
SELECT to_regclass('extra') AS extra_table;
-- bodies run with the caller's search_path and role
CREATE SCHEMA app;
SET search_path = app, public;
SELECT migr.revision('u5', 'u4', 'fixed', 'CREATE TABLE in_app (id int);', 'DROP TABLE in_app;',
                     create_date => '2024-01-05 00:00:00+00');
SELECT revision FROM migr.upgrade();
SELECT to_regclass('app.in_app') AS created_in_app;
RESET search_path;
-- transaction control inside a body is refused at registration, naming it
SELECT migr.revision('u6', 'u5', 'commit', 'COMMIT;', '', create_date => '2024-01-06 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('u6', 'u5', 'savepoint', 'SELECT 1; SAVEPOINT s;', '', create_date => '2024-01-06 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('u6', 'u5', 'rollback', 'SELECT 1;', 'BEGIN; ROLLBACK;', create_date => '2024-01-06 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('u6', 'u5', 'prepared', 'COMMIT PREPARED ''x'';', '', create_date => '2024-01-06 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
-- so is an upgrade in a read-only transaction
BEGIN READ ONLY;
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- a syntax error is caught at registration, pointing into the body
SELECT migr.revision('u6', 'u5', 'typo', 'CREAT TABLE nope (id int);', '',
                     create_date => '2024-01-06 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('u6', 'u5', 'typo', 'SELECT 1;', 'DROP TABLE nope; DROPP TABLE x;',
                     create_date => '2024-01-06 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
SELECT message FROM migr.migration WHERE id = 'u6';  -- none of them registered
-- a revision whose body fails when it runs names itself and the statement
SELECT migr.revision('u6', 'u5', 'fails', 'SELECT 1; SELECT 1/0;', '',
                     create_date => '2024-01-06 00:00:00+00');
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
DROP SCHEMA app CASCADE;
DROP TABLE items;
DROP EXTENSION migr;
CREATE EXTENSION migr;

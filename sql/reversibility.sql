-- reversibility: the stairway test, always rolled back
SET client_min_messages = warning;
SELECT migr.revision('r1', NULL, 'table', 'CREATE TABLE rt (id int PRIMARY KEY);', 'DROP TABLE rt;',
                     create_date => '2024-01-01 00:00:00+00');
SELECT migr.revision('r2', 'r1', 'column', 'ALTER TABLE rt ADD COLUMN name text;',
                     'ALTER TABLE rt DROP COLUMN name;', create_date => '2024-01-02 00:00:00+00');
SELECT migr.revision('r3', 'r2', 'index', 'CREATE INDEX ix_rt_name ON rt (name);',
                     'DROP INDEX ix_rt_name;', create_date => '2024-01-03 00:00:00+00');
-- a good history passes, and leaves nothing behind
SELECT * FROM migr.test_reversibility();
SELECT to_regclass('rt') AS rt, (SELECT count(*) FROM migr.applied) AS applied,
       (SELECT count(*) FROM migr.event) AS events;
-- a downgrade that forgets something fails and names it
SELECT migr.revision('r4', 'r3', 'sloppy', 'ALTER TABLE rt ADD COLUMN a int; CREATE INDEX ix_rt_a ON rt (a);',
                     'DROP INDEX ix_rt_a;', create_date => '2024-01-04 00:00:00+00');
SELECT migr.revision('r5', 'r4', 'after', 'ALTER TABLE rt ADD COLUMN b int;',
                     'ALTER TABLE rt DROP COLUMN b;', create_date => '2024-01-05 00:00:00+00');
SELECT step, revision, status, detail FROM migr.test_reversibility();
-- a downgrade that raises stops the test there
SELECT migr.revision('r5', 'r4', 'broken', 'ALTER TABLE rt ADD COLUMN b int;',
                     'ALTER TABLE rt DROP COLUMN no_such;', create_date => '2024-01-05 00:00:00+00');
SELECT step, revision, status, detail FROM migr.test_reversibility();
-- after failures and errors the database is unchanged too
SELECT to_regclass('rt') AS rt, (SELECT count(*) FROM migr.applied) AS applied,
       (SELECT count(*) FROM migr.event) AS events;
-- from the current state: only what is not applied yet is tested
SELECT count(*) FROM migr.upgrade('r2');
SELECT step, revision, status FROM migr.test_reversibility('r3');
SELECT * FROM migr.current();
SELECT migr.has_index('rt', 'ix_rt_name') AS index_left;
-- irreversible revisions are applied untested
SELECT migr.revision('r6', 'r5', 'one way', 'ALTER TABLE rt ADD COLUMN c int;',
                     create_date => '2024-01-06 00:00:00+00');
SELECT migr.revision('r5', 'r4', 'after', 'ALTER TABLE rt ADD COLUMN b int;',
                     'ALTER TABLE rt DROP COLUMN b;', create_date => '2024-01-05 00:00:00+00');
SELECT step, revision, status FROM migr.test_reversibility();
SELECT * FROM migr.test_reversibility(NULL);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE rt;
DROP EXTENSION migr;
CREATE EXTENSION migr;

-- stamp: adopting an existing database without running SQL
SET client_min_messages = notice;
SELECT migr.revision('s1', NULL, 'would fail', 'SELECT 1/0;', 'SELECT 1/0;',
                     create_date => '2024-01-01 00:00:00+00');
SELECT migr.revision('s2', 's1', 'would fail', 'SELECT 1/0;', 'SELECT 1/0;',
                     create_date => '2024-01-02 00:00:00+00');
SELECT migr.revision('s3', 's2', 'real', 'CREATE TABLE s3 ();', 'DROP TABLE s3;',
                     create_date => '2024-01-03 00:00:00+00');
SELECT revision, operation FROM migr.stamp('s2');
SELECT * FROM migr.current();
SELECT revision, operation FROM migr.upgrade();
SELECT revision, operation FROM migr.stamp('s1');
SELECT * FROM migr.current();
SELECT to_regclass('s3') IS NOT NULL AS s3_kept;
SELECT revision, operation FROM migr.stamp('base');
SELECT count(*) FROM migr.applied;
SELECT revision, operation FROM migr.stamp('heads');
SELECT * FROM migr.current();
SELECT revision, operation FROM migr.event WHERE operation = 'stamp' ORDER BY id;
SELECT * FROM migr.stamp('nope');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE s3;
DROP EXTENSION migr;
CREATE EXTENSION migr;

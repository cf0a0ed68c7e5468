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
-- the version rows a stamp leaves are Alembic's: one new row per unrelated
-- destination, in order, so "-1" then walks down the first one's branch
DROP EXTENSION migr;
CREATE EXTENSION migr;
SELECT migr.revision('sr_a', NULL, 'older base', '', '', create_date => '2024-05-01');
SELECT migr.revision('sr_b', NULL, 'newer base', '', '', create_date => '2024-05-02');
SELECT revision, operation FROM migr.stamp('heads');
SELECT * FROM migr.current();
SELECT revision, operation FROM migr.downgrade('-1');
-- a destination above a head takes that head's row, in place
SELECT migr.revision('sr_b2', 'sr_b', 'on b', '', '', create_date => '2024-05-03');
SELECT revision, operation FROM migr.upgrade('heads');
SELECT migr.revision('sr_b3', 'sr_b2', 'on b2', '', '', create_date => '2024-05-04');
SELECT revision, operation FROM migr.stamp('sr_b3');
SELECT * FROM migr.current();
DROP EXTENSION migr;
CREATE EXTENSION migr;

-- patterns: the hand-written checks of the team standard, made declarative
SET client_min_messages = notice;
CREATE TABLE target_table (id int PRIMARY KEY);
-- "if the column already exists, skip creation"
SELECT migr.revision('pt1', NULL, 'add new_column',
    $$ALTER TABLE target_table ADD COLUMN new_column varchar(50) NOT NULL DEFAULT 'default_value';$$,
    $$ALTER TABLE target_table DROP COLUMN new_column;$$,
    create_date => '2024-01-01 00:00:00+00',
    skip_if => $$migr.has_column('target_table', 'new_column')$$,
    verify => $$migr.column_type_is('target_table', 'new_column', 'varchar(50)')
               AND NOT migr.column_is_nullable('target_table', 'new_column')$$);
-- the column was added by hand on this database: the revision is skipped
ALTER TABLE target_table ADD COLUMN new_column varchar(50) NOT NULL DEFAULT 'default_value';
SELECT revision, operation FROM migr.upgrade();
SELECT * FROM migr.current();
-- on another database it runs; re-running the same directory is a no-op
SELECT revision, operation FROM migr.downgrade('base');
SELECT revision, operation FROM migr.upgrade();
SELECT * FROM migr.upgrade();
-- "verify results; raise if wrong": the wrong type leaves no trace
SELECT migr.revision('pt2', 'pt1', 'add flag',
    $$ALTER TABLE target_table ADD COLUMN flag int;$$,
    $$ALTER TABLE target_table DROP COLUMN flag;$$,
    create_date => '2024-01-02 00:00:00+00',
    verify => $$migr.column_type_is('target_table', 'flag', 'boolean')$$);
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT migr.has_column('target_table', 'flag') AS flag_left,
       (SELECT count(*) FROM migr.event WHERE revision = 'pt2') AS pt2_events,
       (SELECT string_agg(c, ',') FROM migr.current() c) AS current;
DROP TABLE target_table;
DROP EXTENSION migr;
CREATE EXTENSION migr;

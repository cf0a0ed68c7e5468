-- downgrade: reverting newest first
SET client_min_messages = notice;
CREATE FUNCTION pg_temp.reg(id text, revises text, d int, up text, down text,
                            deps text DEFAULT NULL) RETURNS text
LANGUAGE sql AS $$
  SELECT migr.revision(id, revises, 'rev ' || id, up, down, NULL, deps,
                       '2024-01-01 00:00:00+00'::timestamptz + d * interval '1 minute')
$$;
SELECT pg_temp.reg('d1', NULL, 1, 'CREATE TABLE d1 ();', 'DROP TABLE d1;');
SELECT pg_temp.reg('d2', 'd1', 2, 'CREATE TABLE d2 ();', 'DROP TABLE d2;');
SELECT pg_temp.reg('d3', 'd2', 3, 'CREATE TABLE d3 ();', 'DROP TABLE d3;');
SELECT pg_temp.reg('e2', 'd1', 4, 'CREATE TABLE e2 ();', 'DROP TABLE e2;');
SELECT count(*) FROM migr.upgrade('heads');
-- default: one step down from the first head
SELECT revision, operation FROM migr.downgrade();
SELECT * FROM migr.current() ORDER BY 1;
-- down to d1 reverts what descends from d1 only
SELECT revision, operation FROM migr.downgrade('d1');
SELECT * FROM migr.current();
SELECT relname FROM pg_class WHERE relname IN ('d1', 'd2', 'd3', 'e2') ORDER BY 1;
-- downgrading to the current head does nothing
SELECT * FROM migr.downgrade('d1');
-- an irreversible revision stops the downgrade before anything is reverted
SELECT pg_temp.reg('f1', 'd1', 5, 'CREATE TABLE f1 ();', NULL);
SELECT pg_temp.reg('f2', 'f1', 6, 'CREATE TABLE f2 ();', 'DROP TABLE f2;');
SELECT count(*) FROM migr.upgrade('f2');
SELECT * FROM migr.plan('base');
SELECT * FROM migr.downgrade('base');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.current();
SELECT to_regclass('f2') IS NOT NULL AS f2_still_there;
-- down to f1 is fine: f1 itself is not reverted
SELECT revision FROM migr.downgrade('f1');
-- a dependent on another branch goes down with what it depends on
SELECT pg_temp.reg('g1', NULL, 7, 'CREATE TABLE g1 ();', 'DROP TABLE g1;');
SELECT pg_temp.reg('g2', 'g1', 8, 'CREATE TABLE g2 ();', 'DROP TABLE g2;', 'd1');
SELECT revision FROM migr.upgrade('g2');
SELECT * FROM migr.current() ORDER BY 1;
SELECT * FROM migr.plan('base');
-- a target that is not applied is an error
SELECT * FROM migr.downgrade('d3');
\echo :LAST_ERROR_SQLSTATE
-- revert g2; then "-1" walks the first head, f1, which cannot be reverted
SELECT revision FROM migr.downgrade('g1');
SELECT revision FROM migr.downgrade('-1');
SELECT * FROM migr.current() ORDER BY 1;
DROP TABLE d1, f1, g1;
-- reverting a merge that is the only head: the parents become heads again
-- in Alembic's row order, the last parent taking the merge's row, so the
-- next relative step walks down the last parent's branch
DROP EXTENSION migr;
CREATE EXTENSION migr;
SELECT migr.revision('um_a', NULL, 'base a', '', '', create_date => '2024-03-01');
SELECT migr.revision('um_b', NULL, 'base b', '', '', create_date => '2024-03-02');
SELECT migr.revision('um_m', 'um_a, um_b', 'merge', '', '', create_date => '2024-03-03');
SELECT revision FROM migr.upgrade('um_m');
SELECT revision FROM migr.downgrade('um_a');
SELECT * FROM migr.current();
SELECT revision FROM migr.downgrade('-1');
SELECT * FROM migr.current();
DROP EXTENSION migr;
CREATE EXTENSION migr;

-- history: where the database stands
SET client_min_messages = warning;
SELECT migr.revision('h1', NULL, 'first', '', '', 'trunk', create_date => '2024-01-01 00:00:00+00');
SELECT migr.revision('h2', 'h1', 'second', '', NULL, create_date => '2024-01-02 00:00:00+00');
SELECT migr.revision('h3', 'h1', 'side', '', '', create_date => '2024-01-03 00:00:00+00');
SELECT count(*) FROM migr.upgrade('h2');
SELECT ordinal, revision, revises, message, create_date, branch_labels, irreversible,
       applied, applied_at IS NOT NULL AS has_applied_at, is_head, is_current
  FROM migr.history() ORDER BY ordinal;
-- current() and heads() compose in SQL
SELECT h AS pending_head FROM migr.heads() h
 WHERE h NOT IN (SELECT * FROM migr.current()) ORDER BY 1;
-- an empty graph
DROP EXTENSION migr;
CREATE EXTENSION migr;
SELECT count(*) FROM migr.history();
SELECT count(*) FROM migr.current();
SELECT count(*) FROM migr.heads();
SELECT * FROM migr.upgrade();

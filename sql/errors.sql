-- errors: bad input is refused with a fitting SQLSTATE and changes nothing
SET client_min_messages = warning;
SELECT migr.revision('ok1', NULL, 'fine', '', '', create_date => '2024-01-01 00:00:00+00');
SELECT migr.revision(NULL, NULL, 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('', NULL, 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('bad id', NULL, 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('bad@id', NULL, 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision(repeat('r', 129), NULL, 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT length(migr.revision(repeat('y', 128), NULL, 'max length', ''));
SELECT migr.revision('head', NULL, 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('heads', NULL, 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('base', NULL, 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('n1', NULL, 'x', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('n1', 'unknown', 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('n1', 'ok1', 'x', '', depends_on => 'unknown');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('n1', 'ok1, ok1', 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('n1', 'ok1,,', 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('n1', 'n1', 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('n1', 'ok1', 'x', '', branch_labels => 'head');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('n1', 'ok1', 'x', '', branch_labels => 'a b');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('-n1', 'ok1', 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('n1', 'ok1', 'x', '', depends_on => 'ok1, ok1');
\echo :LAST_ERROR_SQLSTATE
-- targets
SELECT * FROM migr.upgrade('no_such_revision');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.upgrade(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.downgrade(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.plan(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.downgrade('+1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.downgrade('-1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.upgrade('+1x');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.upgrade('ok1+99');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.upgrade(repeat('t', 300));
\echo :LAST_ERROR_SQLSTATE
-- after all that, the catalog holds just the two good revisions
SELECT id FROM migr.migration ORDER BY 1;
SELECT count(*) FROM migr.migration_edge;
SELECT count(*) FROM migr.applied;
SELECT count(*) FROM migr.event;
-- a history that names a revision no longer registered blocks writers
SELECT count(*) FROM migr.upgrade('ok1');
INSERT INTO migr.applied VALUES ('ghost', now(), current_user, '\x00', '0', 99);
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
DELETE FROM migr.applied WHERE revision = 'ghost';
-- the event log is append-only, even for its owner
DELETE FROM migr.event;
\echo :LAST_ERROR_SQLSTATE
DROP EXTENSION migr;
CREATE EXTENSION migr;

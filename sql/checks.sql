-- checks: skip_if, requires, verify and verify_down on revisions
SET client_min_messages = notice;
CREATE TABLE accounts (id int PRIMARY KEY);
-- a change already made by hand is skipped, recorded as applied
ALTER TABLE accounts ADD COLUMN email text;
SELECT migr.revision('k1', NULL, 'add email',
    'ALTER TABLE accounts ADD COLUMN email text;',
    'ALTER TABLE accounts DROP COLUMN email;',
    create_date => '2024-01-01 00:00:00+00',
    skip_if => $$migr.has_column('accounts', 'email')$$,
    verify => $$migr.column_type_is('accounts', 'email', 'text')$$,
    verify_down => $$NOT migr.has_column('accounts', 'email')$$);
SELECT migr.revision('k2', 'k1', 'add name',
    'ALTER TABLE accounts ADD COLUMN name varchar(50);',
    'ALTER TABLE accounts DROP COLUMN name;',
    create_date => '2024-01-02 00:00:00+00',
    skip_if => $$migr.has_column('accounts', 'name')$$,
    requires => $$migr.has_table('accounts')$$,
    verify => $$migr.column_type_is('accounts', 'name', 'character varying(50)')$$);
-- plan and history show the checks; plan says what would be skipped now
SELECT step, revision, checks, would_skip FROM migr.plan();
SELECT revision, checks FROM migr.history() ORDER BY ordinal;
SELECT revision, operation FROM migr.upgrade();
SELECT revision, operation FROM migr.event ORDER BY id;
SELECT revision FROM migr.applied ORDER BY 1;
-- downgrade runs verify_down after each step
SELECT revision, operation FROM migr.downgrade('base');
SELECT migr.has_column('accounts', 'email') AS email_left;
-- a failed precondition stops before anything runs (MG004)
SELECT migr.revision('k3', 'k2', 'needs orders',
    'ALTER TABLE orders ADD COLUMN note text;', 'ALTER TABLE orders DROP COLUMN note;',
    create_date => '2024-01-03 00:00:00+00',
    requires => $$migr.has_table('orders')$$);
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS applied FROM migr.applied;
SELECT migr.has_column('accounts', 'email') AS email_added;
-- a migration whose verification fails leaves no trace (MG005)
SELECT migr.revision('k3', 'k2', 'wrong type',
    'ALTER TABLE accounts ADD COLUMN score int;', 'ALTER TABLE accounts DROP COLUMN score;',
    create_date => '2024-01-03 00:00:00+00',
    verify => $$migr.column_type_is('accounts', 'score', 'bigint')$$);
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT migr.has_column('accounts', 'score') AS score_left,
       migr.has_column('accounts', 'email') AS email_left;
SELECT count(*) AS applied, (SELECT count(*) FROM migr.event) AS events FROM migr.applied;
-- verify_down failing rolls the downgrade back
SELECT migr.revision('k3', 'k2', 'right type',
    'ALTER TABLE accounts ADD COLUMN score bigint;', 'SELECT 1;',
    create_date => '2024-01-03 00:00:00+00',
    verify => $$migr.column_type_is('accounts', 'score', 'bigint')$$,
    verify_down => $$NOT migr.has_column('accounts', 'score')$$);
SELECT revision, operation FROM migr.upgrade();
SELECT * FROM migr.downgrade('-1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.current();
-- checks are part of the checksum: changing one on an applied revision fails
SELECT migr.revision('k1', NULL, 'add email',
    'ALTER TABLE accounts ADD COLUMN email text;',
    'ALTER TABLE accounts DROP COLUMN email;',
    skip_if => $$migr.has_column('accounts', 'email')$$);
\echo :LAST_ERROR_SQLSTATE
-- bad checks are refused at registration
SELECT migr.revision('k9', 'k3', 'x', '', '', skip_if => 'SELECT 1 FROM pg_class');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('k9', 'k3', 'x', '', '', verify => 'true); DROP TABLE accounts; SELECT (true');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('k9', 'k3', 'x', '', '', verify => '1 + 1');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('k9', 'k3', 'x', '', '', requires => '');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('k9', 'k3', 'x', '', '', requires => 'true AND');
\echo :LAST_ERROR_SQLSTATE
-- a check on objects that do not exist yet is accepted and typed at run time
SELECT migr.revision('k9', 'k3', 'later', 'CREATE TABLE later_t (flag boolean);', 'DROP TABLE later_t;',
    create_date => '2024-01-09 00:00:00+00',
    verify => $$(SELECT count(*) = 0 FROM later_t)$$);
SELECT revision, operation FROM migr.upgrade();
SELECT count(*) FROM migr.migration;
-- plan cannot evaluate a skip_if on a table an earlier step creates: NULL
SELECT migr.revision('k10', 'k9', 'needs a new table', 'CREATE TABLE newer_t (id int);', 'DROP TABLE newer_t;',
    create_date => '2024-01-10 00:00:00+00');
SELECT migr.revision('k11', 'k10', 'skips on it', 'SELECT 1;', 'SELECT 1;',
    create_date => '2024-01-11 00:00:00+00',
    skip_if => $$EXISTS (SELECT 1 FROM newer_t)$$);
SELECT step, revision, checks, would_skip FROM migr.plan();
SELECT revision, operation FROM migr.upgrade();
DROP TABLE accounts, later_t, newer_t;
DROP EXTENSION migr;
CREATE EXTENSION migr;

-- update: a database that holds history under 0.1.0 keeps all of it through
-- ALTER EXTENSION migr UPDATE, and a deploy role keeps its grants
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS migr;
DROP TABLE IF EXISTS up_a, up_b, up_c;
CREATE EXTENSION migr VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'migr';
CREATE ROLE regress_migr_updater;
GRANT CREATE ON SCHEMA public TO regress_migr_updater;
GRANT EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text),
    migr.upgrade(text), migr.downgrade(text)
  TO regress_migr_updater;
-- a role whose name must be quoted, with the grant option
CREATE ROLE "regress_migr_Updater 2";
GRANT EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text)
  TO "regress_migr_Updater 2" WITH GRANT OPTION;
REVOKE EXECUTE ON FUNCTION migr.history() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migr.history() TO regress_migr_updater;
-- history under 0.1.0, through its API: three revisions, one skipped by
-- skip_if, one reverted and applied again; and one 0.1.0 registered though
-- it could never run it (CREATE INDEX CONCURRENTLY)
SET ROLE regress_migr_updater;
SELECT migr.revision('up1', NULL, 'a', 'CREATE TABLE up_a (id int);', 'DROP TABLE up_a;',
                     create_date => '2024-01-01 00:00:00+00');
SELECT migr.revision('up2', 'up1', 'b', 'CREATE TABLE up_b (id int);', 'DROP TABLE up_b;',
                     create_date => '2024-01-02 00:00:00+00', skip_if => 'false');
SELECT migr.revision('up3', 'up2', 'c', 'CREATE TABLE up_c (id int);', 'DROP TABLE up_c;',
                     create_date => '2024-01-03 00:00:00+00', skip_if => $$migr.has_table('up_c')$$);
CREATE TABLE up_c (id int);
SELECT revision, operation FROM migr.upgrade();
SELECT revision, operation FROM migr.downgrade('up1');
SELECT revision, operation FROM migr.upgrade();
SELECT migr.revision('up4', 'up3', 'index', 'CREATE INDEX CONCURRENTLY up_a_id ON up_a (id);',
                     'DROP INDEX CONCURRENTLY up_a_id;', create_date => '2024-01-04 00:00:00+00');
RESET ROLE;
CREATE TEMPORARY TABLE before_events AS SELECT * FROM migr.event;
CREATE TEMPORARY TABLE before_applied AS SELECT * FROM migr.applied;
CREATE TEMPORARY TABLE before_migration AS SELECT * FROM migr.migration;
-- the update
ALTER EXTENSION migr UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'migr';
-- nothing lost: every event, applied row and revision is still there, as it was
SELECT count(*) AS events, count(*) FILTER (WHERE e.id IS NULL) AS lost
  FROM before_events b LEFT JOIN migr.event e
    ON (e.id, e.revision, e.operation, e.started_at, e.duration, e.role, e.heads_before, e.heads_after)
       IS NOT DISTINCT FROM (b.id, b.revision, b.operation, b.started_at, b.duration, b.role, b.heads_before, b.heads_after);
SELECT count(*) AS applied, count(*) FILTER (WHERE a.revision IS NULL) AS lost
  FROM before_applied b LEFT JOIN migr.applied a ON (a.*)::text = (b.*)::text;
SELECT count(*) AS revisions, count(*) FILTER (WHERE m.id IS NULL) AS lost
  FROM before_migration b LEFT JOIN migr.migration m
    ON m.id = b.id AND m.checksum = b.checksum AND m.upgrade_sql = b.upgrade_sql
       AND m.registered_at = b.registered_at;
-- the new columns say what 0.1.0 did: a skip is skipped, the rest ok
SELECT revision, operation, outcome, sqlstate FROM migr.event ORDER BY id;
-- and the revision 0.1.0 could not run is now known as non-transactional
SELECT revision, upgrade_transactional, downgrade_transactional FROM migr.history();
-- clean: no tampering, no drift; only the pending revision
SELECT severity, code, revision FROM migr.check();
-- the deploy role kept its grants, on the new migr.revision() too, and
-- PUBLIC did not gain migr.history()
SELECT has_function_privilege('regress_migr_updater',
         'migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean)',
         'EXECUTE') AS revision,
       has_function_privilege('regress_migr_updater', 'migr.history()', 'EXECUTE') AS history,
       has_function_privilege('public', 'migr.history()', 'EXECUTE') AS public_history,
       has_function_privilege('public', 'migr.plan(text, text)', 'EXECUTE') AS public_plan,
       has_function_privilege('regress_migr_Updater 2',
         'migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean)',
         'EXECUTE WITH GRANT OPTION') AS quoted_role_grant_option;
-- and migr.load() and migr.load_all() of 0.4.0, which register through it
SELECT has_function_privilege('regress_migr_updater', 'migr.load(text, text)', 'EXECUTE') AS load,
       has_function_privilege('regress_migr_updater', 'migr.load_all(text[], text[], text[], text)', 'EXECUTE') AS load_all,
       has_function_privilege('regress_migr_Updater 2', 'migr.load_all(text[], text[], text[], text)',
                              'EXECUTE WITH GRANT OPTION') AS quoted_role_load_all,
       has_function_privilege('public', 'migr.load(text, text)', 'EXECUTE') AS public_load;
-- the new procedures work on the old history: the index revision, then back
CALL migr.apply();
SELECT migr.current();
SELECT indisvalid FROM pg_index WHERE indexrelid = 'up_a_id'::regclass;
CALL migr.revert('up2');
SELECT migr.current();
SELECT severity, code, revision FROM migr.check();
DROP TABLE IF EXISTS up_a, up_b, up_c;
DROP EXTENSION migr;
-- a body written into a 0.1.0 catalog by hand that does not parse does not
-- stop the update; migr.check() reports the revision as tampered with
CREATE EXTENSION migr VERSION '0.1.0';
SELECT migr.revision('bad1', NULL, 'bad', 'SELECT 1;', 'SELECT 1;',
                     create_date => '2024-01-01 00:00:00+00');
UPDATE migr.migration SET upgrade_sql = 'SELEC 1;' WHERE id = 'bad1';
ALTER EXTENSION migr UPDATE;
SELECT severity, code, revision FROM migr.check() ORDER BY code;
DROP EXTENSION migr;
-- from 0.2.0: a revision part way through its upgrade keeps its place
-- through the update (0.2.0's table migr.progress becomes
-- migr.revision_progress; migr.progress is now a view), and the new library
-- serves the 0.2.0 catalog until the update runs
CREATE EXTENSION migr VERSION '0.2.0';
SELECT migr.revision('up_n1', NULL, 'three steps',
                     'CREATE TABLE up_n1a (); INSERT INTO up_n1_gate VALUES (1); CREATE TABLE up_n1b ();',
                     'DROP TABLE up_n1b; DROP TABLE up_n1a;', transactional => false,
                     create_date => '2024-01-01 00:00:00+00');
CALL migr.apply();
\echo :LAST_ERROR_SQLSTATE
SELECT revision, statements_done, statements_total FROM migr.progress;
ALTER EXTENSION migr UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'migr';
SELECT revision, statements_done, statements_total FROM migr.revision_progress;
SELECT kind, state, revision, direction, statements_done, statements_total FROM migr.progress;
CREATE TABLE up_n1_gate (x int);
CALL migr.apply();
SELECT migr.current(), (SELECT count(*) FROM up_n1_gate) AS gate_rows;
SELECT count(*) AS in_progress FROM migr.progress;
DROP TABLE up_n1a, up_n1b, up_n1_gate;
DROP EXTENSION migr;
-- from 0.3.0: the new library serves the 0.3.0 catalog (migr.revision()
-- registers and replaces), and the entry points of migr.load() refuse it
-- until the update, which adds the source columns and the two functions,
-- granted to whoever may call migr.revision()
CREATE EXTENSION migr VERSION '0.3.0';
GRANT EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean)
  TO regress_migr_updater;
GRANT EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean)
  TO "regress_migr_Updater 2" WITH GRANT OPTION;
SELECT migr.revision('up_l1', NULL, 'one', 'SELECT 1;', create_date => '2024-01-01 00:00:00+00');
SELECT migr.revision('up_l1', NULL, 'one', 'SELECT 11;', create_date => '2024-01-01 00:00:00+00');
SELECT upgrade_sql FROM migr.migration WHERE id = 'up_l1';
CREATE FUNCTION up_load(text, text DEFAULT NULL) RETURNS text
    AS '$libdir/migr', 'migr_load' LANGUAGE C;
CREATE FUNCTION up_load_all(text[], text[]) RETURNS TABLE (filename text, revision text, status text)
    AS '$libdir/migr', 'migr_load_all' LANGUAGE C;
SELECT up_load(E'-- two\n-- Revision ID: up_l2\n-- Revises: up_l1\n-- Create Date: 2024-01-02 00:00:00\n\n-- migr:upgrade\nSELECT 2;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM up_load_all('{}', '{}');
\echo :LAST_ERROR_SQLSTATE
DROP FUNCTION up_load(text, text), up_load_all(text[], text[]);
ALTER EXTENSION migr UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'migr';
SELECT attname, format_type(atttypid, atttypmod), col_description(attrelid, attnum) IS NOT NULL AS commented
  FROM pg_attribute WHERE attrelid = 'migr.migration'::regclass AND attname LIKE 'source%' ORDER BY attnum;
SELECT has_function_privilege('regress_migr_updater', 'migr.load(text, text)', 'EXECUTE') AS load,
       has_function_privilege('regress_migr_updater', 'migr.load_all(text[], text[], text[], text)', 'EXECUTE') AS load_all,
       has_function_privilege('regress_migr_Updater 2', 'migr.load(text, text)',
                              'EXECUTE WITH GRANT OPTION') AS quoted_role_load,
       has_function_privilege('public', 'migr.load(text, text)', 'EXECUTE') AS public_load,
       has_function_privilege('public', 'migr.load_all(text[], text[], text[], text)', 'EXECUTE') AS public_load_all;
SET ROLE regress_migr_updater;
SELECT filename, revision, status FROM migr.load_all(ARRAY[E'-- two\n-- Revision ID: up_l2\n-- Revises: up_l1\n-- Create Date: 2024-01-02 00:00:00\n\n-- migr:upgrade\nSELECT 2;\n'],
                            ARRAY['2024_01_02_000000_up_l2.sql']);
RESET ROLE;
SELECT id, source_file, registered_by FROM migr.migration ORDER BY id;
-- the updated objects are those of a fresh install
CREATE TEMPORARY TABLE up_objects AS
SELECT 'column' AS kind, attname::text AS name, format_type(atttypid, atttypmod) AS def,
       col_description(attrelid, attnum) AS comment
  FROM pg_attribute WHERE attrelid = 'migr.migration'::regclass AND attnum > 0 AND NOT attisdropped
UNION ALL
SELECT 'function', p.oid::regprocedure::text, pg_get_function_result(p.oid), obj_description(p.oid, 'pg_proc')
  FROM pg_proc p WHERE p.pronamespace = 'migr'::regnamespace;
DROP EXTENSION migr;
CREATE EXTENSION migr;
SELECT count(*) AS objects,
       count(*) FILTER (WHERE (o.kind, o.name, o.def, o.comment) IS DISTINCT FROM (f.kind, f.name, f.def, f.comment)) AS differ
  FROM up_objects o FULL JOIN (
SELECT 'column' AS kind, attname::text AS name, format_type(atttypid, atttypmod) AS def,
       col_description(attrelid, attnum) AS comment
  FROM pg_attribute WHERE attrelid = 'migr.migration'::regclass AND attnum > 0 AND NOT attisdropped
UNION ALL
SELECT 'function', p.oid::regprocedure::text, pg_get_function_result(p.oid), obj_description(p.oid, 'pg_proc')
  FROM pg_proc p WHERE p.pronamespace = 'migr'::regnamespace) f USING (kind, name);
REVOKE ALL ON SCHEMA public FROM regress_migr_updater;
DROP ROLE regress_migr_updater, "regress_migr_Updater 2";

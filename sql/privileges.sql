-- privileges: who may write, whose rights checks run with, session state,
-- and search_path safety
SET client_min_messages = warning;
SELECT migr.revision('pv1', NULL, 'table', 'CREATE TABLE pv (id int);', 'DROP TABLE pv;',
                     create_date => '2024-01-01 00:00:00+00');
-- a role without grants can read, but not register, apply or write
CREATE ROLE regress_migr_reader;
SET ROLE regress_migr_reader;
SELECT count(*) FROM migr.history();
SELECT * FROM migr.plan();
SELECT migr.revision('pv2', 'pv1', 'x', '');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.upgrade();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.downgrade('base');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.stamp('pv1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.test_reversibility();
\echo :LAST_ERROR_SQLSTATE
INSERT INTO migr.applied VALUES ('pv1', now(), current_user, '\x00', '0', 1);
\echo :LAST_ERROR_SQLSTATE
UPDATE migr.migration SET message = 'x';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM migr.migration_edge;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO migr.event (revision, operation, started_at, duration, role, backend_pid, heads_before, heads_after)
VALUES ('pv1', 'upgrade', now(), '0', current_user, 0, '{}', '{}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS applied FROM migr.applied;
-- a deploy role gets EXECUTE on the writers and no rights on the catalog:
-- the grants of docs/privileges.md (test/shell/privileges_grants.sh runs
-- that block as written)
CREATE ROLE regress_migr_deployer;
GRANT CREATE ON SCHEMA public TO regress_migr_deployer;
GRANT EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean),
    migr.upgrade(text), migr.downgrade(text), migr.stamp(text)
  TO regress_migr_deployer;
SET ROLE regress_migr_deployer;
SELECT migr.revision('pv2', 'pv1', 'column', 'ALTER TABLE pv ADD COLUMN name text;',
                     'ALTER TABLE pv DROP COLUMN name;', create_date => '2024-01-02 00:00:00+00');
SELECT revision, operation FROM migr.upgrade();
SELECT revision, operation FROM migr.downgrade('base');
SELECT revision, operation FROM migr.stamp('pv2');
SELECT revision, operation FROM migr.stamp('base');
-- what migr recorded names the deploy role, not the owner it wrote as
SELECT id, registered_by FROM migr.migration WHERE id <> 'pv1' ORDER BY id;
SELECT DISTINCT role FROM migr.event;
-- history cannot be written by hand
INSERT INTO migr.applied VALUES ('pv1', now(), current_user, '\x00', '0', 1);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO migr.event (revision, operation, started_at, duration, role, backend_pid, heads_before, heads_after)
VALUES ('pv1', 'upgrade', now(), '0', current_user, 0, '{}', '{}');
\echo :LAST_ERROR_SQLSTATE
UPDATE migr.migration SET registered_by = 'someone' WHERE id = 'pv2';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM migr.event;
\echo :LAST_ERROR_SQLSTATE
SELECT nextval('migr.event_id_seq');
\echo :LAST_ERROR_SQLSTATE
-- an error inside migr's catalog write (a cycle, refused while the revision
-- is stored) leaves the caller's identity as it was
SELECT migr.revision('cy1', NULL, 'cycle 1', '', '', create_date => '2024-02-01 00:00:00+00');
SELECT migr.revision('cy2', 'cy1', 'cycle 2', '', '', create_date => '2024-02-02 00:00:00+00');
SELECT migr.revision('cy1', 'cy2', 'cycle 1', '', '', create_date => '2024-02-01 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
SELECT current_user, session_user = current_user AS is_session_user;
DO $$
BEGIN
    PERFORM migr.revision('cy1', 'cy2', 'cycle 1', '', '', create_date => '2024-02-01 00:00:00+00');
EXCEPTION WHEN invalid_recursion THEN
    RAISE WARNING 'cycle refused; current_user is %', current_user;
END
$$;
SELECT current_user;
RESET ROLE;
DELETE FROM migr.migration WHERE id IN ('cy1', 'cy2');

-- checks a deploy role wrote never run with the rights of whoever looks at
-- them: its function tries to make it superuser and to write a row
SET ROLE regress_migr_deployer;
CREATE TABLE pv_log (who text);
CREATE FUNCTION pv_escalate() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        EXECUTE 'ALTER ROLE regress_migr_deployer SUPERUSER';
    EXCEPTION WHEN OTHERS THEN
        NULL;
    END;
    INSERT INTO public.pv_log VALUES (current_user);
    RETURN true;
END
$$;
SELECT migr.revision('pv3', 'pv2', 'checked', 'CREATE TABLE pv3 (id int);', 'DROP TABLE pv3;',
                     create_date => '2024-01-03 00:00:00+00',
                     verify => 'pv_escalate()');
SELECT migr.revision('pv4', 'pv3', 'skippable', '', '',
                     create_date => '2024-01-04 00:00:00+00',
                     skip_if => 'pv_escalate()');
-- a deploy role's upgrade runs its own checks as itself, effects kept
SELECT revision, operation FROM migr.upgrade('pv3');
SELECT who FROM pv_log;
DELETE FROM pv_log;
RESET ROLE;
-- the superuser looks: the checks run as the deploy role, read-only, and are
-- rolled back
SELECT step, revision, checks, would_skip FROM migr.plan();
SELECT severity, code, revision, detail FROM migr.check() WHERE code LIKE 'verify%';
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_migr_deployer';
SELECT count(*) AS rows_written FROM pv_log;
-- checks that only read the schema give the same answer to anyone with the
-- registering role's privileges
SET ROLE regress_migr_deployer;
SELECT revision, operation FROM migr.downgrade('pv2');
SELECT migr.revision('pv3', 'pv2', 'checked', 'CREATE TABLE pv3 (id int);', 'DROP TABLE pv3;',
                     create_date => '2024-01-03 00:00:00+00',
                     verify => $$migr.has_table('pv3') AND (SELECT count(*) FROM pv3) = 0$$);
SELECT migr.revision('pv4', 'pv3', 'skippable', '', '',
                     create_date => '2024-01-04 00:00:00+00',
                     skip_if => $$migr.has_table('pv3')$$);
SELECT revision, operation FROM migr.upgrade('pv3');
SELECT step, revision, would_skip FROM migr.plan();
RESET ROLE;
SELECT step, revision, would_skip FROM migr.plan();
SELECT code, revision FROM migr.check() WHERE code LIKE 'verify%';
INSERT INTO pv3 VALUES (1);
SELECT code, revision, detail FROM migr.check() WHERE code LIKE 'verify%';
DELETE FROM pv3;
-- a role without the registering role's privileges gets no answer: names in
-- the check resolve through its search_path, where it could plant its own
-- functions to run with the deploy role's rights
SET ROLE regress_migr_reader;
SELECT step, revision, would_skip FROM migr.plan();
SELECT severity, code, revision, detail FROM migr.check() WHERE code LIKE 'verify%';
RESET ROLE;
-- nor does anyone once the registering role is gone
CREATE ROLE regress_migr_gone;
GRANT EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean),
    migr.upgrade(text)
  TO regress_migr_gone;
SET ROLE regress_migr_gone;
SELECT migr.revision('pv5', 'pv4', 'by a role that leaves', '', '',
                     create_date => '2024-01-05 00:00:00+00',
                     skip_if => 'false', verify => 'true');
RESET ROLE;
SELECT step, revision, would_skip FROM migr.plan('pv5');
DROP OWNED BY regress_migr_gone;
DROP ROLE regress_migr_gone;
SELECT step, revision, would_skip FROM migr.plan('pv5');
SELECT revision, operation FROM migr.upgrade('pv5');
SELECT severity, code, revision, message, detail FROM migr.check() WHERE code LIKE 'verify%';
SELECT revision, operation FROM migr.downgrade('pv2');
DELETE FROM migr.migration WHERE id IN ('pv5', 'pv4', 'pv3', 'cy2', 'cy1');

-- session state a body leaves behind does not switch off migr's own
-- triggers and foreign keys: session_replication_role = replica ...
SELECT migr.revision('sr1', NULL, 'replica', 'SET session_replication_role = replica;', '',
                     create_date => '2024-03-01 00:00:00+00');
BEGIN;
SELECT revision, operation FROM migr.upgrade('sr1');
SHOW session_replication_role;
SELECT migr.revision('sr2', 'sr-missing', 'parent registered later, or never', '', '');
COMMIT;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS sr2_registered FROM migr.migration WHERE id = 'sr2';
BEGIN;
SELECT revision, operation FROM migr.upgrade('sr1');
SELECT migr.revision('sra', NULL, 'a', '', '', create_date => '2024-03-02 00:00:00+00');
SELECT migr.revision('srb', 'sra', 'b', '', '', create_date => '2024-03-02 00:00:01+00');
SELECT migr.revision('sra', 'srb', 'a', '', '', create_date => '2024-03-02 00:00:00+00');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- ... and the event log stays append-only for the deploy role
BEGIN;
SELECT revision, operation FROM migr.upgrade('sr1');
SET LOCAL ROLE regress_migr_deployer;
UPDATE migr.event SET role = 'someone';
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SHOW session_replication_role;
-- SET ROLE in a body: the steps are still recorded as the caller's
CREATE ROLE regress_migr_other;
GRANT regress_migr_other TO regress_migr_deployer;
SET ROLE regress_migr_deployer;
SELECT migr.revision('sr3', NULL, 'set role', 'SET ROLE regress_migr_other;', '',
                     create_date => '2024-03-03 00:00:00+00');
SELECT migr.revision('sr4', 'sr3', 'after set role', 'SELECT 1;', '',
                     create_date => '2024-03-04 00:00:00+00');
SELECT revision, operation FROM migr.upgrade('sr4');
SELECT current_user;
RESET ROLE;
SELECT revision, applied_by FROM migr.applied ORDER BY revision;
SELECT revision, operation, role FROM migr.event WHERE revision IN ('sr3', 'sr4') ORDER BY id;
SELECT revision, operation FROM migr.downgrade('base');
DELETE FROM migr.migration WHERE id IN ('sr4', 'sr3', 'sr1');
DROP TABLE pv_log;
DROP FUNCTION pv_escalate();

-- search_path attacks: a role that can create objects in public plants
-- look-alikes of what migr's own queries use
CREATE ROLE regress_migr_attacker;
GRANT CREATE ON SCHEMA public TO regress_migr_attacker;
SET ROLE regress_migr_attacker;
CREATE FUNCTION public.hijack(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'hijacked by %', current_user; END$$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hijack);
CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.hijack);
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'hijacked lower'; END$$;
CREATE FUNCTION public.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'hijacked unnest'; END$$;
CREATE FUNCTION public.string_to_array(text, text) RETURNS text[] LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'hijacked string_to_array'; END$$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'hijacked now'; END$$;
CREATE FUNCTION public.quote_ident(text) RETURNS text LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'hijacked quote_ident'; END$$;
CREATE DOMAIN public.int4 AS integer CHECK (public.hijack('a', 'b'));
CREATE COLLATION public."C" (locale = 'C');
RESET ROLE;
-- the victim puts public first; every migr function still works
SET search_path = public, pg_catalog;
SELECT migr.revision('pv3', 'pv2', 'more', 'CREATE TABLE pv3 (id integer);', 'DROP TABLE pv3;',
                     create_date => '2024-01-03 00:00:00+00',
                     verify => $$migr.has_table('pv3')$$);
SELECT revision, status FROM migr.test_reversibility();
SELECT revision, operation FROM migr.upgrade();
SELECT count(*) FROM migr.current();
SELECT count(*) FROM migr.heads();
SELECT count(*) FROM migr.history();
SELECT count(*) FROM migr.plan('base');
SELECT count(*) FROM migr.describe();
SELECT length(migr.fingerprint());
SELECT code FROM migr.check() ORDER BY 1;
SELECT revision, operation FROM migr.downgrade('base');
SELECT revision, operation FROM migr.stamp('pv3');
RESET search_path;
DROP OPERATOR public.= (text, text);
DROP OPERATOR public.<> (text, text);
DROP FUNCTION public.hijack(text, text) CASCADE;
DROP FUNCTION public.lower(text), public.unnest(text[]), public.string_to_array(text, text),
              public.now(), public.quote_ident(text);
DROP COLLATION public."C";
DROP DOMAIN public.int4;
REVOKE ALL ON SCHEMA public FROM regress_migr_deployer, regress_migr_attacker;
DROP EXTENSION migr;
DROP ROLE regress_migr_reader, regress_migr_deployer, regress_migr_attacker, regress_migr_other;
CREATE EXTENSION migr;

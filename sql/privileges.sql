-- privileges: who may write, and search_path safety
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
-- the grants docs/privileges.md describes make a deploy role
CREATE ROLE regress_migr_deployer;
GRANT CREATE ON SCHEMA public TO regress_migr_deployer;
GRANT EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text),
    migr.upgrade(text), migr.downgrade(text), migr.stamp(text)
  TO regress_migr_deployer;
GRANT INSERT, UPDATE, DELETE ON migr.migration, migr.migration_edge,
      migr.branch_label, migr.applied, migr.snapshot, migr.summary TO regress_migr_deployer;
GRANT INSERT ON migr.event TO regress_migr_deployer;
GRANT USAGE ON SEQUENCE migr.event_id_seq TO regress_migr_deployer;
SET ROLE regress_migr_deployer;
SELECT migr.revision('pv2', 'pv1', 'column', 'ALTER TABLE pv ADD COLUMN name text;',
                     'ALTER TABLE pv DROP COLUMN name;', create_date => '2024-01-02 00:00:00+00');
SELECT revision, operation FROM migr.upgrade();
SELECT revision, operation FROM migr.downgrade('base');
RESET ROLE;
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
DROP ROLE regress_migr_reader, regress_migr_deployer, regress_migr_attacker;
CREATE EXTENSION migr;

-- fingerprint: a canonical description and its hash
SET client_min_messages = warning;
-- the same schema built twice, in two orders: same fingerprint (and other OIDs)
CREATE SCHEMA fa;
SET search_path = fa;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE a (id int PRIMARY KEY, m mood, note text DEFAULT 'x');
CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a (id));
CREATE INDEX ix_b_a_id ON b (a_id);
CREATE SEQUENCE s START 10;
CREATE VIEW v AS SELECT id FROM a;
CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x + 1';
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER t_b BEFORE INSERT ON b FOR EACH ROW EXECUTE FUNCTION trg();
RESET search_path;
SELECT migr.fingerprint(ARRAY['fa']) AS first_build \gset
SELECT kind, object, definition FROM migr.describe(ARRAY['fa']) ORDER BY kind, object;
DROP SCHEMA fa CASCADE;
CREATE SCHEMA fa;
SET search_path = fa;
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x + 1';
CREATE SEQUENCE s START 10;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE a (id int PRIMARY KEY, m mood, dropped int, note text DEFAULT 'x');
ALTER TABLE a DROP COLUMN dropped;
CREATE TABLE b (id int PRIMARY KEY, a_id int);
ALTER TABLE b ADD CONSTRAINT b_a_id_fkey FOREIGN KEY (a_id) REFERENCES a (id);
CREATE TRIGGER t_b BEFORE INSERT ON b FOR EACH ROW EXECUTE FUNCTION trg();
CREATE VIEW v AS SELECT id FROM a;
CREATE INDEX ix_b_a_id ON b (a_id);
RESET search_path;
SELECT migr.fingerprint(ARRAY['fa']) = :'first_build' AS same_schema_same_fingerprint;
-- the fingerprint is deterministic and does not depend on search_path
SELECT migr.fingerprint(ARRAY['fa']) = migr.fingerprint(ARRAY['fa']) AS stable;
SELECT migr.fingerprint(ARRAY['fa']) AS before \gset
SET search_path = fa, public;
SELECT migr.fingerprint(ARRAY['fa']) = :'before' AS same_under_other_search_path;
RESET search_path;
-- one column changed: another fingerprint
ALTER TABLE fa.a ALTER COLUMN note TYPE varchar(10);
SELECT migr.fingerprint(ARRAY['fa']) <> :'before' AS changed;
ALTER TABLE fa.a ALTER COLUMN note TYPE text;
SELECT migr.fingerprint(ARRAY['fa']) = :'before' AS changed_back;
-- the default set leaves out migr and the system schemas
SELECT count(*) FILTER (WHERE object LIKE 'migr.%') AS migr_objects,
       count(*) FILTER (WHERE kind = 'schema') AS schemas
  FROM migr.describe();
-- a fingerprint is recorded at the end of each call that changes something
SELECT migr.revision('fp1', NULL, 'one', 'CREATE TABLE fa.c (id int);', 'DROP TABLE fa.c;',
                     create_date => '2024-01-01 00:00:00+00');
SELECT migr.revision('fp2', 'fp1', 'two', 'CREATE TABLE fa.d (id int);', 'DROP TABLE fa.d;',
                     create_date => '2024-01-02 00:00:00+00');
SELECT count(*) FROM migr.upgrade();
SELECT revision, fingerprint = migr.fingerprint() AS recorded_is_current, fingerprint IS NULL AS no_fingerprint
  FROM migr.event ORDER BY id;
SELECT count(*) AS snapshots, bool_and(fingerprint = migr.fingerprint()) AS matches FROM migr.snapshot;
SELECT * FROM migr.upgrade();
SELECT count(*) AS fingerprints_after_noop FROM migr.event WHERE fingerprint IS NOT NULL;
DROP SCHEMA fa CASCADE;
-- Hundreds of objects, so describing them outgrows SPI's first memory block.
-- The fingerprint must still be read from live memory: scripts/test.sh runs
-- the server with MALLOC_PERTURB_, so text read after SPI_finish() freed it
-- comes back as garbage.  Checked against its form, against the sha256 of
-- migr.describe() computed here as docs/health.md defines it (each field
-- as "<bytes>:<field>", rows in bytewise order), and against a new session.
CREATE SCHEMA fbig;
DO $$
BEGIN
    FOR i IN 1..100 LOOP
        EXECUTE format('CREATE TABLE fbig.t%s (id int PRIMARY KEY, note text DEFAULT %L)',
                       i, repeat('n', i % 40));
    END LOOP;
END
$$;
CREATE TABLE fbig_seen AS SELECT migr.fingerprint(ARRAY['fbig']) AS fp;
SELECT fp ~ '^[0-9a-f]{64}$' AS sha256_hex FROM fbig_seen;
SELECT count(*) AS described_rows FROM migr.describe(ARRAY['fbig']);
SELECT encode(sha256(convert_to(string_agg(
           octet_length(kind) || ':' || kind || octet_length(object) || ':' || object ||
           octet_length(definition) || ':' || definition, ''
           ORDER BY kind COLLATE "C", object COLLATE "C", definition COLLATE "C"),
         current_setting('server_encoding'))), 'hex') = (SELECT fp FROM fbig_seen) AS is_sha256_of_describe
  FROM migr.describe(ARRAY['fbig']);
\c
SELECT migr.fingerprint(ARRAY['fbig']) = fp AS same_in_new_session FROM fbig_seen;
SET client_min_messages = warning;
DROP SCHEMA fbig CASCADE;
DROP TABLE fbig_seen;
DROP EXTENSION migr;
CREATE EXTENSION migr;

-- load: migration files (docs/files.md) read by migr.load() and
-- migr.load_all(): what they register, byte for byte, and every error of
-- the file format, with its SQLSTATE and the file and line in its context
SET client_min_messages = warning;
SET timezone = 'UTC';
CREATE TABLE ld_users (id int PRIMARY KEY, name text);
SELECT migr.revision('rename_username_to_name', NULL, 'rename', 'SELECT 1;', 'SELECT 1;',
                     create_date => '2023-12-30 00:00:00+00');

--
-- The example of docs/files.md, with a path: only its last component counts
--
SELECT migr.load($f$-- add security fields
--
-- Revision ID: add_security_fields
-- Revises: rename_username_to_name
-- Create Date: 2023-12-31 12:10:00.000000

-- migr:skip_if
migr.has_column('public.ld_users', 'failed_logins')

-- migr:verify
migr.has_column('public.ld_users', 'failed_logins')
  AND migr.has_column('public.ld_users', 'locked_until')

-- migr:upgrade
ALTER TABLE public.ld_users
    ADD COLUMN failed_logins integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until timestamptz;

-- migr:downgrade
ALTER TABLE public.ld_users
    DROP COLUMN locked_until,
    DROP COLUMN failed_logins;
$f$, 'migrations/2023_12_31_121000_add_security_fields.sql') AS id;
SELECT id, revises, depends_on, branch_labels, message, create_date, transactional,
       upgrade_sql, downgrade_sql, skip_if, requires, verify, verify_down, source_file
  FROM migr.migration WHERE id = 'add_security_fields';
-- the same content through migr.revision() has the same checksum
SELECT migr.revision('ld_same', 'rename_username_to_name', 'add security fields',
         m.upgrade_sql, m.downgrade_sql, create_date => m.create_date,
         skip_if => m.skip_if, verify => m.verify)
  FROM migr.migration m WHERE m.id = 'add_security_fields';
SELECT count(DISTINCT checksum) AS checksums FROM migr.migration
 WHERE id IN ('add_security_fields', 'ld_same');

--
-- Byte for byte: quotes, $$ and $tag$ bodies holding a line that reads like
-- a marker, E'' strings with backslashes, a quoted identifier, a block
-- comment holding a marker, UTF-8, a tab, trailing spaces, a lone CR, blank
-- lines around the text, and no newline at the end of the file
--
CREATE TABLE ld_files (name text PRIMARY KEY, src text NOT NULL);
INSERT INTO ld_files VALUES ('2024_01_01_000000_ld_bytes.sql', replace(replace(replace(
$f$-- bytes survive: "quotes", $$, ünïcødé
-- Revision ID: ld_bytes
-- Revises:  add_security_fields  
-- Create Date: 2024-01-01 00:00:00.5
--
-- Branch Labels: ld_label

-- comments before the first marker are not stored, such as the
-- template's examples of checks:
--   migr.has_function('public', 'ld_f')

-- migr:upgrade


CREATE FUNCTION ld_f() RETURNS text LANGUAGE sql AS $$
-- migr:downgrade
SELECT 'it''s -- migr:nothing'::text
$$;
CREATE FUNCTION ld_g() RETURNS text LANGUAGE plpgsql AS $body$
BEGIN
<TAB>RETURN E'a\\b\'c -- migr:verify' || 'ünïcødé' || $x$<TAB>$x$;<SP><SP>
END
$body$;
/* a comment
-- migr:verify
/* nested */ still the comment */
SELECT "odd ""name"" -- migr:x" FROM (SELECT 'cr<CR>here' AS "odd ""name"" -- migr:x") s;<SP><SP>


-- migr:downgrade
DROP FUNCTION ld_g();
DROP FUNCTION ld_f();$f$, '<TAB>', E'\t'), '<SP>', ' '), '<CR>', E'\r'));
SELECT position(E'\n-- migr:downgrade\nSELECT ''it' IN src) > 0 AS has_fake_marker,
       right(src, 1) = ';' AS no_final_newline
  FROM ld_files WHERE name = '2024_01_01_000000_ld_bytes.sql';
SELECT migr.load(src, name) FROM ld_files WHERE name = '2024_01_01_000000_ld_bytes.sql';
SELECT m.revises, m.branch_labels, m.message, m.create_date, m.skip_if,
       m.upgrade_sql = replace(replace(replace(
$e$CREATE FUNCTION ld_f() RETURNS text LANGUAGE sql AS $$
-- migr:downgrade
SELECT 'it''s -- migr:nothing'::text
$$;
CREATE FUNCTION ld_g() RETURNS text LANGUAGE plpgsql AS $body$
BEGIN
<TAB>RETURN E'a\\b\'c -- migr:verify' || 'ünïcødé' || $x$<TAB>$x$;<SP><SP>
END
$body$;
/* a comment
-- migr:verify
/* nested */ still the comment */
SELECT "odd ""name"" -- migr:x" FROM (SELECT 'cr<CR>here' AS "odd ""name"" -- migr:x") s;<SP><SP>$e$,
         '<TAB>', E'\t'), '<SP>', ' '), '<CR>', E'\r') AS upgrade_exact,
       m.downgrade_sql = E'DROP FUNCTION ld_g();\nDROP FUNCTION ld_f();' AS downgrade_exact,
       m.source_sha256 = sha256(convert_to(f.src, getdatabaseencoding())) AS sha_of_bytes
  FROM migr.migration m, ld_files f
 WHERE m.id = 'ld_bytes' AND f.name = '2024_01_01_000000_ld_bytes.sql';
SELECT upgrade_sql FROM migr.migration WHERE id = 'ld_bytes';
-- the SQL runs as written
SELECT revision, operation FROM migr.upgrade('ld_bytes');
SELECT ld_f(), ld_g() = E'a\\b''c -- migr:verify' || 'ünïcødé' || E'\t' AS g_exact;

-- CRLF line endings: the same SQL and checksum, so the same revision (a CR
-- that does not end a line stays)
SELECT checksum AS bytes_checksum FROM migr.migration WHERE id = 'ld_bytes' \gset
SELECT migr.load(replace(src, E'\n', E'\r\n'), name) FROM ld_files
 WHERE name = '2024_01_01_000000_ld_bytes.sql';
SELECT checksum = :'bytes_checksum' AS same_checksum, position(E'\r' IN upgrade_sql) > 0 AS lone_cr_kept,
       position(E'\r\n' IN upgrade_sql) = 0 AS no_crlf
  FROM migr.migration WHERE id = 'ld_bytes';
-- so is a file with blank lines added between the sections, and a
-- byte-order mark
SELECT migr.load(E'\xEF\xBB\xBF' || replace(src, E'\n\n-- migr:', E'\n\n \t\n\n-- migr:'), name)
  FROM ld_files WHERE name = '2024_01_01_000000_ld_bytes.sql';
SELECT checksum = :'bytes_checksum' AS same_checksum FROM migr.migration WHERE id = 'ld_bytes';

--
-- Without a downgrade section: irreversible; Transactional: false;
-- a merge whose upgrade is a comment; Depends On naming a branch label
--
SELECT migr.load($f$-- no way back
-- Revision ID: ld_irrev
-- Revises: ld_bytes
-- Create Date: 2024-01-02 00:00:00
-- Transactional: false

-- migr:upgrade
CREATE INDEX CONCURRENTLY ld_users_name ON ld_users (name);
$f$);
SELECT migr.load($f$-- side branch
-- Revision ID: ld_side
-- Revises: ld_same
-- Create Date: 2024-01-02 00:00:01
-- Depends On: ld_label

-- migr:upgrade
SELECT 1;
-- migr:downgrade
SELECT 1;
$f$);
SELECT migr.load($f$-- merge
-- Revision ID: ld_merge
-- Revises: ld_irrev ,ld_side
-- Create Date: 2024-01-03 00:00:00
-- Transactional: true

-- migr:upgrade
-- nothing to run: merge
-- migr:downgrade
-- nothing to run: merge
$f$);
SELECT id, revises, depends_on, downgrade_sql IS NULL AS irreversible, transactional,
       upgrade_transactional, upgrade_sql, source_file
  FROM migr.migration WHERE id IN ('ld_irrev', 'ld_side', 'ld_merge') ORDER BY id;
SELECT migr.heads();

--
-- Errors of the file format: 42601, at the line concerned
--
-- no message
SELECT migr.load(E'--\n-- Revision ID: e1\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'SELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load('', '2024_01_01_000000_e1.sql');
\echo :LAST_ERROR_SQLSTATE
-- a missing field
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
-- a duplicate field
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n--\n-- Revision ID: e2\n');
\echo :LAST_ERROR_SQLSTATE
-- an unknown field (names are case-sensitive)
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- revises: a\n');
\echo :LAST_ERROR_SQLSTATE
-- a header line that is not a field
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- this revision adds a column\n');
\echo :LAST_ERROR_SQLSTATE
-- no upgrade section
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:downgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
-- an unknown marker, a malformed one, a duplicate one
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n-- migr:downgrad\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n-- migr:downgrade -- undo\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr: upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n-- migr:downgrade\nSELECT 1;\n\n-- migr:downgrade\nSELECT 2;\n');
\echo :LAST_ERROR_SQLSTATE
-- SQL before the first marker
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\nSELECT 1;\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
-- an empty section: the upgrade, or another
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\n  \n\n-- migr:downgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n-- migr:downgrade\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:verify\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
-- a section that ends inside a string, E'' string, quoted identifier,
-- dollar quote or (nested) block comment: the line where it opened
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT ''it''''s\n-- migr:downgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\nSELECT e''it\\''s;\n-- migr:downgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1 AS "a""b;\n-- migr:downgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nDO $do$ BEGIN\nEND $d$;\n-- migr:downgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n/* outer\n/* inner */\n-- migr:downgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
-- a dollar sign inside an identifier or after a digit opens no quote;
-- standard strings keep backslashes
SELECT migr.load(E'-- msg\n-- Revision ID: ld_dollars\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1 AS a$$b, ''back\\'' AS c;\n-- migr:downgrade\nSELECT 2;\n');
SELECT upgrade_sql, downgrade_sql FROM migr.migration WHERE id = 'ld_dollars';

--
-- Create Date (22007) and the other values (22023)
--
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01T00:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00.1234567\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00.\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-1-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2023-02-29 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2100-02-29 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2023-04-31 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2023-13-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 0000-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2023-01-01 24:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2023-01-01 23:60:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2023-01-01 23:59:60\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
-- a leap day, the last microsecond of a year: fine
SELECT migr.load(E'-- leap\n-- Revision ID: ld_leap\n-- Revises:\n-- Create Date: 2024-02-29 23:59:59.999999\n\n-- migr:upgrade\nSELECT 1;\n',
                 '2024_02_29_235959_ld_leap.sql');
SELECT migr.load(E'-- new year\n-- Revision ID: ld_2000\n-- Revises:\n-- Create Date: 2000-02-29 00:00:00.1\n\n-- migr:upgrade\nSELECT 1;\n');
SELECT id, create_date FROM migr.migration WHERE id IN ('ld_leap', 'ld_2000') ORDER BY id;
-- Transactional
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n-- Transactional: no\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
-- the file name: the convention, the revision id, the create date
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n', 'dir/e1.sql');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n', '2024_01_01_000000_e1.SQL');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n', '2024_01_01_000000_e2.sql');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00.9\n\n-- migr:upgrade\nSELECT 1;\n', '2024_01_01_000001_e1.sql');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(NULL);
\echo :LAST_ERROR_SQLSTATE

--
-- Errors migr.revision() raises carry the file and the line too
--
-- a syntax error in the upgrade: the line of the error
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\n\nSELECT 1;\nSELEC 2;\n-- migr:downgrade\nSELECT 1;\n',
                 '2024_01_01_000000_e1.sql');
\echo :LAST_ERROR_SQLSTATE
-- in a check or another section: its line (counted in characters, not
-- bytes, up to the error)
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n-- migr:requires\nmigr.has_table(''ld_users'')\n  AND AND true\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n-- migr:verify\nmigr.has_table(''ld_users'')\n  AND ''x'' + 1 = 2\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:downgrade\nSELECT 1;\n\nSELECT ''ünïcødéünïcødé'';\n3;\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n-- migr:verify_down\n1 + 1\n');
\echo :LAST_ERROR_SQLSTATE
-- a statement a body can never run: the section
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n-- migr:downgrade\nCOPY ld_users FROM STDIN;\n');
\echo :LAST_ERROR_SQLSTATE
-- an unknown parent, a bad id, a bad label, a dependency on itself
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises: nowhere\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e 1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Branch Labels: ok, head\n-- Create Date: 2024-01-01 00:00:00\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n-- Depends On: e1\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.load(E'-- msg\n-- Revision ID: e1\n-- Revises:\n-- Create Date: 2024-01-01 00:00:00\n-- Branch Labels: ld_label\n\n-- migr:upgrade\nSELECT 1;\n');
\echo :LAST_ERROR_SQLSTATE
-- an applied revision whose file changed: refused (MG003)
SELECT revision, operation FROM migr.upgrade('add_security_fields');
SELECT migr.load(replace(src, 'ALTER TABLE public.ld_users', 'ALTER TABLE ONLY public.ld_users'), name)
  FROM (VALUES ('2023_12_31_121000_add_security_fields.sql',
                (SELECT '-- add security fields' || E'\n-- Revision ID: add_security_fields\n-- Revises: rename_username_to_name\n-- Create Date: 2023-12-31 12:10:00\n\n-- migr:upgrade\n'
                        || upgrade_sql || E'\n-- migr:downgrade\n' || downgrade_sql
                   FROM migr.migration WHERE id = 'add_security_fields'))) AS f(name, src);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS failed_files FROM migr.migration WHERE id IN ('e1', 'e2');

--
-- migr.load_all(): one transaction, file-name order, statuses
--
DELETE FROM ld_files;
INSERT INTO ld_files VALUES
  ('2025_01_01_000000_la1.sql', E'-- one\n-- Revision ID: la1\n-- Revises:\n-- Create Date: 2025-01-01 00:00:00\n\n-- migr:upgrade\nCREATE TABLE ld_la1 ();\n-- migr:downgrade\nDROP TABLE ld_la1;\n'),
  ('2025_01_02_000000_la2.sql', E'-- two\n-- Revision ID: la2\n-- Revises: la1\n-- Create Date: 2025-01-02 00:00:00\n\n-- migr:upgrade\nCREATE TABLE ld_la2 ();\n-- migr:downgrade\nDROP TABLE ld_la2;\n'),
  -- revises a revision of a later file: references are checked at the end
  ('2025_01_03_000000_la3.sql', E'-- three\n-- Revision ID: la3\n-- Revises: la2\n-- Depends On: la4\n-- Create Date: 2025-01-03 00:00:00\n\n-- migr:upgrade\nSELECT 3;\n'),
  ('2025_01_04_000000_la4.sql', E'-- four\n-- Revision ID: la4\n-- Revises: la2\n-- Create Date: 2025-01-04 00:00:00\n\n-- migr:upgrade\nSELECT 4;\n');
-- given in another order, with directories
SELECT filename, revision, status FROM migr.load_all((SELECT array_agg(src ORDER BY name DESC) FROM ld_files),
                            (SELECT array_agg('dir/' || name ORDER BY name DESC) FROM ld_files));
SELECT id, source_file FROM migr.migration WHERE id LIKE 'la_' ORDER BY id;
-- again: nothing parsed, nothing written
SELECT xmin AS la1_xmin FROM migr.migration WHERE id = 'la1' \gset
SELECT filename, revision, status FROM migr.load_all((SELECT array_agg(src ORDER BY name) FROM ld_files),
                            (SELECT array_agg(name ORDER BY name) FROM ld_files));
SELECT xmin = :'la1_xmin' AS la1_untouched FROM migr.migration WHERE id = 'la1';
-- migr.load() parses the file, finds the content and the file recorded,
-- and writes nothing either
SELECT migr.load(src, name) FROM ld_files WHERE name LIKE '%la1.sql';
SELECT xmin = :'la1_xmin' AS la1_untouched FROM migr.migration WHERE id = 'la1';
-- the same content in other bytes (CRLF) is unchanged too, and recorded
SELECT migr.load(replace(src, E'\n', E'\r\n'), name) FROM ld_files WHERE name LIKE '%la1.sql';
SELECT source_sha256 = sha256(convert_to(replace(f.src, E'\n', E'\r\n'), getdatabaseencoding())) AS crlf_recorded
  FROM migr.migration m, ld_files f WHERE m.id = 'la1' AND f.name LIKE '%la1.sql';
-- one file changed (an unapplied revision: replaced), one added, one gone
UPDATE ld_files SET src = replace(src, 'SELECT 4;', 'SELECT 44;') WHERE name LIKE '%la4.sql';
INSERT INTO ld_files VALUES ('2025_01_05_000000_la5.sql', E'-- five\n-- Revision ID: la5\n-- Revises: la3, la4\n-- Create Date: 2025-01-05 00:00:00\n\n-- migr:upgrade\n-- merge\n');
DELETE FROM ld_files WHERE name LIKE '%la1.sql';
SELECT filename, revision, status FROM migr.load_all((SELECT array_agg(src ORDER BY name) FROM ld_files),
                            (SELECT array_agg(name ORDER BY name) FROM ld_files));
SELECT id, upgrade_sql, source_file FROM migr.migration WHERE id IN ('la1', 'la4', 'la5') ORDER BY id;
-- migr.revision() changing a revision forgets its file; the file is then
-- parsed again and found to differ
SELECT migr.revision('la5', 'la3, la4', 'five', '-- merge, by hand',
                     create_date => '2025-01-05 00:00:00+00');
SELECT source_file IS NULL AS file_cleared, source_sha256 IS NULL AS sha_cleared
  FROM migr.migration WHERE id = 'la5';
SELECT filename, revision, status FROM migr.load_all((SELECT array_agg(src ORDER BY name) FROM ld_files),
                            (SELECT array_agg(name ORDER BY name) FROM ld_files))
 WHERE status <> 'unchanged';
-- migr.revision() with the same content keeps the file
SELECT migr.revision('la5', 'la3, la4', 'five', '-- merge', create_date => '2025-01-05 00:00:00+00');
SELECT source_file FROM migr.migration WHERE id = 'la5';
-- all or nothing: an error in the third of three files leaves the catalog
-- as it was
CREATE TEMPORARY TABLE ld_before AS SELECT * FROM migr.migration;
SELECT filename, revision, status FROM migr.load_all(ARRAY[
    E'-- seven\n-- Revision ID: la7\n-- Revises: la6\n-- Create Date: 2025-01-07 00:00:00\n\n-- migr:upgrade\nSELECT 7;\n',
    E'-- eight\n-- Revision ID: la8\n-- Revises: la7\n-- Create Date: 2025-01-08 00:00:00\n\n-- migr:upgrade\nSELECT 8;\n-- migr:downgrade\n\n',
    E'-- six\n-- Revision ID: la6\n-- Revises: la5\n-- Create Date: 2025-01-06 00:00:00\n\n-- migr:upgrade\nSELECT 6;\n'],
  ARRAY['2025_01_07_000000_la7.sql', '2025_01_08_000000_la8.sql', '2025_01_06_000000_la6.sql']);
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM migr.migration) AS revisions,
       (SELECT count(*) FROM migr.migration m JOIN ld_before b USING (id)
         WHERE (m.*)::text = (b.*)::text) AS unchanged_rows;
-- an unknown parent: at the line of the file that names it
SELECT filename, revision, status FROM migr.load_all(ARRAY[
    E'-- six\n-- Revision ID: la6\n-- Revises: la5\n-- Create Date: 2025-01-06 00:00:00\n\n-- migr:upgrade\nSELECT 6;\n',
    E'-- seven\n-- Revision ID: la7\n-- Revises: la6\n-- Create Date: 2025-01-07 00:00:00\n-- Depends On: la9\n\n-- migr:upgrade\nSELECT 7;\n'],
  ARRAY['2025_01_06_000000_la6.sql', '2025_01_07_000000_la7.sql']);
\echo :LAST_ERROR_SQLSTATE
-- inside a transaction block it is checked at commit, as for migr.revision()
BEGIN;
SELECT filename, revision, status FROM migr.load_all(ARRAY[
    E'-- seven\n-- Revision ID: la7\n-- Revises: la6\n-- Create Date: 2025-01-07 00:00:00\n\n-- migr:upgrade\nSELECT 7;\n'],
  ARRAY['2025_01_07_000000_la7.sql']);
SELECT migr.revision('la6', 'la5', 'six', 'SELECT 6;', create_date => '2025-01-06 00:00:00+00');
COMMIT;
SELECT id, source_file FROM migr.migration WHERE id IN ('la6', 'la7') ORDER BY id;
-- an applied revision whose file changed
SELECT revision, operation FROM migr.upgrade('la2');
SELECT filename, revision, status FROM migr.load_all(ARRAY[replace((SELECT src FROM ld_files WHERE name LIKE '%la2.sql'),
                                          'CREATE TABLE ld_la2 ()', 'CREATE TABLE ld_la2 (x int)')],
                            ARRAY['2025_01_02_000000_la2.sql']);
\echo :LAST_ERROR_SQLSTATE
-- and one whose message changed
SELECT filename, revision, status FROM migr.load_all(ARRAY[replace((SELECT src FROM ld_files WHERE name LIKE '%la2.sql'),
                                          '-- two', '-- two, said otherwise')],
                            ARRAY['2025_01_02_000000_la2.sql']);
\echo :LAST_ERROR_SQLSTATE

-- the arrays (22023, 22004)
SELECT filename, revision, status FROM migr.load_all(ARRAY['a', 'b'], ARRAY['2025_01_01_000000_la1.sql']);
\echo :LAST_ERROR_SQLSTATE
SELECT filename, revision, status FROM migr.load_all(ARRAY['a', NULL], ARRAY['x.sql', 'y.sql']);
\echo :LAST_ERROR_SQLSTATE
SELECT filename, revision, status FROM migr.load_all(ARRAY['a', 'b'], ARRAY['x.sql', NULL]);
\echo :LAST_ERROR_SQLSTATE
SELECT filename, revision, status FROM migr.load_all(ARRAY['a', 'b'], ARRAY['one/x.sql', 'two/x.sql']);
\echo :LAST_ERROR_SQLSTATE
SELECT filename, revision, status FROM migr.load_all(ARRAY[['a'], ['b']], ARRAY[['x.sql'], ['y.sql']]);
\echo :LAST_ERROR_SQLSTATE
SELECT filename, revision, status FROM migr.load_all(NULL, ARRAY['x.sql']);
\echo :LAST_ERROR_SQLSTATE
-- a revision id in two files
SELECT filename, revision, status FROM migr.load_all(ARRAY[
    E'-- a\n-- Revision ID: la8\n-- Revises: la7\n-- Create Date: 2025-01-08 00:00:00\n\n-- migr:upgrade\nSELECT 8;\n',
    E'-- b\n-- Revision ID: la8\n-- Revises: la7\n-- Create Date: 2025-01-09 00:00:00\n\n-- migr:upgrade\nSELECT 8;\n'],
  ARRAY['2025_01_08_000000_la8.sql', '2025_01_09_000000_la8.sql']);
\echo :LAST_ERROR_SQLSTATE
-- a revision whose unchanged file comes after another file declaring it
SELECT filename, revision, status FROM migr.load_all(ARRAY[
    replace(replace((SELECT src FROM ld_files WHERE name LIKE '%la4.sql'), '2025-01-04 00', '2025-01-03 12'), '-- four', '-- four, copied'),
    (SELECT src FROM ld_files WHERE name LIKE '%la4.sql')],
  ARRAY['2025_01_03_120000_la4.sql', '2025_01_04_000000_la4.sql']);
\echo :LAST_ERROR_SQLSTATE
-- a renamed file (another time stamp) replaces its revision, and the old
-- name is not missing
SELECT filename, revision, status FROM migr.load_all(ARRAY[
    E'-- seven\n-- Revision ID: la7\n-- Revises: la6\n-- Create Date: 2025-01-06 12:00:00\n\n-- migr:upgrade\nSELECT 7;\n'],
  ARRAY['2025_01_06_120000_la7.sql'])
 WHERE status <> 'missing' OR revision = 'la7';
-- a file error names the file as given
SELECT filename, revision, status FROM migr.load_all(ARRAY['-- m'], ARRAY['some/dir/2025_01_01_000000_x.sql']);
\echo :LAST_ERROR_SQLSTATE
SELECT filename, revision, status FROM migr.load_all(ARRAY[]::text[], ARRAY[]::text[]) ORDER BY filename;

-- sha256s: the sha256 of every file comes back, that of its bytes as sent
SELECT l.filename, l.status,
       l.sha256 = encode(sha256(convert_to(f.src, 'UTF8')), 'hex') AS sha256_of_bytes
  FROM migr.load_all((SELECT array_agg(src ORDER BY name) FROM ld_files),
                     (SELECT array_agg(name ORDER BY name) FROM ld_files)) l
  LEFT JOIN ld_files f ON f.name = l.filename
 ORDER BY l.filename;
-- a file recorded with that sha256 may be sent as the sha256 alone, in
-- either case, among files sent in full; nothing is written
SELECT xmin AS la2_xmin FROM migr.migration WHERE id = 'la2' \gset
SELECT filename, revision, status FROM migr.load_all(
    (SELECT array_agg(CASE WHEN name NOT LIKE '%la2.sql' THEN src END ORDER BY name) FROM ld_files),
    (SELECT array_agg(name ORDER BY name) FROM ld_files),
    (SELECT array_agg(CASE WHEN name LIKE '%la2.sql' THEN upper(encode(sha256(convert_to(src, 'UTF8')), 'hex'))
                           WHEN name LIKE '%la3.sql' THEN encode(sha256(convert_to(src, 'UTF8')), 'hex') END
                      ORDER BY name) FROM ld_files))
 WHERE status <> 'missing';
SELECT xmin = :'la2_xmin' AS la2_untouched FROM migr.migration WHERE id = 'la2';
-- every file as its sha256: the no-op deploy of a client with a stat cache
SELECT status, count(*) FROM migr.load_all(
    (SELECT array_agg(NULL::text ORDER BY name) FROM ld_files WHERE name LIKE '%la_.sql'),
    (SELECT array_agg(name ORDER BY name) FROM ld_files WHERE name LIKE '%la_.sql'),
    (SELECT array_agg(encode(sha256(convert_to(src, 'UTF8')), 'hex') ORDER BY name)
       FROM ld_files WHERE name LIKE '%la_.sql'))
 GROUP BY status ORDER BY status;
-- a sha256 that is not the one recorded, or a file never recorded: nothing
-- is loaded (not even the file before it, sent in full), and the rows say
-- which files must be sent with their content
SELECT * FROM migr.load_all(
    ARRAY[E'-- nine\n-- Revision ID: la9\n-- Revises: la4\n-- Create Date: 2025-01-04 12:00:00\n\n-- migr:upgrade\nSELECT 9;\n', NULL],
    ARRAY['2025_01_04_120000_la9.sql', '2025_01_05_000000_la5.sql'],
    ARRAY[NULL, repeat('ab', 32)]);
SELECT * FROM migr.load_all(ARRAY[NULL, NULL], ARRAY['2025_01_10_000000_la10.sql', '2025_01_02_000000_la2.sql'],
                            ARRAY[repeat('0', 64), (SELECT encode(sha256(convert_to(src, 'UTF8')), 'hex')
                                                      FROM ld_files WHERE name LIKE '%la2.sql')]);
SELECT count(*) AS la9_registered FROM migr.migration WHERE id = 'la9';
-- a sha256 given with the content must be that of the content (22023)
SELECT filename, revision, status FROM migr.load_all(
    (SELECT array_agg(src) FROM ld_files WHERE name LIKE '%la2.sql'),
    (SELECT array_agg(name) FROM ld_files WHERE name LIKE '%la2.sql'),
    ARRAY[repeat('ab', 32)]);
\echo :LAST_ERROR_SQLSTATE
-- a manifest: every file at once, as the sha256 of "name TAB sha256 LF"
-- lines in file-name order; the answer is one row without a file name,
-- "unchanged" when the manifest is that of the recorded files, "needed"
-- when the catalog does not back it, with the manifest as its sha256
SELECT string_agg(source_file || E'\t' || encode(source_sha256, 'hex') || E'\n', '' ORDER BY source_file COLLATE "C")
         AS ld_manifest_text
  FROM migr.migration WHERE source_file IS NOT NULL \gset
SELECT filename, revision, status,
       sha256 = encode(sha256(convert_to(:'ld_manifest_text', 'UTF8')), 'hex') AS is_manifest
  FROM migr.load_all('{}', '{}', NULL, encode(sha256(convert_to(:'ld_manifest_text', 'UTF8')), 'hex'));
-- one file less is another manifest
SELECT filename, revision, status
  FROM migr.load_all('{}', '{}', NULL,
                     encode(sha256(convert_to(regexp_replace(:'ld_manifest_text', '^[^\n]*\n', ''), 'UTF8')), 'hex'));
SELECT * FROM migr.load_all('{}', '{}', NULL, repeat('ab', 32));
SELECT filename, revision, status FROM migr.load_all(ARRAY['a'], ARRAY['x.sql'], NULL, repeat('ab', 32));
\echo :LAST_ERROR_SQLSTATE
SELECT filename, revision, status FROM migr.load_all('{}', '{}', NULL, 'abc');
\echo :LAST_ERROR_SQLSTATE
-- malformed sha256s, lengths, nulls (22023)
SELECT filename, revision, status FROM migr.load_all(ARRAY[NULL], ARRAY['x.sql'], ARRAY['abc']);
\echo :LAST_ERROR_SQLSTATE
SELECT filename, revision, status FROM migr.load_all(ARRAY[NULL], ARRAY['x.sql'], ARRAY[repeat('g', 64)]);
\echo :LAST_ERROR_SQLSTATE
SELECT filename, revision, status FROM migr.load_all(ARRAY['a'], ARRAY['x.sql'], ARRAY[NULL, NULL]::text[]);
\echo :LAST_ERROR_SQLSTATE
SELECT filename, revision, status FROM migr.load_all(ARRAY[NULL], ARRAY['x.sql'], ARRAY[NULL]::text[]);
\echo :LAST_ERROR_SQLSTATE
SELECT filename, revision, status FROM migr.load_all(ARRAY['a'], ARRAY['x.sql'], ARRAY[['a']]);
\echo :LAST_ERROR_SQLSTATE
-- a NULL sha256s is no sha256 at all
SELECT filename, revision, status FROM migr.load_all(ARRAY[NULL], ARRAY['x.sql'], NULL);
\echo :LAST_ERROR_SQLSTATE

-- clean up
SELECT revision, operation FROM migr.downgrade('base') ORDER BY 1;
DROP FUNCTION IF EXISTS ld_f(), ld_g();
DROP TABLE ld_files, ld_users;
DROP EXTENSION migr;
CREATE EXTENSION migr;

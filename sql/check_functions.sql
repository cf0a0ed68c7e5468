-- check_functions: migr.has_* and friends, against information_schema
SET client_min_messages = warning;
CREATE SCHEMA s1;
CREATE SCHEMA "Odd Schema";
CREATE TABLE public.plain (id int PRIMARY KEY, name varchar(50) NOT NULL DEFAULT 'x',
                           n numeric(10,2), created timestamptz DEFAULT now(),
                           g int GENERATED ALWAYS AS (id * 2) STORED);
CREATE TABLE s1.plain (other int);
CREATE TABLE "Odd Schema"."Mixed Case" ("Weird Col" text, "x""y" int);
CREATE INDEX ix_plain_name ON public.plain (name);
CREATE INDEX ix_plain_expr ON public.plain (lower(name), id);
ALTER TABLE public.plain ADD CONSTRAINT ck_plain_n CHECK (n > 0);
CREATE VIEW public.v AS SELECT id FROM public.plain;
CREATE FUNCTION s1.f(a int, b text) RETURNS int LANGUAGE sql AS 'SELECT 1';
-- tables: unqualified names follow the search_path; quotes keep case
SELECT migr.has_table('plain') AS plain, migr.has_table('s1.plain') AS s1_plain,
       migr.has_table('public.v') AS view, migr.has_table('nope') AS nope,
       migr.has_table('nope.plain') AS no_schema,
       migr.has_table('"Odd Schema"."Mixed Case"') AS quoted,
       migr.has_table('"Odd Schema"."mixed case"') AS other_case,
       migr.has_table('"Odd Schema".Mixed_Case') AS folded;
SET search_path = s1, public;
SELECT migr.has_column('plain', 'other') AS s1_first, migr.has_column('plain', 'name') AS not_public;
RESET search_path;
-- columns, types, nullability, defaults
SELECT migr.has_column('plain', 'name') AS has_name, migr.has_column('plain', 'nope') AS nope,
       migr.has_column('"Odd Schema"."Mixed Case"', 'Weird Col') AS weird,
       migr.has_column('"Odd Schema"."Mixed Case"', 'x"y') AS quote_in_name,
       migr.has_column('plain', 'ctid') AS system_column;
SELECT migr.column_type_is('plain', 'name', 'varchar(50)') AS varchar_alias,
       migr.column_type_is('plain', 'name', 'character varying(50)') AS canonical,
       migr.column_type_is('plain', 'name', 'varchar(51)') AS other_length,
       migr.column_type_is('plain', 'id', 'int') AS int_alias,
       migr.column_type_is('plain', 'id', 'int4') AS int4_alias,
       migr.column_type_is('plain', 'n', 'decimal(10,2)') AS decimal_alias,
       migr.column_type_is('plain', 'created', 'timestamp with time zone') AS tstz,
       migr.column_type_is('missing', 'id', 'int') AS missing_table;
SELECT migr.column_is_nullable('plain', 'name') AS name_nullable,
       migr.column_is_nullable('plain', 'n') AS n_nullable,
       migr.column_is_nullable('plain', 'nope') AS missing;
SELECT migr.column_default('plain', 'name') AS name_default,
       migr.column_default('plain', 'created') AS created_default,
       migr.column_default('plain', 'g') AS generated,
       migr.column_default('plain', 'n') AS none;
-- indexes and constraints
SELECT migr.has_index('plain', 'ix_plain_name') AS ix, migr.has_index('plain', 'plain_pkey') AS pk,
       migr.has_index('s1.plain', 'ix_plain_name') AS other_table, migr.has_index('plain', 'nope') AS nope;
SELECT migr.has_index_on('plain', ARRAY['name']) AS on_name,
       migr.has_index_on('plain', ARRAY['id']) AS on_id,
       migr.has_index_on('plain', ARRAY['name', 'id']) AS on_two;
SELECT migr.index_columns('plain', 'ix_plain_expr') AS expr_cols,
       migr.index_columns('plain', 'nope') AS missing;
SELECT migr.has_constraint('plain', 'ck_plain_n') AS ck, migr.has_constraint('plain', 'plain_pkey') AS pk,
       migr.has_constraint('plain', 'nope') AS nope;
-- schemas, functions, extensions
SELECT migr.has_schema('s1') AS s1, migr.has_schema('Odd Schema') AS odd, migr.has_schema('nope') AS nope;
SELECT migr.has_function('s1.f') AS any_sig, migr.has_function('s1.f', ARRAY['int', 'text']) AS exact,
       migr.has_function('s1.f', ARRAY['text']) AS wrong_sig, migr.has_function('f') AS not_on_path,
       migr.has_function('pg_catalog.lower') AS builtin, migr.has_function('s1.f', '{}') AS no_args;
SELECT migr.has_extension('migr') AS migr, migr.has_extension('nope') AS nope;
-- the same answers as information_schema, for a role without privileges...
CREATE ROLE regress_migr_peek;
GRANT USAGE ON SCHEMA s1 TO regress_migr_peek;
GRANT SELECT (other) ON s1.plain TO regress_migr_peek;
SET ROLE regress_migr_peek;
SELECT t AS tbl, migr.has_table(t) AS migr,
       EXISTS (SELECT 1 FROM information_schema.tables
                WHERE table_schema || '.' || table_name = t) AS information_schema
  FROM unnest(ARRAY['public.plain', 's1.plain', 'public.v']) t ORDER BY 1;
SELECT migr.has_column('s1.plain', 'other') AS granted_column,
       migr.has_constraint('public.plain', 'ck_plain_n') AS hidden_constraint,
       migr.has_schema('Odd Schema') AS hidden_schema,
       migr.has_function('s1.f') AS executable_by_public;
RESET ROLE;
-- ... and in a schema the role has no USAGE on: information_schema shows
-- what the role holds privileges on there, and never raises
CREATE SCHEMA private;
CREATE DOMAIN private.posint AS int CHECK (VALUE > 0);
CREATE TABLE private.granted (a int NOT NULL DEFAULT 1 CONSTRAINT ck_granted_a CHECK (a > 0),
                              p private.posint);
CREATE INDEX ix_granted_a ON private.granted (a);
CREATE TABLE private.hidden (b int PRIMARY KEY);
CREATE FUNCTION private.f(x private.posint) RETURNS int LANGUAGE sql AS 'SELECT 1';
GRANT SELECT, INSERT ON private.granted TO regress_migr_peek;
SET ROLE regress_migr_peek;
SELECT t AS tbl, migr.has_table(t) AS migr,
       EXISTS (SELECT 1 FROM information_schema.tables
                WHERE table_schema || '.' || table_name = t) AS information_schema
  FROM unnest(ARRAY['private.granted', 'private.hidden', 'private.nope', 'nope.nope']) t ORDER BY 1;
SELECT v.t || '.' || v.c AS col, migr.has_column('private.' || v.t, v.c) AS migr,
       migr.column_is_nullable('private.' || v.t, v.c) AS nullable,
       migr.column_default('private.' || v.t, v.c) AS "default",
       ic.table_name IS NOT NULL AS information_schema, ic.is_nullable, ic.column_default AS is_default,
       ic.domain_schema || '.' || ic.domain_name AS is_domain
  FROM (VALUES ('granted', 'a'), ('granted', 'p'), ('hidden', 'b')) v(t, c)
  LEFT JOIN information_schema.columns ic
         ON ic.table_schema = 'private' AND ic.table_name = v.t AND ic.column_name = v.c
 ORDER BY 1;
SELECT migr.column_type_is('private.granted', 'a', 'int') AS type_a,
       migr.column_type_is('private.granted', 'p', 'private.posint') AS type_p,
       migr.column_type_is('private.hidden', 'b', 'int') AS hidden_type;
SELECT migr.has_constraint('private.granted', 'ck_granted_a') AS ck,
       migr.has_constraint('private.hidden', 'hidden_pkey') AS hidden_pk,
       array(SELECT constraint_name::text FROM information_schema.table_constraints
              WHERE constraint_schema = 'private' AND constraint_type <> 'CHECK' OR constraint_name = 'ck_granted_a'
              ORDER BY 1) AS information_schema;
SELECT migr.has_index('private.granted', 'ix_granted_a') AS ix,
       migr.has_index_on('private.granted', ARRAY['a']) AS ix_on,
       migr.index_columns('private.granted', 'ix_granted_a') AS ix_cols,
       migr.has_index('private.hidden', 'hidden_pkey') AS hidden_ix,
       migr.index_columns('private.hidden', 'hidden_pkey') AS hidden_cols;
SELECT migr.has_schema('private') AS migr,
       EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = 'private') AS information_schema;
SELECT migr.has_function('private.f') AS any_sig, migr.has_function('private.f', ARRAY['private.posint']) AS exact,
       migr.has_function('private.f', ARRAY['int']) AS wrong_sig, migr.has_function('private.nope') AS nope,
       EXISTS (SELECT 1 FROM information_schema.routines
                WHERE routine_schema = 'private' AND routine_name = 'f') AS information_schema;
RESET ROLE;
DROP SCHEMA private CASCADE;
-- ... and for the owner, over every column of every table here
SELECT count(*) AS disagreements
  FROM (SELECT n.nspname, c.relname, a.attname
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('public', 's1', 'Odd Schema') AND a.attnum > -3
           AND NOT a.attisdropped) x
 WHERE migr.has_column(quote_ident(nspname) || '.' || quote_ident(relname), attname)
       IS DISTINCT FROM EXISTS (SELECT 1 FROM information_schema.columns
                                 WHERE table_schema = nspname AND table_name = relname
                                   AND column_name = attname);
-- an INVALID index, left by a failed CREATE INDEX CONCURRENTLY, is no index
CREATE TABLE dup (a int, b int);
INSERT INTO dup VALUES (1, 1), (1, 1);
CREATE UNIQUE INDEX CONCURRENTLY ix_dup_a ON dup (a);
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_dup_a'::regclass) AS valid,
       migr.has_index('dup', 'ix_dup_a') AS has_index, migr.has_index_on('dup', ARRAY['a']) AS has_index_on,
       migr.index_columns('dup', 'ix_dup_a') AS index_columns;
DROP TABLE dup;
-- names of 64 bytes or more are truncated to 63, at a character boundary,
-- as PostgreSQL's parser truncates them, with its NOTICE
SET client_min_messages = notice;
SELECT repeat('s', 64) AS long_schema, repeat('ä', 40) AS mb_table, repeat('c', 70) AS long_col,
       repeat('i', 64) AS long_ix, repeat('k', 64) AS long_ck, 'f' || repeat('€', 22) AS mb_func \gset
CREATE SCHEMA :"long_schema";
CREATE TABLE :"long_schema".:"mb_table" (:"long_col" int CONSTRAINT :"long_ck" CHECK (true));
CREATE INDEX :"long_ix" ON :"long_schema".:"mb_table" (:"long_col");
CREATE FUNCTION :"long_schema".:"mb_func"() RETURNS int LANGUAGE sql AS 'SELECT 1';
SELECT format('%I.%I', :'long_schema', :'mb_table') AS qualified \gset
SELECT migr.has_schema(:'long_schema') AS has_schema;
SELECT migr.has_table(:'qualified') AS has_table;
SELECT migr.has_column(:'qualified', :'long_col') AS has_column;
SELECT migr.column_type_is(:'qualified', :'long_col', 'int') AS type_is;
SELECT migr.has_index(:'qualified', :'long_ix') AS has_index;
SELECT migr.has_index_on(:'qualified', ARRAY[:'long_col']) AS has_index_on;
SELECT migr.has_constraint(:'qualified', :'long_ck') AS has_constraint;
SELECT migr.has_function(format('%I.%I', :'long_schema', :'mb_func')) AS has_function;
SELECT nspname, octet_length(nspname) FROM pg_namespace WHERE nspname LIKE 'sss%';
SELECT relname, octet_length(relname) FROM pg_class
 WHERE relnamespace = (SELECT oid FROM pg_namespace WHERE nspname LIKE 'sss%') ORDER BY relname COLLATE "C";
SELECT proname, octet_length(proname) FROM pg_proc WHERE pronamespace = (SELECT oid FROM pg_namespace WHERE nspname LIKE 'sss%');
DROP SCHEMA :"long_schema" CASCADE;
SET client_min_messages = warning;
-- bad arguments are errors; missing objects are not
SELECT migr.has_table(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.has_table('');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.has_column('plain', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.has_table('a.b.c.d');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.has_table('"unterminated');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.column_type_is('plain', 'id', 'no_such_type');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.has_index_on('plain', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.has_table('"Odd Schema".mixed case');
\echo :LAST_ERROR_SQLSTATE
DROP SCHEMA s1, "Odd Schema" CASCADE;
DROP ROLE regress_migr_peek;
DROP VIEW v;
DROP TABLE plain;

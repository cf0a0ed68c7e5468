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

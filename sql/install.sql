-- install: the extension, its catalog and its privileges
CREATE EXTENSION migr;
SELECT extname, extversion, extrelocatable, n.nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'migr';
-- the catalog tables, all marked for pg_dump but migr.run (which says what runs now)
SELECT c.relname, c.relkind,
       c.oid = ANY (e.extconfig) AS dumped
  FROM pg_class c, pg_extension e
 WHERE c.relnamespace = 'migr'::regnamespace AND c.relkind IN ('r', 'S')
   AND e.extname = 'migr'
 ORDER BY c.relname;
-- every function is documented with a comment
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p WHERE p.pronamespace = 'migr'::regnamespace
 ORDER BY 1, 2;
-- writers are not executable by PUBLIC; readers are
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
  FROM pg_proc p WHERE p.pronamespace = 'migr'::regnamespace
 ORDER BY 1;
-- tables are readable but not writable by PUBLIC
SELECT c.relname,
       has_table_privilege('public', c.oid, 'SELECT') AS can_select,
       has_table_privilege('public', c.oid, 'INSERT') AS can_insert
  FROM pg_class c WHERE c.relnamespace = 'migr'::regnamespace AND c.relkind = 'r'
 ORDER BY 1;
-- the schema is not relocatable
ALTER EXTENSION migr SET SCHEMA public;
\echo :LAST_ERROR_SQLSTATE
-- a misspelt migr.* setting is refused once the library is loaded
SELECT count(*) FROM migr.heads();
SET migr.no_such_setting = 1;
\echo :LAST_ERROR_SQLSTATE

-- uninstall: DROP EXTENSION removes every object of migr's and nothing of
-- the user's; the schema migr, which CREATE EXTENSION made from the control
-- file's schema setting, is not a member of the extension and stays, empty
SET client_min_messages = warning;
-- a table and an index made by a migration, and one made by hand, with data
SELECT migr.revision('u1', NULL, 'kept',
    $$CREATE TABLE kept_by_migration (id int PRIMARY KEY, v text);
      SELECT migr.create_index('kept_by_migration', ARRAY['v']);$$,
    'DROP TABLE kept_by_migration;', create_date => '2024-01-01 00:00:00+00');
SELECT revision, operation FROM migr.upgrade();
INSERT INTO kept_by_migration VALUES (1, 'one');
CREATE TABLE kept_by_hand (id int);
-- before: every object in schema migr is a member of the extension or part
-- of one (an index, a row type), and there are tables, sequences, functions
-- and triggers
WITH RECURSIVE member AS (
       SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
        WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'migr' AND d.deptype = 'e'
       UNION
       SELECT d.classid, d.objid FROM pg_depend d JOIN member m
           ON d.refclassid = m.classid AND d.refobjid = m.objid AND d.deptype IN ('i', 'a'))
SELECT count(*) AS not_members
  FROM (SELECT 'pg_class'::regclass AS classid, oid FROM pg_class WHERE relnamespace = 'migr'::regnamespace
        UNION ALL
        SELECT 'pg_proc'::regclass, oid FROM pg_proc WHERE pronamespace = 'migr'::regnamespace
        UNION ALL
        SELECT 'pg_type'::regclass, oid FROM pg_type WHERE typnamespace = 'migr'::regnamespace) o
 WHERE (o.classid, o.oid) NOT IN (SELECT classid, objid FROM member);
SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'migr'::regnamespace AND relkind = 'r') > 0 AS tables,
       (SELECT count(*) FROM pg_class WHERE relnamespace = 'migr'::regnamespace AND relkind = 'S') > 0 AS sequences,
       (SELECT count(*) FROM pg_proc WHERE pronamespace = 'migr'::regnamespace AND prokind = 'f') > 0 AS functions,
       (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE c.relnamespace = 'migr'::regnamespace AND NOT t.tgisinternal) > 0 AS triggers;
DROP EXTENSION migr;
-- after: no extension, nothing left in schema migr, nothing that
-- depended on it, no function left that calls into the library
SELECT count(*) AS extension FROM pg_extension WHERE extname = 'migr';
SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'migr'::regnamespace) AS relations,
       (SELECT count(*) FROM pg_proc WHERE pronamespace = 'migr'::regnamespace) AS routines,
       (SELECT count(*) FROM pg_type WHERE typnamespace = 'migr'::regnamespace) AS types,
       (SELECT count(*) FROM pg_depend WHERE refclassid = 'pg_namespace'::regclass
                                         AND refobjid = 'migr'::regnamespace) AS dependents,
       (SELECT count(*) FROM pg_proc WHERE probin LIKE '%migr') AS library_functions,
       (SELECT count(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
         WHERE p.pronamespace = 'migr'::regnamespace) AS triggers;
-- the schema itself stays, owned by whoever created the extension, empty
SELECT nspname, pg_get_userbyid(nspowner) = current_user AS owned_by_installer
  FROM pg_namespace WHERE nspname = 'migr';
-- the user's objects stay, with their data
SELECT * FROM kept_by_migration;
SELECT indexrelid::regclass AS index FROM pg_index WHERE indrelid = 'kept_by_migration'::regclass ORDER BY 1;
SELECT count(*) AS kept_by_hand FROM pg_class WHERE relname = 'kept_by_hand';
DROP TABLE kept_by_migration, kept_by_hand;
DROP SCHEMA migr;

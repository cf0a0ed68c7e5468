/* migr--0.3.0--0.4.0.sql: migration files read by the extension itself
 * (migr.load(), migr.load_all(); docs/files.md), and the file each revision
 * was last loaded from.  A fresh install runs migr--0.4.0.sql instead of the
 * chain: a change here is made there too (test/shell/install_equivalence.sh
 * compares the two) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migr UPDATE TO '0.4.0'" to load this file. \quit

-- An update from 0.1.0 runs 0.2.0's UPDATE of migr.migration in the same
-- transaction, which queues the deferred checks of its rows, and ALTER
-- TABLE refuses a table with pending trigger events: run them now (the
-- rows are as they were, so they pass), then defer them again.
SET CONSTRAINTS migr.migration_edges_resolved, migr.migration_edge_revision_fkey,
    migr.migration_edge_target_fkey, migr.branch_label_revision_fkey IMMEDIATE;
SET CONSTRAINTS migr.migration_edges_resolved, migr.migration_edge_revision_fkey,
    migr.migration_edge_target_fkey, migr.branch_label_revision_fkey DEFERRED;

ALTER TABLE migr.migration
    ADD COLUMN source_file text,
    ADD COLUMN source_sha256 bytea;
COMMENT ON COLUMN migr.migration.source_file IS 'The file name (last path component) the revision was last loaded from by migr.load() or migr.load_all(); NULL once migr.revision() changed it.';
COMMENT ON COLUMN migr.migration.source_sha256 IS 'sha256 of the bytes of that file as sent, which lets migr.load_all() skip an unchanged file without parsing it.';

CREATE FUNCTION migr.load(source text, filename text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_load'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.load(text, text) IS 'Parses a migration file and registers its revision as migr.revision() does; returns the revision id.';

-- sha256s: a file already loaded may be sent as the sha256 of its bytes
-- alone (its source NULL), which a client with a cache of the files it read
-- uses to skip reading unchanged files; manifest: every file at once, as
-- the sha256 of their names and sha256s.  What the catalog does not back
-- loads nothing and comes back as "needed".
CREATE FUNCTION migr.load_all(sources text[], filenames text[], sha256s text[] DEFAULT NULL,
                              manifest text DEFAULT NULL)
RETURNS TABLE (filename text, revision text, status text, sha256 text)
AS 'MODULE_PATHNAME', 'migr_load_all'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.load_all(text[], text[], text[], text) IS 'Loads a directory''s migration files in one transaction; one row per file (unchanged, registered, replaced) and per revision whose file is missing, with the sha256 of each; files sent as their sha256 or as a manifest that the catalog does not back come back as needed; a manifest it backs, as one unchanged row.';

REVOKE EXECUTE ON FUNCTION migr.load(text, text), migr.load_all(text[], text[], text[], text) FROM PUBLIC;

-- whoever may register with migr.revision() may load files: they register
-- through it
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT DISTINCT a.grantee, a.is_grantable
               FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
              WHERE p.oid OPERATOR(pg_catalog.=) 'migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean)'::pg_catalog.regprocedure
                AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
                AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION migr.load(text, text), migr.load_all(text[], text[], text[], text) TO %s%s',
                    CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                         ELSE g.grantee::pg_catalog.regrole::text END,
                    CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;

-- The catalog signature recorded with the schema description: while it is
-- unchanged, migr.check() need not describe the schema again (src/catsig.c).
-- A snapshot recorded before the update has none, and is compared in full.
ALTER TABLE migr.snapshot ADD COLUMN catalog_signature bytea;
COMMENT ON COLUMN migr.snapshot.catalog_signature IS 'Taken just before the description: for each page of the catalogs it reads, the page''s LSN and a sha256 over the xmin and position of its visible rows (src/catsig.c). While the catalogs match it, so does the description.';

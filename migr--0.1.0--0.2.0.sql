/* migr--0.1.0--0.2.0.sql: maintenance-window execution (CALL migr.apply() and
 * migr.revert()), non-transactional revisions, failure records */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migr UPDATE TO '0.2.0'" to load this file. \quit

--
-- Non-transactional revisions: a body with a statement PostgreSQL refuses
-- inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...), or a
-- revision registered with transactional => false, runs statement by
-- statement under CALL migr.apply() / migr.revert(), each statement
-- committed on its own.
--
ALTER TABLE migr.migration
    ADD COLUMN transactional            bool NOT NULL DEFAULT true,
    ADD COLUMN upgrade_transactional    bool NOT NULL DEFAULT true,
    ADD COLUMN downgrade_transactional  bool NOT NULL DEFAULT true;
COMMENT ON COLUMN migr.migration.transactional IS 'false: registered with transactional => false.';
COMMENT ON COLUMN migr.migration.upgrade_transactional IS 'false: the upgrade runs statement by statement, each committed (CALL migr.apply() only).';
COMMENT ON COLUMN migr.migration.downgrade_transactional IS 'false: the downgrade runs statement by statement, each committed (CALL migr.revert() only).';

-- Revisions registered under 0.1.0 may hold such statements already (0.1.0
-- registered them and failed when running them): classify them now.
CREATE FUNCTION migr.body_transactional(sql text) RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_body_transactional_sql' LANGUAGE C IMMUTABLE STRICT;
UPDATE migr.migration
   SET upgrade_transactional = migr.body_transactional(upgrade_sql),
       downgrade_transactional = COALESCE(migr.body_transactional(downgrade_sql), true)
 WHERE NOT migr.body_transactional(upgrade_sql)
    OR NOT COALESCE(migr.body_transactional(downgrade_sql), true);
DROP FUNCTION migr.body_transactional(text);

--
-- Every step's outcome, and a record of failures: CALL mode commits the
-- failure of a revision after rolling its work back.
--
ALTER TABLE migr.event
    ADD COLUMN outcome        text NOT NULL DEFAULT 'ok',
    ADD COLUMN sqlstate       text,
    ADD COLUMN error          text,
    ADD COLUMN error_detail   text,
    ADD COLUMN error_hint     text,
    ADD COLUMN statement_no   int4,
    ADD COLUMN statement      text,
    ADD COLUMN blocking_pids  int4[],
    ADD CONSTRAINT event_outcome_check CHECK (outcome OPERATOR(pg_catalog.=) ANY (ARRAY['ok', 'skipped', 'failed', 'retry'])),
    ADD CONSTRAINT event_error_check CHECK ((outcome OPERATOR(pg_catalog.=) ANY (ARRAY['failed', 'retry'])) OPERATOR(pg_catalog.=) (sqlstate IS NOT NULL));
COMMENT ON COLUMN migr.event.outcome IS 'ok, skipped (skip_if held), failed (rolled back, then recorded), retry (lock not available; rolled back and run again).';
COMMENT ON COLUMN migr.event.sqlstate IS 'SQLSTATE of the error of a failed or retried step.';
COMMENT ON COLUMN migr.event.statement_no IS 'The statement of the body that failed, or the number of statements a successful step ran.';
COMMENT ON COLUMN migr.event.statement IS 'The text of the statement that failed.';
COMMENT ON COLUMN migr.event.blocking_pids IS 'The processes that held the lock a retried or failed step waited for.';
-- steps recorded by 0.1.0: an upgrade skipped by skip_if is operation 'skip'
ALTER TABLE migr.event DISABLE TRIGGER event_append_only;
UPDATE migr.event SET outcome = 'skipped' WHERE operation OPERATOR(pg_catalog.=) 'skip';
ALTER TABLE migr.event ENABLE ALWAYS TRIGGER event_append_only;

--
-- Where a non-transactional revision stands: the statements of its body that
-- have run and committed.  A run that fails resumes after them.
--
CREATE TABLE migr.progress (
    revision            text        NOT NULL,
    direction           text        NOT NULL,
    statements_done     int4        NOT NULL,
    statements_total    int4        NOT NULL,
    checksum            bytea       NOT NULL,
    started_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    backend_pid         int4        NOT NULL,
    CONSTRAINT progress_pkey PRIMARY KEY (revision),
    CONSTRAINT progress_direction_check CHECK (direction OPERATOR(pg_catalog.=) ANY (ARRAY['upgrade', 'downgrade'])),
    CONSTRAINT progress_statements_check CHECK (statements_done OPERATOR(pg_catalog.>=) 0
                                                AND statements_done OPERATOR(pg_catalog.<=) statements_total)
);
COMMENT ON TABLE migr.progress IS 'Non-transactional revisions part way through: the statements that have run and committed.';
SELECT pg_catalog.pg_extension_config_dump('migr.progress', '');
REVOKE ALL ON migr.progress FROM PUBLIC;
GRANT SELECT ON migr.progress TO PUBLIC;

--
-- SQL API
--

-- migr.revision(), migr.plan() and migr.history() change signature or
-- result: they are dropped and created again, and whoever could execute the
-- old one can execute the new one (a deploy role's grant must survive the
-- update).
CREATE TEMPORARY TABLE migr_update_grants AS
SELECT p.proname::text AS fn, a.grantee, a.is_grantable
  FROM pg_catalog.pg_proc p,
       pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) AS a
 WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY[
           'migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text)'::pg_catalog.regprocedure,
           'migr.plan(text, text)'::pg_catalog.regprocedure,
           'migr.history()'::pg_catalog.regprocedure]::pg_catalog.oid[])
   AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
   AND a.grantee OPERATOR(pg_catalog.<>) p.proowner;

DROP FUNCTION migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text);
CREATE FUNCTION migr.revision(
    id              text,
    revises         text,
    message         text,
    upgrade         text,
    downgrade       text        DEFAULT NULL,
    branch_labels   text        DEFAULT NULL,
    depends_on      text        DEFAULT NULL,
    create_date     timestamptz DEFAULT NULL,
    skip_if         text        DEFAULT NULL,
    requires        text        DEFAULT NULL,
    verify          text        DEFAULT NULL,
    verify_down     text        DEFAULT NULL,
    transactional   boolean     DEFAULT true)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_revision'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean)
    IS 'Registers a revision and returns its id.';
REVOKE EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean)
FROM PUBLIC;

DROP FUNCTION migr.plan(text, text);
CREATE FUNCTION migr.plan(target text DEFAULT 'head', direction text DEFAULT NULL)
RETURNS TABLE (step int4, revision text, operation text, irreversible boolean,
               checks text[], would_skip boolean, transactional boolean)
AS 'MODULE_PATHNAME', 'migr_plan'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.plan(text, text) IS 'Lists the steps an upgrade or downgrade to target would run, without running them.';

DROP FUNCTION migr.history();
CREATE FUNCTION migr.history()
RETURNS TABLE (
    ordinal         int4,
    revision        text,
    revises         text[],
    depends_on      text[],
    message         text,
    create_date     timestamptz,
    branch_labels   text[],
    irreversible    boolean,
    applied         boolean,
    applied_at      timestamptz,
    is_head         boolean,
    is_current      boolean,
    checks          text[],
    upgrade_transactional   boolean,
    downgrade_transactional boolean)
AS 'MODULE_PATHNAME', 'migr_history'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migr.history() IS 'Every registered revision in application order.';

-- the grants captured above, on the new functions (PUBLIC is grantee 0)
DO $$
DECLARE
    g record;
    sig text;
BEGIN
    FOR g IN SELECT * FROM migr_update_grants LOOP
        sig := CASE g.fn
                 WHEN 'revision' THEN 'migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean)'
                 WHEN 'plan' THEN 'migr.plan(text, text)'
                 ELSE 'migr.history()' END;
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s', sig,
                    CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                         ELSE g.grantee::pg_catalog.regrole::text END,
                    CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    -- history and plan were executable by PUBLIC unless a DBA revoked that
    IF NOT EXISTS (SELECT 1 FROM migr_update_grants WHERE fn OPERATOR(pg_catalog.=) 'plan' AND grantee OPERATOR(pg_catalog.=) 0) THEN
        REVOKE EXECUTE ON FUNCTION migr.plan(text, text) FROM PUBLIC;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM migr_update_grants WHERE fn OPERATOR(pg_catalog.=) 'history' AND grantee OPERATOR(pg_catalog.=) 0) THEN
        REVOKE EXECUTE ON FUNCTION migr.history() FROM PUBLIC;
    END IF;
END
$$;
DROP TABLE migr_update_grants;

CREATE PROCEDURE migr.apply(target text DEFAULT 'head')
AS 'MODULE_PATHNAME', 'migr_apply_proc'
LANGUAGE C;
COMMENT ON PROCEDURE migr.apply(text) IS 'Applies every revision needed to reach target, committing after each revision.';

CREATE PROCEDURE migr.revert(target text DEFAULT '-1')
AS 'MODULE_PATHNAME', 'migr_revert_proc'
LANGUAGE C;
COMMENT ON PROCEDURE migr.revert(text) IS 'Reverts applied revisions down to target, newest first, committing after each revision.';

REVOKE EXECUTE ON PROCEDURE migr.apply(text), migr.revert(text) FROM PUBLIC;

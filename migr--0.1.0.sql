/* migr--0.1.0.sql: the catalog and SQL API of migr 0.1.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION migr" to load this file. \quit

--
-- Catalog
--

-- Registered revisions.  The graph edges live in migr.migration_edge, where
-- the database itself enforces them; revises/depends_on keep the declared
-- lists for fast loading and for display.
CREATE TABLE migr.migration (
    id                  text        NOT NULL,
    revises             text[]      NOT NULL DEFAULT '{}',
    depends_on          text[]      NOT NULL DEFAULT '{}',
    branch_labels       text[]      NOT NULL DEFAULT '{}',
    message             text        NOT NULL DEFAULT '',
    create_date         timestamptz NOT NULL,
    upgrade_sql         text        NOT NULL,
    downgrade_sql       text,
    checksum            bytea       NOT NULL,
    checksum_algorithm  text        NOT NULL DEFAULT 'sha256',
    registered_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    registered_by       name        NOT NULL DEFAULT CURRENT_USER,
    CONSTRAINT migration_pkey PRIMARY KEY (id),
    CONSTRAINT migration_id_check CHECK (
        id OPERATOR(pg_catalog.~) '^[A-Za-z0-9_.-]{1,128}$'
        AND id OPERATOR(pg_catalog.<>) ALL (ARRAY['head', 'heads', 'base'])),
    CONSTRAINT migration_checksum_algorithm_check CHECK (checksum_algorithm OPERATOR(pg_catalog.=) 'sha256')
);
COMMENT ON TABLE migr.migration IS 'Registered revisions: one row per migr.revision() id.';
COMMENT ON COLUMN migr.migration.downgrade_sql IS 'NULL marks the revision irreversible.';
COMMENT ON COLUMN migr.migration.checksum IS 'sha256 of the executable content (see docs/catalog.md).';

-- One row per parent ('p') or dependency ('d') edge, in declared order.
-- The foreign keys are deferred so that a directory of revisions can be
-- registered in one transaction in any order.
CREATE TABLE migr.migration_edge (
    revision    text    NOT NULL,
    kind        "char"  NOT NULL,
    ord         int4    NOT NULL,
    target      text    NOT NULL,
    CONSTRAINT migration_edge_pkey PRIMARY KEY (revision, kind, ord),
    CONSTRAINT migration_edge_target_key UNIQUE (revision, kind, target),
    CONSTRAINT migration_edge_kind_check CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['p', 'd']::"char"[])),
    CONSTRAINT migration_edge_self_check CHECK (revision OPERATOR(pg_catalog.<>) target),
    CONSTRAINT migration_edge_revision_fkey FOREIGN KEY (revision)
        REFERENCES migr.migration (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT migration_edge_target_fkey FOREIGN KEY (target)
        REFERENCES migr.migration (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX migration_edge_target_idx ON migr.migration_edge (target);
COMMENT ON TABLE migr.migration_edge IS 'Revision graph edges: parents (p) and dependencies (d), in declared order.';

-- Branch labels are unique across the graph.
CREATE TABLE migr.branch_label (
    label       text    NOT NULL,
    revision    text    NOT NULL,
    CONSTRAINT branch_label_pkey PRIMARY KEY (label),
    CONSTRAINT branch_label_revision_fkey FOREIGN KEY (revision)
        REFERENCES migr.migration (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX branch_label_revision_idx ON migr.branch_label (revision);
COMMENT ON TABLE migr.branch_label IS 'Branch labels declared by revisions (inheritance is computed).';

-- The applied set.  No foreign key to migr.migration: an applied revision
-- that is no longer registered is something migr.check() must be able to see.
CREATE TABLE migr.applied (
    revision    text        NOT NULL,
    applied_at  timestamptz NOT NULL,
    applied_by  name        NOT NULL,
    checksum    bytea       NOT NULL,
    duration    interval    NOT NULL,
    head_seq    int8        NOT NULL,
    CONSTRAINT applied_pkey PRIMARY KEY (revision)
);
COMMENT ON TABLE migr.applied IS 'Revisions applied to this database.';
COMMENT ON COLUMN migr.applied.head_seq IS 'Order among the current heads (the row order of an Alembic version table).';

-- Append-only log of every step.
CREATE SEQUENCE migr.event_id_seq;
CREATE TABLE migr.event (
    id              int8        NOT NULL DEFAULT pg_catalog.nextval('migr.event_id_seq'),
    revision        text        NOT NULL,
    operation       text        NOT NULL,
    started_at      timestamptz NOT NULL,
    duration        interval    NOT NULL,
    role            name        NOT NULL,
    backend_pid     int4        NOT NULL,
    heads_before    text[]      NOT NULL,
    heads_after     text[]      NOT NULL,
    CONSTRAINT event_pkey PRIMARY KEY (id),
    CONSTRAINT event_operation_check CHECK (operation OPERATOR(pg_catalog.=) ANY (ARRAY['upgrade', 'downgrade', 'stamp']))
);
ALTER SEQUENCE migr.event_id_seq OWNED BY migr.event.id;
CREATE INDEX event_revision_idx ON migr.event (revision);
COMMENT ON TABLE migr.event IS 'Append-only log of upgrade, downgrade and stamp steps.';

CREATE FUNCTION migr.event_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'migr.event is append-only'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Events record what ran; they are never changed or deleted.';
END
$$;
COMMENT ON FUNCTION migr.event_append_only() IS 'Refuses UPDATE and DELETE on migr.event.';
CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON migr.event
    FOR EACH STATEMENT EXECUTE FUNCTION migr.event_append_only();

SELECT pg_catalog.pg_extension_config_dump('migr.migration', '');
SELECT pg_catalog.pg_extension_config_dump('migr.migration_edge', '');
SELECT pg_catalog.pg_extension_config_dump('migr.branch_label', '');
SELECT pg_catalog.pg_extension_config_dump('migr.applied', '');
SELECT pg_catalog.pg_extension_config_dump('migr.event', '');
SELECT pg_catalog.pg_extension_config_dump('migr.event_id_seq', '');

REVOKE ALL ON migr.migration, migr.migration_edge, migr.branch_label,
              migr.applied, migr.event FROM PUBLIC;
REVOKE ALL ON SEQUENCE migr.event_id_seq FROM PUBLIC;
GRANT SELECT ON migr.migration, migr.migration_edge, migr.branch_label,
                migr.applied, migr.event TO PUBLIC;

--
-- SQL API
--

CREATE FUNCTION migr.revision(
    id              text,
    revises         text,
    message         text,
    upgrade         text,
    downgrade       text        DEFAULT NULL,
    branch_labels   text        DEFAULT NULL,
    depends_on      text        DEFAULT NULL,
    create_date     timestamptz DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_revision'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.revision(text, text, text, text, text, text, text, timestamptz)
    IS 'Registers a revision and returns its id.';

CREATE FUNCTION migr.upgrade(target text DEFAULT 'head')
RETURNS TABLE (revision text, operation text, duration interval)
AS 'MODULE_PATHNAME', 'migr_upgrade'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.upgrade(text) IS 'Applies every revision needed to reach target, in the caller''s transaction.';

CREATE FUNCTION migr.downgrade(target text DEFAULT '-1')
RETURNS TABLE (revision text, operation text, duration interval)
AS 'MODULE_PATHNAME', 'migr_downgrade'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.downgrade(text) IS 'Reverts applied revisions down to target, newest first.';

CREATE FUNCTION migr.stamp(target text)
RETURNS TABLE (revision text, operation text, duration interval)
AS 'MODULE_PATHNAME', 'migr_stamp'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.stamp(text) IS 'Marks the database as being at target without running any SQL.';

CREATE FUNCTION migr.plan(target text DEFAULT 'head', direction text DEFAULT NULL)
RETURNS TABLE (step int4, revision text, operation text, irreversible boolean)
AS 'MODULE_PATHNAME', 'migr_plan'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migr.plan(text, text) IS 'Lists the steps an upgrade or downgrade to target would run, without running them.';

CREATE FUNCTION migr.current()
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'migr_current'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migr.current() IS 'The applied heads: applied revisions with no applied child.';

CREATE FUNCTION migr.heads()
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'migr_heads'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migr.heads() IS 'The heads of the revision graph.';

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
    is_current      boolean)
AS 'MODULE_PATHNAME', 'migr_history'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migr.history() IS 'Every registered revision in application order.';

GRANT USAGE ON SCHEMA migr TO PUBLIC;

-- Writers are not for everyone: the owner grants them to a deploy role
-- (docs/privileges.md).
REVOKE EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz),
    migr.upgrade(text), migr.downgrade(text), migr.stamp(text)
FROM PUBLIC;

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
    skip_if             text,
    requires            text,
    verify              text,
    verify_down         text,
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
COMMENT ON COLUMN migr.migration.skip_if IS 'Boolean SQL expression: true before upgrade means the change is already in effect.';
COMMENT ON COLUMN migr.migration.requires IS 'Boolean SQL expression that must hold before upgrade.';
COMMENT ON COLUMN migr.migration.verify IS 'Boolean SQL expression that must hold after upgrade.';
COMMENT ON COLUMN migr.migration.verify_down IS 'Boolean SQL expression that must hold after downgrade.';

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

-- Cycles are refused by the database too, whoever writes the edges (see
-- src/cycle.c): each new edge is checked by a search that grows from both of
-- its ends, which costs a probe or two whatever order revisions come in; a
-- statement that writes many edges (a restore's COPY) checks the whole graph
-- once, in linear time.
CREATE FUNCTION migr.edge_no_cycle() RETURNS trigger
AS 'MODULE_PATHNAME', 'migr_edge_no_cycle'
LANGUAGE C;
COMMENT ON FUNCTION migr.edge_no_cycle() IS 'Refuses edges that would close a cycle in the revision graph.';
CREATE TRIGGER migration_edge_no_cycle_insert AFTER INSERT ON migr.migration_edge
    REFERENCING NEW TABLE AS new_edges
    FOR EACH STATEMENT EXECUTE FUNCTION migr.edge_no_cycle();
CREATE TRIGGER migration_edge_no_cycle_update AFTER UPDATE ON migr.migration_edge
    REFERENCING NEW TABLE AS new_edges
    FOR EACH STATEMENT EXECUTE FUNCTION migr.edge_no_cycle();

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

-- A dependency may name a branch label that a later migr.revision() of the
-- same transaction declares (registration in any order): until then its
-- edge holds the label, which the deferred foreign key tolerates; the
-- revision declaring the label takes such edges over, here.  At commit
-- every edge must name a registered revision.
CREATE FUNCTION migr.branch_label_take_over() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d record;
BEGIN
    SELECT e.revision, e.target AS label, l.revision AS owner INTO d
      FROM new_labels l
      JOIN migr.migration_edge e ON e.target OPERATOR(pg_catalog.=) l.label
                                AND e.kind OPERATOR(pg_catalog.=) 'd'
     WHERE EXISTS (SELECT 1 FROM migr.migration_edge f
                    WHERE f.revision OPERATOR(pg_catalog.=) e.revision
                      AND f.kind OPERATOR(pg_catalog.=) 'd'
                      AND f.target OPERATOR(pg_catalog.=) l.revision)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'dependency "%" of revision "%" is listed twice', d.owner, d.revision
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It depends on "%s" and on "%s", the branch label that revision declares.',
                                  d.owner, d.label);
    END IF;
    UPDATE migr.migration m
       SET depends_on = (SELECT pg_catalog.array_agg(COALESCE(l.revision, u.t) ORDER BY u.o)
                           FROM pg_catalog.unnest(m.depends_on) WITH ORDINALITY AS u(t, o)
                           LEFT JOIN new_labels l ON l.label OPERATOR(pg_catalog.=) u.t)
     WHERE m.id IN (SELECT e.revision FROM migr.migration_edge e JOIN new_labels l
                        ON e.target OPERATOR(pg_catalog.=) l.label
                     WHERE e.kind OPERATOR(pg_catalog.=) 'd');
    UPDATE migr.migration_edge e SET target = l.revision
      FROM new_labels l
     WHERE e.target OPERATOR(pg_catalog.=) l.label AND e.kind OPERATOR(pg_catalog.=) 'd';
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION migr.branch_label_take_over() IS 'Points dependencies that name a new branch label at the revision declaring it.';
CREATE TRIGGER branch_label_take_over AFTER INSERT ON migr.branch_label
    REFERENCING NEW TABLE AS new_labels
    FOR EACH STATEMENT EXECUTE FUNCTION migr.branch_label_take_over();

-- At commit (deferred, and queued before the foreign keys of the revision's
-- edges, which are written after it): a clear error for a parent or
-- dependency that was never registered, rather than a foreign key violation.
CREATE FUNCTION migr.migration_edges_resolved() RETURNS trigger
AS 'MODULE_PATHNAME', 'migr_edges_resolved'
LANGUAGE C;
COMMENT ON FUNCTION migr.migration_edges_resolved() IS 'Refuses, at commit, a revision whose parent or dependency is not registered.';
CREATE CONSTRAINT TRIGGER migration_edges_resolved AFTER INSERT OR UPDATE ON migr.migration
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION migr.migration_edges_resolved();

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
    fingerprint     text,
    CONSTRAINT event_pkey PRIMARY KEY (id),
    CONSTRAINT event_operation_check CHECK (operation OPERATOR(pg_catalog.=) ANY (ARRAY['upgrade', 'downgrade', 'stamp', 'skip']))
);
ALTER SEQUENCE migr.event_id_seq OWNED BY migr.event.id;
CREATE INDEX event_revision_idx ON migr.event (revision);
COMMENT ON COLUMN migr.event.fingerprint IS 'Schema fingerprint after the call, on the last step of each call.';

-- The schema description recorded at the end of the latest upgrade,
-- downgrade or stamp call that did something, so migr.check() can say what
-- drifted.  One row; each call replaces it.
CREATE TABLE migr.snapshot (
    event_id        int8        NOT NULL,
    taken_at        timestamptz NOT NULL,
    fingerprint     text        NOT NULL,
    kinds           text[]      NOT NULL,
    objects         text[]      NOT NULL,
    definitions     text[]      NOT NULL,
    CONSTRAINT snapshot_pkey PRIMARY KEY (event_id)
);
COMMENT ON TABLE migr.snapshot IS 'The schema as migr last left it (see migr.describe()).';
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

-- What the whole graph says, kept for the common calls (src/summary.c): a
-- no-op upgrade and migr.current() read this row instead of loading every
-- revision.  Upgrade, downgrade and stamp write it; any write to the tables
-- it summarises marks it stale, and a stale or missing row means "load the
-- graph".
CREATE TABLE migr.summary (
    singleton       bool    NOT NULL DEFAULT true,
    fresh           bool    NOT NULL,
    pending         int8    NOT NULL,
    graph_heads     int4    NOT NULL,
    current_heads   text[]  NOT NULL,
    CONSTRAINT summary_pkey PRIMARY KEY (singleton),
    CONSTRAINT summary_singleton_check CHECK (singleton)
);
COMMENT ON TABLE migr.summary IS 'The graph''s verdicts kept for no-op upgrades and migr.current(); stale after any catalog write.';
COMMENT ON COLUMN migr.summary.pending IS 'Registered revisions that are not applied.';
COMMENT ON COLUMN migr.summary.current_heads IS 'migr.current(), in order.';

CREATE FUNCTION migr.summary_stale() RETURNS trigger
AS 'MODULE_PATHNAME', 'migr_summary_stale'
LANGUAGE C;
COMMENT ON FUNCTION migr.summary_stale() IS 'Marks migr.summary stale after a write to the tables it summarises.';
CREATE TRIGGER migration_summary_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON migr.migration
    FOR EACH STATEMENT EXECUTE FUNCTION migr.summary_stale();
CREATE TRIGGER migration_edge_summary_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON migr.migration_edge
    FOR EACH STATEMENT EXECUTE FUNCTION migr.summary_stale();
CREATE TRIGGER branch_label_summary_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON migr.branch_label
    FOR EACH STATEMENT EXECUTE FUNCTION migr.summary_stale();
CREATE TRIGGER applied_summary_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON migr.applied
    FOR EACH STATEMENT EXECUTE FUNCTION migr.summary_stale();
-- migr's own triggers fire even under session_replication_role = replica,
-- which would otherwise let a write slip past them.
ALTER TABLE migr.migration ENABLE ALWAYS TRIGGER migration_summary_stale;
ALTER TABLE migr.migration_edge ENABLE ALWAYS TRIGGER migration_edge_summary_stale;
ALTER TABLE migr.branch_label ENABLE ALWAYS TRIGGER branch_label_summary_stale;
ALTER TABLE migr.applied ENABLE ALWAYS TRIGGER applied_summary_stale;
ALTER TABLE migr.migration_edge ENABLE ALWAYS TRIGGER migration_edge_no_cycle_insert;
ALTER TABLE migr.migration_edge ENABLE ALWAYS TRIGGER migration_edge_no_cycle_update;
ALTER TABLE migr.event ENABLE ALWAYS TRIGGER event_append_only;

SELECT pg_catalog.pg_extension_config_dump('migr.migration', '');
SELECT pg_catalog.pg_extension_config_dump('migr.summary', '');
SELECT pg_catalog.pg_extension_config_dump('migr.migration_edge', '');
SELECT pg_catalog.pg_extension_config_dump('migr.branch_label', '');
SELECT pg_catalog.pg_extension_config_dump('migr.applied', '');
SELECT pg_catalog.pg_extension_config_dump('migr.event', '');
SELECT pg_catalog.pg_extension_config_dump('migr.event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('migr.snapshot', '');

REVOKE ALL ON migr.migration, migr.migration_edge, migr.branch_label,
              migr.applied, migr.event, migr.snapshot, migr.summary FROM PUBLIC;
REVOKE ALL ON SEQUENCE migr.event_id_seq FROM PUBLIC;
GRANT SELECT ON migr.migration, migr.migration_edge, migr.branch_label,
                migr.applied, migr.event, migr.snapshot, migr.summary TO PUBLIC;

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
    create_date     timestamptz DEFAULT NULL,
    skip_if         text        DEFAULT NULL,
    requires        text        DEFAULT NULL,
    verify          text        DEFAULT NULL,
    verify_down     text        DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_revision'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text)
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
RETURNS TABLE (step int4, revision text, operation text, irreversible boolean,
               checks text[], would_skip boolean)
AS 'MODULE_PATHNAME', 'migr_plan'
LANGUAGE C VOLATILE;
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
    is_current      boolean,
    checks          text[])
AS 'MODULE_PATHNAME', 'migr_history'
LANGUAGE C STABLE;
COMMENT ON FUNCTION migr.history() IS 'Every registered revision in application order.';


--
-- Health: schema description and fingerprint, check, reversibility test
--

CREATE FUNCTION migr.describe(schemas text[] DEFAULT NULL)
RETURNS TABLE (kind text, object text, definition text)
AS 'MODULE_PATHNAME', 'migr_describe_sql' LANGUAGE C STABLE;
COMMENT ON FUNCTION migr.describe(text[]) IS 'Canonical description of the managed schemas, one row per object.';

CREATE FUNCTION migr.fingerprint(schemas text[] DEFAULT NULL) RETURNS text
AS 'MODULE_PATHNAME', 'migr_fingerprint_sql' LANGUAGE C STABLE;
COMMENT ON FUNCTION migr.fingerprint(text[]) IS 'sha256 of migr.describe(): equal schemas give equal fingerprints.';

CREATE FUNCTION migr.check(strict boolean DEFAULT false)
RETURNS TABLE (severity text, code text, revision text, message text, detail text)
AS 'MODULE_PATHNAME', 'migr_check' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.check(boolean) IS 'Findings about the database state; with strict, errors raise MG006.';

CREATE FUNCTION migr.test_reversibility(target text DEFAULT 'heads')
RETURNS TABLE (step int4, revision text, status text, detail text)
AS 'MODULE_PATHNAME', 'migr_test_reversibility' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.test_reversibility(text) IS 'Upgrade, downgrade and upgrade again each revision up to target, comparing fingerprints; always rolled back.';

--
-- Check functions: answers as information_schema gives them, from the
-- system caches.  A missing object is false (or NULL), never an error.
--

CREATE FUNCTION migr.has_table(tbl text) RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_has_table' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.has_table(text) IS 'Whether the table (or view) exists and is visible in information_schema.tables.';

CREATE FUNCTION migr.has_column(tbl text, col text) RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_has_column' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.has_column(text, text) IS 'Whether the column exists and is visible in information_schema.columns.';

CREATE FUNCTION migr.column_type_is(tbl text, col text, type text) RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_column_type_is' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.column_type_is(text, text, text) IS 'Whether the column has this type, compared by canonical type name.';

CREATE FUNCTION migr.column_is_nullable(tbl text, col text) RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_column_is_nullable' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.column_is_nullable(text, text) IS 'Whether the column exists and accepts NULL.';

CREATE FUNCTION migr.column_default(tbl text, col text) RETURNS text
AS 'MODULE_PATHNAME', 'migr_column_default_sql' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.column_default(text, text) IS 'The column default as pg_get_expr prints it, or NULL.';

CREATE FUNCTION migr.has_index(tbl text, idx text) RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_has_index' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.has_index(text, text) IS 'Whether an index of that name exists on the table.';

CREATE FUNCTION migr.has_index_on(tbl text, cols text[]) RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_has_index_on' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.has_index_on(text, text[]) IS 'Whether some index has exactly these key columns, in this order.';

CREATE FUNCTION migr.index_columns(tbl text, idx text) RETURNS text[]
AS 'MODULE_PATHNAME', 'migr_index_columns_sql' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.index_columns(text, text) IS 'The key columns (or expressions) of an index, or NULL.';

CREATE FUNCTION migr.has_constraint(tbl text, con text) RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_has_constraint' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.has_constraint(text, text) IS 'Whether the constraint exists and is visible in information_schema.table_constraints.';

CREATE FUNCTION migr.has_schema(name text) RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_has_schema_sql' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.has_schema(text) IS 'Whether the schema exists and is visible in information_schema.schemata.';

CREATE FUNCTION migr.has_function(name text, args text[] DEFAULT NULL) RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_has_function_sql' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.has_function(text, text[]) IS 'Whether a visible function or procedure of that name (and signature) exists.';

CREATE FUNCTION migr.has_extension(name text) RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_has_extension_sql' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.has_extension(text) IS 'Whether the extension is installed.';

CREATE FUNCTION migr.name(kind text, tbl text, columns text[] DEFAULT NULL, ref_tbl text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_name' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION migr.name(text, text, text[], text) IS 'The conventional name of an index or constraint (ix_, uq_, ck_, fk_, pk_).';

--
-- Idempotent operations: each returns the DDL it ran, or NULL (with a
-- NOTICE) when the schema is already in the target state.
--

CREATE FUNCTION migr.add_column(tbl text, col text, type text, nullable boolean DEFAULT true,
                                server_default text DEFAULT NULL) RETURNS text
AS 'MODULE_PATHNAME', 'migr_add_column' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.add_column(text, text, text, boolean, text) IS 'Adds a column unless it exists with that definition.';

CREATE FUNCTION migr.drop_column(tbl text, col text) RETURNS text
AS 'MODULE_PATHNAME', 'migr_drop_column' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.drop_column(text, text) IS 'Drops a column if it exists.';

CREATE FUNCTION migr.alter_column(tbl text, col text, type text DEFAULT NULL,
                                  nullable boolean DEFAULT NULL, server_default text DEFAULT NULL,
                                  drop_default boolean DEFAULT false, new_name text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_alter_column' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.alter_column(text, text, text, boolean, text, boolean, text) IS 'Changes what differs of a column''s type, nullability, default and name.';

CREATE FUNCTION migr.create_index(tbl text, columns text[], name text DEFAULT NULL,
                                  "unique" boolean DEFAULT false, where_clause text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_create_index' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.create_index(text, text[], text, boolean, text) IS 'Creates an index unless it exists on those columns.';

CREATE FUNCTION migr.drop_index(tbl text, name text) RETURNS text
AS 'MODULE_PATHNAME', 'migr_drop_index' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.drop_index(text, text) IS 'Drops an index of the table if it exists.';

CREATE FUNCTION migr.create_check_constraint(tbl text, condition text, name text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_create_check_constraint' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.create_check_constraint(text, text, text) IS 'Adds a check constraint unless it exists.';

CREATE FUNCTION migr.create_unique_constraint(tbl text, columns text[], name text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_create_unique_constraint' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.create_unique_constraint(text, text[], text) IS 'Adds a unique constraint unless it exists on those columns.';

CREATE FUNCTION migr.create_foreign_key(tbl text, columns text[], ref_tbl text, ref_columns text[],
                                        name text DEFAULT NULL, on_delete text DEFAULT NULL,
                                        index boolean DEFAULT true)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_create_foreign_key' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.create_foreign_key(text, text[], text, text[], text, text, boolean) IS 'Adds a foreign key (and an index on its columns) unless it exists.';

CREATE FUNCTION migr.drop_constraint(tbl text, name text) RETURNS text
AS 'MODULE_PATHNAME', 'migr_drop_constraint' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.drop_constraint(text, text) IS 'Drops a constraint of the table if it exists.';

CREATE FUNCTION migr.rename_table(tbl text, new_name text) RETURNS text
AS 'MODULE_PATHNAME', 'migr_rename_table' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.rename_table(text, text) IS 'Renames a table unless it already has the new name.';

CREATE FUNCTION migr.rename_column(tbl text, col text, new_name text) RETURNS text
AS 'MODULE_PATHNAME', 'migr_rename_column' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.rename_column(text, text, text) IS 'Renames a column unless it already has the new name.';

GRANT USAGE ON SCHEMA migr TO PUBLIC;

-- Writers are not for everyone: the owner grants them to a deploy role
-- (docs/privileges.md).
REVOKE EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text),
    migr.upgrade(text), migr.downgrade(text), migr.stamp(text),
    migr.test_reversibility(text)
FROM PUBLIC;

/* migr--0.4.0.sql: the catalog and SQL API of migr 0.4.0, created directly
 *
 * CREATE EXTENSION migr runs this script alone.  A database created at an
 * older version reaches 0.4.0 through the update scripts instead
 * (migr--0.1.0.sql, then migr--0.1.0--0.2.0.sql, migr--0.2.0--0.3.0.sql,
 * migr--0.3.0--0.4.0.sql), and must end up with the same objects: columns
 * in the same order (the update scripts add theirs at the end), the same
 * constraints, comments, grants, trigger states and config tables.
 * test/shell/install_equivalence.sh compares the two installs; a change to
 * migr--0.3.0--0.4.0.sql must be made here too. */

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
    transactional            bool   NOT NULL DEFAULT true,
    upgrade_transactional    bool   NOT NULL DEFAULT true,
    downgrade_transactional  bool   NOT NULL DEFAULT true,
    source_file         text,
    source_sha256       bytea,
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
COMMENT ON COLUMN migr.migration.transactional IS 'false: registered with transactional => false.';
COMMENT ON COLUMN migr.migration.upgrade_transactional IS 'false: the upgrade runs statement by statement, each committed (CALL migr.apply() only).';
COMMENT ON COLUMN migr.migration.downgrade_transactional IS 'false: the downgrade runs statement by statement, each committed (CALL migr.revert() only).';
COMMENT ON COLUMN migr.migration.source_file IS 'The file name (last path component) the revision was last loaded from by migr.load() or migr.load_all(); NULL once migr.revision() changed it.';
COMMENT ON COLUMN migr.migration.source_sha256 IS 'sha256 of the bytes of that file as sent, which lets migr.load_all() skip an unchanged file without parsing it.';

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
    outcome         text        NOT NULL DEFAULT 'ok',
    sqlstate        text,
    error           text,
    error_detail    text,
    error_hint      text,
    statement_no    int4,
    statement       text,
    blocking_pids   int4[],
    CONSTRAINT event_pkey PRIMARY KEY (id),
    CONSTRAINT event_operation_check CHECK (operation OPERATOR(pg_catalog.=) ANY (ARRAY['upgrade', 'downgrade', 'stamp', 'skip'])),
    CONSTRAINT event_outcome_check CHECK (outcome OPERATOR(pg_catalog.=) ANY (ARRAY['ok', 'skipped', 'failed', 'retry'])),
    CONSTRAINT event_error_check CHECK ((outcome OPERATOR(pg_catalog.=) ANY (ARRAY['failed', 'retry'])) OPERATOR(pg_catalog.=) (sqlstate IS NOT NULL))
);
ALTER SEQUENCE migr.event_id_seq OWNED BY migr.event.id;
CREATE INDEX event_revision_idx ON migr.event (revision);
COMMENT ON TABLE migr.event IS 'Append-only log of upgrade, downgrade and stamp steps.';
COMMENT ON COLUMN migr.event.fingerprint IS 'Schema fingerprint after the call, on the last step of each call.';
COMMENT ON COLUMN migr.event.outcome IS 'ok, skipped (skip_if held), failed (rolled back, then recorded), retry (lock not available; rolled back and run again).';
COMMENT ON COLUMN migr.event.sqlstate IS 'SQLSTATE of the error of a failed or retried step.';
COMMENT ON COLUMN migr.event.statement_no IS 'The statement of the body that failed, or the number of statements a successful step ran.';
COMMENT ON COLUMN migr.event.statement IS 'The text of the statement that failed.';
COMMENT ON COLUMN migr.event.blocking_pids IS 'The processes that held the lock a retried or failed step waited for.';

-- The schema description recorded at the end of the latest upgrade,
-- downgrade or stamp call that did something, so migr.check() can say what
-- drifted.  One row; each call replaces it.  With it the catalog signature
-- (src/catsig.c): while that is unchanged, migr.check() need not describe
-- the schema again.
CREATE TABLE migr.snapshot (
    event_id        int8        NOT NULL,
    taken_at        timestamptz NOT NULL,
    fingerprint     text        NOT NULL,
    kinds           text[]      NOT NULL,
    objects         text[]      NOT NULL,
    definitions     text[]      NOT NULL,
    catalog_signature bytea,
    CONSTRAINT snapshot_pkey PRIMARY KEY (event_id)
);
COMMENT ON TABLE migr.snapshot IS 'The schema as migr last left it (see migr.describe()).';
COMMENT ON COLUMN migr.snapshot.catalog_signature IS 'Taken just before the description: for each page of the catalogs it reads, the page''s LSN and a sha256 over the xmin and position of its visible rows (src/catsig.c). While the catalogs match it, so does the description.';

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

--
-- Where a non-transactional revision stands: the statements of its body that
-- have run and committed.  A run that fails resumes after them.  (0.2.0
-- called this table migr.progress; the name now belongs to the view below.)
--
CREATE TABLE migr.revision_progress (
    revision            text        NOT NULL,
    direction           text        NOT NULL,
    statements_done     int4        NOT NULL,
    statements_total    int4        NOT NULL,
    checksum            bytea       NOT NULL,
    started_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    backend_pid         int4        NOT NULL,
    CONSTRAINT revision_progress_pkey PRIMARY KEY (revision),
    CONSTRAINT revision_progress_direction_check CHECK (direction OPERATOR(pg_catalog.=) ANY (ARRAY['upgrade', 'downgrade'])),
    CONSTRAINT revision_progress_statements_check CHECK (statements_done OPERATOR(pg_catalog.>=) 0
                                                         AND statements_done OPERATOR(pg_catalog.<=) statements_total)
);
COMMENT ON TABLE migr.revision_progress IS 'Non-transactional revisions part way through: the statements that have run and committed.';

--
-- The CALL migr.apply() or migr.revert() running now (at most one: they
-- hold the migration lock), and the revision it is on.  Written in the
-- commits the CALL makes anyway; a row whose backend no longer holds the
-- migration lock is stale and the next CALL replaces it.
--
CREATE TABLE migr.run (
    pid                 int4        NOT NULL,
    backend_start       timestamptz NOT NULL,
    operation           text        NOT NULL,
    target              text        NOT NULL,
    started_at          timestamptz NOT NULL,
    step                int4        NOT NULL,
    steps               int4        NOT NULL,
    revision            text        NOT NULL,
    direction           text        NOT NULL,
    revision_started_at timestamptz NOT NULL,
    CONSTRAINT run_operation_check CHECK (operation OPERATOR(pg_catalog.=) ANY (ARRAY['apply', 'revert'])),
    CONSTRAINT run_direction_check CHECK (direction OPERATOR(pg_catalog.=) ANY (ARRAY['upgrade', 'downgrade']))
);
COMMENT ON TABLE migr.run IS 'The CALL migr.apply() or migr.revert() in progress and the revision it runs (see the view migr.progress).';

--
-- Batch jobs: CALL migr.batch_update() and migr.batch() walk a table in key
-- order, one committed batch at a time, and keep here how far they got.
--
CREATE TABLE migr.batch_job (
    job_id          int8        GENERATED ALWAYS AS IDENTITY,
    revision        text,
    name            text        NOT NULL,
    kind            text        NOT NULL,
    relid           oid         NOT NULL,
    relation        text        NOT NULL,
    sql             text        NOT NULL,
    where_clause    text        NOT NULL,
    key_columns     text[]      NOT NULL,
    key_types       text[]      NOT NULL,
    batch_size      int4        NOT NULL,
    state           text        NOT NULL,
    rows_done       int8        NOT NULL DEFAULT 0,
    batches_done    int8        NOT NULL DEFAULT 0,
    rows_total      int8,
    last_key        text[],
    started_at      timestamptz NOT NULL,
    resumed_at      timestamptz NOT NULL,
    rows_at_resume  int8        NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    last_batch_ms   float8,
    pid             int4,
    sqlstate        text,
    error           text,
    CONSTRAINT batch_job_pkey PRIMARY KEY (job_id),
    CONSTRAINT batch_job_name_key UNIQUE NULLS NOT DISTINCT (revision, name),
    CONSTRAINT batch_job_kind_check CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['update', 'sql'])),
    CONSTRAINT batch_job_state_check CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['running', 'failed', 'done'])),
    CONSTRAINT batch_job_batch_size_check CHECK (batch_size OPERATOR(pg_catalog.>) 0),
    CONSTRAINT batch_job_error_check CHECK ((state OPERATOR(pg_catalog.=) 'failed') OPERATOR(pg_catalog.=) (sqlstate IS NOT NULL))
);
COMMENT ON TABLE migr.batch_job IS 'Batch jobs of migr.batch_update() and migr.batch(): the last committed key and the counts, so that a job resumes where it stopped.';
COMMENT ON COLUMN migr.batch_job.revision IS 'The revision whose SQL runs the job; NULL for a job called directly.';
COMMENT ON COLUMN migr.batch_job.name IS 'The name given, or the table and a digest of the job''s SQL, clauses and key.';
COMMENT ON COLUMN migr.batch_job.key_types IS 'The key columns'' types (format_type), which last_key was written for.';
COMMENT ON COLUMN migr.batch_job.last_key IS 'The key of the last row of the last committed batch (text of each key column).';
COMMENT ON COLUMN migr.batch_job.batch_size IS 'The size of the last batch (adapted to target_time); a resumed job goes on from it.';
--
-- migr.progress: what is running or was interrupted part way.  Liveness
-- comes from pg_locks, which every role can read: a CALL holds the
-- migration lock for the session, a batch job an advisory lock of its own.
-- query (pg_stat_activity.query) is visible as pg_stat_activity shows it.
--
CREATE VIEW migr.progress AS
WITH live_run AS (
    SELECT r.*
      FROM migr.run r
     WHERE EXISTS (SELECT FROM pg_catalog.pg_locks l
                    WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'
                      AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
                                                              WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
                      AND l.classid OPERATOR(pg_catalog.=) 0::pg_catalog.oid
                      AND l.objid OPERATOR(pg_catalog.=) 1835624306::pg_catalog.oid
                      AND l.objsubid OPERATOR(pg_catalog.=) 1
                      AND l.pid OPERATOR(pg_catalog.=) r.pid
                      AND l.granted)
), live_job AS (
    SELECT l.objid::pg_catalog.int8 AS job_id, l.pid
      FROM pg_catalog.pg_locks l
     WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'
       AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d
                                               WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
       AND l.classid OPERATOR(pg_catalog.=) 1835624307::pg_catalog.oid
       AND l.objsubid OPERATOR(pg_catalog.=) 2
       AND l.granted
)
SELECT 'revision'::text AS kind,
       CASE WHEN r.pid IS NOT NULL THEN 'running' ELSE 'interrupted' END AS state,
       COALESCE(r.pid, p.backend_pid) AS pid,
       COALESCE(r.revision, p.revision) AS revision,
       COALESCE(r.direction, p.direction) AS direction,
       NULL::text AS job,
       NULL::text AS relation,
       p.statements_done,
       p.statements_total,
       NULL::int8 AS rows_done,
       NULL::int8 AS rows_total,
       NULL::numeric AS percent,
       NULL::numeric AS rows_per_second,
       NULL::interval AS eta,
       NULL::int4 AS batch_size,
       NULL::text[] AS last_key,
       COALESCE(r.revision_started_at, p.started_at) AS started_at,
       COALESCE(p.updated_at, r.revision_started_at) AS updated_at,
       (SELECT a.query FROM pg_catalog.pg_stat_activity a WHERE a.pid OPERATOR(pg_catalog.=) r.pid) AS query,
       NULL::text AS error
  FROM live_run r
  FULL JOIN migr.revision_progress p ON p.revision OPERATOR(pg_catalog.=) r.revision
UNION ALL
SELECT 'batch',
       CASE WHEN l.pid IS NOT NULL THEN 'running'
            WHEN j.state OPERATOR(pg_catalog.=) 'failed' THEN 'failed'
            ELSE 'interrupted' END,
       COALESCE(l.pid, j.pid),
       j.revision,
       NULL,
       j.name,
       j.relation,
       NULL,
       NULL,
       j.rows_done,
       GREATEST(j.rows_total, j.rows_done),
       pg_catalog.round(100.0 OPERATOR(pg_catalog.*) j.rows_done
                        OPERATOR(pg_catalog./) NULLIF(GREATEST(j.rows_total, j.rows_done), 0), 1),
       s.rate,
       CASE WHEN l.pid IS NOT NULL AND s.rate OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.make_interval(secs => ((GREATEST(j.rows_total, j.rows_done) OPERATOR(pg_catalog.-) j.rows_done)
                                                   OPERATOR(pg_catalog./) s.rate)::float8)
       END,
       j.batch_size,
       j.last_key,
       j.started_at,
       j.updated_at,
       (SELECT a.query FROM pg_catalog.pg_stat_activity a WHERE a.pid OPERATOR(pg_catalog.=) l.pid),
       j.error
  FROM migr.batch_job j
  LEFT JOIN live_job l ON l.job_id OPERATOR(pg_catalog.=) j.job_id
  CROSS JOIN LATERAL (
      SELECT pg_catalog.round((j.rows_done OPERATOR(pg_catalog.-) j.rows_at_resume)
                              OPERATOR(pg_catalog./) NULLIF(EXTRACT(epoch FROM j.updated_at OPERATOR(pg_catalog.-) j.resumed_at), 0), 1) AS rate) s
 WHERE j.state OPERATOR(pg_catalog.<>) 'done';
COMMENT ON VIEW migr.progress IS 'What is running or was interrupted part way: the revision a CALL runs, non-transactional revisions part way, batch jobs.';

SELECT pg_catalog.pg_extension_config_dump('migr.migration', '');
SELECT pg_catalog.pg_extension_config_dump('migr.summary', '');
SELECT pg_catalog.pg_extension_config_dump('migr.migration_edge', '');
SELECT pg_catalog.pg_extension_config_dump('migr.branch_label', '');
SELECT pg_catalog.pg_extension_config_dump('migr.applied', '');
SELECT pg_catalog.pg_extension_config_dump('migr.event', '');
SELECT pg_catalog.pg_extension_config_dump('migr.event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('migr.snapshot', '');
SELECT pg_catalog.pg_extension_config_dump('migr.revision_progress', '');
SELECT pg_catalog.pg_extension_config_dump('migr.batch_job', '');
SELECT pg_catalog.pg_extension_config_dump('migr.batch_job_job_id_seq', '');

REVOKE ALL ON migr.migration, migr.migration_edge, migr.branch_label,
              migr.applied, migr.event, migr.snapshot, migr.summary,
              migr.revision_progress, migr.run, migr.batch_job, migr.progress FROM PUBLIC;
REVOKE ALL ON SEQUENCE migr.event_id_seq FROM PUBLIC;
GRANT SELECT ON migr.migration, migr.migration_edge, migr.branch_label,
                migr.applied, migr.event, migr.snapshot, migr.summary,
                migr.revision_progress, migr.run, migr.batch_job, migr.progress TO PUBLIC;

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
    verify_down     text        DEFAULT NULL,
    transactional   boolean     DEFAULT true)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_revision'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean)
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
               checks text[], would_skip boolean, transactional boolean)
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
    checks          text[],
    upgrade_transactional   boolean,
    downgrade_transactional boolean)
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

--
-- CALL mode: each revision committed on its own, non-transactional
-- revisions statement by statement
--

CREATE PROCEDURE migr.apply(target text DEFAULT 'head')
AS 'MODULE_PATHNAME', 'migr_apply_proc'
LANGUAGE C;
COMMENT ON PROCEDURE migr.apply(text) IS 'Applies every revision needed to reach target, committing after each revision.';

CREATE PROCEDURE migr.revert(target text DEFAULT '-1')
AS 'MODULE_PATHNAME', 'migr_revert_proc'
LANGUAGE C;
COMMENT ON PROCEDURE migr.revert(text) IS 'Reverts applied revisions down to target, newest first, committing after each revision.';

--
-- Batch jobs
--

CREATE PROCEDURE migr.batch_update(
    tbl             regclass,
    set_clause      text,
    where_clause    text     DEFAULT 'true',
    batch_size      int4     DEFAULT 1000,
    key             text     DEFAULT NULL,
    pause           interval DEFAULT '0',
    target_time     interval DEFAULT '200ms',
    name            text     DEFAULT NULL,
    restart         boolean  DEFAULT false)
AS 'MODULE_PATHNAME', 'migr_batch_update_proc'
LANGUAGE C;
COMMENT ON PROCEDURE migr.batch_update(regclass, text, text, int4, text, interval, interval, text, boolean)
    IS 'Updates a table in batches in key order, each committed, resumable after a failure.';

CREATE PROCEDURE migr.batch(
    tbl             regclass,
    sql             text,
    where_clause    text     DEFAULT 'true',
    batch_size      int4     DEFAULT 1000,
    key             text     DEFAULT NULL,
    pause           interval DEFAULT '0',
    target_time     interval DEFAULT '200ms',
    name            text     DEFAULT NULL,
    restart         boolean  DEFAULT false)
AS 'MODULE_PATHNAME', 'migr_batch_proc'
LANGUAGE C;
COMMENT ON PROCEDURE migr.batch(regclass, text, text, int4, text, interval, interval, text, boolean)
    IS 'Runs a statement for each batch of a table''s keys ($1... first key, then last key), each committed, resumable.';

--
-- migr.script(): the offline script
--
-- migr.script() writes the plan of an upgrade or downgrade out as a psql
-- script; the script calls the procedures and the function below around
-- each revision's SQL.  migr.script() only reads, like migr.plan(); the
-- calls write the history, like CALL migr.apply(), and are granted alike.
--
CREATE FUNCTION migr.script(target text DEFAULT 'head', direction text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'migr_script'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.script(text, text) IS 'The psql script that runs the plan of an upgrade or downgrade as CALL migr.apply() or migr.revert() would, for review before it runs.';

CREATE PROCEDURE migr.script_begin(direction text, target text, steps int4, plan text)
AS 'MODULE_PATHNAME', 'migr_script_begin'
LANGUAGE C;
COMMENT ON PROCEDURE migr.script_begin(text, text, int4, text) IS 'Called by a script from migr.script(): takes the migration lock for the session and checks the plan is still the script''s.';

CREATE FUNCTION migr.script_step(step int4, revision text, direction text, checksum text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'migr_script_step'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION migr.script_step(int4, text, text, text) IS 'Called by a script from migr.script(): begins a step, evaluates requires and skip_if; false when the step was skipped.';

CREATE PROCEDURE migr.script_progress(step int4, revision text, statement int4)
AS 'MODULE_PATHNAME', 'migr_script_progress'
LANGUAGE C;
COMMENT ON PROCEDURE migr.script_progress(int4, text, int4) IS 'Called by a script from migr.script(): records a statement of a non-transactional revision as run.';

CREATE PROCEDURE migr.script_done(step int4, revision text)
AS 'MODULE_PATHNAME', 'migr_script_done'
LANGUAGE C;
COMMENT ON PROCEDURE migr.script_done(int4, text) IS 'Called by a script from migr.script(): evaluates verify or verify_down and records the step.';

CREATE PROCEDURE migr.script_end()
AS 'MODULE_PATHNAME', 'migr_script_end'
LANGUAGE C;
COMMENT ON PROCEDURE migr.script_end() IS 'Called by a script from migr.script(): checks every step ran and lets go of the migration lock.';

--
-- Migration files (docs/files.md): parsed by the extension, registered
-- through migr.revision()
--

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

GRANT USAGE ON SCHEMA migr TO PUBLIC;

-- Readers are for everyone.  migr.plan() and migr.history() are so by an
-- explicit grant, as the update from 0.1.0 leaves them (it creates them
-- again and grants PUBLIC what it had): the same ACL, and the same initial
-- privileges for pg_dump, either way.
GRANT EXECUTE ON FUNCTION migr.plan(text, text), migr.history() TO PUBLIC;

-- Writers are not for everyone: the owner grants them to a deploy role
-- (docs/privileges.md).
REVOKE EXECUTE ON FUNCTION
    migr.revision(text, text, text, text, text, text, text, timestamptz, text, text, text, text, boolean),
    migr.upgrade(text), migr.downgrade(text), migr.stamp(text),
    migr.test_reversibility(text),
    migr.script_step(int4, text, text, text),
    migr.load(text, text), migr.load_all(text[], text[], text[], text)
FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE
    migr.apply(text), migr.revert(text),
    migr.batch_update(regclass, text, text, int4, text, interval, interval, text, boolean),
    migr.batch(regclass, text, text, int4, text, interval, interval, text, boolean),
    migr.script_begin(text, text, int4, text), migr.script_progress(int4, text, int4),
    migr.script_done(int4, text), migr.script_end()
FROM PUBLIC;

/* migr--0.2.0--0.3.0.sql: large data migrations (CALL migr.batch_update()
 * and migr.batch(): batched, resumable, throttled), the migr.progress view,
 * and the offline script (migr.script()) */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migr UPDATE TO '0.3.0'" to load this file. \quit

--
-- The table 0.2.0 called migr.progress keeps its rows under a new name: the
-- name migr.progress now belongs to the view of everything in progress.
--
ALTER TABLE migr.progress RENAME TO revision_progress;
ALTER TABLE migr.revision_progress RENAME CONSTRAINT progress_pkey TO revision_progress_pkey;
ALTER TABLE migr.revision_progress RENAME CONSTRAINT progress_direction_check TO revision_progress_direction_check;
ALTER TABLE migr.revision_progress RENAME CONSTRAINT progress_statements_check TO revision_progress_statements_check;
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
REVOKE ALL ON migr.run FROM PUBLIC;
GRANT SELECT ON migr.run TO PUBLIC;

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
SELECT pg_catalog.pg_extension_config_dump('migr.batch_job', '');
SELECT pg_catalog.pg_extension_config_dump('migr.batch_job_job_id_seq', '');
REVOKE ALL ON migr.batch_job FROM PUBLIC;
GRANT SELECT ON migr.batch_job TO PUBLIC;

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
REVOKE ALL ON migr.progress FROM PUBLIC;
GRANT SELECT ON migr.progress TO PUBLIC;

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
REVOKE EXECUTE ON PROCEDURE migr.batch_update(regclass, text, text, int4, text, interval, interval, text, boolean) FROM PUBLIC;

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
REVOKE EXECUTE ON PROCEDURE migr.batch(regclass, text, text, int4, text, interval, interval, text, boolean) FROM PUBLIC;

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

REVOKE EXECUTE ON PROCEDURE migr.script_begin(text, text, int4, text), migr.script_progress(int4, text, int4),
    migr.script_done(int4, text), migr.script_end() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION migr.script_step(int4, text, text, text) FROM PUBLIC;

-- whoever may CALL migr.apply() or migr.revert() may run a script, and the
-- batch jobs revisions may hold (they run the caller's own SQL, so this gives
-- no right the role did not have)
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT DISTINCT a.grantee, a.is_grantable
               FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
              WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY['migr.apply(text)'::pg_catalog.regprocedure,
                                                            'migr.revert(text)'::pg_catalog.regprocedure]::pg_catalog.oid[])
                AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
                AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE migr.script_begin(text, text, int4, text),'
                                  ' migr.script_progress(int4, text, int4), migr.script_done(int4, text),'
                                  ' migr.script_end(), migr.script_step(int4, text, text, text),'
                                  ' migr.batch_update(regclass, text, text, int4, text, interval, interval, text, boolean),'
                                  ' migr.batch(regclass, text, text, int4, text, interval, interval, text, boolean)'
                                  ' TO %s%s',
                    CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                         ELSE g.grantee::pg_catalog.regrole::text END,
                    CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;

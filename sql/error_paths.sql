-- error_paths: the user-facing errors no other file provokes, grouped by
-- topic, each with its SQLSTATE.  scripts/error_coverage.sh lists the sites
-- that no test reaches.  A catalog that the API never writes (a cycle, a
-- duplicated label) is made by hand, as a superuser with triggers off
-- (session_replication_role = replica), to show that the graph loader
-- refuses it with a clear error.
SET client_min_messages = warning;
SELECT migr.revision('e1', NULL, 'base', 'CREATE TABLE ep_base (a int);', 'DROP TABLE ep_base;',
                     create_date => '2024-01-01');
SELECT migr.revision('f1', NULL, 'feature', '', '', branch_labels => 'feat',
                     create_date => '2024-01-02');

--
-- Registration
--
-- a dependency on one of the revision's own branch labels
SELECT migr.revision('e2', 'e1', 'x', '', '', branch_labels => 'own', depends_on => 'own');
\echo :LAST_ERROR_SQLSTATE
-- the same dependency twice, once through its branch label
SELECT migr.revision('e2', 'e1', 'x', '', '', depends_on => 'feat, f1');
\echo :LAST_ERROR_SQLSTATE

-- Registration in any order in one transaction: a dependency may name a
-- branch label that a later statement declares.  The edge is taken over
-- by the declaring revision, and migr.migration.depends_on holds its id.
BEGIN;
SELECT migr.revision('o2', 'o1', 'later', '', '', depends_on => 'late', create_date => '2024-02-02');
SELECT migr.revision('o1', NULL, 'first', '', '', create_date => '2024-02-01');
SELECT migr.revision('l1', NULL, 'labelled', '', '', branch_labels => 'late', create_date => '2024-02-03');
COMMIT;
SELECT id, revises, depends_on FROM migr.migration WHERE id IN ('o1', 'o2', 'l1') ORDER BY id;
SELECT revision, kind, target FROM migr.migration_edge WHERE revision IN ('o1', 'o2', 'l1')
 ORDER BY 1, 2, 3;
SELECT revision, depends_on FROM migr.history() WHERE revision = 'o2';
-- a label that never appears: a clear error at COMMIT, and nothing stays
BEGIN;
SELECT migr.revision('o3', 'o2', 'x', '', '', depends_on => 'never');
COMMIT;
\echo :LAST_ERROR_SQLSTATE
-- a parent that never appears, likewise
BEGIN;
SELECT migr.revision('o3', 'nothere', 'x', '', '');
COMMIT;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM migr.migration WHERE id = 'o3';
-- the graph cannot be loaded while the label is missing
BEGIN;
SELECT migr.revision('o3', 'o2', 'x', '', '', depends_on => 'soon');
SELECT * FROM migr.upgrade('o3');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- the label, once declared, must not duplicate a dependency named directly
BEGIN;
SELECT migr.revision('o3', 'o2', 'x', '', '', depends_on => 'soon, l2');
SELECT migr.revision('l2', NULL, 'x', '', '', branch_labels => 'soon');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

--
-- Statements a body can never run
--
-- COPY to or from the client is refused at registration, naming the statement
SELECT migr.revision('e2', 'e1', 'x', E'CREATE TABLE ep_t (a int);\nCOPY ep_t TO STDOUT;', 'DROP TABLE ep_t;');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('e2', 'e1', 'x', 'CREATE TABLE ep_t (a int);', 'COPY ep_t FROM STDIN; DROP TABLE ep_t;');
\echo :LAST_ERROR_SQLSTATE
-- COPY to or from a server file is fine
SELECT migr.revision('e2', 'e1', 'x', $$CREATE TABLE ep_t (a int); COPY ep_t TO '/dev/null';$$,
                     'DROP TABLE ep_t;', create_date => '2024-01-03');
-- a body stored by hand is refused when it runs, and nothing is applied
SET session_replication_role = replica;
UPDATE migr.migration SET upgrade_sql = 'CREATE TABLE ep_t (a int); COPY ep_t TO STDOUT;' WHERE id = 'e2';
RESET session_replication_role;
SELECT * FROM migr.upgrade('e2');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM migr.applied;
SET session_replication_role = replica;
UPDATE migr.migration SET upgrade_sql = $$CREATE TABLE ep_t (a int); COPY ep_t TO '/dev/null';$$ WHERE id = 'e2';
RESET session_replication_role;

--
-- Checks that do not return one boolean
--
-- a set-returning check is refused at registration when it can be analysed
SELECT migr.revision('e3', 'e2', 'x', '', '', skip_if => 'generate_series(1, 2) > 0');
\echo :LAST_ERROR_SQLSTATE
-- a function created by an earlier revision cannot be analysed then: at run
-- time no row and several rows are errors
SELECT migr.revision('e3', 'e2', 'srf',
                     $$CREATE FUNCTION ep_srf(n int) RETURNS SETOF int LANGUAGE sql AS 'SELECT generate_series(1, n)';$$,
                     'DROP FUNCTION ep_srf(int);', create_date => '2024-01-04');
SELECT migr.revision('e4', 'e3', 'x', '', '', verify => 'ep_srf(0) > 0', create_date => '2024-01-05');
SELECT * FROM migr.upgrade('e4');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('e4', 'e3', 'x', '', '', verify => 'ep_srf(2) > 0', create_date => '2024-01-05');
SELECT * FROM migr.upgrade('e4');
\echo :LAST_ERROR_SQLSTATE
-- migr.plan reports such a skip_if as unknown (NULL) rather than failing
SELECT migr.revision('e4', 'e3', 'x', '', '', skip_if => 'ep_srf(2) > 0', create_date => '2024-01-05');
SELECT count(*) FROM migr.upgrade('e3');
SELECT step, revision, would_skip FROM migr.plan('e4');
SELECT * FROM migr.upgrade('e4');
\echo :LAST_ERROR_SQLSTATE
-- a check stored by hand that is not one expression is refused when it runs
SET session_replication_role = replica;
UPDATE migr.migration SET skip_if = 'true) WHERE (false' WHERE id = 'e4';
RESET session_replication_role;
SELECT * FROM migr.upgrade('e4');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('e4', 'e3', 'x', '', '', create_date => '2024-01-05');

--
-- migr calls from revision SQL
--
-- writers refuse to run inside a body or a check of a running call
SELECT migr.revision('e5', 'e4', 'nested upgrade',
                     'CREATE TABLE ep_nested (a int); SELECT count(*) FROM migr.upgrade();',
                     'DROP TABLE ep_nested;', create_date => '2024-01-06');
SELECT * FROM migr.upgrade('e5');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('e5', 'e4', 'nested downgrade', 'SELECT count(*) FROM migr.downgrade(''base'');',
                     '', create_date => '2024-01-06');
SELECT * FROM migr.upgrade('e5');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('e5', 'e4', 'nested stamp', '', '', create_date => '2024-01-06',
                     requires => $$(SELECT count(*) FROM migr.stamp('base')) = 0$$);
SELECT * FROM migr.upgrade('e5');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('e5', 'e4', 'nested registration', '', '', create_date => '2024-01-06',
                     verify => $$migr.revision('e6', 'e5', 'x', '') IS NOT NULL$$);
SELECT * FROM migr.upgrade('e5');
\echo :LAST_ERROR_SQLSTATE
-- a downgrade body too
SELECT migr.revision('e5', 'e4', 'nested in downgrade', '', 'SELECT count(*) FROM migr.upgrade(''e5'');',
                     create_date => '2024-01-06');
SELECT revision, operation FROM migr.upgrade('e5');
SELECT * FROM migr.downgrade('e4');
\echo :LAST_ERROR_SQLSTATE
SELECT revision, operation FROM migr.stamp('e4');
-- a refused call caught inside the body: the outer call goes on
SELECT migr.revision('e5', 'e4', 'caught', $$
    CREATE TABLE ep_caught (a int);
    DO $do$ BEGIN
        PERFORM migr.stamp('base');
    EXCEPTION WHEN object_in_use THEN
        INSERT INTO ep_caught VALUES (1);
    END $do$;$$, 'DROP TABLE ep_caught;', create_date => '2024-01-06');
SELECT revision, operation FROM migr.upgrade('e5');
SELECT count(*) FROM ep_caught;
-- readers are allowed: they see the state as of the start of the call
SELECT migr.revision('e6', 'e5', 'reader', $$
    CREATE TABLE ep_reader AS SELECT c FROM migr.current() AS c;$$, 'DROP TABLE ep_reader;',
    create_date => '2024-01-07');
SELECT revision, operation FROM migr.upgrade('e6');
SELECT * FROM ep_reader;
-- after a refused call that aborted the outer one, the session works
SELECT migr.revision('e7', 'e6', 'nested', 'SELECT count(*) FROM migr.upgrade();', '',
                     create_date => '2024-01-08');
SELECT * FROM migr.upgrade('e7');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.revision('e7', 'e6', 'plain', '', '', create_date => '2024-01-08');
SELECT revision, operation FROM migr.upgrade('e7');
-- also when the caller catches the outer call's error in the same transaction
SELECT migr.revision('e8', 'e7', 'nested', 'SELECT count(*) FROM migr.downgrade();', '',
                     create_date => '2024-01-09');
DO $$
BEGIN
    PERFORM migr.upgrade('e8');
EXCEPTION WHEN object_in_use THEN
    RAISE WARNING 'refused: %', SQLERRM;
END $$;
BEGIN;
SELECT revision, operation FROM migr.downgrade('e6');
SELECT migr.revision('e8', 'e7', 'plain', '', '', create_date => '2024-01-09');
SELECT revision, operation FROM migr.upgrade('e8');
COMMIT;
SELECT * FROM migr.current();
-- migr.test_reversibility() from a body is refused like the other writers
SELECT migr.revision('e9', 'e8', 'tester', $$
    CREATE TABLE ep_tested AS SELECT revision, status, detail FROM migr.test_reversibility('e9');$$,
    'DROP TABLE ep_tested;', create_date => '2024-01-10');
SELECT revision, operation FROM migr.upgrade('e9');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.current();

--
-- Downgrade targets
--
-- a branch that does not exist is 42704 in every target form
SELECT * FROM migr.downgrade('typo_label@head');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.downgrade('typo_label@e1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.downgrade('typo_label@base');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.downgrade('typo_label@-1');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.upgrade('typo_label@base');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.stamp('typo_label@base');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM migr.plan('typo_label@head', 'downgrade');
\echo :LAST_ERROR_SQLSTATE
-- nothing moved
SELECT * FROM migr.current();
-- a revision that applied revisions only depend on
SELECT migr.revision('g1', NULL, 'g', '', '', create_date => '2024-03-01');
SELECT migr.revision('d1', NULL, 'd', '', '', create_date => '2024-03-02');
SELECT migr.revision('g2', 'g1', 'g', '', '', depends_on => 'd1', create_date => '2024-03-03');
SELECT revision, operation FROM migr.upgrade('g2');
SELECT * FROM migr.downgrade('d1');
\echo :LAST_ERROR_SQLSTATE
-- a branch that none of the revisions directly above the target is on
SELECT migr.revision('b1', NULL, 'b', '', '', create_date => '2024-04-01');
SELECT migr.revision('b2', 'b1', 'b', '', '', branch_labels => 'bl', create_date => '2024-04-02');
SELECT migr.revision('c2', 'b1', 'c', '', '', branch_labels => 'cl', create_date => '2024-04-03');
SELECT revision, operation FROM migr.upgrade('c2');
SELECT * FROM migr.downgrade('feat@b1');
\echo :LAST_ERROR_SQLSTATE
-- the applied revision directly above the target is on another branch
SELECT * FROM migr.downgrade('bl@b1');
\echo :LAST_ERROR_SQLSTATE
-- a branch named by an ambiguous prefix is MG001 with the candidates (Alembic
-- says "no such branch"; docs/graph.md lists the difference)
SELECT migr.revision('abcd1', 'b2', 'x', '', '', create_date => '2024-04-04');
SELECT migr.revision('abcd2', 'c2', 'x', '', '', create_date => '2024-04-05');
SELECT * FROM migr.downgrade('abcd@b1');
\echo :LAST_ERROR_SQLSTATE
-- a relative step out of range
SELECT * FROM migr.upgrade('+99999999999');
\echo :LAST_ERROR_SQLSTATE

--
-- test_reversibility() is a writer
--
BEGIN READ ONLY;
SELECT * FROM migr.test_reversibility();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;

--
-- The commit-time edge check is a trigger for migr.migration only
--
CREATE TABLE ep_other (id text);
CREATE TRIGGER ep_wrong AFTER INSERT ON ep_other
    FOR EACH STATEMENT EXECUTE FUNCTION migr.migration_edges_resolved();
INSERT INTO ep_other VALUES ('x');
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER ep_wrong ON ep_other;
ALTER TABLE ep_other ALTER COLUMN id TYPE int USING 0;
CREATE TRIGGER ep_wrong AFTER INSERT ON ep_other
    FOR EACH ROW EXECUTE FUNCTION migr.migration_edges_resolved();
INSERT INTO ep_other VALUES (1);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE ep_other;

--
-- A catalog written by hand: the graph loader refuses it clearly
--
SELECT revision, operation FROM migr.downgrade('base');
-- a cycle
SET session_replication_role = replica;
UPDATE migr.migration SET revises = '{g2}' WHERE id = 'g1';
RESET session_replication_role;
SELECT * FROM migr.heads();
\echo :LAST_ERROR_SQLSTATE
SET session_replication_role = replica;
UPDATE migr.migration SET revises = '{}' WHERE id = 'g1';
-- a revision that revises itself, or depends on itself
UPDATE migr.migration SET revises = '{g1}' WHERE id = 'g1';
RESET session_replication_role;
SELECT * FROM migr.heads();
\echo :LAST_ERROR_SQLSTATE
SET session_replication_role = replica;
UPDATE migr.migration SET revises = '{}', depends_on = '{g1}' WHERE id = 'g1';
RESET session_replication_role;
SELECT * FROM migr.heads();
\echo :LAST_ERROR_SQLSTATE
-- a branch label declared twice
SET session_replication_role = replica;
UPDATE migr.migration SET depends_on = '{}' WHERE id = 'g1';
UPDATE migr.migration SET branch_labels = '{feat}' WHERE id = 'g1';
RESET session_replication_role;
SELECT * FROM migr.heads();
\echo :LAST_ERROR_SQLSTATE
SET session_replication_role = replica;
UPDATE migr.migration SET branch_labels = '{}' WHERE id = 'g1';
RESET session_replication_role;
-- an applied set that is not closed downwards: two current heads on one
-- line (b1, and abcd1 above the unapplied b2)
SELECT count(*) FROM migr.applied;
INSERT INTO migr.applied VALUES ('b1', now(), current_user, '\x00', '0', 1),
                                ('abcd1', now(), current_user, '\x00', '0', 2);
SELECT * FROM migr.current();
SELECT * FROM migr.upgrade('abcd1');
\echo :LAST_ERROR_SQLSTATE
-- check() reports it instead of failing on it
SELECT severity, code, revision, message FROM migr.check() WHERE severity = 'error' ORDER BY code, revision;
DELETE FROM migr.applied;
-- migr's trigger functions refuse to be fired anywhere else
CREATE TABLE not_edges (revision text, kind "char", target text);
CREATE TRIGGER misplaced AFTER INSERT ON not_edges
    REFERENCING NEW TABLE AS new_edges FOR EACH STATEMENT EXECUTE FUNCTION migr.edge_no_cycle();
INSERT INTO not_edges VALUES ('a', 'p', 'b');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE not_edges;
-- operations: NULL or empty where a value is needed
CREATE TABLE op_args (a int);
SELECT migr.create_index('op_args', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT migr.create_index('op_args', '{}');
\echo :LAST_ERROR_SQLSTATE
SELECT migr.add_column('op_args', 'b', 'int', nullable => NULL);
\echo :LAST_ERROR_SQLSTATE
-- a type in a named schema that has no such type, also where the caller has
-- no USAGE on the schema (types there are still found, as
-- information_schema shows them); an empty column name
SELECT migr.column_type_is('op_args', 'a', 'public.no_such_type');
\echo :LAST_ERROR_SQLSTATE
CREATE SCHEMA ep_hidden;
CREATE TYPE ep_hidden.mood AS ENUM ('ok');
CREATE ROLE regress_ep_nousage;
GRANT SELECT ON op_args TO regress_ep_nousage;
SET ROLE regress_ep_nousage;
SELECT migr.column_type_is('op_args', 'a', 'ep_hidden.mood');
SELECT migr.column_type_is('op_args', 'a', 'ep_hidden.no_such_type');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP SCHEMA ep_hidden CASCADE;
REVOKE ALL ON op_args FROM regress_ep_nousage;
DROP ROLE regress_ep_nousage;
SELECT migr.name('ix', 'op_args', ARRAY['']);
\echo :LAST_ERROR_SQLSTATE
DROP TABLE op_args;

DROP EXTENSION migr;
CREATE EXTENSION migr;

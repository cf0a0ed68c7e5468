-- target: every target form, resolved as Alembic resolves it
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.reg(id text, revises text, d int, labels text DEFAULT NULL)
RETURNS text LANGUAGE sql AS $$
  SELECT migr.revision(id, revises, 'rev ' || id, '', '', labels, NULL,
                       '2024-01-01 00:00:00+00'::timestamptz + d * interval '1 minute')
$$;
CREATE FUNCTION pg_temp.steps(target text, direction text DEFAULT NULL) RETURNS text
LANGUAGE sql AS $$
  SELECT coalesce(string_agg(revision || CASE operation WHEN 'upgrade' THEN '+' ELSE '-' END,
                             ' ' ORDER BY step), '(nothing)')
    FROM migr.plan(target, direction)
$$;
-- r1 -> r2 -> r3 -> {s4 -> s5 (label s), t4 -> t5 (label t)}
SELECT pg_temp.reg('r1aa', NULL, 1);
SELECT pg_temp.reg('r2bb', 'r1aa', 2);
SELECT pg_temp.reg('r3cc', 'r2bb', 3);
SELECT pg_temp.reg('s4dd', 'r3cc', 4, 's');
SELECT pg_temp.reg('s5ee', 's4dd', 5);
SELECT pg_temp.reg('t4ff', 'r3cc', 6, 't');
SELECT pg_temp.reg('t5gg', 't4ff', 7);
SELECT pg_temp.steps('heads');
SELECT pg_temp.steps('s@head');
SELECT pg_temp.steps('t@head');
SELECT pg_temp.steps('s4dd@head');
SELECT pg_temp.steps('r2bb');
SELECT pg_temp.steps('r2');          -- prefix
SELECT pg_temp.steps('s5');          -- prefix
SELECT pg_temp.steps('+2');
SELECT pg_temp.steps('r1aa+2');
SELECT pg_temp.steps('t@+5');
-- head is ambiguous with two heads
SELECT pg_temp.steps('head');
\echo :LAST_ERROR_SQLSTATE
-- ambiguous walk through the branch point
SELECT pg_temp.steps('+4');
\echo :LAST_ERROR_SQLSTATE
-- beyond the head
SELECT pg_temp.steps('s@+9');
\echo :LAST_ERROR_SQLSTATE
-- unknown and ambiguous ids
SELECT pg_temp.steps('nope');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.reg('r1ab', 'r1aa', 8);
SELECT pg_temp.steps('r1a');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.steps('nobranch@head');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.steps('s@t5gg');
\echo :LAST_ERROR_SQLSTATE
-- malformed targets
SELECT pg_temp.steps('');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.steps('a b');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.steps('s@');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.steps('r1aa+1x');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.steps('-1', 'upgrade');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.steps('heads', 'sideways');
\echo :LAST_ERROR_SQLSTATE
-- now apply everything and walk down
SELECT count(*) FROM migr.upgrade('heads');
SELECT pg_temp.steps('-1');                -- one branch, as Alembic does
SELECT pg_temp.steps('s@-1');
SELECT pg_temp.steps('t@-2');
SELECT pg_temp.steps('s@base');
SELECT pg_temp.steps('r3cc');
SELECT pg_temp.steps('r2bb-1');
SELECT pg_temp.steps('base');
SELECT pg_temp.steps('-9');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.steps('r1aa-1', 'downgrade');
-- an id that looks relative is still that id
SELECT pg_temp.reg('v1-2', 't5gg', 9);
SELECT pg_temp.steps('v1-2');
-- "+1" from several current heads is ambiguous
SELECT pg_temp.steps('+1', 'upgrade');
\echo :LAST_ERROR_SQLSTATE
-- with nothing applied, a branch has no head to step down from
SELECT count(*) FROM migr.stamp('base');
SELECT pg_temp.steps('s@-1');
\echo :LAST_ERROR_SQLSTATE
-- a relative stamp that reaches one revision from two heads
SELECT pg_temp.reg('w1ww', 'r1ab', 10);
SELECT pg_temp.reg('w2ww', 'r1ab', 11);
SELECT * FROM migr.stamp('-1');
\echo :LAST_ERROR_SQLSTATE
-- a prefix may be one character long, but only ids and labels longer than
-- three characters are found by prefix: "x1" does not find "x12"
SELECT pg_temp.steps('v');
SELECT pg_temp.reg('x12', NULL, 12);
SELECT pg_temp.steps('x1');
\echo :LAST_ERROR_SQLSTATE
SELECT pg_temp.steps('x12');
-- if one of the heads also walks below a base, that is the error, whatever
-- the order of the heads: Alembic asserts on it while it collects the
-- steps, before it stamps anything twice
SELECT pg_temp.reg('z0zz', NULL, 13);
SELECT * FROM migr.stamp('-1');
\echo :LAST_ERROR_SQLSTATE
DROP EXTENSION migr;
CREATE EXTENSION migr;

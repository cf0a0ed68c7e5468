#!/usr/bin/env bash
# A fresh CREATE EXTENSION migr (one script, migr--0.4.0.sql) gives the same
# objects as CREATE EXTENSION migr VERSION '0.1.0' followed by ALTER
# EXTENSION migr UPDATE (the base script and every update script).  Compared:
# pg_dump --schema-only, plain and --binary-upgrade (a plain dump shows an
# extension as its CREATE EXTENSION only; --binary-upgrade dumps every
# member), and the catalog facts below, each printed by name so that OIDs do
# not enter.  Then the comparison is shown to notice a difference: each of a
# few changes to the fresh database, one at a time, must make it fail.
set -euo pipefail
cd "$(dirname "$0")/../.."
fresh=migr_install_fresh
chain=migr_install_chain
tmp=$(mktemp -d)
cleanup() {
    psql -Xq -c "DROP DATABASE IF EXISTS $fresh" -c "DROP DATABASE IF EXISTS $chain" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

psql -Xq -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $fresh" -c "DROP DATABASE IF EXISTS $chain" \
     -c "CREATE DATABASE $fresh" -c "CREATE DATABASE $chain"
psql -Xq -v ON_ERROR_STOP=1 -d $fresh -c "SET client_min_messages = warning" -c "CREATE EXTENSION migr"
psql -Xq -v ON_ERROR_STOP=1 -d $chain -c "SET client_min_messages = warning" \
     -c "CREATE EXTENSION migr VERSION '0.1.0'" -c "ALTER EXTENSION migr UPDATE"

# Every fact as one line "kind|object|definition".  User objects have OIDs
# from 16384 on, and in these databases all of them are migr's; names that
# hold an OID (toast tables, the foreign keys' internal triggers) are
# printed without it.
cat >"$tmp/facts.sql" <<'SQL'
\pset format unaligned
\pset tuples_only on
\pset null '<null>'
CREATE FUNCTION pg_temp.n(t text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$SELECT regexp_replace(regexp_replace(t, 'pg_toast_[0-9]+', 'pg_toast_N', 'g'),
                        'RI_ConstraintTrigger_([ac])_[0-9]+', 'RI_ConstraintTrigger_\1_N', 'g')$$;
WITH ext AS (SELECT * FROM pg_extension WHERE extname = 'migr'),
facts(kind, object, definition) AS (
    SELECT 'extension', extname::text,
           concat_ws(' ', extversion, pg_get_userbyid(extowner), extnamespace::regnamespace,
                     extrelocatable, extconfig::regclass[], extcondition)
      FROM ext
    UNION ALL
    SELECT 'member', pg_temp.n(pg_describe_object(d.classid, d.objid, d.objsubid)), d.deptype::text
      FROM pg_depend d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid
    UNION ALL
    SELECT 'depend', pg_temp.n(pg_describe_object(classid, objid, objsubid)),
           deptype::text || ' on ' || pg_temp.n(pg_describe_object(refclassid, refobjid, refobjsubid))
      FROM pg_depend WHERE objid >= 16384 OR refobjid >= 16384
    UNION ALL
    SELECT 'schema', nspname, concat_ws(' ', pg_get_userbyid(nspowner), nspacl,
                                        obj_description(oid, 'pg_namespace'))
      FROM pg_namespace WHERE nspname = 'migr'
    UNION ALL
    SELECT 'relation', c.oid::regclass::text,
           concat_ws(' ', c.relkind, c.relpersistence, pg_get_userbyid(c.relowner), c.relacl,
                     c.reloptions, c.relnatts, c.relchecks, c.relhasindex, c.relhasrules,
                     c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, c.relreplident,
                     c.relispartition, c.reltablespace, c.relam, c.reloftype, c.reltype::regtype,
                     pg_temp.n(c.reltoastrelid::regclass::text),
                     CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END,
                     CASE WHEN c.relkind = 'i' THEN pg_get_indexdef(c.oid) END,
                     (SELECT concat_ws(' ', s.seqtypid::regtype, s.seqstart, s.seqincrement,
                                       s.seqmax, s.seqmin, s.seqcache, s.seqcycle)
                        FROM pg_sequence s WHERE s.seqrelid = c.oid))
      FROM pg_class c WHERE c.relnamespace = 'migr'::regnamespace
    UNION ALL
    -- attnum: the columns' order.  Not atthasmissing (see below), nor the
    -- pg_attver option this server build keeps in attoptions: the WAL
    -- position the column was created at, which differs by nature
    SELECT 'column', a.attrelid::regclass || '.' || a.attname,
           concat_ws(' ', a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                     pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
                     a.attisdropped, a.attcollation, a.attacl,
                     (SELECT array_agg(o) FROM unnest(a.attoptions) o WHERE o NOT LIKE 'pg\_attver=%'),
                     a.attstattarget,
                     a.attstorage, a.attcompression, a.attislocal, a.attinhcount)
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE c.relnamespace = 'migr'::regnamespace AND a.attnum > 0
    UNION ALL
    SELECT 'constraint', conrelid::regclass || '.' || conname,
           concat_ws(' ', contype, condeferrable, condeferred, convalidated, connoinherit,
                     conislocal, conindid::regclass, pg_get_constraintdef(oid))
      FROM pg_constraint WHERE connamespace = 'migr'::regnamespace
    UNION ALL
    SELECT 'trigger', pg_temp.n(tgrelid::regclass || '.' || tgname),
           concat_ws(' ', tgenabled, tgisinternal, tgfoid::regprocedure, tgtype, tgdeferrable,
                     tginitdeferred, tgnargs, tgattr, tgoldtable, tgnewtable,
                     (SELECT conname FROM pg_constraint WHERE oid = tgconstraint),
                     tgconstrrelid::regclass,
                     CASE WHEN NOT tgisinternal THEN pg_get_triggerdef(oid) END)
      FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'migr'::regnamespace)
    UNION ALL
    SELECT 'function', p.oid::regprocedure::text,
           concat_ws(' | ', p.prokind, p.provolatile, p.proisstrict, p.prosecdef, p.proleakproof,
                     p.proparallel, p.procost, p.prorows, p.proretset, p.provariadic,
                     p.prosupport, pg_get_userbyid(p.proowner), p.proacl,
                     p.proargnames, p.proargmodes, p.proallargtypes::regtype[],
                     pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
                     p.proconfig, l.lanname, p.probin, p.prosrc, pg_get_functiondef(p.oid))
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
     WHERE p.pronamespace = 'migr'::regnamespace
    UNION ALL
    SELECT 'type', t.oid::regtype::text,
           concat_ws(' ', t.typtype, t.typrelid::regclass, t.typelem::regtype,
                     t.typarray::regtype, pg_get_userbyid(t.typowner), t.typacl)
      FROM pg_type t WHERE t.typnamespace = 'migr'::regnamespace
    UNION ALL
    SELECT 'comment', pg_temp.n(pg_describe_object(classoid, objoid, objsubid)), description
      FROM pg_description WHERE objoid >= 16384
    UNION ALL
    SELECT 'init_privs', pg_temp.n(pg_describe_object(classoid, objoid, objsubid)),
           privtype::text || ' ' || initprivs::text
      FROM pg_init_privs WHERE objoid >= 16384
)
SELECT replace(kind || '|' || object || '|' || coalesce(definition, '<null>'), E'\n', '\n')
  FROM facts ORDER BY 1;
SQL
facts() { psql -Xq -v ON_ERROR_STOP=1 -d "$1" -f "$tmp/facts.sql"; }
facts $fresh >"$tmp/facts.fresh"
facts $chain >"$tmp/facts.chain"
for k in extension member depend relation column constraint trigger function comment init_privs; do
    grep -q "^$k|" "$tmp/facts.fresh" || fail "no $k facts: the query is broken"
done
diff -u "$tmp/facts.chain" "$tmp/facts.fresh" >"$tmp/facts.diff" ||
    fail "a fresh install differs from the update chain in the catalog:"$'\n'"$(cat "$tmp/facts.diff")"

# The one difference left out above: ALTER TABLE ADD COLUMN with a default
# gives the column a "missing value" (atthasmissing), which rows older than
# the column would read.  The chain adds columns to empty tables, so it is
# never read, and CREATE TABLE gives none.  That it is the only difference
# is checked here: the chain has exactly these columns with it, the fresh
# install (which ran one script) none.
missing="SELECT string_agg(attrelid::regclass || '.' || attname || '=' || attmissingval::text, ' '
                           ORDER BY attrelid::regclass::text, attname)
           FROM pg_attribute WHERE atthasmissing AND attrelid::regclass::text LIKE 'migr.%'"
got=$(psql -XAtq -d $chain -c "$missing")
want="migr.event.outcome={ok} migr.migration.downgrade_transactional={t} migr.migration.transactional={t} migr.migration.upgrade_transactional={t}"
[ "$got" = "$want" ] || fail "missing values after the chain: $got, expected $want"
got=$(psql -XAtq -d $fresh -c "$missing")
[ -z "$got" ] || fail "a fresh install has missing values ($got): did it run the update scripts?"

# pg_dump: OIDs (the extension's config tables are compared by name above),
# the transaction ids and WAL positions of the catalog rows and the dump's
# random \restrict key are normalised, and the missing values above dropped
# (cat -s: with the blank lines around them)
dump() {
    pg_dump --schema-only "$@" |
        sed -E -e "s/'[0-9]+'::pg_catalog\.oid/'OID'/g" \
               -e "s/^WHERE oid = '[0-9]+';/WHERE oid = 'OID';/" \
               -e "/binary_upgrade_create_empty_extension/s/'\\{[0-9,]+\\}'/'{OIDS}'/" \
               -e "s/relfrozenxid = '[0-9]+'/relfrozenxid = 'XID'/" \
               -e '/^\\(un)?restrict /d' \
               -e '/binary_upgrade_set_next_attribute_versions/d' \
               -e '/^-- set missing value\.$/d' -e '/binary_upgrade_set_missing_value/d' |
        cat -s
}
for how in plain binary; do
    opt=()
    [ $how = binary ] && opt=(--binary-upgrade)
    dump "${opt[@]}" -d $fresh >"$tmp/dump.$how.fresh"
    dump "${opt[@]}" -d $chain >"$tmp/dump.$how.chain"
    diff -u "$tmp/dump.$how.chain" "$tmp/dump.$how.fresh" >"$tmp/dump.diff" ||
        fail "pg_dump --schema-only ($how) of a fresh install differs from the chain's:"$'\n'"$(cat "$tmp/dump.diff")"
done
grep -q "ALTER EXTENSION migr ADD FUNCTION migr.load_all" "$tmp/dump.binary.fresh" ||
    fail "the --binary-upgrade dump does not list the members"

# The comparison notices a difference: each change, in a transaction that
# is rolled back, makes the facts differ
perturbations=(
    "COMMENT ON COLUMN migr.event.statement IS NULL"
    "ALTER FUNCTION migr.has_table(text) VOLATILE"
    "ALTER FUNCTION migr.branch_label_take_over() RESET search_path"
    "ALTER FUNCTION migr.heads() ROWS 10"
    "ALTER TABLE migr.event ENABLE TRIGGER event_append_only"
    "ALTER TABLE migr.migration_edge ALTER CONSTRAINT migration_edge_target_fkey NOT DEFERRABLE"
    "ALTER TABLE migr.event ALTER COLUMN outcome SET DEFAULT 'failed'"
    "REVOKE SELECT ON migr.run FROM PUBLIC"
    "GRANT EXECUTE ON FUNCTION migr.load(text, text) TO PUBLIC"
    "ALTER EXTENSION migr DROP TABLE migr.run"
    "ALTER TABLE migr.snapshot DROP COLUMN catalog_signature; ALTER TABLE migr.snapshot ADD COLUMN catalog_signature bytea"
    "CREATE OR REPLACE FUNCTION migr.stamp(target text DEFAULT 'head') RETURNS TABLE (revision text, operation text, duration interval) AS 'MODULE_PATHNAME', 'migr_stamp' LANGUAGE C VOLATILE"
)
for p in "${perturbations[@]}"; do
    p=${p//MODULE_PATHNAME/\$libdir/migr}
    psql -X -v ON_ERROR_STOP=1 -d $fresh -c "SET client_min_messages = warning" -c "BEGIN" -c "$p" \
         -f "$tmp/facts.sql" -c "ROLLBACK" 2>&1 | grep '|' >"$tmp/facts.perturbed" || true
    [ -s "$tmp/facts.perturbed" ] || fail "no facts after: $p"
    if diff -q "$tmp/facts.chain" "$tmp/facts.perturbed" >/dev/null; then
        fail "the comparison did not notice: $p"
    fi
done
# and the dump alone notices a comment that is missing
psql -Xq -v ON_ERROR_STOP=1 -d $fresh -c "COMMENT ON COLUMN migr.event.statement IS NULL"
dump --binary-upgrade -d $fresh >"$tmp/dump.binary.perturbed"
if diff -q "$tmp/dump.binary.chain" "$tmp/dump.binary.perturbed" >/dev/null; then
    fail "the dump comparison did not notice a missing comment"
fi
echo "a fresh install equals the update chain: $(wc -l <"$tmp/facts.fresh") catalog facts," \
     "$(wc -l <"$tmp/dump.binary.fresh") lines of pg_dump --binary-upgrade;" \
     "${#perturbations[@]} changes noticed"

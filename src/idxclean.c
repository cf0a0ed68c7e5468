/*-------------------------------------------------------------------------
 * idxclean.c
 *	  A CREATE INDEX CONCURRENTLY that fails leaves an INVALID index
 *	  behind: a re-run of "CREATE INDEX CONCURRENTLY IF NOT EXISTS" then
 *	  keeps that broken index without a word, and a re-run without IF NOT
 *	  EXISTS fails on it.  A failed REINDEX CONCURRENTLY leaves an invalid
 *	  "_ccnew" copy.  CALL mode watches such statements: before a named
 *	  CREATE INDEX CONCURRENTLY runs, an invalid index of that name is
 *	  dropped; after one fails, the invalid indexes it left on its table
 *	  are dropped, concurrently, by the background worker, so the retry
 *	  starts clean.
 *
 *	  Only indexes the statement made are dropped: the name it gives, or
 *	  for a REINDEX the "_ccnew"/"_ccold" copies that were not there before.
 *	  An unnamed index cannot be told from another session's index build
 *	  on the same table, so it is named in a NOTICE and left alone.
 *
 * IDENTIFICATION
 *	  src/idxclean.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "idxclean.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

struct MigrIndexWatch
{
	Oid			table;
	const char *name;			/* the index a CREATE INDEX names, or NULL */
	bool		reindex;
	Datum		before;			/* oid[]: invalid indexes before */
};

/* Whether index oid exists and is not valid. */
static bool
index_is_invalid(Oid oid)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(oid));
	bool		invalid;

	if (!HeapTupleIsValid(tup))
		return false;
	invalid = !((Form_pg_index) GETSTRUCT(tup))->indisvalid;
	ReleaseSysCache(tup);
	return invalid;
}

/* Drop one index, concurrently, at top level: the caller has committed. */
static void
drop_index(const char *rev, const char *qualified, const char *why)
{
	MigrStatement st = {0};

	st.text = psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", qualified);
	st.excerpt = st.text;
	st.toplevel = "DROP INDEX CONCURRENTLY";
	ereport(NOTICE,
			(errmsg("dropping invalid index %s %s", qualified, why)));
	SPI_commit();
	migr_body_run_toplevel(rev, st.text, true);
}

static char *
qualified_name(Oid oid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(oid)),
									  get_rel_name(oid));
}

/*
 * migr_index_watch
 *		Before top-level statement st of revision rev runs: NULL when it
 *		builds no index; otherwise what migr_index_cleanup needs if it
 *		fails.  An invalid index of the name a CREATE INDEX CONCURRENTLY IF
 *		gives is dropped here (committing first).
 */
MigrIndexWatch *
migr_index_watch(const char *rev, MigrStatement *st)
{
	MigrIndexWatch *w;
	Oid			table = InvalidOid;
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	bool		isnull;

	w = palloc0(sizeof(MigrIndexWatch));
	if (IsA(st->parsetree, IndexStmt))
	{
		IndexStmt  *is = (IndexStmt *) st->parsetree;

		table = RangeVarGetRelid(is->relation, NoLock, true);
		if (OidIsValid(table) && is->idxname)
		{
			Oid			old = get_relname_relid(is->idxname, get_rel_namespace(table));

			w->name = is->idxname;
			if (OidIsValid(old) && index_is_invalid(old))
				drop_index(rev, qualified_name(old),
						   "so that CREATE INDEX CONCURRENTLY builds it again");
		}
	}
	else if (IsA(st->parsetree, ReindexStmt))
	{
		ReindexStmt *rs = (ReindexStmt *) st->parsetree;

		w->reindex = true;
		if (rs->kind == REINDEX_OBJECT_TABLE)
			table = RangeVarGetRelid(rs->relation, NoLock, true);
		else if (rs->kind == REINDEX_OBJECT_INDEX)
		{
			Oid			idx = RangeVarGetRelid(rs->relation, NoLock, true);

			if (OidIsValid(idx))
				table = IndexGetRelation(idx, true);
		}
	}
	if (!OidIsValid(table))
		return NULL;
	w->table = table;
	values[0] = ObjectIdGetDatum(table);
	if (SPI_execute_with_args("SELECT COALESCE(pg_catalog.array_agg(i.indexrelid), '{}')"
							  "  FROM pg_catalog.pg_index i"
							  " WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND NOT i.indisvalid",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the invalid indexes of table %u", table);
	w->before = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull),
						  false, -1);
	SPI_freetuptable(SPI_tuptable);
	return w;
}

/*
 * migr_index_cleanup
 *		After the watched statement failed: drop the invalid indexes it
 *		left (see the header comment).
 */
void
migr_index_cleanup(const char *rev, MigrIndexWatch *w)
{
	Oid			types[4] = {OIDOID, OIDARRAYOID, TEXTOID, BOOLOID};
	Datum		values[4];
	char		nulls[4] = "    ";
	int			n;
	char	  **names;

	if (w == NULL)
		return;
	values[0] = ObjectIdGetDatum(w->table);
	values[1] = w->before;
	values[2] = w->name ? CStringGetTextDatum(w->name) : (Datum) 0;
	nulls[2] = w->name ? ' ' : 'n';
	values[3] = BoolGetDatum(w->reindex);
	if (SPI_execute_with_args("SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.'"
							  "       OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname)"
							  "  FROM pg_catalog.pg_index i"
							  "  JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid"
							  "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
							  " WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND NOT i.indisvalid"
							  "   AND i.indexrelid OPERATOR(pg_catalog.<>) ALL ($2)"
							  "   AND CASE WHEN $3 IS NOT NULL THEN c.relname OPERATOR(pg_catalog.=) $3"
							  "            WHEN $4 THEN c.relname OPERATOR(pg_catalog.~) '_cc(new|old)[0-9]*$'"
							  "            ELSE true END",
							  4, types, values, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the invalid indexes of table %u", w->table);
	n = (int) SPI_processed;
	names = palloc(sizeof(char *) * (n + 1));
	for (int i = 0; i < n; i++)
		names[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
	SPI_freetuptable(SPI_tuptable);
	for (int i = 0; i < n; i++)
	{
		if (w->name || w->reindex)
			drop_index(rev, names[i], "left by the failed statement");
		else
			ereport(NOTICE,
					(errmsg("index %s is invalid, and the failed statement may have left it", names[i]),
					 errdetail("The statement gave its index no name, so migr cannot tell it from an index another session is building; it leaves it alone."),
					 errhint("If it is the failed statement's, drop it with DROP INDEX CONCURRENTLY %s. Name the index in the revision, and migr drops it for you.",
							 names[i])));
	}
}

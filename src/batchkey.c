/*-------------------------------------------------------------------------
 * batchkey.c
 *	  The key a batch job walks its table by: the unique index it names,
 *	  the index's operators and collation, the job's default name, and
 *	  the key as text, for messages and for the job's row.
 *
 *	  The walk uses the unique index's own operators and collation (those
 *	  of citext live outside pg_catalog), so that the planner walks the
 *	  index and the order the keys come in agrees with the comparisons.
 *	  The last key done is stored as text written and read in fixed
 *	  settings, whatever the session's DateStyle or extra_float_digits, so
 *	  that a later call reads back the value written.  No SPI here.
 *
 * IDENTIFICATION
 *	  src/batchkey.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "batchint.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "checksum.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

/* "OPERATOR(schema.name)" of an operator, whatever the search_path */
static char *
qualified_operator(Oid op)
{
	HeapTuple	t = SearchSysCache1(OPEROID, ObjectIdGetDatum(op));
	Form_pg_operator o;
	char	   *text;

	if (!HeapTupleIsValid(t))
		elog(ERROR, "cache lookup failed for operator %u", op);
	o = (Form_pg_operator) GETSTRUCT(t);
	text = psprintf("OPERATOR(%s.%s)",
					quote_identifier(get_namespace_name(o->oprnamespace)),
					NameStr(o->oprname));
	ReleaseSysCache(t);
	return text;
}

/* "schema"."name" of a collation */
static char *
qualified_collation(Oid coll)
{
	HeapTuple	t = SearchSysCache1(COLLOID, ObjectIdGetDatum(coll));
	Form_pg_collation c;
	char	   *text;

	if (!HeapTupleIsValid(t))
		elog(ERROR, "cache lookup failed for collation %u", coll);
	c = (Form_pg_collation) GETSTRUCT(t);
	text = quote_qualified_identifier(get_namespace_name(c->collnamespace),
									  NameStr(c->collname));
	ReleaseSysCache(t);
	return text;
}

/*
 * The key: the primary key, or the columns named, which must be those of
 * a valid, immediate, non-partial unique index, in its order, all NOT
 * NULL (a row with a null key would be skipped).
 */
void
migr_batch_resolve_key(BatchJob *j, const char *key)
{
	Relation	rel = table_open(j->relid, AccessShareLock);
	const char *relname = RelationGetRelationName(rel);
	AttrNumber	want[INDEX_MAX_KEYS];
	int			nwant = 0;
	Oid			index = InvalidOid;
	ListCell   *lc;

	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", relname),
				 errdetail("%s works on the rows of a table.", j->fn)));

	if (key == NULL)
	{
		index = RelationGetPrimaryKeyIndex(rel);
		if (!OidIsValid(index))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
					 errmsg("table \"%s\" has no primary key", relname),
					 errdetail("%s walks a table in the order of a unique key.", j->fn),
					 errhint("Pass key => 'column, ...' naming the columns of a unique index whose columns are all NOT NULL, or add a primary key.")));
	}
	else
	{
		char	   *raw = pstrdup(key);
		List	   *names = NIL;

		if (!SplitIdentifierString(raw, ',', &names) || names == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid key \"%s\"", key),
					 errdetail("A key is a list of column names separated by commas.")));
		if (list_length(names) > INDEX_MAX_KEYS)
			ereport(ERROR,
					(errcode(ERRCODE_TOO_MANY_COLUMNS),
					 errmsg("key \"%s\" has more than %d columns", key, INDEX_MAX_KEYS)));
		foreach(lc, names)
		{
			AttrNumber	a = get_attnum(j->relid, lfirst(lc));

			if (a <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of relation \"%s\" does not exist",
								(char *) lfirst(lc), relname)));
			want[nwant++] = a;
		}
		foreach(lc, RelationGetIndexList(rel))
		{
			HeapTuple	t = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
			Form_pg_index ix;
			bool		match;

			if (!HeapTupleIsValid(t))
				continue;
			ix = (Form_pg_index) GETSTRUCT(t);
			match = ix->indisunique && ix->indisvalid && ix->indimmediate &&
				ix->indnkeyatts == nwant &&
				heap_attisnull(t, Anum_pg_index_indpred, NULL) &&
				heap_attisnull(t, Anum_pg_index_indexprs, NULL);
			for (int k = 0; match && k < nwant; k++)
				match = ix->indkey.values[k] == want[k];
			if (match)
				index = ix->indexrelid;
			ReleaseSysCache(t);
			if (match)
				break;
		}
		if (!OidIsValid(index))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
					 errmsg("key (%s) of table \"%s\" is not unique", key, relname),
					 errdetail("No valid, non-partial, non-deferrable unique index or constraint of the table has exactly these columns, in this order."),
					 errhint("Name the columns of such an index, or create one (CREATE UNIQUE INDEX CONCURRENTLY).")));
	}

	/*
	 * The index's key columns, in its order, and the operators and
	 * collation of its ordering: the batches walk the index itself, so
	 * that the planner can use it, and so that the order the keys come in
	 * and the comparisons with the last key agree.  (The operators of a
	 * type like citext are not in pg_catalog: OPERATOR(pg_catalog.>) would
	 * compare its values as text, in another order than the index's, and
	 * skip rows.)
	 */
	{
		Relation	irel = index_open(index, AccessShareLock);
		HeapTuple	t = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(index));
		Form_pg_index ix;

		if (!HeapTupleIsValid(t))
			elog(ERROR, "cache lookup failed for index %u", index);
		ix = (Form_pg_index) GETSTRUCT(t);
		j->nkeys = ix->indnkeyatts;
		j->keycols = palloc(sizeof(char *) * j->nkeys);
		j->keytypes = palloc(sizeof(Oid) * j->nkeys);
		j->keylens = palloc(sizeof(int16) * j->nkeys);
		j->keybyval = palloc(sizeof(bool) * j->nkeys);
		j->keyexpr = palloc(sizeof(char *) * j->nkeys);
		j->keyops = palloc0(sizeof(*j->keyops) * j->nkeys);
		for (int k = 0; k < j->nkeys; k++)
		{
			Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel),
												  ix->indkey.values[k] - 1);
			Oid			coll = irel->rd_indcollation[k];

			if (!att->attnotnull)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
						 errmsg("key column \"%s\" of table \"%s\" can be null",
								NameStr(att->attname), relname),
						 errdetail("A batch starts after the last key of the batch before it; a row whose key is null would never be reached."),
						 errhint("Add NOT NULL to the column, or name another key.")));
			j->keycols[k] = pstrdup(NameStr(att->attname));
			j->keytypes[k] = att->atttypid;
			get_typlenbyval(att->atttypid, &j->keylens[k], &j->keybyval[k]);
			j->keyexpr[k] = pstrdup(quote_identifier(j->keycols[k]));
			if (OidIsValid(coll) && coll != att->attcollation)
				j->keyexpr[k] = psprintf("%s COLLATE %s", j->keyexpr[k],
										 qualified_collation(coll));
			for (int st = 1; st <= BTMaxStrategyNumber; st++)
			{
				Oid			op = get_opfamily_member(irel->rd_opfamily[k],
													 irel->rd_opcintype[k],
													 irel->rd_opcintype[k], st);

				if (!OidIsValid(op))
					elog(ERROR, "operator %d of operator family %u for type %u not found",
						 st, irel->rd_opfamily[k], irel->rd_opcintype[k]);
				j->keyops[k][st] = qualified_operator(op);
			}
		}
		ReleaseSysCache(t);
		index_close(irel, AccessShareLock);
	}
	table_close(rel, AccessShareLock);
}

/* The job's name when the caller gives none: its table and a digest */
char *
migr_batch_default_name(BatchJob *j)
{
	pg_cryptohash_ctx *ctx = migr_sha256_begin();
	uint8		digest[32];
	char	   *rel = get_rel_name(j->relid);
	char	   *nsp = get_namespace_name(get_rel_namespace(j->relid));

	migr_sha256_add(ctx, j->is_update ? "update" : "sql", j->is_update ? 7 : 4);
	migr_sha256_add(ctx, j->sql, strlen(j->sql) + 1);
	migr_sha256_add(ctx, j->where, strlen(j->where) + 1);
	for (int k = 0; k < j->nkeys; k++)
		migr_sha256_add(ctx, j->keycols[k], strlen(j->keycols[k]) + 1);
	migr_sha256_end(ctx, digest);
	return psprintf("%s.%s %.12s", nsp, rel, migr_hex(digest, sizeof(digest)));
}

/* "a, b" (quoted): the key columns, as selected */
void
migr_batch_append_keys(StringInfo buf, BatchJob *j)
{
	for (int k = 0; k < j->nkeys; k++)
		appendStringInfo(buf, "%s%s", k ? ", " : "", quote_identifier(j->keycols[k]));
}

/* ----------------------------------------------------------------
 * The key as text
 * ----------------------------------------------------------------
 */

/*
 * The stored last key is read back by a later call, maybe in another
 * session with other settings: between key_io_begin() and key_io_end(),
 * the settings the text of a key depends on have fixed values, so that
 * the text reads back as the value written (a date written as 05/01/2020
 * under DateStyle DMY would read back as May 1 under MDY; a float written
 * with extra_float_digits below 1 is rounded).  An error in between needs
 * no cleanup: the (sub)transaction abort restores the settings.
 */
static int
key_io_begin(void)
{
	static const char *const fixed[][2] = {
		{"datestyle", "ISO, YMD"},
		{"intervalstyle", "postgres"},
		{"extra_float_digits", "3"},
		{"timezone", "UTC"},
		{"lc_monetary", "C"},
		{"bytea_output", "hex"},
		{"search_path", "pg_catalog, pg_temp"},	/* regclass and the like */
	};
	int			nest = NewGUCNestLevel();

	for (int i = 0; i < lengthof(fixed); i++)
		(void) set_config_option(fixed[i][0], fixed[i][1], PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

static void
key_io_end(int nest)
{
	AtEOXact_GUC(false, nest);
}

/* The key as text[] (NULL before the first batch), in fixed settings */
Datum
migr_batch_key_text_array(BatchJob *j, Datum *key)
{
	Datum	   *elems = palloc(sizeof(Datum) * j->nkeys);
	int			nest = key_io_begin();

	for (int k = 0; k < j->nkeys; k++)
	{
		Oid			out;
		bool		isvarlena;

		getTypeOutputInfo(j->keytypes[k], &out, &isvarlena);
		elems[k] = CStringGetTextDatum(OidOutputFunctionCall(out, key[k]));
	}
	key_io_end(nest);
	return PointerGetDatum(construct_array(elems, j->nkeys, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/* "(12, 'x')"-like text of a key, for messages */
char *
migr_batch_key_text(BatchJob *j, Datum *key)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '(');
	for (int k = 0; k < j->nkeys; k++)
	{
		Oid			out;
		bool		isvarlena;

		getTypeOutputInfo(j->keytypes[k], &out, &isvarlena);
		appendStringInfo(&buf, "%s%s", k ? ", " : "",
						 OidOutputFunctionCall(out, key[k]));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/* Datums from the text of a stored key, in the job's context */
Datum *
migr_batch_key_from_text(BatchJob *j, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			nest;
	Datum	   *key;
	MemoryContext old;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n != j->nkeys)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("batch job \"%s\" has a last key of %d columns, not %d", j->name, n, j->nkeys)));
	nest = key_io_begin();
	old = MemoryContextSwitchTo(j->cxt);
	key = palloc(sizeof(Datum) * n);
	for (int k = 0; k < n; k++)
	{
		Oid			in;
		Oid			ioparam;

		getTypeInputInfo(j->keytypes[k], &in, &ioparam);
		key[k] = OidInputFunctionCall(in, TextDatumGetCString(elems[k]), ioparam, -1);
	}
	MemoryContextSwitchTo(old);
	key_io_end(nest);
	return key;
}

char *
migr_batch_key_columns_text(BatchJob *j)
{
	StringInfoData buf;

	initStringInfo(&buf);
	migr_batch_append_keys(&buf, j);
	return buf.data;
}

/* The key columns' types as format_type() spells them, as text[] */
Datum
migr_batch_key_types_array(BatchJob *j)
{
	Datum	   *types = palloc(sizeof(Datum) * j->nkeys);

	for (int k = 0; k < j->nkeys; k++)
		types[k] = CStringGetTextDatum(format_type_be(j->keytypes[k]));
	return PointerGetDatum(construct_array(types, j->nkeys, TEXTOID, -1, false, TYPALIGN_INT));
}

/* "{integer,text}", for messages */
char *
migr_batch_key_types_text(BatchJob *j)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int k = 0; k < j->nkeys; k++)
		appendStringInfo(&buf, "%s%s", k ? "," : "", format_type_be(j->keytypes[k]));
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

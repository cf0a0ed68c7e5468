/*-------------------------------------------------------------------------
 * batch.c
 *	  CALL migr.batch_update() and CALL migr.batch(): a large data change
 *	  done in batches that walk a table in the order of a unique key
 *	  (keyset pagination: each batch starts after the last key of the one
 *	  before, so no batch re-reads the rows before it), for backfills that
 *	  must not hold locks on the whole table nor bloat it in one
 *	  transaction.  See docs/data-migrations.md.
 *
 *	  The walk uses the unique index's own operators and collation (those
 *	  of citext live outside pg_catalog), so that the planner walks the
 *	  index and the order the keys come in agrees with the comparisons.
 *	  A set_clause may not assign a key column: the row would move in the
 *	  walk.
 *
 *	  A job keeps its state in migr.batch_job: the last key of the last
 *	  batch done (as text written and read in fixed settings, whatever the
 *	  session's DateStyle or extra_float_digits), the counts, the batch size.  Called with CALL at top level
 *	  (or from a revision registered with transactional => false, run by
 *	  CALL migr.apply()), each batch commits together with that row, so a
 *	  job stopped by an error, a cancel or a crash resumes after the last
 *	  committed batch and never runs one twice.  Anywhere else (inside
 *	  migr.upgrade(), a transaction block, a function) the batches run in
 *	  the caller's transaction, each in a subtransaction, and a NOTICE says
 *	  so.
 *
 *	  Each batch runs under migr.lock_timeout (stmtguard.c) and is retried
 *	  after a growing wait when a lock is not available, as CALL
 *	  migr.apply() retries a revision.  Its size adapts so that a batch
 *	  takes about target_time.  Progress goes to a NOTICE every
 *	  migr.progress_interval, to pg_stat_activity.query, and (committed with
 *	  each batch) to the view migr.progress.
 *
 * IDENTIFICATION
 *	  src/batch.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "activity.h"
#include "batch.h"
#include "body.h"
#include "catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_index.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "checksum.h"
#include "common/int.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "guc.h"
#include "lib/stringinfo.h"
#include "lock.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "owner.h"
#include "parser/parser.h"
#include "sleep.h"
#include "sqlcall.h"
#include "stmtclass.h"
#include "stmtguard.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "subxact.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

PG_FUNCTION_INFO_V1(migr_batch_update_proc);
PG_FUNCTION_INFO_V1(migr_batch_proc);

/* A batch job's advisory lock: pg_advisory_lock(1835624307, job_id) */
#define MIGR_BATCH_LOCK_KEY 1835624307

/* the keys of a batch are read this many at a time */
#define KEY_CHUNK	10000

/* a batch grows or shrinks by at most this factor from one to the next */
#define ADAPT_STEP	2.0

typedef struct BatchJob
{
	/* what to do */
	bool		is_update;		/* batch_update (else batch) */
	const char *fn;				/* "migr.batch_update()", for messages */
	Oid			relid;
	char	   *relation;		/* qualified and quoted */
	char	   *sql;			/* the SET list, or the per-batch statement */
	List	   *set_columns;	/* the columns the SET list assigns */
	char	   *where;
	int			nkeys;
	char	  **keycols;
	Oid		   *keytypes;
	int16	   *keylens;
	bool	   *keybyval;
	char	  **keyexpr;		/* the column, with the index's COLLATE */
	char	 *(*keyops)[BTMaxStrategyNumber + 1];	/* "OPERATOR(s.<)" ... */
	int			size;			/* the size of the next batch */
	int			min_size;
	int			max_size;
	int64		pause_ms;
	int64		target_ms;		/* 0: the size does not adapt */
	char	   *name;
	bool		named;			/* the caller gave the name */
	char	   *revision;		/* the revision whose SQL runs the job */
	bool		restart;
	bool		atomic;			/* no commits between batches */

	/* its row in migr.batch_job */
	int64		job_id;
	int64		rows_done;
	int64		batches_done;
	int64		rows_total;		/* estimate; -1 when unknown */
	int64		estimate;		/* this call's estimate */
	Datum	   *last;			/* the last key done, or NULL */
	TimestampTz resumed_at;
	int64		rows_at_resume;
	LOCKTAG		locktag;
	bool		locked;
	Oid			ext;			/* the extension, share-locked for the session */

	/* plans kept for the job */
	SPIPlanPtr	first_plan;		/* the first batch's keys */
	SPIPlanPtr	next_plan;		/* the keys after the last one */
	SPIPlanPtr	work_plan;		/* the UPDATE, or the caller's statement */

	MemoryContext cxt;			/* the job's; survives the commits */
	MemoryContext batchcxt;		/* reset after each batch */
	TimestampTz last_notice;

	/* the batch running */
	int			batch_keys;		/* keys found: below size, the last batch */
	int64		batch_rows;		/* rows the work statement processed */
	Datum	   *next_last;		/* its last key, in batchcxt */
} BatchJob;

static int64 count_or_estimate(BatchJob *j);
static void free_plans(BatchJob *j);

/* ----------------------------------------------------------------
 * Arguments
 * ----------------------------------------------------------------
 */

/*
 * interval argument n in ms, refusing a negative one and one whose length
 * in microseconds does not fit in 64 bits (it would wrap around, and a
 * huge pause could turn negative or a negative one positive)
 */
static int64
interval_ms_arg(FunctionCallInfo fcinfo, int n, const char *what)
{
	Interval   *iv;
	int64		us;
	int64		days_us;
	int64		months_us;

	if (PG_ARGISNULL(n))
		return 0;
	iv = PG_GETARG_INTERVAL_P(n);
	if (pg_mul_s64_overflow((int64) iv->day, USECS_PER_DAY, &days_us) ||
		pg_mul_s64_overflow((int64) iv->month, (int64) DAYS_PER_MONTH * USECS_PER_DAY,
							&months_us) ||
		pg_add_s64_overflow(iv->time, days_us, &us) ||
		pg_add_s64_overflow(us, months_us, &us))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what),
				 errdetail("The %s is %s.", what,
						   DatumGetCString(DirectFunctionCall1(interval_out,
															   IntervalPGetDatum(iv))))));
	if (us < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s cannot be negative", what)));
	return us / 1000;
}

/*
 * A clause is checked on its own before it is pasted into migr's
 * statement, so that it cannot reach outside its place there (a WHERE
 * clause "true) OR (true" would make every batch the whole table).  A
 * syntax error is reported against the clause, not the statement.
 */
typedef struct ParseArg
{
	const char *sql;
	List	   *tree;
} ParseArg;

static void
parse_fn(void *arg)
{
	ParseArg   *p = (ParseArg *) arg;

	p->tree = raw_parser(p->sql, RAW_PARSE_DEFAULT);
}

static List *
parse_clause(const char *fn, const char *what, const char *clause, const char *sql)
{
	ParseArg	p = {sql, NIL};
	ErrorData  *err = migr_subxact_try(parse_fn, &p, true, false);

	if (err)
		ereport(ERROR,
				(errcode(err->sqlerrcode),
				 errmsg("invalid %s of %s: %s", what, fn, err->message),
				 errdetail("The %s is: %s", what, clause)));
	return p.tree;
}

static void
bad_clause(const char *fn, const char *what, const char *clause, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("invalid %s of %s: %s", what, fn, why),
			 errdetail("The %s is: %s", what, clause)));
}

/* set_clause: the SET list of an UPDATE, and nothing after it */
static void
check_set_clause(BatchJob *j)
{
	List	   *tree;
	UpdateStmt *u;
	ListCell   *lc;

	if (strspn(j->sql, " \t\r\n") == strlen(j->sql))
		bad_clause(j->fn, "set_clause", j->sql, "it is empty");
	tree = parse_clause(j->fn, "set_clause", j->sql,
						psprintf("UPDATE migr_batch_table SET %s\n", j->sql));
	if (list_length(tree) != 1)
		bad_clause(j->fn, "set_clause", j->sql, "it holds more than one statement");
	u = (UpdateStmt *) linitial_node(RawStmt, tree)->stmt;
	if (u->whereClause || u->fromClause || u->returningList)
		bad_clause(j->fn, "set_clause", j->sql,
				   "it holds more than a SET list (pass the condition as where_clause)");
	foreach(lc, u->targetList)
		j->set_columns = lappend(j->set_columns, lfirst_node(ResTarget, lc)->name);
}

/*
 * A SET that changes the key would move rows behind or ahead of the
 * batches: some rows would be updated twice, or forever.
 */
static void
refuse_key_change(BatchJob *j)
{
	ListCell   *lc;

	foreach(lc, j->set_columns)
		for (int k = 0; k < j->nkeys; k++)
			if (strcmp((char *) lfirst(lc), j->keycols[k]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("set_clause of %s cannot change key column \"%s\"",
								j->fn, j->keycols[k]),
						 errdetail("Batches walk the table in the order of the key; a row whose key changes could be updated twice, or never."),
						 errhint("Name another unique key with key => '...', or change the key with migr.batch() into a new table.")));
}

/* where_clause: one boolean expression */
static void
check_where_clause(BatchJob *j)
{
	List	   *tree;
	SelectStmt *s;

	if (strspn(j->where, " \t\r\n") == strlen(j->where))
		bad_clause(j->fn, "where_clause", j->where, "it is empty");
	tree = parse_clause(j->fn, "where_clause", j->where,
						psprintf("SELECT %s\n", j->where));
	if (list_length(tree) != 1 ||
		!IsA(linitial_node(RawStmt, tree)->stmt, SelectStmt))
		bad_clause(j->fn, "where_clause", j->where, "it is not one expression");
	s = (SelectStmt *) linitial_node(RawStmt, tree)->stmt;
	if (s->op != SETOP_NONE || list_length(s->targetList) != 1 ||
		s->fromClause || s->whereClause || s->groupClause || s->havingClause ||
		s->windowClause || s->sortClause || s->limitCount || s->limitOffset ||
		s->lockingClause || s->withClause || s->intoClause || s->distinctClause ||
		((ResTarget *) linitial(s->targetList))->name != NULL)
		bad_clause(j->fn, "where_clause", j->where, "it is not one expression");
}

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
static void
resolve_key(BatchJob *j, const char *key)
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
static char *
default_name(BatchJob *j)
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

/* ----------------------------------------------------------------
 * SQL text
 * ----------------------------------------------------------------
 */

/* "a, b" (quoted): the key columns, as selected */
static void
append_keys(StringInfo buf, BatchJob *j)
{
	for (int k = 0; k < j->nkeys; k++)
		appendStringInfo(buf, "%s%s", k ? ", " : "", quote_identifier(j->keycols[k]));
}

/* "a USING OPERATOR(pg_catalog.<), ...": the index's order */
static void
append_order(StringInfo buf, BatchJob *j)
{
	for (int k = 0; k < j->nkeys; k++)
		appendStringInfo(buf, "%s%s USING %s", k ? ", " : "", j->keyexpr[k],
						 j->keyops[k][BTLessStrategyNumber]);
}

/*
 * The key compared with the key in parameters $first...: "(key) OP
 * (params)" where OP is strategy st (BTGreaterStrategyNumber,
 * BTGreaterEqualStrategyNumber, BTLessEqualStrategyNumber) of the index's
 * ordering.  A row comparison when every column's operator has the same
 * name and schema (the usual case; the planner turns it into an index
 * bound), else the same comparison spelled out column by column.
 */
static void
append_compare(StringInfo buf, BatchJob *j, int st, int first)
{
	bool		same = true;
	bool		greater = st == BTGreaterStrategyNumber || st == BTGreaterEqualStrategyNumber;
	int			strict = greater ? BTGreaterStrategyNumber : BTLessStrategyNumber;
	int			loose = greater ? BTGreaterEqualStrategyNumber : BTLessEqualStrategyNumber;

	for (int k = 1; k < j->nkeys; k++)
		same = same && strcmp(j->keyops[k][st], j->keyops[0][st]) == 0;
	if (j->nkeys == 1)
		appendStringInfo(buf, "%s %s $%d", j->keyexpr[0], j->keyops[0][st], first);
	else if (same)
	{
		appendStringInfoString(buf, "ROW(");
		for (int k = 0; k < j->nkeys; k++)
			appendStringInfo(buf, "%s%s", k ? ", " : "", j->keyexpr[k]);
		appendStringInfo(buf, ") %s ROW(", j->keyops[0][st]);
		for (int k = 0; k < j->nkeys; k++)
			appendStringInfo(buf, "%s$%d", k ? ", " : "", first + k);
		appendStringInfoChar(buf, ')');
	}
	else
	{
		/* a loose bound on the first column, then column by column */
		appendStringInfo(buf, "%s %s $%d AND ", j->keyexpr[0], j->keyops[0][loose], first);
		for (int k = 0; k < j->nkeys; k++)
		{
			if (k == j->nkeys - 1)
				appendStringInfo(buf, "%s %s $%d", j->keyexpr[k], j->keyops[k][st], first + k);
			else
				appendStringInfo(buf, "(%s %s $%d OR (%s %s $%d AND ",
								 j->keyexpr[k], j->keyops[k][strict], first + k,
								 j->keyexpr[k], j->keyops[k][BTEqualStrategyNumber], first + k);
		}
		for (int k = 0; k < j->nkeys - 1; k++)
			appendStringInfoString(buf, "))");
	}
}

/*
 * The keys of the next batch: $1 is its size, $2... the last key done.
 * The row comparison walks the unique index from where the last batch
 * ended.  Custom plans: the size and the bound decide the plan.
 */
static SPIPlanPtr
prepare_keys(BatchJob *j, bool after)
{
	StringInfoData buf;
	Oid		   *types = palloc(sizeof(Oid) * (j->nkeys + 1));
	SPIPlanPtr	plan;

	types[0] = INT4OID;
	memcpy(types + 1, j->keytypes, sizeof(Oid) * j->nkeys);
	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT ");
	append_keys(&buf, j);
	appendStringInfo(&buf, " FROM %s WHERE ", j->relation);
	if (after)
	{
		append_compare(&buf, j, BTGreaterStrategyNumber, 2);
		appendStringInfoString(&buf, " AND ");
	}
	appendStringInfo(&buf, "(%s\n) ORDER BY ", j->where);
	append_order(&buf, j);
	appendStringInfoString(&buf, " LIMIT $1");
	elog(DEBUG1, "key query of batch job \"%s\": %s", j->name, buf.data);
	plan = SPI_prepare_cursor(buf.data, after ? j->nkeys + 1 : 1, types,
							  CURSOR_OPT_CUSTOM_PLAN);
	if (plan == NULL)
		elog(ERROR, "could not prepare the key query of %s: %s", j->fn,
			 SPI_result_code_string(SPI_result));
	return plan;
}

/*
 * Whether an analyzed statement refers to a parameter ($n).  A utility
 * statement other than CALL cannot be looked into: it counts as using them.
 */
static bool
uses_params(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind == PARAM_EXTERN;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;

		if (q->utilityStmt == NULL)
			return query_tree_walker(q, uses_params, context, 0);
		if (IsA(q->utilityStmt, CallStmt))
			return uses_params((Node *) ((CallStmt *) q->utilityStmt)->funcexpr, context);
		return true;
	}
	return expression_tree_walker(node, uses_params, context);
}

/*
 * Check the rights an analyzed statement needs on its tables, column by
 * column, as the executor will (ERROR 42501 when one is missing), in the
 * statement and in every subquery.  Utility statements are left to run.
 */
static bool
check_rights(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;

		if (q->commandType == CMD_UTILITY)
			return false;
		(void) ExecCheckRTPerms(q->rtable, true);
		return query_tree_walker(q, check_rights, context, 0);
	}
	return expression_tree_walker(node, check_rights, context);
}

/*
 * The work of a batch: $1... its first key, $(n+1)... its last key.  For
 * batch_update, the UPDATE of the rows between them that still match
 * where_clause; for batch, the caller's statement.
 */
static SPIPlanPtr
prepare_work(BatchJob *j)
{
	Oid		   *types = palloc(sizeof(Oid) * j->nkeys * 2);
	StringInfoData buf;
	SPIPlanPtr	plan;

	memcpy(types, j->keytypes, sizeof(Oid) * j->nkeys);
	memcpy(types + j->nkeys, j->keytypes, sizeof(Oid) * j->nkeys);
	initStringInfo(&buf);
	if (j->is_update)
	{
		appendStringInfo(&buf, "UPDATE %s SET %s\nWHERE ", j->relation, j->sql);
		append_compare(&buf, j, BTGreaterEqualStrategyNumber, 1);
		appendStringInfoString(&buf, " AND ");
		append_compare(&buf, j, BTLessEqualStrategyNumber, j->nkeys + 1);
		appendStringInfo(&buf, " AND (%s\n)", j->where);
	}
	else
		appendStringInfoString(&buf, j->sql);
	elog(DEBUG1, "statement of batch job \"%s\": %s", j->name, buf.data);
	plan = SPI_prepare_cursor(buf.data, j->nkeys * 2, types, CURSOR_OPT_CUSTOM_PLAN);
	if (plan == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("could not prepare the statement of %s: %s", j->fn,
						SPI_result_code_string(SPI_result))));
	if (list_length(SPI_plan_get_plan_sources(plan)) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("the sql of %s must be one statement", j->fn)));
	if (!j->is_update)
	{
		CachedPlanSource *ps = linitial(SPI_plan_get_plan_sources(plan));
		Node	   *stmt = ps->raw_parse_tree ? ps->raw_parse_tree->stmt : NULL;
		const char *what;

		/* it runs inside the batch's transaction, which migr ends */
		if (stmt && (what = migr_stmt_transaction_control(stmt)) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
					 errmsg("the sql of %s cannot be %s", j->fn, what),
					 errdetail("Each batch runs in a transaction that migr commits.")));
		if (stmt && (what = migr_stmt_toplevel_only(stmt)) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("the sql of %s cannot be %s", j->fn, what),
					 errdetail("%s cannot run inside a transaction block, and each batch runs in one.",
							   what)));
		/* UPDATE t SET v = v * 2 would run on every row in every batch */
		if (!uses_params((Node *) ps->query_list, NULL))
		{
			StringInfoData ex;

			initStringInfo(&ex);
			if (j->nkeys == 1)
				appendStringInfo(&ex, "%s BETWEEN $1 AND $2", quote_identifier(j->keycols[0]));
			else
			{
				appendStringInfoChar(&ex, '(');
				append_keys(&ex, j);
				appendStringInfoString(&ex, ") BETWEEN (");
				for (int k = 0; k < j->nkeys; k++)
					appendStringInfo(&ex, "%s$%d", k ? ", " : "", k + 1);
				appendStringInfoString(&ex, ") AND (");
				for (int k = 0; k < j->nkeys; k++)
					appendStringInfo(&ex, "%s$%d", k ? ", " : "", j->nkeys + k + 1);
				appendStringInfoChar(&ex, ')');
			}
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the sql of %s does not use the keys of the batch", j->fn),
					 errdetail("It runs once for each batch, with the first and last key of the batch as parameters; a statement that uses none of them runs on the same rows in every batch."),
					 errhint("Restrict it to the rows of the batch: WHERE %s.", ex.data)));
		}
	}

	/*
	 * The caller's rights on the tables the statement reads and writes, so
	 * that a role that may read the table but not update it is refused
	 * before the job's row is written rather than by its first batch.
	 */
	(void) check_rights((Node *) ((CachedPlanSource *) linitial(SPI_plan_get_plan_sources(plan)))->query_list,
						NULL);
	return plan;
}

/* ----------------------------------------------------------------
 * The job's row
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
static Datum
key_text_array(BatchJob *j, Datum *key)
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
static char *
key_text(BatchJob *j, Datum *key)
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
static Datum *
key_from_text(BatchJob *j, ArrayType *arr)
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

static char *
key_columns_text(BatchJob *j)
{
	StringInfoData buf;

	initStringInfo(&buf);
	append_keys(&buf, j);
	return buf.data;
}

/* The columns of a job's row this file reads */
#define JOB_COLUMNS \
	"job_id, kind, relid, sql, where_clause, key_columns, state," \
	" rows_done, batches_done, rows_total, last_key, batch_size, key_types"

/* The key columns' types as format_type() spells them, as text[] */
static Datum
key_types_array(BatchJob *j)
{
	Datum	   *types = palloc(sizeof(Datum) * j->nkeys);

	for (int k = 0; k < j->nkeys; k++)
		types[k] = CStringGetTextDatum(format_type_be(j->keytypes[k]));
	return PointerGetDatum(construct_array(types, j->nkeys, TEXTOID, -1, false, TYPALIGN_INT));
}

/* "{integer,text}", for messages */
static char *
key_types_text(BatchJob *j)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int k = 0; k < j->nkeys; k++)
		appendStringInfo(&buf, "%s%s", k ? "," : "", format_type_be(j->keytypes[k]));
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* Whether a stored text[] is the list of strings want */
static bool
text_array_is(Datum d, int n, const char *(*item) (BatchJob *, int), BatchJob *j)
{
	Datum	   *e;
	bool	   *nulls;
	int			ne;

	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &e, &nulls, &ne);
	if (ne != n)
		return false;
	for (int k = 0; k < ne; k++)
		if (nulls[k] || strcmp(TextDatumGetCString(e[k]), item(j, k)) != 0)
			return false;
	return true;
}

static const char *
key_column_item(BatchJob *j, int k)
{
	return j->keycols[k];
}

static const char *
key_type_item(BatchJob *j, int k)
{
	return format_type_be(j->keytypes[k]);
}

/*
 * Find or create the job's row.  Returns the state it was in ("new" when
 * created) and fills in what it holds.
 */
static char *
job_open(BatchJob *j)
{
	static SPIPlanPtr find = NULL;
	static SPIPlanPtr insert = NULL;
	Oid			types[12] = {TEXTOID, TEXTOID, TEXTOID, OIDOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTARRAYOID, INT4OID, INT8OID, INT4OID, TEXTARRAYOID};
	Datum		values[12];
	char		nulls[12] = "            ";
	MigrOwnerSwitch sw;
	char	   *state = "new";
	Datum	   *cols = palloc(sizeof(Datum) * j->nkeys);

	for (int k = 0; k < j->nkeys; k++)
		cols[k] = CStringGetTextDatum(j->keycols[k]);
	values[0] = j->revision ? CStringGetTextDatum(j->revision) : (Datum) 0;
	nulls[0] = j->revision ? ' ' : 'n';
	values[1] = CStringGetTextDatum(j->name);
	values[2] = CStringGetTextDatum(j->is_update ? "update" : "sql");
	values[3] = ObjectIdGetDatum(j->relid);
	values[4] = CStringGetTextDatum(j->relation);
	values[5] = CStringGetTextDatum(j->sql);
	values[6] = CStringGetTextDatum(j->where);
	values[7] = PointerGetDatum(construct_array(cols, j->nkeys, TEXTOID, -1, false, TYPALIGN_INT));
	values[8] = Int32GetDatum(j->size);
	values[9] = Int64GetDatum(0);
	values[10] = Int32GetDatum(MyProcPid);
	values[11] = key_types_array(j);

	migr_owner_begin(&sw);
	migr_run_kept(&insert,
				  "INSERT INTO migr.batch_job (revision, name, kind, relid, relation, sql,"
				  "       where_clause, key_columns, batch_size, state, started_at, resumed_at,"
				  "       updated_at, pid, key_types)"
				  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'running', pg_catalog.now(),"
				  "         pg_catalog.now(), pg_catalog.now(), $11, $12)"
				  " ON CONFLICT ON CONSTRAINT batch_job_name_key DO NOTHING"
				  " RETURNING job_id",
				  12, types, values, nulls, false, 0, SPI_OK_INSERT_RETURNING);
	if (SPI_processed == 1)
	{
		bool		isnull;

		j->job_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1, &isnull));
		j->rows_total = -1;
		SPI_freetuptable(SPI_tuptable);
		migr_owner_end(&sw);
		return state;
	}
	SPI_freetuptable(SPI_tuptable);
	migr_run_kept(&find,
				  "SELECT " JOB_COLUMNS " FROM migr.batch_job"
				  " WHERE revision IS NOT DISTINCT FROM $1 AND name OPERATOR(pg_catalog.=) $2",
				  2, types, values, nulls, false, 0, SPI_OK_SELECT);
	migr_owner_end(&sw);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("batch job \"%s\" disappeared while it was being opened", j->name),
				 errhint("Call %s again.", j->fn)));
	{
		HeapTuple	t = SPI_tuptable->vals[0];
		TupleDesc	td = SPI_tuptable->tupdesc;
		bool		isnull;
		bool		same;
		Datum		d;

		/* the same work?  An unnamed job's name says so already */
		same = strcmp(SPI_getvalue(t, td, 2), j->is_update ? "update" : "sql") == 0 &&
			DatumGetObjectId(SPI_getbinval(t, td, 3, &isnull)) == j->relid &&
			strcmp(SPI_getvalue(t, td, 4), j->sql) == 0 &&
			strcmp(SPI_getvalue(t, td, 5), j->where) == 0;
		if (same)
			same = text_array_is(SPI_getbinval(t, td, 6, &isnull), j->nkeys,
								 key_column_item, j);
		/* its last key, written for the key's types, cannot be read for others */
		if (same && !j->restart &&
			!text_array_is(SPI_getbinval(t, td, 13, &isnull), j->nkeys, key_type_item, j))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the key of batch job \"%s\" changed type since the job started", j->name),
					 errdetail("Its last key was written as %s; the key is now %s.",
							   SPI_getvalue(t, td, 13), key_types_text(j)),
					 errhint("Pass restart => true to start it over, or restore the column's type to resume it.")));
		if (!same && !j->restart)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("batch job \"%s\" exists with other arguments", j->name),
					 errdetail("It was started on another table, or with another %s, where_clause or key (%s now).",
							   j->is_update ? "set_clause" : "sql", key_columns_text(j)),
					 errhint("Give this job another name, or pass restart => true to start it over with these arguments.")));
		j->job_id = DatumGetInt64(SPI_getbinval(t, td, 1, &isnull));
		state = pstrdup(SPI_getvalue(t, td, 7));
		j->rows_done = DatumGetInt64(SPI_getbinval(t, td, 8, &isnull));
		j->batches_done = DatumGetInt64(SPI_getbinval(t, td, 9, &isnull));
		d = SPI_getbinval(t, td, 10, &isnull);
		j->rows_total = isnull ? -1 : DatumGetInt64(d);
		if (same)
		{
			d = SPI_getbinval(t, td, 11, &isnull);
			if (!isnull)
				j->last = key_from_text(j, DatumGetArrayTypeP(d));
		}
		/* a resumed job goes on at the size it had adapted to */
		if (!j->restart)
		{
			int			size = DatumGetInt32(SPI_getbinval(t, td, 12, &isnull));

			if (j->target_ms > 0)
				j->size = Max(j->min_size, Min(j->max_size, size));
		}
	}
	SPI_freetuptable(SPI_tuptable);
	return state;
}

/* Write the job's row: the arguments again (restart) and where it stands */
static void
job_reset(BatchJob *j)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[9] = {INT8OID, TEXTOID, OIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, INT4OID,
	TEXTARRAYOID};
	Datum		values[9];
	Datum	   *cols = palloc(sizeof(Datum) * j->nkeys);
	MigrOwnerSwitch sw;

	for (int k = 0; k < j->nkeys; k++)
		cols[k] = CStringGetTextDatum(j->keycols[k]);
	values[0] = Int64GetDatum(j->job_id);
	values[1] = CStringGetTextDatum(j->is_update ? "update" : "sql");
	values[2] = ObjectIdGetDatum(j->relid);
	values[3] = CStringGetTextDatum(j->relation);
	values[4] = CStringGetTextDatum(j->sql);
	values[5] = CStringGetTextDatum(j->where);
	values[6] = PointerGetDatum(construct_array(cols, j->nkeys, TEXTOID, -1, false, TYPALIGN_INT));
	values[7] = Int32GetDatum(j->size);
	values[8] = key_types_array(j);
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "UPDATE migr.batch_job SET kind = $2, relid = $3, relation = $4, sql = $5,"
				  "       where_clause = $6, key_columns = $7, batch_size = $8, key_types = $9,"
				  "       state = 'running', rows_done = 0, batches_done = 0, rows_total = NULL,"
				  "       last_key = NULL, started_at = pg_catalog.now(), resumed_at = pg_catalog.now(),"
				  "       rows_at_resume = 0, updated_at = pg_catalog.now(), finished_at = NULL,"
				  "       last_batch_ms = NULL, sqlstate = NULL, error = NULL"
				  " WHERE job_id OPERATOR(pg_catalog.=) $1",
				  9, types, values, NULL, false, 0, SPI_OK_UPDATE);
	migr_owner_end(&sw);
	j->rows_done = j->batches_done = 0;
	j->rows_total = -1;
	j->last = NULL;
}

/* The job (re)starts running in this backend */
static void
job_resume(BatchJob *j)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {INT8OID, INT4OID, INT8OID, INT4OID};
	Datum		values[4];
	char		nulls[4] = "    ";
	MigrOwnerSwitch sw;

	values[0] = Int64GetDatum(j->job_id);
	values[1] = Int32GetDatum(MyProcPid);
	values[2] = Int64GetDatum(j->rows_total);
	nulls[2] = j->rows_total < 0 ? 'n' : ' ';
	values[3] = Int32GetDatum(j->size);
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "UPDATE migr.batch_job SET state = 'running', pid = $2,"
				  "       rows_total = $3, batch_size = $4,"
				  "       resumed_at = pg_catalog.clock_timestamp(), rows_at_resume = rows_done,"
				  "       sqlstate = NULL, error = NULL"
				  " WHERE job_id OPERATOR(pg_catalog.=) $1"
				  " RETURNING resumed_at",
				  4, types, values, nulls, false, 0, SPI_OK_UPDATE_RETURNING);
	if (SPI_processed == 1)
	{
		bool		isnull;

		j->resumed_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
														  SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
	migr_owner_end(&sw);
	j->rows_at_resume = j->rows_done;
}

/* After a batch, in its transaction: where the job stands now */
static void
job_save_batch(BatchJob *j, Datum *last, int64 rows, double ms, int next_size)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[5] = {INT8OID, INT8OID, TEXTARRAYOID, FLOAT8OID, INT4OID};
	Datum		values[5];
	MigrOwnerSwitch sw;

	values[0] = Int64GetDatum(j->job_id);
	values[1] = Int64GetDatum(rows);
	values[2] = key_text_array(j, last);
	values[3] = Float8GetDatum(ms);
	values[4] = Int32GetDatum(next_size);
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "UPDATE migr.batch_job SET rows_done = rows_done OPERATOR(pg_catalog.+) $2,"
				  "       batches_done = batches_done OPERATOR(pg_catalog.+) 1,"
				  "       last_key = $3, last_batch_ms = $4, batch_size = $5,"
				  "       updated_at = pg_catalog.clock_timestamp()"
				  " WHERE job_id OPERATOR(pg_catalog.=) $1",
				  5, types, values, NULL, false, 0, SPI_OK_UPDATE);
	migr_owner_end(&sw);
}

/* The job ended: done, or failed with err */
static void
job_end(BatchJob *j, ErrorData *err)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = "    ";
	MigrOwnerSwitch sw;

	values[0] = Int64GetDatum(j->job_id);
	values[1] = CStringGetTextDatum(err ? "failed" : "done");
	if (err)
	{
		values[2] = CStringGetTextDatum(unpack_sql_state(err->sqlerrcode));
		values[3] = CStringGetTextDatum(err->message ? err->message : "");
	}
	else
		nulls[2] = nulls[3] = 'n';
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "UPDATE migr.batch_job SET state = $2, sqlstate = $3, error = $4,"
				  "       updated_at = pg_catalog.clock_timestamp(),"
				  "       finished_at = CASE WHEN $2 OPERATOR(pg_catalog.=) 'done'"
				  "                          THEN pg_catalog.clock_timestamp() END"
				  " WHERE job_id OPERATOR(pg_catalog.=) $1",
				  4, types, values, nulls, false, 0, SPI_OK_UPDATE);
	migr_owner_end(&sw);
}

/*
 * migr_batch_forget_revision
 *		A revision's step was recorded: its batch jobs are over, and the
 *		next run of that revision starts them afresh.  The step's event is
 *		their record.
 */
void
migr_batch_forget_revision(const char *rev)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	MigrOwnerSwitch sw;

	if (migr_catalog_version() < 3)
		return;
	values[0] = CStringGetTextDatum(rev);
	migr_owner_begin(&sw);
	migr_run_kept(&plan,
				  "DELETE FROM migr.batch_job WHERE revision OPERATOR(pg_catalog.=) $1",
				  1, types, values, NULL, false, 0, SPI_OK_DELETE);
	migr_owner_end(&sw);
}

/* ----------------------------------------------------------------
 * Running
 * ----------------------------------------------------------------
 */

/*
 * The rows the job will touch, roughly: a count on a small table, else
 * pg_class.reltuples (every row) or the planner's estimate (a condition).
 */
static void
estimate_fn(void *arg)
{
	BatchJob   *j = (BatchJob *) arg;

	j->estimate = count_or_estimate(j);
}

/*
 * The estimate, in a subtransaction: it runs the caller's where_clause,
 * before the job's row is written, so that a clause that fails (or a table
 * the caller cannot read) leaves the catalog untouched.
 */
static void
estimate_rows(BatchJob *j)
{
	ErrorData  *err = migr_subxact_try(estimate_fn, j, true, false);

	if (err)
		ReThrowError(err);
}

static int64
count_or_estimate(BatchJob *j)
{
	HeapTuple	t = SearchSysCache1(RELOID, ObjectIdGetDatum(j->relid));
	Form_pg_class c;
	int32		pages;
	float4		tuples;
	char		relkind;
	bool		all = strcmp(j->where, "true") == 0;
	bool		isnull;
	char	   *sql;
	int64		n;

	if (!HeapTupleIsValid(t))
		return -1;
	c = (Form_pg_class) GETSTRUCT(t);
	pages = c->relpages;
	tuples = c->reltuples;
	relkind = c->relkind;
	ReleaseSysCache(t);

	if (relkind == RELKIND_RELATION && pages < 1280)
	{
		sql = psprintf("SELECT pg_catalog.count(*) FROM %s WHERE (%s\n)", j->relation, j->where);
		if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
			return -1;
		n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		SPI_freetuptable(SPI_tuptable);
		return n;
	}
	if (all && tuples >= 0)
		return (int64) tuples;
	sql = psprintf("EXPLAIN (FORMAT JSON) SELECT FROM %s WHERE (%s\n)", j->relation, j->where);
	/*
	 * Not read-only: SPI refuses EXPLAIN there (it could be EXPLAIN
	 * ANALYZE).  This one only plans.
	 */
	if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY || SPI_processed != 1)
		return -1;
	{
		Oid			types[1] = {TEXTOID};
		Datum		values[1] = {CStringGetTextDatum(SPI_getvalue(SPI_tuptable->vals[0],
																  SPI_tuptable->tupdesc, 1))};
		Datum		d;

		SPI_freetuptable(SPI_tuptable);
		if (SPI_execute_with_args("SELECT (((($1::pg_catalog.json) OPERATOR(pg_catalog.->) 0)"
								  " OPERATOR(pg_catalog.->) 'Plan') OPERATOR(pg_catalog.->>) 'Plan Rows')"
								  "::pg_catalog.float8::pg_catalog.int8",
								  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
			return -1;
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		n = isnull ? -1 : DatumGetInt64(d);
		SPI_freetuptable(SPI_tuptable);
		return n;
	}
}

/* One batch: its keys, then its work (under migr_guard_run) */
static void
batch_fn(void *arg)
{
	BatchJob   *j = (BatchJob *) arg;
	Datum		kv[INDEX_MAX_KEYS + 1];
	Datum		wv[INDEX_MAX_KEYS * 2];
	uint64		n;
	int			rc;
	Portal		portal;

	kv[0] = Int32GetDatum(j->size);
	if (j->last)
		memcpy(kv + 1, j->last, sizeof(Datum) * j->nkeys);

	/*
	 * Only the first and last key matter: read the keys through a cursor,
	 * KEY_CHUNK at a time, so that a batch of millions of keys does not
	 * hold them all.  The keys are copied out of SPI's tuple tables into
	 * the batch's context: SPI leaves its procedure context current, which
	 * lives as long as the call, and a batch's allocations there would add
	 * up over a job's batches.
	 */
	portal = SPI_cursor_open(NULL, j->last ? j->next_plan : j->first_plan, kv, NULL, false);
	j->next_last = NULL;
	j->batch_keys = 0;
	j->batch_rows = 0;
	for (;;)
	{
		SPI_cursor_fetch(portal, true, KEY_CHUNK);
		n = SPI_processed;
		MemoryContextSwitchTo(j->batchcxt);
		if (n > 0 && j->batch_keys == 0)
			for (int k = 0; k < j->nkeys; k++)
			{
				bool		isnull;

				wv[k] = datumCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
												k + 1, &isnull), j->keybyval[k], j->keylens[k]);
			}
		if (n > 0)
		{
			if (j->next_last == NULL)
				j->next_last = palloc(sizeof(Datum) * j->nkeys);
			for (int k = 0; k < j->nkeys; k++)
			{
				bool		isnull;

				j->next_last[k] = datumCopy(SPI_getbinval(SPI_tuptable->vals[n - 1],
														  SPI_tuptable->tupdesc, k + 1, &isnull),
											j->keybyval[k], j->keylens[k]);
			}
		}
		j->batch_keys += (int) n;
		SPI_freetuptable(SPI_tuptable);
		if (n < KEY_CHUNK)
			break;
	}
	SPI_cursor_close(portal);
	if (j->batch_keys == 0)
		return;
	for (int k = 0; k < j->nkeys; k++)
		wv[j->nkeys + k] = j->next_last[k];

	rc = SPI_execute_plan(j->work_plan, wv, NULL, false, 0);
	if (rc < 0)
		elog(ERROR, "the statement of %s failed: %s", j->fn, SPI_result_code_string(rc));
	j->batch_rows = (int64) SPI_processed;
	SPI_freetuptable(SPI_tuptable);
}

/* A batch and its record, in the transaction (or subtransaction) it runs in */
static void
batch_and_save_fn(void *arg)
{
	BatchJob   *j = (BatchJob *) arg;
	TimestampTz start = GetCurrentTimestamp();

	migr_guard_run(batch_fn, j);
	MemoryContextSwitchTo(j->batchcxt); /* not SPI's: see batch_fn */
	if (j->batch_keys > 0)
		job_save_batch(j, j->next_last, j->batch_rows,
					   (double) (GetCurrentTimestamp() - start) / 1000.0, j->size);
}

/*
 * Non-atomic: the batch and its record in a subtransaction (which also
 * closes whatever SPI connections the caller's SQL left open when it
 * fails), then the commit.  Returns the error, copied, or NULL; either way
 * a transaction is open afterwards, and the job stands where the last
 * commit left it.
 */
static ErrorData *
batch_commit(BatchJob *j)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile err = migr_subxact_try(batch_and_save_fn, j, true, true);

	if (err)
		return err;
	PG_TRY();
	{
		SPI_commit();
	}
	PG_CATCH();
	{
		/* SPI_commit rolled back and began a new transaction */
		MemoryContextSwitchTo(cxt);
		err = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	return err;
}

/* The next batch's size: towards target_time, at most ADAPT_STEP times off */
static void
adapt(BatchJob *j, double ms)
{
	double		f;
	double		next;

	if (j->target_ms <= 0 || j->batch_keys < j->size)
		return;
	f = ms > 0 ? (double) j->target_ms / ms : ADAPT_STEP;
	f = Max(1.0 / ADAPT_STEP, Min(ADAPT_STEP, f));
	next = j->size * f;
	j->size = (int) Max((double) j->min_size, Min((double) j->max_size, next + 0.5));
}

/* "1 row", "12 rows" */
static char *
count_text(int64 n, const char *one, const char *many)
{
	return psprintf("%lld %s", (long long) n, n == 1 ? one : many);
}

/* "2 h 05 min", "3 min 07 s", "12 s" */
static char *
duration_text(double secs)
{
	int64		s = (int64) (secs + 0.5);

	if (s >= 3600)
		return psprintf("%lld h %02d min", (long long) (s / 3600), (int) ((s % 3600) / 60));
	if (s >= 60)
		return psprintf("%d min %02d s", (int) (s / 60), (int) (s % 60));
	return psprintf("%d s", (int) s);
}

static void
progress_notice(BatchJob *j)
{
	TimestampTz now = GetCurrentTimestamp();
	double		secs = (double) (now - j->resumed_at) / 1000000.0;
	double		rate = secs > 0 ? (j->rows_done - j->rows_at_resume) / secs : 0;
	int64		total = Max(j->rows_total, j->rows_done);

	if (migr_progress_interval <= 0 ||
		!TimestampDifferenceExceeds(j->last_notice, now, migr_progress_interval))
		return;
	j->last_notice = now;
	if (j->rows_total >= 0 && rate > 0)
		ereport(NOTICE,
				(errmsg("batch job \"%s\": %lld of about %lld rows (%.0f%%), %.0f rows/s, about %s left",
						j->name, (long long) j->rows_done, (long long) total,
						total > 0 ? 100.0 * j->rows_done / total : 100.0, rate,
						duration_text((total - j->rows_done) / rate))));
	else
		ereport(NOTICE,
				(errmsg("batch job \"%s\": %lld rows, %.0f rows/s",
						j->name, (long long) j->rows_done, rate)));
}

/*
 * Text to show inside a comment: a name or a key holding the end of a
 * comment would end migr's comment early, and what follows would read as
 * SQL in pg_stat_activity.query; one holding the start of a comment would
 * open a nested one, and hide the SQL after migr's.
 */
static const char *
comment_safe(const char *text)
{
	StringInfoData buf;

	if (strstr(text, "*/") == NULL && strstr(text, "/*") == NULL)
		return text;
	initStringInfo(&buf);
	for (const char *p = text; *p; p++)
	{
		appendStringInfoChar(&buf, *p);
		if ((p[0] == '*' && p[1] == '/') || (p[0] == '/' && p[1] == '*'))
			appendStringInfoChar(&buf, ' ');
	}
	return buf.data;
}

/* pg_stat_activity.query while a batch runs */
static void
report_batch(BatchJob *j)
{
	migr_activity_report("/* migr batch job %s: batch %lld, %d rows after key %s */ %s",
						 comment_safe(j->name), (long long) j->batches_done + 1, j->size,
						 j->last ? comment_safe(key_text(j, j->last)) : "(start)",
						 j->is_update ? "UPDATE" : j->sql);
}

/*
 * The batches, until one finds fewer keys than it asked for.  A batch
 * that could not get a lock is retried like a revision in CALL
 * migr.apply(); any other error (a cancel too) ends the job, recorded as
 * failed where the batches commit.
 */
static void
batch_error_callback(void *arg)
{
	BatchJob   *j = (BatchJob *) arg;

	errcontext("batch %lld of batch job \"%s\" (%s), after key %s",
			   (long long) j->batches_done + 1, j->name, j->fn,
			   j->last ? key_text(j, j->last) : "(none: the first batch)");
}

static void
run_batches(BatchJob *j)
{
	ErrorContextCallback cb;

	cb.callback = batch_error_callback;
	cb.arg = j;
	for (;;)
	{
		TimestampTz start;
		double		ms;
		ErrorData  *err;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		for (int attempt = 0;; attempt++)
		{
			/* all a batch allocates goes when batchcxt is reset */
			old = MemoryContextSwitchTo(j->batchcxt);
			report_batch(j);
			start = GetCurrentTimestamp();
			cb.previous = error_context_stack;
			error_context_stack = &cb;
			if (j->atomic)
			{
				/*
				 * In the caller's transaction: no subtransaction per batch
				 * (past 64 of them every other session's snapshots slow
				 * down), so no retry either; an error ends the job and the
				 * transaction, as any statement of migr.upgrade() does.
				 */
				batch_and_save_fn(j);
				err = NULL;
			}
			else
				err = batch_commit(j);
			error_context_stack = cb.previous;
			MemoryContextSwitchTo(old);
			if (err == NULL)
				break;
			if (err->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE && attempt < migr_lock_retries)
			{
				int			delay = migr_retry_delay(attempt, migr_lock_retry_delay);

				ereport(NOTICE,
						(errmsg("retrying batch %lld of batch job \"%s\" in %d ms: %s",
								(long long) j->batches_done + 1, j->name, delay, err->message),
						 errdetail("Retry %d of %d (migr.lock_retries).", attempt + 1,
								   migr_lock_retries)));
				MemoryContextReset(j->batchcxt);
				migr_sleep(delay);
				continue;
			}
			if (err->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE && attempt > 0)
				err->detail = psprintf("%s%smigr gave up after %d retries (migr.lock_retries).",
									   err->detail ? err->detail : "",
									   err->detail ? " " : "", attempt);
			if (!j->atomic)
			{
				job_end(j, err);
				SPI_commit();
			}
			ReThrowError(err);
		}
		ms = (double) (GetCurrentTimestamp() - start) / 1000.0;
		if (j->batch_keys == 0)
			break;
		/* the batch is done (committed, in non-atomic mode) */
		j->rows_done += j->batch_rows;
		j->batches_done++;
		{
			MemoryContext jold = MemoryContextSwitchTo(j->cxt);
			Datum	   *last = palloc(sizeof(Datum) * j->nkeys);

			for (int k = 0; k < j->nkeys; k++)
				last[k] = datumCopy(j->next_last[k], j->keybyval[k], j->keylens[k]);
			MemoryContextSwitchTo(jold);
			if (j->last)
				pfree(j->last);
			j->last = last;
		}
		MemoryContextReset(j->batchcxt);
		progress_notice(j);
		if (j->batch_keys < j->size)
			break;
		adapt(j, ms);
		if (j->pause_ms > 0)
			migr_sleep(j->pause_ms);
	}
}

/*
 * Take the job's advisory lock, so that one backend at a time runs it:
 * for the session when batches commit, else for the transaction.
 */
static void
lock_job(BatchJob *j)
{
	SET_LOCKTAG_ADVISORY(j->locktag, MyDatabaseId, MIGR_BATCH_LOCK_KEY,
						 (uint32) j->job_id, 2);

	/*
	 * A backend's locks never conflict with each other: a job whose SQL
	 * calls the same job would get the lock again and run it from within
	 * itself.
	 */
	if (LockHeldByMe(&j->locktag, ExclusiveLock))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("batch job \"%s\" is already running in this session", j->name),
				 errdetail("%s was called from the SQL of the job itself.", j->fn)));
	if (LockAcquire(&j->locktag, ExclusiveLock, !j->atomic, true) == LOCKACQUIRE_NOT_AVAIL)
	{
		int			holder = 0;
		char	   *sql = psprintf("SELECT l.pid FROM pg_catalog.pg_locks l"
								   " WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'"
								   "   AND l.classid OPERATOR(pg_catalog.=) %u::pg_catalog.oid"
								   "   AND l.objid OPERATOR(pg_catalog.=) %u::pg_catalog.oid"
								   "   AND l.objsubid OPERATOR(pg_catalog.=) 2 AND l.granted"
								   "   AND l.database OPERATOR(pg_catalog.=) %u::pg_catalog.oid",
								   (uint32) MIGR_BATCH_LOCK_KEY, (uint32) j->job_id, MyDatabaseId);

		if (SPI_execute(sql, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			holder = isnull ? 0 : DatumGetInt32(d);
		}
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("batch job \"%s\" is running in another session", j->name),
				 holder ? errdetail("Process %d is running it.", holder)
				 : errdetail("Another process is running it."),
				 errhint("Wait for it to finish, or stop it with pg_cancel_backend(); a new call then goes on from its last batch.")));
	}
	j->locked = true;
}

static void
unlock_job(BatchJob *j)
{
	if (j->locked && !j->atomic)
		LockRelease(&j->locktag, ExclusiveLock, true);
	j->locked = false;
}

/* Open the job, decide what to do, and run it */
static void
run_job(BatchJob *j)
{
	char	   *state;

	(void) job_open(j);
	if (!j->atomic)
		SPI_commit();			/* the row exists for every session */
	lock_job(j);
	/*
	 * What the last runner left, read again now that it cannot change: a
	 * runner that took the lock first may have finished the job since.
	 */
	state = job_open(j);
	if (strcmp(state, "done") == 0 && !j->restart)
	{
		ereport(NOTICE,
				(errmsg("batch job \"%s\" finished before: nothing to do", j->name),
				 errdetail("It processed %s in %s; migr.batch_job keeps its record.",
						   count_text(j->rows_done, "row", "rows"),
						   count_text(j->batches_done, "batch", "batches")),
				 errhint("Pass restart => true to run it again from the start.")));
		return;
	}
	if (j->restart)
		job_reset(j);
	if (j->rows_total < 0)
		j->rows_total = j->estimate;
	job_resume(j);
	if (j->last)
		ereport(NOTICE,
				(errmsg("resuming batch job \"%s\" after key %s: %s done in %s",
						j->name, key_text(j, j->last),
						count_text(j->rows_done, "row", "rows"),
						count_text(j->batches_done, "batch", "batches"))));
	if (j->atomic)
		ereport(NOTICE,
				(errmsg("batch job \"%s\" runs in the caller's transaction: its batches are not committed one by one",
						j->name),
				 errdetail("%s was called inside a transaction block, a function, or a transactional revision.",
						   j->fn),
				 errhint("CALL it on its own, or from a revision registered with transactional => false and run by CALL migr.apply(), to commit each batch.")));
	if (!j->atomic)
		SPI_commit();

	j->last_notice = GetCurrentTimestamp();

	run_batches(j);

	job_end(j, NULL);
	if (!j->atomic)
		SPI_commit();
	ereport(NOTICE,
			(errmsg("batch job \"%s\" finished: %s in %s", j->name,
					count_text(j->rows_done, "row", "rows"),
					count_text(j->batches_done, "batch", "batches"))));
}

/* What the call holds: the job's lock, its plans, pg_stat_activity */
static void
end_call(BatchJob *j)
{
	unlock_job(j);
	if (OidIsValid(j->ext))
		migr_unlock_extension_session(j->ext);
	j->ext = InvalidOid;
	free_plans(j);
	migr_activity_restore();
}

static void
free_plans(BatchJob *j)
{
	if (j->first_plan)
		SPI_freeplan(j->first_plan);
	if (j->next_plan)
		SPI_freeplan(j->next_plan);
	if (j->work_plan)
		SPI_freeplan(j->work_plan);
	j->first_plan = j->next_plan = j->work_plan = NULL;
}

/*
 * CALL migr.batch_update(tbl, set_clause, where_clause, batch_size, key,
 *                        pause, target_time, name, restart)
 * CALL migr.batch(tbl, sql, where_clause, batch_size, key, pause,
 *                 target_time, name, restart)
 */
static void
run_batch_call(FunctionCallInfo fcinfo, bool is_update)
{
	CallContext *cc = (CallContext *) fcinfo->context;
	BatchJob   *j;
	int			rc;
	char	   *key;
	int			size;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tbl cannot be null")));
	migr_require_writable(is_update ? "migr.batch_update()" : "migr.batch()");
	if (PG_ARGISNULL(3) || (size = PG_GETARG_INT32(3)) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be at least 1")));

	if ((rc = SPI_connect_ext(cc && IsA(cc, CallContext) && !cc->atomic
							  ? SPI_OPT_NONATOMIC : 0)) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed: %s", SPI_result_code_string(rc));

	j = palloc0(sizeof(BatchJob));
	j->cxt = CurrentMemoryContext;
	j->atomic = !(cc && IsA(cc, CallContext) && !cc->atomic);
	j->is_update = is_update;
	j->fn = is_update ? "migr.batch_update()" : "migr.batch()";
	j->relid = PG_GETARG_OID(0);
	j->sql = pstrdup(migr_required_text_arg(fcinfo, 1, is_update ? "set_clause" : "sql"));
	j->where = pstrdup(migr_required_text_arg(fcinfo, 2, "where_clause"));
	j->size = size;
	j->min_size = Max(1, size / 100);
	j->max_size = (int) Min((int64) size * 100, (int64) 10000000);
	j->max_size = Max(j->max_size, size);
	key = migr_text_arg(fcinfo, 4);
	j->pause_ms = interval_ms_arg(fcinfo, 5, "pause");
	j->target_ms = interval_ms_arg(fcinfo, 6, "target_time");
	j->name = migr_text_arg(fcinfo, 7);
	j->restart = !PG_ARGISNULL(8) && PG_GETARG_BOOL(8);
	j->revision = (char *) migr_body_running_revision();
	if (j->revision)
		j->revision = pstrdup(j->revision);

	if (j->name != NULL && j->name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("name cannot be empty")));
	if (is_update)
		check_set_clause(j);
	check_where_clause(j);
	resolve_key(j, key);
	refuse_key_change(j);
	j->relation = quote_qualified_identifier(get_namespace_name(get_rel_namespace(j->relid)),
											 get_rel_name(j->relid));
	j->named = j->name != NULL;
	if (!j->named)
		j->name = default_name(j);
	else
		j->name = pstrdup(j->name);
	j->batchcxt = AllocSetContextCreate(j->cxt, "migr batch", ALLOCSET_DEFAULT_SIZES);

	/*
	 * On error, close this connection before the error leaves: a caller
	 * that goes on in this transaction's place (CALL migr.apply() records
	 * the failure and commits) must find its own connection current.  The
	 * caller's SQL runs in subtransactions, so nothing above this
	 * connection is left open.
	 */
	PG_TRY();
	{
		/* what can fail on the arguments fails before the catalog is written */
		j->first_plan = prepare_keys(j, false);
		j->next_plan = prepare_keys(j, true);
		j->work_plan = prepare_work(j);
		if (SPI_keepplan(j->first_plan) || SPI_keepplan(j->next_plan) ||
			SPI_keepplan(j->work_plan))
			elog(ERROR, "could not keep the plans of %s", j->fn);
		estimate_rows(j);
		/* DROP EXTENSION waits until the job ends, across its commits */
		if (!j->atomic)
			j->ext = migr_lock_extension_session();
		run_job(j);
	}
	PG_CATCH();
	{
		end_call(j);
		/*
		 * In the caller's transaction, its abort closes this connection and
		 * any the caller's SQL left open above it.
		 */
		if (!j->atomic)
			SPI_finish();
		PG_RE_THROW();
	}
	PG_END_TRY();
	end_call(j);
	SPI_finish();
}

Datum
migr_batch_update_proc(PG_FUNCTION_ARGS)
{
	run_batch_call(fcinfo, true);
	PG_RETURN_VOID();
}

Datum
migr_batch_proc(PG_FUNCTION_ARGS)
{
	run_batch_call(fcinfo, false);
	PG_RETURN_VOID();
}

/*-------------------------------------------------------------------------
 * batchsql.c
 *	  The clauses of a batch job and the statements built from them:
 *	  set_clause and where_clause checked on their own before they are
 *	  pasted into migr's SQL, the query for the keys of a batch and the
 *	  work of a batch prepared with the index's operators, the caller's
 *	  statement checked, and the estimate of the rows a job will touch.
 *
 *	  A set_clause may not assign a key column: the row would move in the
 *	  walk.  Nothing here writes the catalog: what fails on the arguments
 *	  fails before the job's row is written.
 *
 * IDENTIFICATION
 *	  src/batchsql.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/stratnum.h"
#include "batchint.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "stmtclass.h"
#include "subxact.h"
#include "utils/builtins.h"
#include "utils/plancache.h"
#include "utils/syscache.h"

static int64 count_or_estimate(BatchJob *j);

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
void
migr_batch_check_set_clause(BatchJob *j)
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
void
migr_batch_refuse_key_change(BatchJob *j)
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
void
migr_batch_check_where_clause(BatchJob *j)
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

/* ----------------------------------------------------------------
 * SQL text
 * ----------------------------------------------------------------
 */

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
SPIPlanPtr
migr_batch_prepare_keys(BatchJob *j, bool after)
{
	StringInfoData buf;
	Oid		   *types = palloc(sizeof(Oid) * (j->nkeys + 1));
	SPIPlanPtr	plan;

	types[0] = INT4OID;
	memcpy(types + 1, j->keytypes, sizeof(Oid) * j->nkeys);
	initStringInfo(&buf);
	appendStringInfoString(&buf, "SELECT ");
	migr_batch_append_keys(&buf, j);
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
SPIPlanPtr
migr_batch_prepare_work(BatchJob *j)
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
	/* a syntax error raises; NULL is SPI's own failure */
	if (plan == NULL)
		elog(ERROR, "could not prepare the statement of %s: %s", j->fn,
			 SPI_result_code_string(SPI_result));
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
				migr_batch_append_keys(&ex, j);
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
 * The estimate
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
void
migr_batch_estimate_rows(BatchJob *j)
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

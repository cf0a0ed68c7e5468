/*-------------------------------------------------------------------------
 * revcheck.c
 *	  A revision's pre- and postconditions.  Each is one SQL boolean
 *	  expression, evaluated through SPI in the migration's transaction, as
 *	  the calling role, with the caller's search_path:
 *	    skip_if      before upgrade; true: the change is already in effect
 *	    requires     before upgrade; false: MG004, nothing runs
 *	    verify       after upgrade (or skip); false: MG005, all rolled back
 *	    verify_down  after downgrade; false: MG005, all rolled back
 *	  NULL counts as "not true" for all four.
 *
 * IDENTIFICATION
 *	  src/revcheck.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "apply.h"
#include "catalog/pg_type.h"
#include "checks.h"
#include "executor/spi.h"
#include "revcheck.h"
#include "subxact.h"
#include "utils/builtins.h"
#include "utils/plancache.h"

const char *const migr_check_names[MIGR_NCHECKS] = {
	"skip_if", "requires", "verify", "verify_down"
};

static char *
check_query(const char *expr)
{
	/* the newline ends a trailing "--" comment inside expr */
	return psprintf("SELECT (%s\n)", expr);
}

static void
not_boolean(const char *what, Oid type)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("%s must return boolean, not type %s", what, format_type_be(type))));
}

/*
 * migr_validate_check
 *		At registration: the check must be one expression (42601) and, where
 *		it can be analysed now, of type boolean (42804).  An expression that
 *		names objects the migrations have yet to create (a missing table,
 *		column, function or schema) cannot be typed now; it is typed again
 *		each time it runs.  Analysis happens in a subtransaction that is
 *		always rolled back, so nothing of it stays.  The caller is connected
 *		to SPI.
 */
typedef struct TypeProbe
{
	const char *expr;
	Oid			type;
	bool		returns_set;
} TypeProbe;

/* Analyse "SELECT (expr)" and note its result type. */
static void
probe_type(void *arg)
{
	TypeProbe  *p = (TypeProbe *) arg;
	SPIPlanPtr	plan = SPI_prepare(check_query(p->expr), 0, NULL);
	CachedPlanSource *src;

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	src = linitial(SPI_plan_get_plan_sources(plan));
	p->type = TupleDescAttr(src->resultDesc, 0)->atttypid;
	p->returns_set = linitial_node(Query, src->query_list)->hasTargetSRFs;
	SPI_freeplan(plan);
}

void
migr_validate_check(MigrCheckKind kind, const char *expr)
{
	TypeProbe	probe = {expr, BOOLOID, false};
	ErrorData  *edata;

	migr_check_expression(migr_check_names[kind], expr);
	edata = migr_subxact_try(probe_type, &probe, false);
	if (edata)
	{
		switch (edata->sqlerrcode)
		{
			case ERRCODE_UNDEFINED_TABLE:
			case ERRCODE_UNDEFINED_COLUMN:
			case ERRCODE_UNDEFINED_FUNCTION:
			case ERRCODE_UNDEFINED_OBJECT:
			case ERRCODE_INVALID_SCHEMA_NAME:
				FreeErrorData(edata);
				return;
			default:
				ReThrowError(edata);
		}
	}
	if (probe.type != BOOLOID)
		not_boolean(migr_check_names[kind], probe.type);
	if (probe.returns_set)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("%s must return one value, not a set", migr_check_names[kind]),
				 errdetail("The expression calls a set-returning function outside a subquery: %s", expr),
				 errhint("Aggregate the set, as in \"EXISTS (SELECT ...)\".")));
}

/*
 * migr_eval_check
 *		Evaluate a check; true only for a non-NULL true.  A check that
 *		could not be typed at registration may turn out to return a set:
 *		no row or several rows is 21000.  The expression is parsed again
 *		first, so a check stored by hand that is not one expression is
 *		42601, as at registration.
 */
bool
migr_eval_check(const char *rev, MigrCheckKind kind, const char *expr)
{
	int			rc;
	bool		isnull;
	Datum		d;
	bool		result;

	/* registration checked this; a catalog written by hand may not be */
	migr_check_expression(migr_check_names[kind], expr);
	rc = migr_apply_execute(rev, check_query(expr), false, 2);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("%s of revision \"%s\" returned %s rows", migr_check_names[kind], rev,
						SPI_processed == 0 ? "no" : "several"),
				 errdetail("A check must return exactly one boolean; it calls a set-returning function outside a subquery: %s",
						   expr),
				 errhint("Aggregate the set, as in \"EXISTS (SELECT ...)\".")));
	if (SPI_gettypeid(SPI_tuptable->tupdesc, 1) != BOOLOID)
		not_boolean(psprintf("%s of revision \"%s\"", migr_check_names[kind], rev),
					SPI_gettypeid(SPI_tuptable->tupdesc, 1));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	result = !isnull && DatumGetBool(d);
	SPI_freetuptable(SPI_tuptable);
	return result;
}

typedef struct EvalArgs
{
	const char *rev;
	MigrCheckKind kind;
	const char *expr;
	bool		result;
} EvalArgs;

static void
eval_in_subxact(void *arg)
{
	EvalArgs   *a = (EvalArgs *) arg;

	a->result = migr_eval_check(a->rev, a->kind, a->expr);
}

/*
 * migr_try_eval_check
 *		Evaluate a check in a subtransaction: 1 true, 0 not true, -1 when it
 *		raised an error (whose message goes to *error when error is not
 *		NULL).  For the readers (migr.plan, migr.check), which report a
 *		check that cannot be evaluated now instead of failing.
 */
int
migr_try_eval_check(const char *rev, MigrCheckKind kind, const char *expr,
					char **error)
{
	EvalArgs	args = {rev, kind, expr, false};
	ErrorData  *edata = migr_subxact_try(eval_in_subxact, &args, true);

	if (edata == NULL)
		return args.result ? 1 : 0;
	if (error)
		*error = pstrdup(edata->message);
	FreeErrorData(edata);
	return -1;
}

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

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "checks.h"
#include "executor/spi.h"
#include "revcheck.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/resowner.h"

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
void
migr_validate_check(MigrCheckKind kind, const char *expr)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Oid			type = BOOLOID;

	migr_check_expression(migr_check_names[kind], expr);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		SPIPlanPtr	plan = SPI_prepare(check_query(expr), 0, NULL);
		CachedPlanSource *src;

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		src = linitial(SPI_plan_get_plan_sources(plan));
		type = TupleDescAttr(src->resultDesc, 0)->atttypid;
		SPI_freeplan(plan);
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
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
	PG_END_TRY();
	if (type != BOOLOID)
		not_boolean(migr_check_names[kind], type);
}

/*
 * migr_eval_check
 *		Evaluate a check; true only for a non-NULL true.
 */
bool
migr_eval_check(const char *rev, MigrCheckKind kind, const char *expr)
{
	int			rc = SPI_execute(check_query(expr), false, 1);
	bool		isnull;
	Datum		d;
	bool		result;

	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "check %s of revision \"%s\" returned no row: %s",
			 migr_check_names[kind], rev, SPI_result_code_string(rc));
	if (SPI_gettypeid(SPI_tuptable->tupdesc, 1) != BOOLOID)
		not_boolean(psprintf("%s of revision \"%s\"", migr_check_names[kind], rev),
					SPI_gettypeid(SPI_tuptable->tupdesc, 1));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	result = !isnull && DatumGetBool(d);
	SPI_freetuptable(SPI_tuptable);
	return result;
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
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile int result = -1;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		result = migr_eval_check(rev, kind, expr) ? 1 : 0;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (error)
			*error = pstrdup(edata->message);
		FreeErrorData(edata);
		result = -1;
	}
	PG_END_TRY();
	return result;
}

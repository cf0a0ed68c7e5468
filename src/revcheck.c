/*-------------------------------------------------------------------------
 * revcheck.c
 *	  A revision's pre- and postconditions.  Each is one SQL boolean
 *	  expression, evaluated through SPI in the migration's transaction, with
 *	  the caller's search_path:
 *	    skip_if      before upgrade; true: the change is already in effect
 *	    requires     before upgrade; false: MG004, nothing runs
 *	    verify       after upgrade (or skip); false: MG005, all rolled back
 *	    verify_down  after downgrade; false: MG005, all rolled back
 *	  NULL counts as "not true" for all four.
 *
 *	  Two modes.  upgrade and downgrade evaluate checks as the
 *	  calling role, keeping their effects, since the caller asked for them
 *	  to run (migr_eval_check).  Everything else that looks at a check
 *	  (migr.plan's would_skip, migr.check's verify) only reads
 *	  (migr_read_check): in a subtransaction that is always rolled back,
 *	  read-only, as the role that registered the revision inside a
 *	  security-restricted operation, and only if that role still exists and
 *	  the caller has its privileges.  So SQL one role wrote never runs with
 *	  another role's rights just because someone looked at a plan.
 *
 * IDENTIFICATION
 *	  src/revcheck.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "apply.h"
#include "body.h"
#include "catalog/pg_type.h"
#include "checks.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "revcheck.h"
#include "subxact.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
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
	TypeProbe	probe = {expr, BOOLOID, false};
	ErrorData  *edata;

	migr_check_expression(migr_check_names[kind], expr);
	edata = migr_subxact_try(probe_type, &probe, false, false);
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
 * Evaluate "SELECT (expr)"; true only for a non-NULL true.  A check that
 * could not be typed at registration may turn out to return a set: no row
 * or several rows is 21000.  The expression is parsed again first, so a
 * check stored by hand that is not one expression is 42601, as at
 * registration.
 */
static bool
eval_query(const char *rev, MigrCheckKind kind, const char *expr, bool read_only)
{
	int			rc;
	bool		isnull;
	Datum		d;
	bool		result;

	/* registration checked this; a catalog written by hand may not be */
	migr_check_expression(migr_check_names[kind], expr);
	rc = migr_body_execute(rev, check_query(expr), read_only, 2);
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

/*
 * migr_eval_check
 *		Evaluate a check for upgrade or downgrade: as the current
 *		user, effects kept; true only for a non-NULL true.
 */
bool
migr_eval_check(const char *rev, MigrCheckKind kind, const char *expr)
{
	return eval_query(rev, kind, expr, false);
}

typedef struct ReadArgs
{
	const char *rev;
	MigrCheckKind kind;
	const char *expr;
	Oid			role;
	bool		result;
} ReadArgs;

/*
 * Inside the subtransaction: read-only, then the registering role in a
 * security-restricted operation (no SET ROLE, no temporary objects, no
 * session state that outlives it).  The rollback undoes both even when the
 * check raises.
 */
static void
read_in_subxact(void *arg)
{
	ReadArgs   *a = (ReadArgs *) arg;
	Oid			save_userid;
	int			save_sec_context;

	(void) set_config_option("transaction_read_only", "on",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
							 true, 0, false);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(a->role, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	a->result = eval_query(a->rev, a->kind, a->expr, true);
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

/*
 * migr_read_check
 *		Evaluate a check for a reader (see the file header).  registered_by
 *		is migr.migration.registered_by.  Returns MIGR_READ_RAISED with the
 *		error's message in *why, or MIGR_READ_NOT_RUN with a sentence
 *		saying why it was not evaluated; *why is palloc'd in the current
 *		context.  The caller is connected to SPI.
 */
MigrCheckOutcome
migr_read_check(const char *rev, MigrCheckKind kind, const char *expr,
				const char *registered_by, char **why)
{
	ReadArgs	args = {rev, kind, expr, InvalidOid, false};
	ErrorData  *edata;

	args.role = get_role_oid(registered_by, true);
	if (!OidIsValid(args.role))
	{
		*why = psprintf("It was registered by role \"%s\", which no longer exists; migr evaluates a check only as the role that registered it.",
						registered_by);
		return MIGR_READ_NOT_RUN;
	}

	/*
	 * Names in the check resolve through the caller's search_path, so a
	 * caller without the registering role's privileges could make it call
	 * the caller's own functions with those privileges.
	 */
	if (!has_privs_of_role(GetUserId(), args.role))
	{
		*why = psprintf("It was registered by role \"%s\", whose privileges the current role does not have.",
						registered_by);
		return MIGR_READ_NOT_RUN;
	}

	edata = migr_subxact_try(read_in_subxact, &args, false, false);
	if (edata == NULL)
		return args.result ? MIGR_READ_TRUE : MIGR_READ_NOT_TRUE;
	*why = pstrdup(edata->message);
	FreeErrorData(edata);
	return MIGR_READ_RAISED;
}

/*-------------------------------------------------------------------------
 * sqlfuncs.c
 *	  The SQL face of registration, upgrade, downgrade, stamp and the graph
 *	  readers (plan, current, heads, history): arguments, one SPI
 *	  connection per call, result rows.  The work is done in register.c,
 *	  target.c, plan.c, apply.c and catalog.c.  The health functions are in
 *	  health.c, the check functions and operations in sqlschema.c, the
 *	  triggers in cycle.c, summary.c and register.c.
 *
 * IDENTIFICATION
 *	  src/sqlfuncs.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "activity.h"
#include "apply.h"
#include "body.h"
#include "catalog.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lock.h"
#include "migr_errcodes.h"
#include "progress.h"
#include "register.h"
#include "sqlcall.h"
#include "revcheck.h"
#include "strlist.h"
#include "summary.h"
#include "target.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(migr_revision);
PG_FUNCTION_INFO_V1(migr_upgrade);
PG_FUNCTION_INFO_V1(migr_downgrade);
PG_FUNCTION_INFO_V1(migr_stamp);
PG_FUNCTION_INFO_V1(migr_plan);
PG_FUNCTION_INFO_V1(migr_current);
PG_FUNCTION_INFO_V1(migr_heads);
PG_FUNCTION_INFO_V1(migr_history);

/*
 * migr.revision(id text, revises text, message text, upgrade text,
 *				 downgrade text, branch_labels text, depends_on text,
 *				 create_date timestamptz, skip_if text, requires text,
 *				 verify text, verify_down text, transactional boolean)
 *	 RETURNS text
 */
Datum
migr_revision(PG_FUNCTION_ARGS)
{
	MigrNewRevision *rev;
	char	   *id;
	char	   *checks[MIGR_NCHECKS];

	migr_body_refuse_reentry("migr.revision()");
	migr_require_writable("migr.revision()");
	for (int i = 0; i < MIGR_NCHECKS; i++)
		checks[i] = migr_text_arg(fcinfo, 8 + i);
	rev = migr_new_revision(migr_text_arg(fcinfo, 0), migr_text_arg(fcinfo, 1),
							migr_text_arg(fcinfo, 2), migr_text_arg(fcinfo, 3),
							migr_text_arg(fcinfo, 4), migr_text_arg(fcinfo, 5),
							migr_text_arg(fcinfo, 6),
							PG_ARGISNULL(7) ? 0 : PG_GETARG_TIMESTAMPTZ(7),
							checks,
							/* 0.1.0 declared twelve arguments */
							PG_NARGS() <= 12 || PG_ARGISNULL(12) || PG_GETARG_BOOL(12));
	id = rev->id;
	migr_spi_connect();
	migr_lock_acquire();
	(void) migr_register(rev, !PG_ARGISNULL(7), false, NULL);
	migr_spi_finish();
	PG_RETURN_TEXT_P(cstring_to_text(id));
}

/*
 * One row per step: (revision, operation, duration), the result of
 * upgrade, downgrade and stamp.
 */
static void
put_steps(ReturnSetInfo *rsinfo, MigrGraph *g, MigrStepRecord *steps, int n)
{
	for (int i = 0; i < n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		Interval	iv;

		iv.time = steps[i].duration_us;
		iv.day = 0;
		iv.month = 0;
		values[0] = CStringGetTextDatum(g->revs[steps[i].rev].id);
		values[1] = CStringGetTextDatum(steps[i].operation);
		values[2] = IntervalPGetDatum(&iv);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		pfree(DatumGetPointer(values[0]));
		pfree(DatumGetPointer(values[1]));
	}
}

/*
 * One transaction cannot run a non-transactional revision: refuse the plan
 * before anything runs.
 */
static void
refuse_nontransactional(MigrGraph *g, MigrPlan *plan)
{
	int			flag = plan->upgrade ? MIGR_NONTXN_UPGRADE : MIGR_NONTXN_DOWNGRADE;

	for (int i = 0; i < plan->nsteps; i++)
	{
		MigrRev    *r = &g->revs[plan->steps[i]];

		if (r->nontxn & flag)
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("cannot %s revision \"%s\" in one transaction",
							plan->upgrade ? "apply" : "revert", r->id),
					 errdetail("Its %s is non-transactional: it runs statement by statement, each committed. Nothing was %s.",
							   plan->upgrade ? "upgrade" : "downgrade",
							   plan->upgrade ? "applied" : "reverted"),
					 errhint("Use CALL %s() outside a transaction block for a plan that holds revision \"%s\".",
							 plan->upgrade ? "migr.apply" : "migr.revert", r->id)));
	}
}

/* Shared body of upgrade and downgrade. */
static Datum
run_plan(FunctionCallInfo fcinfo, bool upgrade)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *target = migr_required_text_arg(fcinfo, 0, "target");
	MemoryContext outer = CurrentMemoryContext;
	MigrGraph  *g;
	MigrPlan   *plan;
	int64		max_seq;
	MigrStepRecord *steps;
	int			nsteps;

	migr_body_refuse_reentry(upgrade ? "migr.upgrade()" : "migr.downgrade()");
	migr_require_writable(upgrade ? "migr.upgrade()" : "migr.downgrade()");
	InitMaterializedSRF(fcinfo, 0);
	migr_spi_connect();
	migr_lock_acquire();
	/* the common deploy: nothing to do, known without loading the graph */
	if (upgrade && migr_summary_noop_upgrade(target))
	{
		migr_spi_finish();
		return (Datum) 0;
	}
	g = migr_catalog_load_graph(outer, true, &max_seq);
	plan = upgrade ? migr_plan_upgrade(g, target) : migr_plan_downgrade(g, target);
	refuse_nontransactional(g, plan);
	migr_refuse_unfinished(g, plan, false);
	steps = migr_apply_plan(g, max_seq, plan, &nsteps);
	migr_activity_restore();
	migr_summary_write(g);
	put_steps(rsinfo, g, steps, nsteps);
	migr_spi_finish();
	return (Datum) 0;
}

/*
 * migr.upgrade(target text DEFAULT 'head')
 *	 RETURNS TABLE (revision text, operation text, duration interval)
 */
Datum
migr_upgrade(PG_FUNCTION_ARGS)
{
	return run_plan(fcinfo, true);
}

/*
 * migr.downgrade(target text DEFAULT '-1')
 *	 RETURNS TABLE (revision text, operation text, duration interval)
 */
Datum
migr_downgrade(PG_FUNCTION_ARGS)
{
	return run_plan(fcinfo, false);
}

/*
 * migr.stamp(target text)
 *	 RETURNS TABLE (revision text, operation text, duration interval)
 */
Datum
migr_stamp(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *target = migr_required_text_arg(fcinfo, 0, "target");
	MemoryContext outer = CurrentMemoryContext;
	MigrGraph  *g;
	int64		max_seq;
	MigrStepRecord *steps;
	int			nsteps;

	migr_body_refuse_reentry("migr.stamp()");
	migr_require_writable("migr.stamp()");
	InitMaterializedSRF(fcinfo, 0);
	migr_spi_connect();
	migr_lock_acquire();
	g = migr_catalog_load_graph(outer, true, &max_seq);
	migr_refuse_unfinished(g, NULL, false);
	steps = migr_apply_stamp(g, max_seq, migr_plan_stamp(g, target), &nsteps);
	migr_summary_write(g);
	put_steps(rsinfo, g, steps, nsteps);
	migr_spi_finish();
	return (Datum) 0;
}

/* The names of the checks a revision has, as text[] */
static Datum
checks_array(MigrRev *r)
{
	char	   *names[MIGR_NCHECKS];
	int			n = 0;

	for (int k = 0; k < MIGR_NCHECKS; k++)
		if (r->checkmask & (1 << k))
			names[n++] = (char *) migr_check_names[k];
	return migr_text_array(names, n);
}

/*
 * migr_target_looks_like_downgrade
 *		Whether a target reads as a downgrade: base, or -N from the current
 *		heads (migr.plan() and migr.script() guess the direction so).
 */
bool
migr_target_looks_like_downgrade(const char *t)
{
	const char *p = strrchr(t, '@');

	if (strcmp(t, "base") == 0)
		return true;
	p = p ? p + 1 : t;
	if (*p != '-' || !isdigit((unsigned char) p[1]))
		return false;
	for (p++; *p; p++)
		if (!isdigit((unsigned char) *p))
			return false;
	return true;
}

/*
 * migr.plan(target text DEFAULT 'head', direction text DEFAULT NULL)
 *	 RETURNS TABLE (step int, revision text, operation text, irreversible bool,
 *					checks text[], would_skip bool, transactional bool)
 *
 * direction NULL guesses: "base" and "-N" are downgrades; anything else is
 * an upgrade unless nothing would be upgraded, then a downgrade.
 */
Datum
migr_plan(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *target = migr_required_text_arg(fcinfo, 0, "target");
	char	   *direction = migr_text_arg(fcinfo, 1);
	MemoryContext outer = CurrentMemoryContext;
	MigrGraph  *g;
	MigrPlan   *plan;
	int64		max_seq;
	MigrBody   *bodies;

	if (direction && strcmp(direction, "upgrade") != 0 && strcmp(direction, "downgrade") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized direction \"%s\"", direction),
				 errhint("Use \"upgrade\", \"downgrade\" or NULL.")));
	InitMaterializedSRF(fcinfo, 0);
	migr_spi_connect();
	g = migr_catalog_load_graph(outer, false, &max_seq);
	if (direction ? strcmp(direction, "downgrade") == 0 : migr_target_looks_like_downgrade(target))
		plan = migr_plan_downgrade(g, target);
	else
	{
		plan = migr_plan_upgrade(g, target);
		if (direction == NULL && plan->nsteps == 0)
			plan = migr_plan_downgrade(g, target);
	}
	bodies = plan->upgrade && plan->nsteps > 0
		? migr_catalog_load_bodies(g, plan->steps, plan->nsteps, true, outer)
		: NULL;
	for (int i = 0; i < plan->nsteps; i++)
	{
		/* 0.1.0 declared the first 6 columns: the row descriptor says */
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, true, false};
		MigrRev    *r = &g->revs[plan->steps[i]];

		values[0] = Int32GetDatum(i + 1);
		values[1] = CStringGetTextDatum(r->id);
		values[2] = CStringGetTextDatum(plan->upgrade ? "upgrade" : "downgrade");
		values[3] = BoolGetDatum(r->irreversible);
		values[4] = checks_array(r);
		values[6] = BoolGetDatum(!(r->nontxn & (plan->upgrade ? MIGR_NONTXN_UPGRADE
												: MIGR_NONTXN_DOWNGRADE)));
		/*
		 * skip_if as of now: later steps of the plan may change the answer,
		 * and a check on objects an earlier step creates cannot be evaluated
		 * yet (NULL then).  Read-only, rolled back, as the registering role
		 * (NULL when it cannot be run as that role).
		 */
		if (bodies && bodies[i].checks[MIGR_CHECK_SKIP_IF])
		{
			char	   *why;
			MigrCheckOutcome skip = migr_read_check(r->id, MIGR_CHECK_SKIP_IF,
													bodies[i].checks[MIGR_CHECK_SKIP_IF],
													bodies[i].registered_by, &why);

			values[5] = BoolGetDatum(skip == MIGR_READ_TRUE);
			nulls[5] = skip != MIGR_READ_TRUE && skip != MIGR_READ_NOT_TRUE;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	migr_spi_finish();
	return (Datum) 0;
}

static void
put_id(ReturnSetInfo *rsinfo, const char *id)
{
	Datum		v = CStringGetTextDatum(id);
	bool		isnull = false;

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &v, &isnull);
}

static void
put_ids(ReturnSetInfo *rsinfo, MigrGraph *g, const int *idx, int n)
{
	for (int i = 0; i < n; i++)
		put_id(rsinfo, g->revs[idx[i]].id);
}

/* migr.current() RETURNS SETOF text */
Datum
migr_current(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext outer = CurrentMemoryContext;
	MigrGraph  *g;
	int64		max_seq;
	int			n;
	int		   *heads;
	MigrSummary sum;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	migr_spi_connect();
	/* kept by the last writer, unless something changed the catalog since */
	if (migr_summary_read(outer, &sum))
	{
		for (int i = 0; i < sum.ncurrent; i++)
			put_id(rsinfo, sum.current_heads[i]);
		migr_spi_finish();
		return (Datum) 0;
	}
	g = migr_catalog_load_graph(outer, false, &max_seq);
	heads = migr_graph_current_heads(g, &n);
	put_ids(rsinfo, g, heads, n);
	migr_spi_finish();
	return (Datum) 0;
}

/* migr.heads() RETURNS SETOF text */
Datum
migr_heads(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext outer = CurrentMemoryContext;
	MigrGraph  *g;
	int64		max_seq;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	migr_spi_connect();
	g = migr_catalog_load_graph(outer, false, &max_seq);
	put_ids(rsinfo, g, g->heads, g->nheads);
	migr_spi_finish();
	return (Datum) 0;
}

static Datum
ids_array(MigrGraph *g, const int *idx, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n + 1));

	for (int i = 0; i < n; i++)
		d[i] = CStringGetTextDatum(g->revs[idx[i]].id);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * migr.history() RETURNS TABLE (position int, revision text, revises text[],
 *	 depends_on text[], message text, create_date timestamptz,
 *	 branch_labels text[], irreversible bool, applied bool,
 *	 applied_at timestamptz, is_head bool, is_current bool, checks text[],
 *	 upgrade_transactional bool, downgrade_transactional bool)
 *
 * Every revision, in the order "upgrade heads" from an empty database would
 * apply them.
 */
Datum
migr_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext outer = CurrentMemoryContext;
	MigrGraph  *g;
	int64		max_seq;
	bool	   *all;
	bool	   *is_current;
	int		   *order;
	int		   *cur;
	int			n,
				ncur;
	char	  **message;
	TimestampTz *applied_at;
	bool	   *applied_at_null;

	InitMaterializedSRF(fcinfo, 0);
	migr_spi_connect();
	g = migr_catalog_load_graph(outer, false, &max_seq);
	message = palloc(sizeof(char *) * (g->nrevs + 1));
	applied_at = palloc(sizeof(TimestampTz) * (g->nrevs + 1));
	applied_at_null = palloc(sizeof(bool) * (g->nrevs + 1));
	migr_catalog_history_details(g, message, applied_at, applied_at_null, outer);

	migr_graph_inherit_labels(g);
	all = palloc(sizeof(bool) * (g->nrevs + 1));
	for (int i = 0; i < g->nrevs; i++)
		all[i] = true;
	order = migr_graph_toposort(g, all, g->realheads, g->nrealheads, &n);
	is_current = palloc0(sizeof(bool) * (g->nrevs + 1));
	cur = migr_graph_current_heads(g, &ncur);
	for (int i = 0; i < ncur; i++)
		is_current[cur[i]] = true;

	for (int k = 0; k < n; k++)
	{
		int			i = order[n - 1 - k];
		MigrRev    *r = &g->revs[i];
		/* 0.1.0 declared the first 13 columns: the row descriptor says */
		Datum		values[15];
		bool		nulls[15] = {0};

		values[0] = Int32GetDatum(k + 1);
		values[1] = CStringGetTextDatum(r->id);
		values[2] = ids_array(g, r->parents, r->nparents);
		values[3] = ids_array(g, r->deps, r->ndeps);
		values[4] = CStringGetTextDatum(message[i]);
		values[5] = TimestampTzGetDatum(r->create_date);
		values[6] = migr_text_array(r->alllabels, r->nalllabels);
		values[7] = BoolGetDatum(r->irreversible);
		values[8] = BoolGetDatum(r->applied);
		values[9] = TimestampTzGetDatum(applied_at[i]);
		nulls[9] = applied_at_null[i];
		values[10] = BoolGetDatum(r->nnext == 0);
		values[11] = BoolGetDatum(is_current[i]);
		values[12] = checks_array(r);
		values[13] = BoolGetDatum(!(r->nontxn & MIGR_NONTXN_UPGRADE));
		values[14] = BoolGetDatum(!(r->nontxn & MIGR_NONTXN_DOWNGRADE));
		nulls[14] = r->irreversible;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	migr_spi_finish();
	return (Datum) 0;
}

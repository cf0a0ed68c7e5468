/*-------------------------------------------------------------------------
 * scriptrun.c
 *	  The calls a script from migr.script() (script.c) makes into migr
 *	  around each revision's SQL, so that it leaves what CALL migr.apply()
 *	  or migr.revert() would leave: the same applied set, events and schema
 *	  snapshot.  The script runs the statements; these calls do the rest,
 *	  under the migration lock that the first takes for the session and
 *	  the last gives up:
 *
 *	  - migr.script_begin() refuses to start unless the plan of that
 *		upgrade or downgrade in this database is still the script's (same
 *		steps, same revision contents), then keeps the plan and the run's
 *		state (apply.c's MigrRun, as CALL mode does) for the session;
 *	  - migr.script_step() checks that its revision is the next step,
 *		evaluates requires and skip_if, records a skipped step, and says
 *		whether the script runs the revision's SQL;
 *	  - migr.script_progress() records a statement of a non-transactional
 *		revision as CALL mode does (migr.revision_progress);
 *	  - migr.script_done() evaluates verify (verify_down) and records the
 *		step: applied set, heads, event, on the last step the schema
 *		snapshot and migr.summary;
 *	  - migr.script_end() checks every step ran and lets go of the lock.
 *
 *	  A transaction that aborts while a script runs ends the script in
 *	  this session (xact callback): its state is dropped and the lock let
 *	  go.  psql stops at that error anyway; the steps committed before it
 *	  stay, as after a failed CALL.
 *
 * IDENTIFICATION
 *	  src/scriptrun.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "apply.h"
#include "body.h"
#include "catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_index.h"
#include "checksum.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lock.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "progress.h"
#include "script.h"
#include "sqlcall.h"
#include "summary.h"
#include "target.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(migr_script_begin);
PG_FUNCTION_INFO_V1(migr_script_step);
PG_FUNCTION_INFO_V1(migr_script_progress);
PG_FUNCTION_INFO_V1(migr_script_done);
PG_FUNCTION_INFO_V1(migr_script_end);

/* The script running in this session, between begin and end */
typedef struct ScriptRun
{
	MemoryContext cxt;			/* all of it; under TopMemoryContext */
	Oid			ext;			/* for the lock's release */
	bool		upgrade;
	const char *dir;			/* "upgrade" or "downgrade" */
	MigrGraph  *g;
	MigrPlan   *plan;
	MigrBody   *bodies;
	MigrRun    *run;
	int			resume;			/* statements of step 1 that ran before, or -1 */
	int			next;			/* the step to begin next (from 0) */
	int			current;		/* the step whose SQL runs, or -1 */
	bool		current_txn;	/* ... in one transaction */
	int			nstmts;			/* its statements */
	int			done;			/* of them, recorded as run */
	char	  **index_names;	/* per statement: a CREATE INDEX CONCURRENTLY's index */
	RangeVar  **index_tables;	/* ... and its table */
	TimestampTz start;
} ScriptRun;

static ScriptRun *script = NULL;
static bool callback_registered = false;

/* End the session's script: drop its state, let go of the lock. */
static void
script_stop(void)
{
	ScriptRun  *s = script;

	script = NULL;
	migr_body_mark_running(NULL);
	migr_summary_hold_stale(false);
	migr_lock_release_session(s->ext);
	MemoryContextDelete(s->cxt);
}

/*
 * A transaction that aborts ends the script (psql has stopped anyway);
 * one that commits between a transactional step's start and its end
 * would split the revision, so it is refused.
 */
static void
script_xact_callback(XactEvent event, void *arg)
{
	if (script == NULL)
		return;
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		script_stop();
	else if ((event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE) &&
			 script->current >= 0 && script->current_txn)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("step %d of the migr script cannot commit before migr.script_done()",
						script->current + 1),
				 errdetail("Revision \"%s\" is transactional: its statements and the call that ends it belong to one transaction. The transaction was rolled back and the script ended.",
						   script->g->revs[script->plan->steps[script->current]].id),
				 errhint("Generate a new script with migr.script() and run it unchanged.")));
}

/* The running script; refused when there is none or it lost its lock. */
static ScriptRun *
running_script(const char *fn)
{
	if (script == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no migr script is running in this session"),
				 errdetail("%s is called by a script from migr.script(), after its CALL migr.script_begin(); a script ends at its first error.",
						   fn),
				 errhint("Run the whole script with psql -v ON_ERROR_STOP=1 -f. After a failure, a new script from migr.script() continues where it stopped.")));
	if (!migr_lock_held_session())
	{
		char	   *rev = script->current >= 0
			? pstrdup(script->g->revs[script->plan->steps[script->current]].id) : NULL;

		script_stop();
		if (rev)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("revision \"%s\" released the migration lock", rev),
					 errdetail("Its SQL let go of the advisory lock that the migr script holds for the session, so another runner could have started. The script ended."),
					 errhint("Take pg_advisory_unlock_all() or pg_advisory_unlock(1835624306) out of the revision.")));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the migr script of this session lost the migration lock"),
				 errdetail("Something let go of the advisory lock that the script holds for the session, so another runner could have started. The script ended."),
				 errhint("Generate a new script with migr.script() and run it unchanged.")));
	}
	return script;
}

/*
 * Under the lock, after a commit: the plan must still be the script's.
 * Returns the script's state, allocated in cxt.
 */
static ScriptRun *
prepare_run(MemoryContext cxt, bool upgrade, const char *target, int nsteps,
			const char *digest)
{
	ScriptRun  *s = MemoryContextAllocZero(cxt, sizeof(ScriptRun));
	MigrProgress *p;
	int64		max_seq;
	MemoryContext old;
	const char *dir = upgrade ? "upgrade" : "downgrade";

	s->cxt = cxt;
	s->upgrade = upgrade;
	s->dir = dir;
	s->current = -1;
	s->g = migr_catalog_load_graph(cxt, true, &max_seq);
	old = MemoryContextSwitchTo(cxt);
	s->plan = upgrade ? migr_plan_upgrade(s->g, target) : migr_plan_downgrade(s->g, target);
	MemoryContextSwitchTo(old);
	p = migr_refuse_unfinished(s->g, s->plan, true);
	s->resume = p ? p->done : -1;
	if (s->plan->nsteps > 0)
		s->bodies = migr_catalog_load_bodies(s->g, s->plan->steps, s->plan->nsteps,
											 upgrade, cxt);
	if (s->plan->nsteps != nsteps ||
		strcmp(migr_script_digest(s->g, s->plan, s->bodies, target, s->resume), digest) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the %s to \"%s\" here is not the plan this migr script runs", dir, target),
				 s->plan->nsteps != nsteps
				 ? errdetail("The script runs %d step%s; here the plan has %d now. The script ran already, or it was generated for another database or state. Nothing was done.",
							 nsteps, nsteps == 1 ? "" : "s", s->plan->nsteps)
				 : errdetail("The plan here has the script's number of steps, but other revisions, or revisions whose content changed since the script was generated. Nothing was done."),
				 errhint("Generate a new script with migr.script() here and review it.")));
	migr_run_refuse_irreversible(s->g, s->plan, s->bodies);
	old = MemoryContextSwitchTo(cxt);
	s->run = migr_run_begin(s->g, max_seq, s->plan->nsteps, true);
	MemoryContextSwitchTo(old);
	return s;
}

/*
 * CALL migr.script_begin(direction text, target text, steps int4, plan text)
 *
 * Takes the migration lock for the session (and the share lock on the
 * extension, as CALL mode does), commits so that what follows sees what
 * ran before the wait, then checks that the plan here is the script's:
 * steps of it, with digest plan (see migr_script_digest).
 */
Datum
migr_script_begin(PG_FUNCTION_ARGS)
{
	CallContext *cc = (CallContext *) fcinfo->context;
	char	   *dir = migr_required_text_arg(fcinfo, 0, "direction");
	char	   *target = migr_required_text_arg(fcinfo, 1, "target");
	char	   *digest = migr_required_text_arg(fcinfo, 3, "plan");
	int			nsteps;
	bool		upgrade;
	int			rc;
	MemoryContext cxt;
	Oid			ext;
	ScriptRun  *volatile s = NULL;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("steps must not be null")));
	nsteps = PG_GETARG_INT32(2);
	migr_body_refuse_reentry("migr.script_begin()");
	migr_require_writable("migr.script_begin()");
	if (strcmp(dir, "upgrade") != 0 && strcmp(dir, "downgrade") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized direction \"%s\"", dir),
				 errhint("Use \"upgrade\" or \"downgrade\".")));
	upgrade = strcmp(dir, "upgrade") == 0;
	if (!(cc && IsA(cc, CallContext) && !cc->atomic))
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 IsTransactionBlock()
				 ? errmsg("a migr script cannot run inside a transaction block")
				 : errmsg("CALL migr.script_begin() cannot be executed from a function"),
				 errdetail("The script commits after each revision, as CALL %s does. Nothing was done.",
						   upgrade ? "migr.apply()" : "migr.revert()"),
				 errhint("Run the script with psql -v ON_ERROR_STOP=1 -f, without -1 or --single-transaction.")));
	if (script != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a migr script is already running in this session"),
				 errdetail("It began with CALL migr.script_begin() and has not reached CALL migr.script_end()."),
				 errhint("Run one script per session.")));

	if ((rc = SPI_connect_ext(SPI_OPT_NONATOMIC)) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed: %s", SPI_result_code_string(rc));
	cxt = AllocSetContextCreate(TopMemoryContext, "migr script", ALLOCSET_DEFAULT_SIZES);
	ext = migr_lock_acquire_session();
	PG_TRY();
	{
		/* a snapshot taken after the wait for the lock */
		SPI_commit();
		s = prepare_run(cxt, upgrade, target, nsteps, digest);
		s->ext = ext;
		if (s->plan->nsteps == 0)
		{
			migr_summary_write(s->g);
			ereport(NOTICE, (errmsg("nothing to %s", upgrade ? "apply" : "revert")));
		}
		else
		{
			migr_summary_hold_stale(true);
			/* for the view migr.progress, as CALL mode writes it */
			migr_run_marker_start(upgrade, target, s->plan->nsteps);
			migr_run_marker_step(1, s->g->revs[s->plan->steps[0]].id, upgrade);
		}
	}
	PG_CATCH();
	{
		migr_summary_hold_stale(false);
		migr_lock_release_session(ext);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (!callback_registered)
	{
		RegisterXactCallback(script_xact_callback, NULL);
		callback_registered = true;
	}
	script = s;
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Step i is done: migr.run names the next one, or is emptied after the
 * last, in the transaction that records step i.
 */
static void
mark_next(ScriptRun *s, int i)
{
	if (i + 1 < s->plan->nsteps)
		migr_run_marker_step(i + 2, s->g->revs[s->plan->steps[i + 1]].id, s->upgrade);
	else
		migr_run_marker_end();
}

/* Refuse a call that names another step than the one running. */
static MigrRev *
current_step(ScriptRun *s, int step, const char *revision, const char *fn)
{
	MigrRev    *r;

	if (s->current < 0 || step != s->current + 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("step %d of the migr script is not running", step),
				 s->current < 0
				 ? errdetail("%s belongs between migr.script_step() and migr.script_done() of its step; no step is between them now.", fn)
				 : errdetail("Step %d is running.", s->current + 1),
				 errhint("Generate a new script with migr.script() and run it unchanged.")));
	r = &s->g->revs[s->plan->steps[s->current]];
	if (strcmp(revision, r->id) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("step %d of the migr script is revision \"%s\", not \"%s\"",
						step, r->id, revision),
				 errhint("Generate a new script with migr.script() and run it unchanged.")));
	return r;
}

/*
 * For each CREATE INDEX CONCURRENTLY that names its index: the name and
 * the table, so that migr.script_progress() can tell whether it left a
 * valid index.  The table is looked up then: an earlier statement of the
 * revision may create it.
 */
static void
watch_indexes(ScriptRun *s, MigrStatement *stmts, int n)
{
	MemoryContext old = MemoryContextSwitchTo(s->cxt);

	s->index_names = palloc0(sizeof(char *) * (n + 1));
	s->index_tables = palloc0(sizeof(RangeVar *) * (n + 1));
	for (int k = 0; k < n; k++)
	{
		IndexStmt  *is = (IndexStmt *) stmts[k].parsetree;

		if (!IsA(is, IndexStmt) || !is->concurrent || is->idxname == NULL)
			continue;
		s->index_names[k] = pstrdup(is->idxname);
		s->index_tables[k] = copyObject(is->relation);
	}
	MemoryContextSwitchTo(old);
}

/*
 * migr.script_step(step int4, revision text, direction text, checksum text)
 *	 RETURNS boolean
 *
 * Begin step number step: it must be the next, of that revision and
 * direction, with that content (checksum, hex).  A transactional step runs
 * inside the transaction block the script opens for it, a
 * non-transactional one outside any.  Then, for an upgrade, requires
 * (MG004 when it does not hold) and skip_if: when skip_if holds the step is
 * verified and recorded as skipped here, and the result is false: the
 * script skips the revision's SQL.  Otherwise true.
 */
Datum
migr_script_step(PG_FUNCTION_ARGS)
{
	int			step;
	char	   *revision = migr_required_text_arg(fcinfo, 1, "revision");
	char	   *dir = migr_required_text_arg(fcinfo, 2, "direction");
	char	   *checksum = migr_required_text_arg(fcinfo, 3, "checksum");
	ScriptRun  *s;
	MigrRev    *r;
	MigrBody   *b;
	int			x;
	bool		txn;
	bool		last;
	bool		resumed;
	MigrStatement *stmts;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("step must not be null")));
	step = PG_GETARG_INT32(0);
	migr_body_refuse_reentry("migr.script_step()");
	s = running_script("migr.script_step()");
	if (step != s->next + 1 || s->next >= s->plan->nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("step %d of the migr script is out of order", step),
				 s->next < s->plan->nsteps
				 ? errdetail("The next step is %d, of %d.", s->next + 1, s->plan->nsteps)
				 : s->plan->nsteps == 0
				 ? errdetail("The script has no steps.")
				 : errdetail("All %d steps ran.", s->plan->nsteps),
				 errhint("Generate a new script with migr.script() and run it unchanged.")));
	x = s->plan->steps[s->next];
	r = &s->g->revs[x];
	b = &s->bodies[s->next];
	if (strcmp(revision, r->id) != 0 || strcmp(dir, s->dir) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("step %d of the migr script is the %s of \"%s\", not the %s of \"%s\"",
						step, s->dir, r->id, dir, revision),
				 errhint("Generate a new script with migr.script() and run it unchanged.")));
	if (strcmp(checksum, migr_checksum_hex(b->checksum)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("step %d of the migr script does not have the checksum of revision \"%s\"",
						step, r->id),
				 errdetail("The script says %s; the revision's is %s.", checksum,
						   migr_checksum_hex(b->checksum)),
				 errhint("Generate a new script with migr.script() and run it unchanged.")));
	txn = migr_script_step_transactional(s->g, s->plan, s->next, s->resume);
	if (txn != IsTransactionBlock())
		ereport(ERROR,
				(errcode(txn ? ERRCODE_NO_ACTIVE_SQL_TRANSACTION : ERRCODE_ACTIVE_SQL_TRANSACTION),
				 txn
				 ? errmsg("step %d of the migr script must run inside a transaction block", step)
				 : errmsg("step %d of the migr script cannot run inside a transaction block", step),
				 txn
				 ? errdetail("The %s of revision \"%s\" is transactional: the script runs it between BEGIN and COMMIT.", s->dir, r->id)
				 : errdetail("The %s of revision \"%s\" is non-transactional: the script runs each statement on its own.", s->dir, r->id),
				 errhint("Generate a new script with migr.script() and run it unchanged.")));

	migr_spi_connect();
	last = s->next == s->plan->nsteps - 1;
	resumed = s->next == 0 && s->resume >= 0;
	s->start = GetCurrentTimestamp();
	if (!resumed && migr_run_precheck(s->run, x, b, s->upgrade))
	{
		/* skip_if holds: the whole step is this call, as in CALL mode */
		migr_run_verify(s->run, x, b, s->upgrade);
		migr_run_record(s->run, x, s->upgrade, true, b->checksum, s->start, 0);
		migr_run_flush(s->run, last);
		if (last)
			migr_summary_write(s->g);
		mark_next(s, s->next);
		migr_spi_finish();
		s->next++;
		PG_RETURN_BOOL(false);
	}
	stmts = migr_body_split(r->id, s->dir, b->sql, &s->nstmts);
	s->done = resumed ? s->resume : 0;
	s->index_names = NULL;
	s->index_tables = NULL;
	if (!txn)
	{
		watch_indexes(s, stmts, s->nstmts);
		if (!resumed)
			ereport(NOTICE,
					(errmsg_plural("%s of %s is non-transactional: its %d statement runs on its own, committed",
								   "%s of %s is non-transactional: its %d statements run one at a time, each committed",
								   s->nstmts, s->dir, r->id, s->nstmts)));
		else if (s->done < s->nstmts)
			ereport(NOTICE,
					(errmsg("resuming the %s of %s at statement %d of %d",
							s->dir, r->id, s->done + 1, s->nstmts)));
		else
			ereport(NOTICE,
					(errmsg("finishing the %s of %s: its statements ran", s->dir, r->id)));
	}
	migr_spi_finish();
	s->current = s->next;
	s->current_txn = txn;
	/* migr writers called from its SQL are refused, as in CALL mode */
	migr_body_mark_running(r->id);
	PG_RETURN_BOOL(true);
}

/*
 * After a CREATE INDEX CONCURRENTLY IF NOT EXISTS, the index of that name
 * may be an invalid one an earlier failed build left, kept without a word:
 * refuse to count the statement as run.
 */
static void
refuse_invalid_index(ScriptRun *s, MigrRev *r, int k)
{
	Oid			rel,
				ns,
				idx;
	HeapTuple	tup;
	bool		valid;

	if (s->index_names == NULL || s->index_names[k] == NULL)
		return;
	rel = RangeVarGetRelid(s->index_tables[k], NoLock, true);
	if (!OidIsValid(rel))
		return;
	ns = get_rel_namespace(rel);
	idx = get_relname_relid(s->index_names[k], ns);
	if (!OidIsValid(idx))
		return;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idx));
	if (!HeapTupleIsValid(tup))
		return;
	valid = ((Form_pg_index) GETSTRUCT(tup))->indisvalid;
	ReleaseSysCache(tup);
	if (!valid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index %s is not valid after statement %d of the %s of revision \"%s\"",
						quote_qualified_identifier(get_namespace_name(ns),
												   s->index_names[k]),
						k + 1, s->dir, r->id),
				 errdetail("A failed concurrent build left it, and CREATE INDEX CONCURRENTLY IF NOT EXISTS kept it. The script ended; the statement is not recorded as run."),
				 errhint("Drop the index with DROP INDEX CONCURRENTLY, then run CALL %s or a new script from migr.script().",
						 s->upgrade ? "migr.apply()" : "migr.revert()")));
}

/*
 * CALL migr.script_progress(step int4, revision text, statement int4)
 *
 * Statement number statement of the running non-transactional step ran:
 * record it in migr.revision_progress, as CALL mode does, so that a run
 * that fails later resumes after it.
 */
Datum
migr_script_progress(PG_FUNCTION_ARGS)
{
	char	   *revision = migr_required_text_arg(fcinfo, 1, "revision");
	ScriptRun  *s;
	MigrRev    *r;
	int			step,
				stmtno;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", PG_ARGISNULL(0) ? "step" : "statement")));
	step = PG_GETARG_INT32(0);
	stmtno = PG_GETARG_INT32(2);
	s = running_script("migr.script_progress()");
	r = current_step(s, step, revision, "migr.script_progress()");
	if (s->current_txn)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("step %d of the migr script is transactional", step),
				 errdetail("Only the statements of a non-transactional step are recorded one by one."),
				 errhint("Generate a new script with migr.script() and run it unchanged.")));
	if (stmtno != s->done + 1 || stmtno > s->nstmts)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("statement %d of step %d of the migr script is out of order", stmtno, step),
				 s->done < s->nstmts
				 ? errdetail("The next statement of revision \"%s\" is %d, of %d.", r->id, s->done + 1, s->nstmts)
				 : errdetail("All %d statements of revision \"%s\" ran.", s->nstmts, r->id),
				 errhint("Generate a new script with migr.script() and run it unchanged.")));
	refuse_invalid_index(s, r, stmtno - 1);
	migr_spi_connect();
	migr_progress_save(r->id, s->upgrade, stmtno, s->nstmts, s->bodies[s->current].checksum);
	migr_spi_finish();
	s->done = stmtno;
	PG_RETURN_VOID();
}

/*
 * CALL migr.script_done(step int4, revision text)
 *
 * The running step's SQL ran: evaluate verify (verify_down; MG005 when it
 * does not hold) and record the step as CALL mode does; the last step
 * also records the schema snapshot and migr.summary.
 */
Datum
migr_script_done(PG_FUNCTION_ARGS)
{
	char	   *revision = migr_required_text_arg(fcinfo, 1, "revision");
	ScriptRun  *s;
	MigrRev    *r;
	MigrBody   *b;
	int			step,
				x;
	bool		last;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("step must not be null")));
	step = PG_GETARG_INT32(0);
	s = running_script("migr.script_done()");
	r = current_step(s, step, revision, "migr.script_done()");
	if (!s->current_txn && s->done < s->nstmts)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("step %d of the migr script ends before its last statement", step),
				 errdetail("%d of the %d statements of revision \"%s\" are recorded as run.",
						   s->done, s->nstmts, r->id),
				 errhint("Generate a new script with migr.script() and run it unchanged.")));
	x = s->plan->steps[s->current];
	b = &s->bodies[s->current];
	last = s->current == s->plan->nsteps - 1;
	migr_spi_connect();
	if (s->current_txn)
		migr_run_verify(s->run, x, b, s->upgrade);
	else
	{
		MemoryContext cxt = CurrentMemoryContext;

		/* its statements stay committed, whatever the error says */
		PG_TRY();
		{
			migr_run_verify(s->run, x, b, s->upgrade);
		}
		PG_CATCH();
		{
			ErrorData  *err;

			MemoryContextSwitchTo(cxt);
			err = CopyErrorData();
			FlushErrorState();
			err->hint = psprintf("Its statements ran and stay committed. Once the cause is fixed, CALL %s or a new script from migr.script() finishes it without running them again.",
								 s->upgrade ? "migr.apply()" : "migr.revert()");
			ReThrowError(err);
		}
		PG_END_TRY();
	}
	migr_run_record(s->run, x, s->upgrade, false, b->checksum, s->start, s->nstmts);
	if (!s->current_txn)
		migr_progress_clear(r->id);
	migr_run_flush(s->run, last);
	if (last)
		migr_summary_write(s->g);
	mark_next(s, s->current);
	migr_spi_finish();
	migr_body_mark_running(NULL);
	s->current = -1;
	s->next++;
	PG_RETURN_VOID();
}

/*
 * CALL migr.script_end()
 *
 * Every step ran: report as CALL mode does, drop the script's state and let
 * go of the migration lock.
 */
Datum
migr_script_end(PG_FUNCTION_ARGS)
{
	ScriptRun  *s;
	int			n;
	MigrStepRecord *steps;

	migr_body_refuse_reentry("migr.script_end()");
	s = running_script("migr.script_end()");
	if (s->next < s->plan->nsteps)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the migr script ends after %d of its %d steps", s->next, s->plan->nsteps),
				 errdetail("The steps that ran stay done. The script ended."),
				 errhint("Run the rest with CALL %s, or with a new script from migr.script().",
						 s->upgrade ? "migr.apply()" : "migr.revert()")));
	steps = migr_run_steps(s->run, &n);
	if (n > 0)
		ereport(NOTICE,
				(errmsg("%s %d revision%s; current heads: %s",
						s->upgrade ? "applied" : "reverted", n, n == 1 ? "" : "s",
						steps[n - 1].heads_after[0] ? steps[n - 1].heads_after : "none")));
	script_stop();
	PG_RETURN_VOID();
}

/*-------------------------------------------------------------------------
 * callrun.c
 *	  CALL migr.apply() and CALL migr.revert(): the plans of migr.upgrade()
 *	  and migr.downgrade(), run with a commit after each revision, for a
 *	  maintenance window.
 *
 *	  Each revision runs in a subtransaction of its own transaction.  When
 *	  it fails, the subtransaction is rolled back, a failure event is
 *	  written and committed, and the error goes to the caller; the
 *	  revisions before it stay applied.  A revision that failed because a
 *	  lock was not available is retried (migr.lock_retries) after a growing
 *	  wait, each retry logged.
 *
 *	  A non-transactional revision (a statement PostgreSQL refuses inside a
 *	  transaction block, or transactional => false) runs statement by
 *	  statement, each committed with its progress (progress.c), so a run
 *	  that fails resumes at the failed statement.  A statement that must run
 *	  at top level is run by a background worker (worker.c), after a commit
 *	  that leaves this backend holding no snapshot and no lock but the
 *	  migration lock, which it holds at session level from start to end.
 *
 *	  A statement CALLing a batch job (CALL migr.batch_update(), written
 *	  with its schema) commits after each batch: it too runs outside any
 *	  subtransaction, in this backend.  migr.run says which revision the
 *	  run is on, for the view migr.progress, written in the commits the run
 *	  makes anyway (progress.c).
 *
 *	  Everything that must survive the commits lives in the procedure
 *	  context of the non-atomic SPI connection, which is current between
 *	  steps; each step runs on an SPI connection of its own, so what it
 *	  allocates is freed when it ends.
 *
 * IDENTIFICATION
 *	  src/callrun.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "activity.h"
#include "apply.h"
#include "body.h"
#include "catalog.h"
#include "checksum.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "guc.h"
#include "idxclean.h"
#include "lock.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "progress.h"
#include "sleep.h"
#include "sqlcall.h"
#include "stmtguard.h"
#include "subxact.h"
#include "summary.h"
#include "target.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(migr_apply_proc);
PG_FUNCTION_INFO_V1(migr_revert_proc);

typedef struct CallRun
{
	MigrGraph  *g;
	MigrPlan   *plan;
	MigrBody   *bodies;
	MigrRun    *run;
	MigrProgress *progress;		/* the revision part way through, if any */
	bool		upgrade;
	const char *dir;			/* "upgrade" or "downgrade" */
	const char *target;
	MemoryContext cxt;			/* survives the commits */
	MemoryContext stepcxt;		/* reset after each statement */
	MemoryContext revcxt;		/* reset after each transactional revision */
} CallRun;

/* What a step needs inside its subtransaction */
typedef struct StepArg
{
	CallRun    *cr;
	int			i;				/* plan step */
	MigrStatement *stmt;		/* non-transactional: the statement, or NULL */
	int			stmtno;
	int			nstmts;
	TimestampTz start;
	int			phase;			/* see nontxn_fn */
} StepArg;

/*
 * CALL commits: it cannot run where the caller's transaction must stay
 * open.  CallContext.atomic says so for a transaction block and for a CALL
 * from a function or a DO block inside one.
 */
static void
refuse_atomic(FunctionCallInfo fcinfo, bool upgrade)
{
	CallContext *cc = (CallContext *) fcinfo->context;

	if (cc && IsA(cc, CallContext) && !cc->atomic)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
			 IsTransactionBlock()
			 ? errmsg("CALL %s cannot run inside a transaction block",
					  upgrade ? "migr.apply()" : "migr.revert()")
			 : errmsg("CALL %s cannot be executed from a function",
					  upgrade ? "migr.apply()" : "migr.revert()"),
			 errdetail("It commits after each revision. Nothing was done."),
			 errhint("CALL it on its own, or use SELECT * FROM %s() for an all-or-nothing run in one transaction.",
					 upgrade ? "migr.upgrade" : "migr.downgrade")));
}

/*
 * Revision SQL can let go of the migration lock the procedure holds for
 * the session (pg_advisory_unlock_all()); another runner could then start.
 * Fail the step that did it.
 */
static void
require_lock(const char *rev)
{
	if (!migr_lock_held_session())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("revision \"%s\" released the migration lock", rev),
				 errdetail("Its SQL let go of the advisory lock that migr holds for the whole CALL, so another runner could have started. What this step ran was rolled back."),
				 errhint("Take pg_advisory_unlock_all() or pg_advisory_unlock(1835624306) out of the revision.")));
}

/*
 * Step i is done: migr.run names the next one, or is emptied after the
 * last, in the commit that ends step i.
 */
static void
mark_next(CallRun *cr, int i)
{
	if (i + 1 < cr->plan->nsteps)
		migr_run_marker_step(i + 2, cr->g->revs[cr->plan->steps[i + 1]].id, cr->upgrade);
	else
		migr_run_marker_end();
}

/* The whole revision (transactional mode), in its subtransaction */
static void
txn_fn(void *arg)
{
	StepArg    *a = (StepArg *) arg;
	CallRun    *cr = a->cr;
	int			x = cr->plan->steps[a->i];

	/* a connection of its own: what the step allocates goes with it */
	migr_spi_connect();
	migr_run_step(cr->run, x, &cr->bodies[a->i], cr->upgrade, cr->stepcxt);
	require_lock(cr->g->revs[x].id);
	migr_run_flush(cr->run, a->i == cr->plan->nsteps - 1);
	if (a->i == cr->plan->nsteps - 1)
		migr_summary_write(cr->g);
	mark_next(cr, a->i);
	migr_spi_finish();
}

/*
 * The pieces of a non-transactional revision, each in its subtransaction:
 * phase 0, the checks before it (returns skipped in a->stmtno < 0); phase
 * 1, one statement that is not top-level (see try_toplevel) with its
 * progress; phase 2, verify and the record.
 */
static void
nontxn_fn(void *arg)
{
	StepArg    *a = (StepArg *) arg;
	CallRun    *cr = a->cr;
	int			x = cr->plan->steps[a->i];
	MigrRev    *r = &cr->g->revs[x];
	MigrBody   *b = &cr->bodies[a->i];
	bool		last = a->i == cr->plan->nsteps - 1;

	migr_spi_connect();
	switch (a->phase)
	{
		case 0:
			if (migr_run_precheck(cr->run, x, b, cr->upgrade))
			{
				/* skip_if holds: the whole step is this transaction */
				migr_run_verify(cr->run, x, b, cr->upgrade);
				migr_run_record(cr->run, x, cr->upgrade, true, b->checksum, a->start, 0);
				migr_run_flush(cr->run, last);
				if (last)
					migr_summary_write(cr->g);
				mark_next(cr, a->i);
				a->stmtno = -1;
			}
			break;
		case 1:
			migr_body_run_statement(r->id, cr->dir, a->stmtno, a->stmt, true);
			require_lock(r->id);
			MemoryContextReset(cr->stepcxt);
			migr_progress_save(r->id, cr->upgrade, a->stmtno, a->nstmts, b->checksum);
			break;
		case 2:
			migr_run_verify(cr->run, x, b, cr->upgrade);
			migr_run_record(cr->run, x, cr->upgrade, false, b->checksum, a->start, a->nstmts);
			migr_progress_clear(r->id);
			migr_run_flush(cr->run, last);
			if (last)
				migr_summary_write(cr->g);
			mark_next(cr, a->i);
			break;
	}
	migr_spi_finish();
}

/*
 * Call fn(arg) in the current transaction, which has just begun (after a
 * commit), outside any subtransaction: a statement run at top level must
 * not be in one, and neither must a commit.  On error, roll the transaction
 * back and return the error, copied; NULL when fn returns.
 */
static ErrorData *
try_or_roll_back(MigrSubxactFn fn, void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile err = NULL;

	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		err = CopyErrorData();
		FlushErrorState();
		SPI_rollback();
	}
	PG_END_TRY();
	return err;
}

static void
back_off_fn(void *arg)
{
	migr_sleep(*(int *) arg);
}

/*
 * Describe the schema for migr.check() after a failure, under the lock
 * timeout of migr's statements: describing it reads the tables' catalog
 * entries, and a failure that was a lock timeout is likely to find the same
 * lock still held.
 */
static void
snapshot_fn(void *arg)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("lock_timeout", psprintf("%d", migr_guard_lock_timeout()),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	migr_run_snapshot((MigrRun *) arg);
	AtEOXact_GUC(true, nest);
}

/*
 * A step (or a statement of one) failed with err, and its subtransaction
 * was rolled back.  Record the failure and commit it.  Returns whether to
 * retry: the lock was not available, retries are left, and the run's state
 * is untouched.  When not, the schema description for migr.check() is
 * saved too, and the caller raises err.  attempt < 0: a piece that is
 * never retried (the checks around a non-transactional revision).
 */
static bool
record_failure(CallRun *cr, int i, ErrorData *err, int attempt, const char *heads,
			   TimestampTz start, bool state_intact, int stmtno, const char *stmt)
{
	MigrFailure f = {0};
	bool		retry = err->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE &&
		attempt >= 0 && attempt < migr_lock_retries && state_intact;

	f.rev = cr->plan->steps[i];
	f.operation = cr->dir;
	f.outcome = retry ? "retry" : "failed";
	f.started_at = start;
	f.duration_us = GetCurrentTimestamp() - start;
	f.heads = (char *) heads;
	f.error = err;
	f.statement_no = stmtno;
	f.statement = stmt;
	if (err->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
		f.blocking_pids = migr_guard_last_blockers(&f.nblocking);

	if (!retry && attempt > 0)
		err->detail = psprintf("%s%smigr gave up after %d retries (migr.lock_retries).",
							   err->detail ? err->detail : "", err->detail ? " " : "",
							   attempt);
	migr_catalog_record_failure(cr->g, &f);
	if (!retry)
	{
		ErrorData  *serr = migr_subxact_try(snapshot_fn, cr->run, true, true);

		if (serr)
			ereport(NOTICE,
					(errmsg("could not record the schema as the failure left it: %s", serr->message),
					 errdetail("migr.check() may report drift until the next run records it.")));
		if (state_intact)
			migr_summary_write(cr->g);
		migr_run_marker_end();
	}
	SPI_commit();
	return retry;
}

/*
 * Before retry number attempt + 1: wait, longer each time.  A cancel during
 * the wait ends the run as a failure of the revision does: recorded, and
 * named in the error's context.
 */
static void
retry_wait(CallRun *cr, int i, ErrorData *err, int attempt, const char *heads)
{
	TimestampTz start = GetCurrentTimestamp();
	int			delay = migr_retry_delay(attempt, migr_lock_retry_delay);
	ErrorData  *cancel;

	ereport(NOTICE,
			(errmsg("retrying the %s of %s in %d ms: %s", cr->dir,
					cr->g->revs[cr->plan->steps[i]].id, delay, err->message),
			 errdetail("Retry %d of %d (migr.lock_retries).", attempt + 1,
					   migr_lock_retries)));
	/* a cancel while waiting ends the run: say so after the "retry" row */
	cancel = try_or_roll_back(back_off_fn, &delay);
	if (cancel)
	{
		cancel->context = psprintf("%s%smigr revision \"%s\" (%s), waiting to retry",
								   cancel->context ? cancel->context : "",
								   cancel->context ? "\n" : "",
								   cr->g->revs[cr->plan->steps[i]].id, cr->dir);
		(void) record_failure(cr, i, cancel, 0, heads, start, true, 0, NULL);
		ReThrowError(cancel);
	}
}

/*
 * After a watched statement failed: drop the invalid indexes it left.  A
 * failure here is added to err's detail rather than hiding err.
 */
typedef struct CleanupArg
{
	const char *rev;
	MigrIndexWatch *watch;
} CleanupArg;

static void
cleanup_fn(void *arg)
{
	CleanupArg *c = (CleanupArg *) arg;

	migr_index_cleanup(c->rev, c->watch);
}

static void
clean_up_indexes(const char *rev, MigrIndexWatch *w, ErrorData *err)
{
	CleanupArg	c = {rev, w};
	ErrorData  *cerr = try_or_roll_back(cleanup_fn, &c);

	if (cerr)
		err->detail = psprintf("%s%sThe invalid index it left could not be dropped: %s.",
							   err->detail ? err->detail : "", err->detail ? " " : "",
							   cerr->message);
}

/*
 * One transactional revision, retried while a lock is not available.  What
 * it allocates outside the run's state (record_step() keeps that in cr->cxt)
 * is freed after its commit, so a long run does not grow per revision.
 */
static void
run_txn(CallRun *cr, int i)
{
	StepArg		a = {cr, i};
	MemoryContext old = MemoryContextSwitchTo(cr->revcxt);

	for (int attempt = 0;; attempt++)
	{
		char	   *heads = migr_run_heads(cr->run);
		TimestampTz start = GetCurrentTimestamp();
		int			before,
					after;
		ErrorData  *err;
		const char *stmt;
		int			stmtno;

		(void) migr_run_steps(cr->run, &before);
		(void) migr_body_failed_statement(&stmt);
		err = migr_subxact_try(txn_fn, &a, true, true);
		if (err == NULL)
		{
			SPI_commit();
			MemoryContextSwitchTo(old);
			MemoryContextReset(cr->revcxt);
			return;
		}
		/* the statement's text lives in stepcxt */
		stmtno = migr_body_failed_statement(&stmt);
		stmt = stmt ? pstrdup(stmt) : NULL;
		MemoryContextReset(cr->stepcxt);
		(void) migr_run_steps(cr->run, &after);
		if (!record_failure(cr, i, err, attempt, heads, start, after == before,
							stmtno, stmt))
			ReThrowError(err);
		retry_wait(cr, i, err, attempt, heads);
	}
}

/*
 * Run a top-level statement: not in a subtransaction, which would put this
 * backend in a transaction block, but in the fresh transaction after a
 * commit; on error, roll that transaction back and return the error.  The
 * index watch (*watch) is set up here too, since dropping an invalid index
 * before the statement can fail like the statement itself.
 */
typedef struct ToplevelArg
{
	CallRun    *cr;
	StepArg    *a;
	MigrIndexWatch **watch;
} ToplevelArg;

static void
toplevel_fn(void *arg)
{
	ToplevelArg *t = (ToplevelArg *) arg;
	CallRun    *cr = t->cr;
	const char *rev = cr->g->revs[cr->plan->steps[t->a->i]].id;

	*t->watch = migr_index_watch(rev, t->a->stmt);
	/* let go of every snapshot: the statement may wait for them */
	SPI_commit();
	migr_body_run_statement(rev, cr->dir, t->a->stmtno, t->a->stmt, true);
}

static ErrorData *
try_toplevel(CallRun *cr, StepArg *a, MigrIndexWatch **watch)
{
	ToplevelArg t = {cr, a, watch};

	return try_or_roll_back(toplevel_fn, &t);
}

/*
 * Run a statement that commits as it goes (CALL migr.batch_update()):
 * like a top-level one, outside any subtransaction, but in this backend,
 * which must still hold the migration lock afterwards.
 */
static void
commits_fn(void *arg)
{
	StepArg    *a = (StepArg *) arg;
	CallRun    *cr = a->cr;
	const char *rev = cr->g->revs[cr->plan->steps[a->i]].id;

	migr_body_run_statement(rev, cr->dir, a->stmtno, a->stmt, true);
	require_lock(rev);
}

/* One statement of a non-transactional revision, retried like a revision */
static void
run_statement(CallRun *cr, StepArg *a)
{
	const char *rev = cr->g->revs[cr->plan->steps[a->i]].id;

	for (int attempt = 0;; attempt++)
	{
		char	   *heads = migr_run_heads(cr->run);
		TimestampTz start = GetCurrentTimestamp();
		MigrIndexWatch *watch = NULL;
		ErrorData  *err;
		const char *ignored;

		(void) migr_body_failed_statement(&ignored);
		a->phase = 1;
		if (a->stmt->toplevel)
			err = try_toplevel(cr, a, &watch);
		else if (a->stmt->commits)
			err = try_or_roll_back(commits_fn, a);
		else
			err = migr_subxact_try(nontxn_fn, a, true, true);
		if (err == NULL)
		{
			/* it committed on its own (or in batches): record it now */
			if (a->stmt->toplevel || a->stmt->commits)
				migr_progress_save(rev, cr->upgrade, a->stmtno, a->nstmts,
								   cr->bodies[a->i].checksum);
			SPI_commit();
			return;
		}
		(void) migr_body_failed_statement(&ignored);
		if (watch)
			clean_up_indexes(rev, watch, err);
		if (!record_failure(cr, a->i, err, attempt, heads, start, true, a->stmtno,
							a->stmt->text))
			ReThrowError(err);
		retry_wait(cr, a->i, err, attempt, heads);
	}
}

/* One non-transactional revision: statement by statement, resumable. */
static void
run_nontxn(CallRun *cr, int i)
{
	int			x = cr->plan->steps[i];
	MigrRev    *r = &cr->g->revs[x];
	MigrBody   *b = &cr->bodies[i];
	StepArg		a = {cr, i};
	MigrStatement *stmts;
	int			first = 0;
	ErrorData  *err;

	stmts = migr_body_split(r->id, cr->dir, b->sql, &a.nstmts);
	a.start = GetCurrentTimestamp();
	if (cr->progress && strcmp(cr->progress->revision, r->id) == 0)
	{
		MigrProgress *p = cr->progress;

		if (!migr_checksum_equal(p->checksum, b->checksum) || p->total != a.nstmts)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("revision \"%s\" changed while part way through its %s", r->id, cr->dir),
					 errdetail("%d of its statements ran; its content is no longer what they were part of.",
							   p->done),
					 errhint("Register it again as it was, or undo its statements by hand and have the extension owner delete its row from migr.revision_progress.")));
		first = p->done;
		if (first < a.nstmts)
			ereport(NOTICE,
					(errmsg("resuming the %s of %s at statement %d of %d",
							cr->dir, r->id, first + 1, a.nstmts)));
		else
			ereport(NOTICE,
					(errmsg("finishing the %s of %s: its statements ran", cr->dir, r->id)));
	}
	else
	{
		char	   *heads = migr_run_heads(cr->run);

		a.phase = 0;
		err = migr_subxact_try(nontxn_fn, &a, true, true);
		if (err)
		{
			(void) record_failure(cr, i, err, -1, heads, a.start, true, 0, NULL);
			ReThrowError(err);
		}
		SPI_commit();
		if (a.stmtno < 0)
			return;				/* skipped */
		ereport(NOTICE,
				(errmsg_plural("%s of %s is non-transactional: its %d statement runs on its own, committed",
							   "%s of %s is non-transactional: its %d statements run one at a time, each committed",
							   a.nstmts, cr->dir, r->id, a.nstmts)));
	}

	for (int k = first; k < a.nstmts; k++)
	{
		CHECK_FOR_INTERRUPTS();
		a.stmt = &stmts[k];
		a.stmtno = k + 1;
		run_statement(cr, &a);
	}

	a.phase = 2;
	{
		char	   *heads = migr_run_heads(cr->run);
		int			before,
					after;

		(void) migr_run_steps(cr->run, &before);
		err = migr_subxact_try(nontxn_fn, &a, true, true);
		(void) migr_run_steps(cr->run, &after);
		if (err)
		{
			/* its statements stay committed, whatever the error says */
			err->hint = psprintf("Its statements ran and stay committed. Once the cause is fixed, CALL %s again finishes it without running them again.",
								 cr->upgrade ? "migr.apply()" : "migr.revert()");
			(void) record_failure(cr, i, err, -1, heads, a.start,
								  before == after, 0, NULL);
			ReThrowError(err);
		}
	}
	SPI_commit();
}

/* Under the migration lock: plan and run, one commit per revision. */
static void
call_body(CallRun *cr, const char *target)
{
	int64		max_seq;
	int			flag = cr->upgrade ? MIGR_NONTXN_UPGRADE : MIGR_NONTXN_DOWNGRADE;
	int			n;
	MigrStepRecord *steps;

	cr->g = migr_catalog_load_graph(cr->cxt, true, &max_seq);
	cr->plan = cr->upgrade ? migr_plan_upgrade(cr->g, target)
		: migr_plan_downgrade(cr->g, target);
	cr->progress = migr_refuse_unfinished(cr->g, cr->plan, true);
	if (cr->plan->nsteps == 0)
	{
		migr_summary_write(cr->g);
		SPI_commit();
		ereport(NOTICE,
				(errmsg("nothing to %s", cr->upgrade ? "apply" : "revert")));
		return;
	}
	cr->bodies = migr_catalog_load_bodies(cr->g, cr->plan->steps, cr->plan->nsteps,
										  cr->upgrade, cr->cxt);
	migr_run_refuse_irreversible(cr->g, cr->plan, cr->bodies);
	cr->run = migr_run_begin(cr->g, max_seq, cr->plan->nsteps, true);
	migr_summary_hold_stale(true);
	cr->stepcxt = AllocSetContextCreate(cr->cxt, "migr step", ALLOCSET_DEFAULT_SIZES);
	cr->revcxt = AllocSetContextCreate(cr->cxt, "migr revision", ALLOCSET_DEFAULT_SIZES);
	/* migr.progress shows the run from here on */
	migr_run_marker_start(cr->upgrade, cr->target, cr->plan->nsteps);
	migr_run_marker_step(1, cr->g->revs[cr->plan->steps[0]].id, cr->upgrade);
	SPI_commit();

	for (int i = 0; i < cr->plan->nsteps; i++)
	{
		MigrRev    *r = &cr->g->revs[cr->plan->steps[i]];

		CHECK_FOR_INTERRUPTS();
		if ((r->nontxn & flag) ||
			(cr->progress && strcmp(cr->progress->revision, r->id) == 0))
			run_nontxn(cr, i);
		else
			run_txn(cr, i);
	}
	steps = migr_run_steps(cr->run, &n);
	ereport(NOTICE,
			(errmsg("%s %d revision%s; current heads: %s",
					cr->upgrade ? "applied" : "reverted", n, n == 1 ? "" : "s",
					steps[n - 1].heads_after[0] ? steps[n - 1].heads_after : "none")));
}

static void
run_call(FunctionCallInfo fcinfo, bool upgrade)
{
	const char *fn = upgrade ? "migr.apply()" : "migr.revert()";
	char	   *target = migr_required_text_arg(fcinfo, 0, "target");
	CallRun		cr = {0};
	int			rc;
	Oid			ext;

	migr_body_refuse_reentry(fn);
	migr_require_writable(fn);
	refuse_atomic(fcinfo, upgrade);
	if ((rc = SPI_connect_ext(SPI_OPT_NONATOMIC)) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed: %s", SPI_result_code_string(rc));
	cr.cxt = CurrentMemoryContext;
	cr.upgrade = upgrade;
	cr.dir = upgrade ? "upgrade" : "downgrade";
	target = pstrdup(target);
	cr.target = target;

	ext = migr_lock_acquire_session();
	PG_TRY();
	{
		/* a snapshot taken after the wait for the lock */
		SPI_commit();
		call_body(&cr, target);
	}
	PG_FINALLY();
	{
		migr_summary_hold_stale(false);
		migr_lock_release_session(ext);
		migr_activity_restore();
	}
	PG_END_TRY();
	SPI_finish();
}

/* CALL migr.apply(target text DEFAULT 'head') */
Datum
migr_apply_proc(PG_FUNCTION_ARGS)
{
	run_call(fcinfo, true);
	PG_RETURN_VOID();
}

/* CALL migr.revert(target text DEFAULT '-1') */
Datum
migr_revert_proc(PG_FUNCTION_ARGS)
{
	run_call(fcinfo, false);
	PG_RETURN_VOID();
}

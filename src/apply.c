/*-------------------------------------------------------------------------
 * apply.c
 *	  Run a plan: each revision's SQL (body.c) with its checks; keep the
 *	  applied set and the current heads up to date as steps run; record the
 *	  steps in the catalog and return them to the caller, which reports them.
 *
 *	  Runs inside the caller's transaction and SPI connection: an error
 *	  anywhere aborts the whole call and nothing is left half-applied.
 *
 * IDENTIFICATION
 *	  src/apply.c
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "apply.h"
#include "batch.h"
#include "body.h"
#include "catalog.h"
#include "catsig.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "migr_errcodes.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "revcheck.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

typedef struct RunState
{
	MigrGraph  *g;
	int64		max_seq;
	int		   *applied_children;	/* applied children, any edge */
	int		   *heads;			/* current heads by (head_seq, index) */
	int			nheads;
	bool	   *seq_dirty;		/* head_seq changed during this call */
	bool	   *inserted;		/* applied since the last flush */
	int		   *touched;		/* where seq_dirty or inserted is set */
	int			ntouched;
	MigrStepRecord *rec;
	int			nrec;
	int			flushed;		/* rec[0 .. flushed) are written */
	bool		call_mode;		/* CALL mode: each step commits */
	MemoryContext cxt;			/* where the state and records live */
} RunState;

/* Note that revision x has a flag set in seq_dirty or inserted. */
static void
touch(RunState *st, int x)
{
	if (!st->seq_dirty[x] && !st->inserted[x])
		st->touched[st->ntouched++] = x;
}

static bool
is_head(RunState *st, int x)
{
	return st->g->revs[x].applied && st->applied_children[x] == 0;
}

static void
init_state(RunState *st, MigrGraph *g, int64 max_seq, int nsteps)
{
	int		   *h;

	st->g = g;
	st->max_seq = max_seq;
	st->applied_children = palloc0(sizeof(int) * (g->nrevs + 1));
	st->seq_dirty = palloc0(sizeof(bool) * (g->nrevs + 1));
	st->inserted = palloc0(sizeof(bool) * (g->nrevs + 1));
	st->touched = palloc(sizeof(int) * (g->nrevs + 1));
	st->ntouched = 0;
	st->flushed = 0;
	st->call_mode = false;
	st->cxt = CurrentMemoryContext;
	for (int i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];

		if (!r->applied)
			continue;
		for (int j = 0; j < r->nalldown; j++)
			st->applied_children[r->alldown[j]]++;
	}
	h = migr_graph_current_heads(g, &st->nheads);
	st->heads = palloc(sizeof(int) * (g->nrevs + 1));
	memcpy(st->heads, h, sizeof(int) * st->nheads);
	st->rec = palloc0(sizeof(MigrStepRecord) * (nsteps + 1));
	st->nrec = 0;
}

static char *
heads_string(RunState *st)
{
	size_t		len = 1;
	char	   *out,
			   *p;

	/* sized exactly: one per step, and a StringInfo starts at 1 kB */
	for (int i = 0; i < st->nheads; i++)
		len += strlen(st->g->revs[st->heads[i]].id) + 1;
	p = out = palloc(len);
	for (int i = 0; i < st->nheads; i++)
	{
		const char *id = st->g->revs[st->heads[i]].id;
		size_t		n = strlen(id);

		if (i > 0)
			*p++ = ',';
		memcpy(p, id, n);
		p += n;
	}
	*p = '\0';
	return out;
}

/* Rebuild the ordered list of current heads after rev's step. */
static void
refresh_heads(RunState *st, int changed, const int *added, int nadded)
{
	MigrGraph  *g = st->g;
	int			k = 0;

	/* drop revisions that stopped being heads */
	for (int i = 0; i < st->nheads; i++)
		if (is_head(st, st->heads[i]) && st->heads[i] != changed)
			st->heads[k++] = st->heads[i];
	st->nheads = k;
	/* insert new heads in (head_seq, index) order */
	for (int a = 0; a < nadded; a++)
	{
		int			x = added[a];
		int			pos = st->nheads;

		while (pos > 0 &&
			   (g->revs[st->heads[pos - 1]].head_seq > g->revs[x].head_seq ||
				(g->revs[st->heads[pos - 1]].head_seq == g->revs[x].head_seq &&
				 st->heads[pos - 1] > x)))
		{
			st->heads[pos] = st->heads[pos - 1];
			pos--;
		}
		st->heads[pos] = x;
		st->nheads++;
	}
}

/*
 * Bookkeeping of an upgrade step: rev takes the row of the head it
 * continues (the earliest one at a merge), or a new row when it starts a
 * branch, as an Alembic version table would.
 */
static void
mark_applied(RunState *st, int x)
{
	MigrRev    *r = &st->g->revs[x];
	int64		seq = -1;

	for (int j = 0; j < r->ndown; j++)
		if (is_head(st, r->down[j]) &&
			(seq < 0 || st->g->revs[r->down[j]].head_seq < seq))
			seq = st->g->revs[r->down[j]].head_seq;
	r->head_seq = seq < 0 ? ++st->max_seq : seq;
	r->applied = true;
	touch(st, x);
	st->inserted[x] = true;
	for (int j = 0; j < r->nalldown; j++)
		st->applied_children[r->alldown[j]]++;
	refresh_heads(st, -1, &x, 1);
}

/*
 * Bookkeeping of a downgrade step: the revisions below rev that become heads
 * again take new rows, but the last in declared order, which takes its row.
 */
static void
mark_reverted(RunState *st, int x)
{
	MigrRev    *r = &st->g->revs[x];
	int		   *added = palloc(sizeof(int) * (r->nparents + r->ndeps + 1));
	int			nadded = 0;

	if (!is_head(st, x))
		elog(ERROR, "revision \"%s\" is reverted while a revision above it is applied", r->id);
	r->applied = false;
	st->inserted[x] = false;
	for (int j = 0; j < r->nalldown; j++)
		st->applied_children[r->alldown[j]]--;
	for (int j = 0; j < r->ndown; j++)
		if (is_head(st, r->down[j]))
			added[nadded++] = r->down[j];
	/*
	 * As Alembic's unmerge: every revision that becomes a head again gets a
	 * new row, but the last, which takes the reverted revision's row.
	 */
	for (int k = 0; k < nadded; k++)
	{
		st->g->revs[added[k]].head_seq = k == nadded - 1 ? r->head_seq : ++st->max_seq;
		touch(st, added[k]);
		st->seq_dirty[added[k]] = true;
	}
	refresh_heads(st, x, added, nadded);
}

static char *
parents_string(MigrGraph *g, MigrRev *r)
{
	StringInfoData buf;

	if (r->nparents == 0)
		return "base";
	initStringInfo(&buf);
	for (int i = 0; i < r->nparents; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", g->revs[r->parents[i]].id);
	return buf.data;
}

/*
 * Write the records not written yet: applied rows, moved head rows, events;
 * with fingerprint, also the schema description and fingerprint as the run
 * leaves it (once per run, not per step: per step would be quadratic).
 */
static void
flush(RunState *st, bool fingerprint)
{
	int		   *seq_revs = palloc(sizeof(int) * (st->ntouched + 1));
	int64	   *seqs = palloc(sizeof(int64) * (st->ntouched + 1));
	int			nseq = 0;
	char	   *fp = NULL;
	int			nrows = 0;
	MigrDescRow *rows = NULL;
	uint8	   *sig = NULL;

	if (st->nrec == st->flushed)
		return;
	for (int i = st->flushed; i < st->nrec; i++)
		if (st->rec[i].now_applied)
			st->rec[i].head_seq = st->g->revs[st->rec[i].rev].head_seq;
	for (int k = 0; k < st->ntouched; k++)
	{
		int			i = st->touched[k];

		if (st->seq_dirty[i] && st->g->revs[i].applied && !st->inserted[i])
		{
			seq_revs[nseq] = i;
			seqs[nseq++] = st->g->revs[i].head_seq;
		}
		st->seq_dirty[i] = st->inserted[i] = false;
	}
	st->ntouched = 0;
	if (fingerprint)
	{
		/* the signature first: a change in between then only costs time */
		sig = migr_catalog_signature();
		rows = migr_describe((Datum) 0, true, &nrows);
		fp = migr_fingerprint_of(rows, nrows);
	}
	migr_catalog_record_steps(st->g, st->rec + st->flushed, st->nrec - st->flushed,
							  nseq, seq_revs, seqs, fp);
	if (fingerprint)
		migr_catalog_save_snapshot(rows, nrows, fp, sig);
	st->flushed = st->nrec;
}

/*
 * Record a step that ran (or was skipped, or stamped): update the
 * bookkeeping and add its record.  Nothing before this changes the state,
 * so a step that fails before it leaves the state as it was.
 */
static void
record_step(RunState *st, int x, bool upgrade, const char *operation,
			bytea *checksum, TimestampTz start, TimestampTz end, int statements)
{
	MemoryContext old = MemoryContextSwitchTo(st->cxt);
	MigrStepRecord *rec = &st->rec[st->nrec++];

	rec->rev = x;
	rec->operation = operation;
	rec->now_applied = upgrade;
	rec->checksum = checksum;
	rec->statements = statements;
	/* the heads before a step are the heads after the previous one */
	rec->heads_before = st->nrec > 1 ? st->rec[st->nrec - 2].heads_after
		: heads_string(st);
	if (upgrade)
		mark_applied(st, x);
	else
		mark_reverted(st, x);
	rec->started_at = start;
	rec->duration_us = end - start;
	rec->heads_after = heads_string(st);
	MemoryContextSwitchTo(old);
}

/* A step without SQL (a stamp) */
static void
do_step(RunState *st, int x, bool upgrade, const char *operation, bytea *checksum)
{
	TimestampTz now = GetCurrentTimestamp();

	record_step(st, x, upgrade, operation, checksum, now, now, 0);
}

typedef struct CheckErrorContext
{
	const char *rev;
	const char *direction;
	const char *check;
} CheckErrorContext;

static void
check_error_callback(void *arg)
{
	CheckErrorContext *c = (CheckErrorContext *) arg;

	errcontext("migr revision \"%s\" (%s), check %s", c->rev, c->direction, c->check);
}

/* Evaluate one check of a revision, naming it in any error's context. */
static bool
run_check(MigrRev *r, const char *direction, MigrCheckKind kind, const char *expr)
{
	CheckErrorContext ctx = {r->id, direction, migr_check_names[kind]};
	ErrorContextCallback cb;
	bool		result;

	cb.callback = check_error_callback;
	cb.arg = &ctx;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	result = migr_eval_check(r->id, kind, expr);
	error_context_stack = cb.previous;
	return result;
}

/*
 * migr_run_begin
 *		State for running plan steps on g, in CurrentMemoryContext, which
 *		must outlive the run (CALL mode: across commits).
 */
MigrRun *
migr_run_begin(MigrGraph *g, int64 max_seq, int nsteps, bool call_mode)
{
	RunState   *st = palloc0(sizeof(RunState));

	init_state(st, g, max_seq, nsteps);
	st->call_mode = call_mode;
	return st;
}

/* migr_run_heads: the current heads, comma-separated. */
char *
migr_run_heads(MigrRun *run)
{
	return heads_string(run);
}

/* migr_run_steps: the records of the steps so far; *n of them. */
MigrStepRecord *
migr_run_steps(MigrRun *run, int *n)
{
	*n = run->nrec;
	return run->rec;
}

/*
 * migr_run_snapshot
 *		Save the schema description and fingerprint as they are now, for
 *		migr.check(): after a failure in CALL mode, which leaves the schema
 *		as the revisions before the failed one made it.
 */
void
migr_run_snapshot(MigrRun *run)
{
	int			nrows;
	uint8	   *sig = migr_catalog_signature();
	MigrDescRow *rows = migr_describe((Datum) 0, true, &nrows);

	migr_catalog_save_snapshot(rows, nrows, migr_fingerprint_of(rows, nrows), sig);
}

/* migr_run_flush: write the records not written yet (see flush). */
void
migr_run_flush(MigrRun *run, bool fingerprint)
{
	flush(run, fingerprint);
}

/*
 * migr_run_refuse_irreversible
 *		Refuse a downgrade plan through an irreversible revision (MG002)
 *		before anything runs, so a downgrade reverts every step or none.
 */
void
migr_run_refuse_irreversible(MigrGraph *g, MigrPlan *plan, MigrBody *bodies)
{
	if (plan->upgrade)
		return;
	for (int i = 0; i < plan->nsteps; i++)
		if (bodies[i].sql == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_MIGR_IRREVERSIBLE),
					 errmsg("cannot downgrade through irreversible revision \"%s\"",
							g->revs[plan->steps[i]].id),
					 errdetail("The revision has no downgrade SQL; nothing was reverted."),
					 errhint("Downgrade to a target above it, or register the revision again with downgrade SQL if it is not applied elsewhere.")));
}

/*
 * migr_run_precheck
 *		Before an upgrade step's SQL: true when skip_if holds (the step is
 *		then recorded as skipped, after its verify); an error when requires
 *		does not.  Announces the step.
 */
bool
migr_run_precheck(MigrRun *run, int x, MigrBody *b, bool upgrade)
{
	MigrGraph  *g = run->g;
	MigrRev    *r = &g->revs[x];
	char	  **ck = b->checks;

	if (!upgrade)
	{
		ereport(NOTICE,
				(errmsg("reverting %s (back to %s)", r->id, parents_string(g, r))));
		return false;
	}
	if (ck[MIGR_CHECK_SKIP_IF] &&
		run_check(r, "upgrade", MIGR_CHECK_SKIP_IF, ck[MIGR_CHECK_SKIP_IF]))
	{
		ereport(NOTICE,
				(errmsg("skipping %s (revises %s): its change is already in effect",
						r->id, parents_string(g, r)),
				 errdetail("skip_if holds: %s", ck[MIGR_CHECK_SKIP_IF])));
		return true;
	}
	if (ck[MIGR_CHECK_REQUIRES] &&
		!run_check(r, "upgrade", MIGR_CHECK_REQUIRES, ck[MIGR_CHECK_REQUIRES]))
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_PRECONDITION),
				 errmsg("precondition of revision \"%s\" is not met", r->id),
				 errdetail("requires did not hold: %s", ck[MIGR_CHECK_REQUIRES]),
				 run->call_mode
				 ? errhint("Nothing of this revision was applied.")
				 : errhint("Nothing of this call was applied.")));
	ereport(NOTICE,
			(errmsg("applying %s (revises %s)", r->id, parents_string(g, r))));
	return false;
}

/*
 * migr_run_verify
 *		After a step's SQL: verify (upgrade) or verify_down (downgrade) must
 *		hold, or the step fails (MG004).
 */
void
migr_run_verify(MigrRun *run, int x, MigrBody *b, bool upgrade)
{
	MigrRev    *r = &run->g->revs[x];
	MigrCheckKind kind = upgrade ? MIGR_CHECK_VERIFY : MIGR_CHECK_VERIFY_DOWN;
	const char *dir = upgrade ? "upgrade" : "downgrade";

	if (b->checks[kind] && !run_check(r, dir, kind, b->checks[kind]))
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_POSTCONDITION),
				 errmsg("migration verification failed"),
				 errdetail("After the %s of revision \"%s\", %s did not hold: %s",
						   dir, r->id, migr_check_names[kind], b->checks[kind]),
				 run->call_mode
				 ? errhint("The work of this revision has been rolled back.")
				 : errhint("Everything this call did has been rolled back.")));
}

/* migr_run_record: record a step whose SQL ran (see record_step). */
void
migr_run_record(MigrRun *run, int x, bool upgrade, bool skipped, bytea *checksum,
				TimestampTz start, int statements)
{
	record_step(run, x, upgrade, skipped ? "skip" : upgrade ? "upgrade" : "downgrade",
				checksum, start, GetCurrentTimestamp(), statements);
	migr_batch_forget_revision(run->g->revs[x].id);
}

/*
 * migr_run_step
 *		One step of a plan, whole: checks, SQL (in the current transaction),
 *		verification, then the record.  stepcxt is reset after the SQL.
 */
void
migr_run_step(MigrRun *run, int x, MigrBody *b, bool upgrade, MemoryContext stepcxt)
{
	MigrRev    *r = &run->g->revs[x];
	bool		skip = migr_run_precheck(run, x, b, upgrade);
	TimestampTz start = GetCurrentTimestamp();
	int			n = 0;

	if (!skip)
	{
		MemoryContext old = MemoryContextSwitchTo(stepcxt);

		n = migr_body_run(r->id, upgrade ? "upgrade" : "downgrade", b->sql);
		MemoryContextSwitchTo(old);
		MemoryContextReset(stepcxt);
	}
	migr_run_verify(run, x, b, upgrade);
	migr_run_record(run, x, upgrade, skip, b->checksum, start, n);
}

/*
 * migr_apply_plan
 *		Run an upgrade or downgrade plan in the current transaction.  Before
 *		anything runs, a downgrade through an irreversible revision is
 *		refused (MG002).  Upgrade steps honour skip_if, requires and verify;
 *		downgrade steps verify_down.  Returns the steps run (*nsteps of
 *		them), in order, for the caller to report.
 */
MigrStepRecord *
migr_apply_plan(MigrGraph *g, int64 max_seq, MigrPlan *plan, int *nsteps)
{
	RunState   *st;
	MigrBody   *bodies;
	MemoryContext stepcxt;

	*nsteps = 0;
	if (plan->nsteps == 0)
		return NULL;
	st = migr_run_begin(g, max_seq, plan->nsteps, false);
	bodies = migr_catalog_load_bodies(g, plan->steps, plan->nsteps, plan->upgrade,
									  CurrentMemoryContext);
	migr_run_refuse_irreversible(g, plan, bodies);

	stepcxt = AllocSetContextCreate(CurrentMemoryContext, "migr step",
									ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < plan->nsteps; i++)
	{
		CHECK_FOR_INTERRUPTS();
		migr_run_step(st, plan->steps[i], &bodies[i], plan->upgrade, stepcxt);
	}
	MemoryContextDelete(stepcxt);
	flush(st, true);
	*nsteps = st->nrec;
	return st->rec;
}

/*
 * migr_apply_stamp
 *		Move the applied set as the stamp plan says, without running SQL:
 *		its removals (newest first), then its additions (oldest first);
 *		every move is recorded as 'stamp'.  Returns the steps (*nsteps of
 *		them).
 */
MigrStepRecord *
migr_apply_stamp(MigrGraph *g, int64 max_seq, MigrStampPlan *stamp, int *nsteps)
{
	RunState	st;
	MigrPlan   *rm = stamp->remove;
	MigrPlan   *add = stamp->add;
	MigrBody   *bodies = NULL;

	*nsteps = 0;
	if (rm->nsteps + add->nsteps == 0)
		return NULL;
	init_state(&st, g, max_seq, rm->nsteps + add->nsteps);
	if (add->nsteps > 0)
		bodies = migr_catalog_load_bodies(g, add->steps, add->nsteps, true,
										  CurrentMemoryContext);
	for (int i = 0; i < rm->nsteps; i++)
	{
		ereport(NOTICE, (errmsg("stamping %s as not applied", g->revs[rm->steps[i]].id)));
		do_step(&st, rm->steps[i], false, "stamp", NULL);
	}
	for (int i = 0; i < add->nsteps; i++)
	{
		ereport(NOTICE, (errmsg("stamping %s as applied", g->revs[add->steps[i]].id)));
		do_step(&st, add->steps[i], true, "stamp", bodies[i].checksum);
	}

	/*
	 * The steps above moved rows as a downgrade and an upgrade would; a stamp
	 * moves them as planned (an updated row keeps its place, a new one comes
	 * last), which only the order of the heads shows.
	 */
	for (int k = 0; k < stamp->heads->n; k++)
	{
		int			h = stamp->heads->v[k];
		int64		seq = stamp->head_seqs[k] >= 0 ? stamp->head_seqs[k] : ++st.max_seq;

		if (g->revs[h].head_seq == seq)
			continue;
		g->revs[h].head_seq = seq;
		if (!st.inserted[h])
		{
			touch(&st, h);
			st.seq_dirty[h] = true;
		}
	}
	{
		int			n;
		int		   *h = migr_graph_current_heads(g, &n);

		memcpy(st.heads, h, sizeof(int) * n);
		st.nheads = n;
		st.rec[st.nrec - 1].heads_after = heads_string(&st);
	}
	flush(&st, true);
	*nsteps = st.nrec;
	return st.rec;
}

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
#include "body.h"
#include "catalog.h"
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
	bool	   *inserted;		/* applied during this call */
	MigrStepRecord *rec;
	int			nrec;
} RunState;

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
 * Write the records of this call: applied rows, moved head rows, events, and
 * the schema description and fingerprint as the call leaves it.
 */
static void
flush(RunState *st)
{
	int		   *seq_revs = palloc(sizeof(int) * (st->g->nrevs + 1));
	int64	   *seqs = palloc(sizeof(int64) * (st->g->nrevs + 1));
	int			nseq = 0;
	char	   *fingerprint;

	for (int i = 0; i < st->nrec; i++)
		if (st->rec[i].now_applied)
			st->rec[i].head_seq = st->g->revs[st->rec[i].rev].head_seq;
	for (int i = 0; i < st->g->nrevs; i++)
		if (st->seq_dirty[i] && st->g->revs[i].applied && !st->inserted[i])
		{
			seq_revs[nseq] = i;
			seqs[nseq++] = st->g->revs[i].head_seq;
		}
	/* fingerprint once per call, not per step: per step would be quadratic */
	if (st->nrec > 0)
	{
		int			nrows;
		MigrDescRow *rows = migr_describe((Datum) 0, true, &nrows);

		fingerprint = migr_fingerprint_of(rows, nrows);
		migr_catalog_record_steps(st->g, st->rec, st->nrec, nseq, seq_revs, seqs,
								  fingerprint);
		migr_catalog_save_snapshot(rows, nrows, fingerprint);
	}
}

/*
 * One step: optionally run SQL, update the bookkeeping, record it.
 */
static void
do_step(RunState *st, int x, bool upgrade, const char *operation,
		const char *sql, bytea *checksum, MemoryContext stepcxt)
{
	MigrRev    *r = &st->g->revs[x];
	MigrStepRecord *rec = &st->rec[st->nrec++];
	MemoryContext old;
	TimestampTz start,
				end;

	rec->rev = x;
	rec->operation = operation;
	rec->now_applied = upgrade;
	rec->checksum = checksum;
	/* the heads before a step are the heads after the previous one */
	rec->heads_before = st->nrec > 1 ? st->rec[st->nrec - 2].heads_after
		: heads_string(st);

	start = GetCurrentTimestamp();
	if (sql != NULL)
	{
		old = MemoryContextSwitchTo(stepcxt);
		migr_body_run(r->id, upgrade ? "upgrade" : "downgrade", sql);
		MemoryContextSwitchTo(old);
		MemoryContextReset(stepcxt);
	}
	end = GetCurrentTimestamp();

	if (upgrade)
		mark_applied(st, x);
	else
		mark_reverted(st, x);
	rec->started_at = start;
	rec->duration_us = end - start;
	rec->heads_after = heads_string(st);
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

static void
verification_failed(MigrRev *r, const char *direction, MigrCheckKind kind, const char *expr)
{
	ereport(ERROR,
			(errcode(ERRCODE_MIGR_POSTCONDITION),
			 errmsg("migration verification failed"),
			 errdetail("After the %s of revision \"%s\", %s did not hold: %s",
					   direction, r->id, migr_check_names[kind], expr),
			 errhint("Everything this call did has been rolled back.")));
}

/*
 * migr_apply_plan
 *		Run an upgrade or downgrade plan.  Before anything runs, a downgrade
 *		through an irreversible revision is refused (MG002), so a downgrade
 *		either reverts every step or none.  Upgrade steps honour skip_if,
 *		requires and verify; downgrade steps verify_down.  Returns the steps
 *		run (*nsteps of them), in order, for the caller to report.
 */
MigrStepRecord *
migr_apply_plan(MigrGraph *g, int64 max_seq, MigrPlan *plan, int *nsteps)
{
	RunState	st;
	MigrBody   *bodies;
	MemoryContext stepcxt;

	*nsteps = 0;
	if (plan->nsteps == 0)
		return NULL;
	init_state(&st, g, max_seq, plan->nsteps);
	bodies = migr_catalog_load_bodies(g, plan->steps, plan->nsteps, plan->upgrade,
									  CurrentMemoryContext);

	if (!plan->upgrade)
		for (int i = 0; i < plan->nsteps; i++)
			if (bodies[i].sql == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_MIGR_IRREVERSIBLE),
						 errmsg("cannot downgrade through irreversible revision \"%s\"",
								g->revs[plan->steps[i]].id),
						 errdetail("The revision has no downgrade SQL; nothing was reverted."),
						 errhint("Downgrade to a target above it, or register the revision again with downgrade SQL if it is not applied elsewhere.")));

	stepcxt = AllocSetContextCreate(CurrentMemoryContext, "migr step",
									ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < plan->nsteps; i++)
	{
		MigrRev    *r = &g->revs[plan->steps[i]];
		MigrBody   *b = &bodies[i];
		char	  **ck = b->checks;

		CHECK_FOR_INTERRUPTS();
		if (plan->upgrade)
		{
			if (ck[MIGR_CHECK_SKIP_IF] &&
				run_check(r, "upgrade", MIGR_CHECK_SKIP_IF, ck[MIGR_CHECK_SKIP_IF]))
			{
				ereport(NOTICE,
						(errmsg("skipping %s (revises %s): its change is already in effect",
								r->id, parents_string(g, r)),
						 errdetail("skip_if holds: %s", ck[MIGR_CHECK_SKIP_IF])));
				do_step(&st, plan->steps[i], true, "skip", NULL, b->checksum, NULL);
			}
			else
			{
				if (ck[MIGR_CHECK_REQUIRES] &&
					!run_check(r, "upgrade", MIGR_CHECK_REQUIRES, ck[MIGR_CHECK_REQUIRES]))
					ereport(ERROR,
							(errcode(ERRCODE_MIGR_PRECONDITION),
							 errmsg("precondition of revision \"%s\" is not met", r->id),
							 errdetail("requires did not hold: %s", ck[MIGR_CHECK_REQUIRES]),
							 errhint("Nothing of this call was applied.")));
				ereport(NOTICE,
						(errmsg("applying %s (revises %s)", r->id, parents_string(g, r))));
				do_step(&st, plan->steps[i], true, "upgrade", b->sql, b->checksum, stepcxt);
			}
			if (ck[MIGR_CHECK_VERIFY] &&
				!run_check(r, "upgrade", MIGR_CHECK_VERIFY, ck[MIGR_CHECK_VERIFY]))
				verification_failed(r, "upgrade", MIGR_CHECK_VERIFY, ck[MIGR_CHECK_VERIFY]);
		}
		else
		{
			ereport(NOTICE,
					(errmsg("reverting %s (back to %s)", r->id, parents_string(g, r))));
			do_step(&st, plan->steps[i], false, "downgrade", b->sql, b->checksum, stepcxt);
			if (ck[MIGR_CHECK_VERIFY_DOWN] &&
				!run_check(r, "downgrade", MIGR_CHECK_VERIFY_DOWN, ck[MIGR_CHECK_VERIFY_DOWN]))
				verification_failed(r, "downgrade", MIGR_CHECK_VERIFY_DOWN,
									ck[MIGR_CHECK_VERIFY_DOWN]);
		}
	}
	MemoryContextDelete(stepcxt);
	flush(&st);
	*nsteps = st.nrec;
	return st.rec;
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
		do_step(&st, rm->steps[i], false, "stamp", NULL, NULL, NULL);
	}
	for (int i = 0; i < add->nsteps; i++)
	{
		ereport(NOTICE, (errmsg("stamping %s as applied", g->revs[add->steps[i]].id)));
		do_step(&st, add->steps[i], true, "stamp", NULL, bodies[i].checksum, NULL);
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
			st.seq_dirty[h] = true;
	}
	{
		int			n;
		int		   *h = migr_graph_current_heads(g, &n);

		memcpy(st.heads, h, sizeof(int) * n);
		st.nheads = n;
		st.rec[st.nrec - 1].heads_after = heads_string(&st);
	}
	flush(&st);
	*nsteps = st.nrec;
	return st.rec;
}
